"""Parcours 4 : le pilote importe les valeurs 2025 des QPV de Nantes depuis un CSV de l'INSEE, à l'écran
(téléversement, correspondance des colonnes, aperçu, confirmation), puis les voit sur la page de
l'indicateur. Chaque page traversée passe axe-core sans violation."""

import re

from django.urls import reverse

from .pages import describe_violations, run_axe


def assert_accessible(page):
    violations = run_axe(page)
    assert not violations, describe_violations(violations)


def test_pilot_imports_2025_values_from_an_insee_csv_and_sees_them(page_for, site, tmp_path):
    data = site.data
    contract = data["contract"]
    page = page_for("pilot")
    page.goto(site.url(reverse("www:contract", args=[contract])))
    codes = sorted(set(re.findall(r"/quartiers/(Q[NP]\w+)/", page.content())))
    assert len(codes) >= 5, codes
    populations = {code: 2000 + 37 * i for i, code in enumerate(codes)}
    rows = ["CODGEO;LIBGEO;P25_POP;P25_MEN"]
    rows += [f"{code};Quartier {code};{populations[code]};{i + 100}" for i, code in enumerate(codes)]
    path = tmp_path / "base-cc-evol-struct-pop-2025.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")

    page.goto(site.url(reverse("www:dashboard", args=[contract])))
    page.get_by_role("link", name="Importer des valeurs d'indicateurs (CSV ou XLSX)").click()
    assert_accessible(page)
    page.set_input_files("#id_fichier", str(path))
    page.fill("#id_source", "INSEE, recensement de la population 2025")
    page.fill("#id_millesime", "2025")
    page.fill("#id_periode", "2025")
    with page.expect_navigation():
        page.get_by_role("button", name="Voir l'aperçu").click()

    main = page.locator("main")
    assert "Disposition reconnue : large" in main.inner_text()
    assert "Associez au moins une colonne" in main.inner_text()
    assert_accessible(page)
    page.get_by_label("Colonne « P25_POP »").select_option("population")
    with page.expect_navigation():
        page.get_by_role("button", name="Mettre à jour l'aperçu").click()
    text = main.inner_text()
    assert f"{len(codes)} valeurs seraient créées" in text, text[:2000]
    assert "Colonnes ignorées : « P25_MEN »" in text
    assert "Provisoire" in text
    assert_accessible(page)

    with page.expect_navigation():
        page.get_by_role("button", name="Confirmer l'import").click()
    assert f"Import terminé : {len(codes)} valeurs créées" in page.locator(".messages").inner_text()

    page.goto(site.url(reverse("www:indicator", args=[contract, "population"])))
    text = page.locator("main").inner_text()
    total = f"{sum(populations.values()):,}".replace(",", "\u202f")
    row = page.locator("tr", has=page.locator("th", has_text=re.compile(r"^\s*2025\s*$"))).first
    assert row.count() == 1, text[:3000]
    assert total in row.inner_text().replace("\u00a0", "\u202f"), row.inner_text()
