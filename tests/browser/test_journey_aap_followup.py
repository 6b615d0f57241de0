"""Le parcours de l'appel à projets après le vote (issue 17), de bout en bout dans Chromium.

Le comité a voté (journey_followup_db.py) : 24 000 € de l'État (convention), 4 000 € de la
Métropole (arrêté) pour un dossier de la référente de démonstration. L'instructeur de l'État
prépare la convention, la télécharge (DOCX et PDF), dépose l'acte signé et sa date, pose un
échéancier (avance de 80 % puis solde) et verse l'avance ; l'instructrice de la Métropole prépare
son arrêté, le signe et verse tout ; l'association remplit son compte-rendu (budget réalisé avec un
écart de plus de 20 % expliqué, part des bénéficiaires en QPV calculée d'après un fichier de
coordonnées) et le transmet ; chaque financeur l'accepte ; l'État verse le solde : « Payé ». Le
projet est alors sur la page publique du quartier et des projets financés de l'appel, dans le bilan
annuel (PDF du pilote) et dans ``subventions.csv``. Et ce que chacun ne doit PAS faire : la
Métropole ne dépose pas l'acte de l'État, le pilote lit sans écrire, l'association ne voit pas le
tableau des retards, un visiteur ne voit jamais le détail des versements.

Navigateurs en anglais (``locale="en-US"``) : les montants restent écrits et lus à la française.
Chaque page chargée passe axe-core sans violation. Captures dans ``CDV_AAP2_SHOTS`` (défaut :
/tmp/journey2/).
"""

import csv
import datetime
import io
import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from tests.document_checks import pdf_text

from . import test_journey_aap as part1
from .conftest import BASE_DIR, HERE, SETTINGS, _prepared_database, serve
from .test_journey_aap import link, plain

SHOTS = Path(os.environ.get("CDV_AAP2_SHOTS", "/tmp/journey2"))
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


class Person(part1.Person):
    def shot(self, step):
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        slug = "".join(c if c.isalnum() else "-" for c in f"{self.name}-{self.shots:02d}-{step}".lower())
        self.page.screenshot(path=str(SHOTS / f"{slug}.png"), full_page=True)


@pytest.fixture(scope="module")
def followup_site(tmp_path_factory):
    """Un serveur à lui, sur une copie de la base des tests navigateur où le comité a voté le dossier."""
    workdir = tmp_path_factory.mktemp("parcours-aap-suite")
    db = workdir / "db.sqlite3"
    data = _prepared_database(db)
    extra = workdir / "parcours.json"
    extra.write_text(json.dumps(data), encoding="utf-8")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "DATABASE_URL": f"sqlite:///{db}"}
    result = subprocess.run(
        [sys.executable, str(HERE / "journey_followup_db.py"), str(db), str(extra)],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.fail(f"Préparation de la base du parcours en échec :\n{result.stderr[-4000:]}")
    with serve(db, json.loads(extra.read_text(encoding="utf-8")), workdir) as site:
        yield site


class Paths:
    def __init__(self, site):
        d = site.data
        self.call = f"/contrats/{d['contract']}/aap/{d['aap_voted_year']}/"
        self.application = f"{self.call}dossiers/{d['followup_application']}/"
        self.state_line = f"{self.application}lignes/{d['followup_state_line']}/"
        self.metro_line = f"{self.application}lignes/{d['followup_metro_line']}/"
        self.report = f"{self.application}compte-rendu/"


def today_iso():
    return datetime.date.today().isoformat()


def download(person, locator):
    with person.page.expect_download() as info:
        locator.click()
    return Path(info.value.path()).read_bytes()


def step_prepare_and_sign(person, paths, line, funder, kind, site):
    """L'instructeur du financeur prépare l'acte, le télécharge (PDF, DOCX), dépose l'acte signé."""
    page = person.page
    person.go(paths.application, "dossier")
    person.follow(page.get_by_role("link", name=f"Acte de {funder}"), "acte à préparer")
    assert kind in person.main() and "À préparer" in person.main(), person.main()
    person.follow(page.get_by_role("button", name="Préparer l'acte"), "acte préparé")
    reference = re.search(r"Acte (\S+) préparé", person.message()).group(1)
    assert download(person, link(page, "Télécharger l'acte (PDF)")).startswith(b"%PDF")
    assert download(person, link(page, "Télécharger l'acte modifiable (DOCX)")).startswith(b"PK")
    person.follow(link(page, "Déposer l'acte signé"), "dépôt de l'acte signé")
    page.get_by_label("Date de signature").fill(today_iso())
    page.get_by_label("Acte signé (PDF)").set_input_files(
        files=[{"name": "acte-signe.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    person.follow(page.get_by_role("button", name="Déposer l'acte signé"), "acte signé déposé")
    assert "Télécharger l'acte signé (PDF)" in person.main(), person.main()
    return reference


def step_state_schedule_and_advance(state, paths):
    page = state.page
    state.go(paths.state_line + "versements/", "versements")
    page.get_by_role("radio", name="Avance puis solde").check()
    page.get_by_label("Avance en pourcentage du montant voté").fill("80 %")
    page.get_by_label("Date prévue de l'avance").fill(today_iso())
    page.get_by_label("Condition de l'avance").fill("à la signature de la convention")
    state.follow(page.get_by_role("button", name="Enregistrer l'échéancier"), "échéancier enregistré")
    assert "Échéancier enregistré." in state.message(), state.message()
    text = state.main()
    assert "19 200 €" in text and "4 800 €" in text, text
    page.get_by_label("Montant versé").fill("19 200,00")
    page.get_by_label("Référence du mandat").fill("MANDAT-PARCOURS-1")
    state.follow(page.get_by_role("button", name="Enregistrer le versement"), "avance versée")
    assert "Reste à verser : 4 800 €" in state.main(), state.main()


def step_report(asso, paths, site):
    page, d = asso.page, site.data
    asso.go(paths.application, "dossier financé")
    text = asso.main()
    assert "Avance payée" in text, text
    asso.follow(link(page, "Remplir le compte-rendu"), "compte-rendu")
    page.get_by_role("radio", name=re.compile("^L'action a été réalisée")).check()
    page.get_by_label("Ce qui a été fait").fill("Trente ateliers au centre social des Dervallières.")
    page.get_by_label("Bénéficiaires touchés").fill("1 120")
    page.get_by_label("Dont habitants d'un quartier prioritaire (QPV)").fill("900")
    page.get_by_label("Indicateurs d'évaluation : résultats").fill("Démarches réussies : 85 %.")
    asso.follow(page.get_by_role("button", name="Enregistrer le compte-rendu"), "compte-rendu enregistré")
    assert "Le compte-rendu est enregistré" in asso.message(), asso.message()
    assert plain(page.get_by_label("Bénéficiaires touchés").input_value()) == "1 120"

    # Le budget réalisé : +30 % sur le matériel, sans explication d'abord.
    asso.follow(link(page, "2. Budget réalisé"), "budget réalisé")
    material = page.locator("tr", has=page.get_by_role("rowheader", name=re.compile("Matériel informatique")))
    material.get_by_role("textbox").first.fill("13 000,00")
    families = page.locator("tr", has=page.get_by_role("rowheader", name=re.compile("Participations des")))
    families.get_by_role("textbox").first.fill("5 000")
    families.get_by_role("textbox").nth(1).fill("Plus de familles inscrites que prévu.")
    # Le réalisé de chaque autre ligne prévue : l'animatrice, les subventions des deux financeurs.
    for name, amount in (
        ("Animatrice", "20 000"),
        (d["followup_state_name"], "24 000,00"),
        (d["followup_metro_name"], "4 000"),
    ):
        row = page.locator("tr", has=page.get_by_role("rowheader", name=re.compile(re.escape(name))))
        row.get_by_role("textbox").first.fill(amount)
    asso.follow(
        page.get_by_role("button", name="Enregistrer le budget réalisé"), "budget : écart à expliquer"
    )
    error = plain(page.locator("main").inner_text())
    assert "s'écarte de plus de 20 %" in error and "Matériel informatique" in error, error
    assert plain(material.get_by_role("textbox").first.input_value()) in ("13 000", "13 000,00")  # gardée
    material.get_by_role("textbox").nth(1).fill("Prix des ordinateurs en hausse.")
    asso.follow(page.get_by_role("button", name="Enregistrer le budget réalisé"), "budget enregistré")
    assert "Le budget réalisé est enregistré" in asso.message(), asso.message()

    # La part des bénéficiaires en QPV, d'après leurs coordonnées : trois sur quatre.
    asso.follow(link(page, "3. Bénéficiaires en QPV"), "bénéficiaires en QPV")
    lon, lat = site.data["followup_point"]
    rows = ["longitude;latitude", *[f"{lon};{lat}"] * 3, "-1.5536;47.2184"]
    page.get_by_label("Fichier des bénéficiaires (CSV ou XLSX)").set_input_files(
        files=[{"name": "beneficiaires.csv", "mimeType": "text/csv", "buffer": "\n".join(rows).encode()}]
    )
    asso.follow(page.get_by_role("button", name="Calculer la part en QPV"), "part en QPV calculée")
    assert "75 %" in asso.main(), asso.main()

    asso.follow(link(page, "Transmettre"), "transmettre : confirmation")
    assert "Ce qui manque" not in asso.main(), asso.main()
    page.get_by_label(re.compile("^Je confirme transmettre")).check()
    asso.follow(page.get_by_role("button", name="Transmettre le compte-rendu"), "compte-rendu transmis")
    assert "Transmis aux financeurs" in asso.main(), asso.main()


def step_review(person, paths, funder):
    page = person.page
    person.go(paths.report + "examen/", f"examen ({funder})")
    text = person.main()
    assert "Prix des ordinateurs en hausse." in text and "75 %" in text, text
    page.get_by_role("radio", name="Accepter le compte-rendu").check()
    person.follow(page.get_by_role("button", name="Enregistrer l'examen"), "examen enregistré")
    return person.main()


def test_parcours_apres_le_vote(browser, followup_site):
    site = followup_site
    paths = Paths(site)
    d = site.data
    state_name, metro_name = d["followup_state_name"], d["followup_metro_name"]
    asso = Person(browser, site, "association", "applicant")
    state = Person(browser, site, "instructeur-etat", "instructor")
    metro = Person(browser, site, "instructrice-metropole", "instructor2")
    pilot = Person(browser, site, "pilote", "pilot")
    visitor = Person(browser, site, "visiteur", "pilot")  # jamais connecté
    people = (asso, state, metro, pilot, visitor)
    try:
        # --- Les actes : la convention de l'État, l'arrêté de la Métropole.
        state.log_in()
        reference = step_prepare_and_sign(
            state, paths, d["followup_state_line"], state_name, "Convention", site
        )
        state.go(f"/contrats/{d['contract']}/aap/modeles-d-actes/", "modèles d'acte")
        state.follow(page_link(state, state_name), "modèle d'acte de l'État")
        state.go(paths.call + "actes/", "actes de l'appel")
        assert reference in state.main()
        step_state_schedule_and_advance(state, paths)

        metro.log_in()
        # La Métropole lit l'acte de l'État (instruction conjointe) mais ne le dépose pas.
        assert metro.refused(paths.state_line + "acte/signature/", "dépôt de l'acte de l'État") == 403
        step_prepare_and_sign(metro, paths, d["followup_metro_line"], metro_name, "arrêté", site)
        metro.go(paths.metro_line + "versements/", "versements (Métropole)")
        metro.page.get_by_label("Montant versé").fill("4 000")
        metro.follow(metro.page.get_by_role("button", name="Enregistrer le versement"), "versement unique")
        assert "entièrement versée" in metro.main(), metro.main()

        pilot.log_in()
        pilot.go(paths.call + "versements/", "retards (pilote)")
        assert d["followup_number"] in pilot.main()
        pilot.go(paths.state_line + "acte/", "acte de l'État (pilote, lecture)")
        assert pilot.page.get_by_role("button", name=re.compile("Préparer")).count() == 0
        assert pilot.refused(paths.state_line + "acte/signature/", "dépôt refusé au pilote") == 403
        pilot.go(paths.state_line + "versements/", "versements (pilote, lecture)")
        assert pilot.page.get_by_role("button", name="Enregistrer le versement").count() == 0

        # --- Le compte-rendu de l'association.
        asso.log_in()
        assert asso.refused(paths.call + "versements/", "tableau des retards") in (403, 404)
        asso.go(paths.state_line + "versements/", "versements (association)")
        assert "19 200 €" in asso.main()
        assert asso.page.get_by_role("button", name="Enregistrer le versement").count() == 0
        step_report(asso, paths, site)

        # --- L'examen : chaque financeur accepte ; le pilote lit.
        pilot.go(paths.call + "comptes-rendus/", "comptes-rendus de l'appel")
        pilot.go(paths.report + "examen/", "examen (pilote, lecture)")
        assert pilot.page.get_by_role("button", name="Enregistrer l'examen").count() == 0
        step_review(state, paths, state_name)
        text = step_review(metro, paths, metro_name)
        assert "Accepté" in text, text
        pilot.go(paths.call + "blocages/", "associations bloquées")
        pilot.go(f"/contrats/{d['contract']}/aap/{d['aap_year']}/import-dauphin/", "import de Dauphin")

        # --- Le solde : « Payé ».
        state.go(paths.state_line + "versements/", "versements : solde")
        state.page.get_by_label("Montant versé").fill("4 800,00")
        state.follow(state.page.get_by_role("button", name="Enregistrer le versement"), "solde versé")
        assert "entièrement versée" in state.main(), state.main()
        asso.go(paths.application, "dossier payé")
        follow_up = asso.page.get_by_role("table", name=re.compile("^Subventions accordées : où en est"))
        row = follow_up.locator("tr", has=asso.page.get_by_role("rowheader", name=state_name, exact=True))
        assert "Payé" in plain(row.inner_text()) and "24 000 €" in plain(row.inner_text()), row.inner_text()

        # --- Public : le quartier, les projets financés ; jamais le détail des versements.
        visitor.go(reverse("www:qpv", args=[d["contract"], d["followup_qpv"]]), "quartier")
        text = visitor.main()
        assert f"{state_name} : 24 000 € (Payé)" in text, text[-3000:]
        visitor.go(paths.call + "projets-finances/", "projets financés")
        text = visitor.main()
        assert f"{state_name} : 24 000 € (Payé)" in text and f"{metro_name} : 4 000 € (Payé)" in text
        assert "MANDAT-PARCOURS" not in text
        visitor.go(paths.state_line + "versements/", "versements : connexion demandée")
        assert "/connexion/" in visitor.page.url

        # --- Le bilan annuel (PDF du pilote) et subventions.csv.
        response = pilot.context.request.get(
            site.url(reverse("www:annual_report", args=[d["contract"], d["aap_voted_year"]]))
        )
        assert response.status == 200, response.status
        text = plain(pdf_text(response.body()))
        assert f"Appel à projets {d['aap_voted_year']}" in text and state_name in text

        response = visitor.context.request.get(site.url(f"/contrats/{d['contract']}/donnees/subventions.csv"))
        assert response.status == 200
        rows = list(csv.DictReader(io.StringIO(response.body().decode("utf-8"))))
        mine = [r for r in rows if r["referenceDecision"] == reference]
        assert len(mine) == 1, (
            reference,
            [(r["nomBeneficiaire"], r["referenceDecision"]) for r in rows][:20],
        )
        assert mine[0]["idAttribuant"] == d["followup_state_siret"]
        assert Decimal(mine[0]["montant"]) == Decimal("24000")
        assert mine[0]["dateConvention"] == today_iso()
        assert mine[0]["conditionsVersement"] == "échelonné"
        for person in people:
            person.all_pages_checked()
    finally:
        for person in people:
            person.context.close()


def page_link(person, name):
    return person.page.get_by_role("link", name=re.compile(re.escape(name)))
