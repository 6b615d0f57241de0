"""Le pilote dépose un export de Dauphin sur la page de l'appel ouvert : correspondance des colonnes
reconnue, aperçu de ce qui serait créé, puis un fichier faux montre chaque erreur par ligne et
colonne. Rien n'est confirmé (le site est partagé par les autres tests). Chaque page passe axe-core
sans violation."""

import re

from django.urls import reverse

from .pages import describe_violations, run_axe


def assert_accessible(page):
    violations = run_axe(page)
    assert not violations, describe_violations(violations)


def test_pilot_previews_a_dauphin_export_then_sees_errors_by_row_and_column(page_for, site, tmp_path):
    data = site.data
    contract, year = data["contract"], data["aap_year"]
    page = page_for("pilot")
    page.goto(site.url(reverse("www:contract", args=[contract])))
    codes = sorted(set(re.findall(r"/quartiers/(Q[NP]\w+)/", page.content())))
    header = (
        "N° dossier;Intitulé du projet;Raison sociale;SIRET;Financeur;Statut du financement;"
        "Montant sollicité;Code QPV"
    )
    row = "DA-TEST-1;Atelier numérique;Association du test navigateur"
    good = tmp_path / "export-dauphin.csv"
    good.write_text(
        f"{header}\n{row};;État;Transmise;1 500;{codes[0]}\n",
        encoding="utf-8",
    )
    bad = tmp_path / "export-faux.csv"
    bad.write_text(
        f"{header}\n{row};123;Inconnu;Transmise;1 5x;{codes[0]}\n",
        encoding="utf-8",
    )

    page.goto(site.url(reverse("www:call", args=[contract, year])))
    page.get_by_role("link", name="Importer de Dauphin").click()
    assert_accessible(page)
    page.set_input_files("#id_fichier", str(good))
    with page.expect_navigation():
        page.get_by_role("button", name="Voir l'aperçu").click()
    main = page.locator("main")
    text = main.inner_text()
    assert "1 dossier serait créé" in text, text[:2000]
    assert "Association du test navigateur" in text
    assert page.get_by_label("N° dossier").input_value() == "N° dossier"
    assert_accessible(page)

    page.goto(site.url(reverse("www:call_import", args=[contract, year])))
    page.set_input_files("#id_fichier", str(bad))
    with page.expect_navigation():
        page.get_by_role("button", name="Voir l'aperçu").click()
    text = main.inner_text()
    assert "Import refusé" in text
    assert "« Inconnu » n'est pas un financeur de l'appel" in text
    assert "« 1 5x » n'est pas un montant" in text
    assert_accessible(page)
