"""Parcours 4 de JOURNEYS.md, le suivi annuel, de bout en bout dans Chromium, sans back-office ni shell.

Le pilote ouvre la campagne 2025 avec une date limite ; les partenaires sont relancés ; deux
référents remplissent leurs bilans (avancement, moyens effectivement mobilisés, saisis à la
française : « 0,5 », « 12 000 ») ; le pilote renvoie un bilan avec un commentaire, le référent le
complète, le pilote l'accepte ; le tableau de complétude dit qui est en retard ; les valeurs 2025
d'un indicateur viennent d'un CSV à la manière de l'INSEE ; le pilote clôt la campagne, enregistre
le COPIL et ses décisions, fige l'année et télécharge le bilan annuel en PDF.

Chaque page ouverte passe axe-core (WCAG 2.1 A et AA) sans aucune violation. Le parcours a son
propre serveur et sa propre copie de la base (il ouvre, clôt et fige la campagne 2025 : les autres
tests navigateur gardent la campagne 2025 en cours de la démonstration). Captures d'écran des
étapes dans ``CDV_JOURNEY_SHOTS`` (défaut : /tmp/journey4/).
"""

import datetime
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from .conftest import BASE_DIR, HERE, SETTINGS, _prepared_database, new_context, serve
from .pages import axe_version, describe_violations, run_axe

YEAR = 2025
SHOTS = Path(os.environ.get("CDV_JOURNEY_SHOTS", "/tmp/journey4"))
CONTRACT = "nantes-metropole-2024-2030"


def server_today() -> datetime.date:
    """La date du jour du serveur (heure de Paris), qui n'est pas celle de la machine entre minuit
    à Paris et minuit UTC."""
    return datetime.datetime.now(ZoneInfo("Europe/Paris")).date()


@pytest.fixture(scope="module")
def review_site(tmp_path_factory):
    """Un serveur à lui : la base des tests navigateur, sans la campagne 2025 de la démonstration."""
    workdir = tmp_path_factory.mktemp("parcours-suivi")
    db = workdir / "db.sqlite3"
    data = _prepared_database(db)
    extra = workdir / "parcours.json"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "DATABASE_URL": f"sqlite:///{db}"}
    result = subprocess.run(
        [sys.executable, str(HERE / "journey_review_db.py"), str(db), str(extra)],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.fail(f"Préparation de la base du parcours en échec :\n{result.stderr[-4000:]}")
    data = {
        **data,
        "editor": (data["editor_email"], data["editor_password"]),
        **json.loads(extra.read_text()),
    }
    with serve(db, data, workdir) as site:
        yield site


class Person:
    """Une personne dans son propre onglet. Chaque page chargée passe axe-core avant qu'on agisse."""

    def __init__(self, browser, site, name, email, password):
        self.site, self.name, self.email, self.password = site, name, email, password
        self.context = new_context(browser)
        self.page = self.context.new_page()
        self.loaded, self.checked = [], []
        self.page.on("load", lambda _page: self.loaded.append(self.page.url))
        self.shots = 0

    def check(self, step):
        """La page courante : aucune erreur serveur, zéro violation axe-core, une capture d'écran."""
        page = self.page
        page.wait_for_load_state()
        heading = page.locator("h1").first.inner_text()
        assert "Erreur" not in page.title(), (
            f"{self.name}, {step} : {page.url} affiche une erreur ({heading})."
        )
        violations = run_axe(page)
        assert not violations, (
            f"{self.name}, {step} ({page.url}) : {len(violations)} règle(s) axe-core {axe_version()} "
            f"en échec :\n{describe_violations(violations)}"
        )
        self.checked.append(page.url)
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        slug = "".join(c if c.isalnum() else "-" for c in f"{self.name}-{self.shots:02d}-{step}".lower())
        page.screenshot(path=str(SHOTS / f"{slug}.png"), full_page=True)
        return page

    def go(self, path, step):
        response = self.page.goto(self.site.url(path))
        assert response.status == 200, f"{self.name}, {step} : {path} répond {response.status}."
        return self.check(step)

    def follow(self, locator, step):
        """Clique (lien ou bouton qui envoie un formulaire) et vérifie la page d'arrivée."""
        with self.page.expect_navigation():
            locator.click()
        return self.check(step)

    def log_in(self):
        page = self.go("/connexion/", "connexion")
        page.get_by_label("Adresse électronique").fill(self.email)
        page.get_by_label("Mot de passe", exact=True).fill(self.password)
        self.follow(page.locator("main button[type=submit]"), "mon espace")
        assert "/connexion/" not in page.url, f"La connexion de {self.email} a échoué."
        return page

    def message(self) -> str:
        return self.page.locator(".messages").inner_text()

    def all_pages_checked(self):
        unchecked = [url for url in self.loaded if url not in self.checked]
        assert not unchecked, f"{self.name} : pages chargées sans vérification axe-core : {unchecked}"


def plain(text: str) -> str:
    """Le texte tel qu'on le lit : espaces insécables (milliers, avant « % » et « € ») en espaces."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def link(page, name):
    return page.get_by_role("link", name=name, exact=True)


# --- Étapes du parcours -----------------------------------------------------------------------------


def step_open_campaign(pilot, deadline):
    page = pilot.page
    pilot.follow(link(page, "Suivi annuel (bilans)"), "campagnes")
    assert (
        page.get_by_role("rowheader", name=str(YEAR), exact=True).count() == 0
    )  # pas encore de campagne 2025
    # L'année proposée, l'année écoulée, s'écrit sans séparer les milliers et se garde telle quelle.
    year = page.get_by_label("Année suivie")
    assert year.input_value() == str(min(max(server_today().year - 1, 2024), 2030))
    if year.input_value() != str(YEAR):
        year.fill(str(YEAR))
    page.get_by_label("Date limite des bilans").fill(deadline.isoformat())
    pilot.follow(page.get_by_role("button", name="Ouvrir la campagne"), "campagne ouverte")
    assert page.locator("h1").inner_text() == f"Bilans {YEAR} : tableau de complétude"
    opened = pilot.message()
    assert opened.startswith(f"Campagne {YEAR} ouverte : ") and opened.endswith("bilans à remplir."), opened
    total = int(opened.split(" : ")[1].split()[0])
    assert total > 3
    assert f"(dans {(deadline - server_today()).days} jours)" in page.locator(".facts").inner_text()
    return total


def partner_rows(page) -> dict:
    """Le tableau « Bilans par partenaire » : {partenaire: textes des cellules de la ligne}."""
    table = page.get_by_role("table", name="Bilans par partenaire et par état")
    rows = {}
    for row in table.locator("tbody tr").all():
        rows[row.locator("th").inner_text().strip()] = [
            c.strip() for c in row.locator("td").all_inner_texts()
        ]
    return rows


def step_send_reminders(pilot, site):
    """L'ouverture a prévenu les référents ; le pilote relance ensuite ceux qui n'ont pas transmis par
    « Relancer maintenant » : un aperçu dit à qui et quoi, rien ne part avant la confirmation."""
    page = pilot.page
    rows = partner_rows(page)
    for partner in (site.data["regie"], site.data["tremplin"], site.data["bailleur"]):
        assert partner in rows, f"{partner} manque au tableau de complétude : {list(rows)}"
    for partner, cells in rows.items():
        total, drafts = cells[:2]  # colonnes « Bilans » et « Brouillon » : rien n'est encore transmis
        assert int(total) > 0 and drafts == total, f"{partner} : {cells}"
    assert "La date limite n'est pas encore passée." in page.locator("main").inner_text()
    referents = (site.data["regie_email"], site.data["editor"][0])
    opened = [m for m in site.mails() if "Ouverture d'une campagne de bilans" in str(m["Subject"])]
    for address in referents:
        assert any(address in m["To"] for m in opened), f"{address} n'a pas été prévenu de l'ouverture"

    before = len(site.mails())
    pilot.follow(link(page, "Relancer maintenant"), "relance : aperçu")
    text = page.locator("main").inner_text()
    for address in referents:
        assert address in text, f"{address} absent de l'aperçu de la relance"
    assert "Rien n'est encore envoyé." in text
    assert len(site.mails()) == before, "l'aperçu a envoyé un courriel"
    pilot.follow(page.get_by_role("button", name=re.compile(r"^Envoyer la relance")), "relance envoyée")
    assert pilot.message().startswith("Relance envoyée : "), pilot.message()
    sent = site.mails()[before:]
    for address in referents:
        mine = [m for m in sent if address in m["To"]]
        assert mine, f"aucune relance pour {address}"
        body = mine[0].get_body(preferencelist=("plain",)).get_content()
        assert site.base + "/" in body, f"la relance ne mène pas au site servi : {body}"


def open_my_reports(person, partner):
    """Depuis « Mon espace » : dans la partie de son partenaire (un référent peut en avoir deux), la
    ligne « N bilans … à remplir et transmettre » mène aux bilans de l'année de ce partenaire."""
    page = person.page
    home = page.locator("section.role-home", has=page.locator("h2", has_text=f"({partner})"))
    todo = home.get_by_role("link", name=re.compile(rf"bilans? {YEAR} à remplir et transmettre"))
    person.follow(todo, "mes bilans à remplir")
    assert page.locator("h1").inner_text() == f"Mes bilans {YEAR} — {partner}"
    return page


def fill_report(person, commitment, *, status, progress, fte, amount, worked, step):
    page = person.page
    person.follow(link(page, f"Remplir le bilan « {commitment} »"), f"{step} formulaire")
    page.get_by_label("Où en est l'engagement ?").select_option(label=status)
    page.get_by_label("Avancement (%)").fill(progress)
    page.get_by_label("ETP effectivement mobilisés").fill(fte)
    page.get_by_label("Euros effectivement mobilisés").fill(amount)
    page.get_by_label("Ce qui a marché").fill(worked)
    person.follow(page.get_by_role("button", name="Transmettre au pilote"), f"{step} transmis")
    assert person.message() == "Bilan transmis au pilote. Merci !", person.message()
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=commitment, exact=True))
    assert "Transmis" in row.inner_text() and f"{progress} %" in plain(row.inner_text())


def step_partners_report(regie, tremplin, site):
    regie.log_in()
    open_my_reports(regie, site.data["regie"])
    fill_report(
        regie,
        site.data["regie_commitment"],
        status="En cours",
        progress="60",
        fte="0,5",
        amount="12 000",
        worked="Dix habitants en insertion ont entretenu les pieds d'immeubles toute l'année.",
        step="bilan régie",
    )
    assert "dont 0 à transmettre" in regie.page.locator("main").inner_text()

    tremplin.log_in()
    page = open_my_reports(tremplin, site.data["tremplin"])
    titles = page.get_by_role("table").locator("tbody th").all_inner_texts()
    first, second = titles[0], titles[1]
    fill_report(
        tremplin,
        first,
        status="En cours",
        progress="70",
        fte="0,4",
        amount="9 000",
        worked="La permanence a reçu 160 personnes.",
        step="bilan tremplin 1",
    )
    fill_report(
        tremplin,
        second,
        status="En cours",
        progress="40",
        fte="0,25",
        amount="4 500,50",
        worked="Bon démarrage.",
        step="bilan tremplin 2",
    )
    return titles, first, second


def examine(pilot, commitment, step):
    page = pilot.page
    pilot.follow(link(page, commitment).first, f"{step} examen")
    assert page.locator("h1").inner_text() == f"Bilan {YEAR} : {commitment}"
    return page


def step_return_report(pilot, tremplin, site, first, second):
    page = pilot.page
    pilot.go(f"/contrats/{CONTRACT}/suivi/{YEAR}/", "tableau de complétude")
    assert "À examiner (3)" in page.locator("main").inner_text()
    examine(pilot, second, "renvoi")
    facts = plain(page.locator(".facts").last.inner_text())
    assert "0,25" in facts and "4 500,50 €" in facts, facts
    comment = "Indiquez combien de personnes ont été accompagnées et dans quels quartiers."
    page.get_by_label("Ce que le partenaire doit compléter ou corriger").fill(comment)
    pilot.follow(page.get_by_role("button", name="Renvoyer au partenaire pour complément"), "renvoyé")
    assert pilot.message() == f"Bilan « {second} » renvoyé au partenaire pour complément."
    for commitment in (site.data["regie_commitment"], first):
        examine(pilot, commitment, "acceptation")
        pilot.follow(page.get_by_role("button", name="Accepter le bilan"), "accepté")
        assert pilot.message() == f"Bilan « {commitment} » accepté."

    # Le référent lit le commentaire, complète et transmet de nouveau ; le pilote accepte.
    page = tremplin.page
    tremplin.follow(link(page, "Mon espace"), "mon espace")
    open_my_reports(tremplin, site.data["tremplin"])
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=second, exact=True))
    assert "Renvoyé" in row.inner_text(), row.inner_text()
    tremplin.follow(link(page, f"Remplir le bilan « {second} »"), "bilan renvoyé")
    assert comment in page.get_by_role("note").filter(has_text="Renvoyé pour complément").inner_text()
    worked = page.get_by_label("Ce qui a marché")
    worked.fill("Bon démarrage : 45 personnes accompagnées, à Bellevue et au Sillon de Bretagne.")
    tremplin.follow(page.get_by_role("button", name="Transmettre au pilote"), "bilan complété transmis")
    assert tremplin.message() == "Bilan transmis au pilote. Merci !"

    page = pilot.page
    pilot.go(f"/contrats/{CONTRACT}/suivi/{YEAR}/", "tableau de complétude")
    examine(pilot, second, "nouvel examen")
    assert "45 personnes accompagnées" in page.locator("main").inner_text()
    pilot.follow(page.get_by_role("button", name="Accepter le bilan"), "accepté")


def step_dashboard_shows_late(pilot, site, total):
    """Le temps passe : la date limite est dépassée (la base recule l'horloge de la campagne, le
    serveur ne se commande pas en date) ; le tableau dit qui est en retard et qui ne l'est pas."""
    today = server_today()
    with sqlite3.connect(site.db) as db:
        updated = db.execute(
            "UPDATE monitoring_reviewcampaign SET opens_on = ?, deadline = ? WHERE year = ?",
            (
                (today - datetime.timedelta(days=60)).isoformat(),
                (today - datetime.timedelta(days=3)).isoformat(),
                YEAR,
            ),
        ).rowcount
    assert updated == 1
    page = pilot.go(f"/contrats/{CONTRACT}/suivi/{YEAR}/", "retards")
    main = page.locator("main").inner_text()
    assert "(dépassée)" in page.locator(".facts").inner_text()
    heading = page.get_by_role("heading", name="En retard (3 partenaires)")
    assert heading.count() == 1, main
    late = heading.locator("xpath=following-sibling::ul[1]/li/a").all_inner_texts()
    # La régie a tout transmis ; l'association Tremplin n'a transmis que deux bilans sur les siens ;
    # le bailleur et l'association des Petits Débrouillards n'ont rien transmis.
    assert sorted(late) == sorted([site.data["tremplin"], site.data["bailleur"], site.data["debrouillards"]])
    assert f"3 sur {total}" in page.locator(".facts").inner_text()  # bilans transmis ou acceptés


def insee_csv() -> bytes:
    """Un fichier large « à la manière de l'INSEE » : CODGEO, LIBGEO, une colonne par indicateur,
    séparateur « ; », virgule décimale, en Windows-1252 comme les fichiers téléchargés de l'INSEE."""
    lines = [
        "CODGEO;LIBGEO;TP60_2025",
        "QN04405M;Bellevue;44,8",
        "QN04406M;Les Dervallières;41,2",
        "QN04413M;Malakoff;45,9",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def step_import_indicator_values(pilot, tmp_path):
    """Importer par l'écran d'import les valeurs 2025 du taux de pauvreté de trois QPV (fichier INSEE) :
    téléversement, colonne associée à l'indicateur, aperçu (rien n'est écrit), confirmation."""
    path = tmp_path / "taux-pauvrete-2025.csv"
    path.write_bytes(insee_csv())
    page = pilot.go(f"/contrats/{CONTRACT}/pilotage/", "tableau de pilotage (import)")
    pilot.follow(link(page, "Importer des valeurs d'indicateurs (CSV ou XLSX)"), "import : fichier")
    page.set_input_files("#id_fichier", str(path))
    page.fill("#id_source", "INSEE, Filosofi 2025 (fichier de démonstration du parcours)")
    page.fill("#id_millesime", "2025")
    page.fill("#id_periode", "2025")
    pilot.follow(page.get_by_role("button", name="Voir l'aperçu"), "import : aperçu")
    text = page.locator("main").inner_text()
    assert "Disposition reconnue : large" in text, text[:1500]
    page.get_by_label("Colonne « TP60_2025 »").select_option("taux-pauvrete")
    pilot.follow(page.get_by_role("button", name="Mettre à jour l'aperçu"), "import : aperçu associé")
    text = page.locator("main").inner_text()
    assert "3 valeurs seraient créées" in text, text[:2000]
    assert "Provisoire" in text
    pilot.follow(page.get_by_role("button", name="Confirmer l'import"), "import : confirmé")
    assert "Import terminé : 3 valeurs créées" in pilot.message(), pilot.message()
    page = pilot.go(f"/contrats/{CONTRACT}/indicateurs/taux-pauvrete/", "taux de pauvreté après import")
    assert "44,8" in page.locator("main").inner_text()


def step_close_campaign(pilot):
    page = pilot.go(f"/contrats/{CONTRACT}/suivi/{YEAR}/", "avant clôture")
    pilot.follow(link(page, f"Clore la campagne {YEAR}"), "confirmation de clôture")
    gaps = page.locator("main ul").first.inner_text()
    assert "ne sont pas encore transmis" in gaps, gaps
    page.get_by_label(
        f"Je confirme vouloir clore la campagne {YEAR}, malgré ce qui n'est pas terminé."
    ).check()
    pilot.follow(page.get_by_role("button", name=f"Clore la campagne {YEAR}"), "campagne close")
    assert pilot.message() == f"Campagne {YEAR} close : les bilans ne se modifient plus."


def step_record_copil(pilot, site):
    page = pilot.page
    pilot.follow(link(page, "Mon espace"), "mon espace")
    pilot.follow(link(page, "Instances"), "instances")
    pilot.follow(link(page, "Nouvelle instance"), "nouvelle instance")
    assert page.get_by_label("Instance", exact=True).input_value() == "COPIL"
    page.get_by_label("Intitulé").fill(f"COPIL du bilan {YEAR}")
    # Le bilan annuel retient les décisions des instances tenues jusqu'à la fin de l'année suivante.
    page.get_by_label("Date", exact=True).fill(
        min(server_today(), datetime.date(YEAR + 1, 12, 31)).isoformat()
    )
    page.get_by_label(site.data["regie"]).check()
    page.get_by_label(site.data["tremplin"]).check()
    page.get_by_label("Ordre du jour").fill(f"Bilan {YEAR} des engagements ; indicateurs ; suites à donner.")
    page.get_by_label("Compte rendu").fill("Le COPIL a examiné les bilans et décidé des suites ci-dessous.")
    pilot.follow(page.get_by_role("button", name="Enregistrer"), "COPIL enregistré")
    assert pilot.message() == "Instance enregistrée."
    assert page.locator("h1").inner_text().startswith(f"COPIL du bilan {YEAR}")

    decisions = [
        ("Relancer le bailleur pour ses bilans en retard avant fin janvier.", site.data["bailleur"]),
        ("Étendre l'entretien des pieds d'immeubles à un second quartier.", site.data["regie"]),
    ]
    for number, (text, owner) in enumerate(decisions, start=1):
        pilot.follow(link(page, "Ajouter une décision"), f"décision {number}")
        page.get_by_label("Décision", exact=True).fill(text)
        page.get_by_label("Porteur").select_option(label=owner)
        page.get_by_label("Échéance").fill((server_today() + datetime.timedelta(days=60)).isoformat())
        pilot.follow(page.get_by_role("button", name="Enregistrer"), f"décision {number} enregistrée")
        assert pilot.message() == "Décision enregistrée."
    main = page.locator("main").inner_text()
    for text, _ in decisions:
        assert text in main
    return [text for text, _ in decisions]


def step_freeze_year(pilot):
    page = pilot.go(f"/contrats/{CONTRACT}/suivi/{YEAR}/", "avant gel")
    pilot.follow(link(page, f"Figer l'année {YEAR}"), "confirmation du gel")
    assert "irréversible" in page.locator("main").inner_text()
    confirm = page.get_by_role("checkbox")
    assert confirm.count() == 1
    pilot.follow(page.get_by_role("button", name=f"Figer l'année {YEAR}"), "gel refusé sans confirmation")
    assert "Cochez la case « Je confirme » pour figer l'année." in page.locator("main").inner_text()
    page.get_by_role("checkbox").check()
    pilot.follow(page.get_by_role("button", name=f"Figer l'année {YEAR}"), "année figée")
    assert pilot.message() == f"Année {YEAR} figée : l'instantané ne changera plus."
    assert "Figée" in page.locator(".facts").inner_text()


def step_download_annual_report(pilot, site, decisions, tmp_path):
    from tests.document_checks import pdf_page_texts

    page = pilot.page
    with page.expect_download() as info:
        link(page, f"Télécharger le bilan annuel {YEAR} (PDF)").click()
    download = info.value
    assert download.suggested_filename == f"bilan-annuel-{CONTRACT}-{YEAR}.pdf"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / download.suggested_filename).write_bytes(path.read_bytes())
    text = plain(" ".join(" ".join(p.split()) for p in pdf_page_texts(path.read_bytes())))
    assert f"Bilan annuel {YEAR}" in text or f"{YEAR}" in text.split(" ")[:40], text[:300]
    assert "Année figée le " in text and f"Année figée le {server_today():%Y-%m-%d}" not in text
    assert site.data["regie_commitment"] in text
    # Les moyens déclarés dans les trois bilans acceptés (tous de l'enjeu 1), typés « 0,5 »,
    # « 12 000 », « 0,4 », « 9 000 », « 0,25 », « 4 500,50 » : le bilan annuel en fait la somme.
    assert "Moyens mobilisés déclarés dans les bilans : 1,15 ETP, 25 500,50 €" in text
    for decision in decisions:
        assert decision in text, f"décision absente du bilan annuel : {decision}"


# --- Le parcours ----------------------------------------------------------------------------------


def test_parcours_suivi_annuel(browser, review_site, tmp_path):
    site = review_site
    pilot = Person(browser, site, "pilote", site.data["pilot_email"], site.data["pilot_password"])
    regie = Person(browser, site, "regie", site.data["regie_email"], site.data["regie_password"])
    tremplin = Person(browser, site, "tremplin", *site.data["editor"])
    try:
        pilot.log_in()
        total = step_open_campaign(pilot, deadline=server_today() + datetime.timedelta(days=30))
        step_send_reminders(pilot, site)
        _, first, second = step_partners_report(regie, tremplin, site)
        step_return_report(pilot, tremplin, site, first, second)
        step_dashboard_shows_late(pilot, site, total)
        step_import_indicator_values(pilot, tmp_path)
        step_close_campaign(pilot)
        decisions = step_record_copil(pilot, site)
        step_freeze_year(pilot)
        step_download_annual_report(pilot, site, decisions, tmp_path)
        for person in (pilot, regie, tremplin):
            person.all_pages_checked()
    finally:
        for person in (pilot, regie, tremplin):
            person.context.close()
