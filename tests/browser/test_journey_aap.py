"""Le parcours de l'appel à projets (issue 16), de bout en bout dans Chromium, sans back-office ni shell.

Une association dépose un dossier sur l'appel ouvert (projet, budget équilibré avec ses totaux
calculés pendant la saisie, demandes à deux financeurs, une pièce ajoutée, dépôt : elle voit son
numéro) ; l'instructeur de l'État instruit sa ligne et demande des compléments ; l'association
répond et redépose ; l'instructrice de la Métropole instruit sa ligne ; le pilote simule puis
enregistre le vote (page de confirmation) ; l'association voit la décision de chaque financeur.
Et ce que chacun ne doit PAS voir ni faire : l'association ne lit pas les commentaires des
instructeurs, un instructeur n'ouvre pas la ligne d'un autre financeur, un membre du comité ne vote
pas.

Les navigateurs sont réglés en anglais (``locale="en-US"``) : les montants restent écrits et lus à
la française (« 12 000,50 € »). Chaque page chargée passe axe-core (WCAG 2.1 A et AA) sans aucune
violation. Le parcours a son propre serveur et sa propre copie de la base (il vote l'appel ouvert).
Captures d'écran de chaque étape, par rôle, dans ``CDV_AAP_SHOTS`` (défaut : /tmp/aap-shots/).
"""

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import BASE_DIR, HERE, SETTINGS, _prepared_database, new_context, serve
from .pages import axe_version, describe_violations, run_axe
from .test_responsive import OVERFLOW_JS

SHOTS = Path(os.environ.get("CDV_AAP_SHOTS", "/tmp/aap-shots"))
LOCALE = "en-US"  # un navigateur réglé en anglais : les nombres restent français
TITLE = "Ateliers numériques pour les familles (parcours navigateur)"
STATE_COMMENT = "Commentaire interne de l'État : budget de personnel à vérifier."
METROPOLE_COMMENT = "Commentaire interne de la Métropole : projet prioritaire."
QUESTION = "Combien de familles différentes pensez-vous accueillir chaque mois ?"
ANSWER = "Une quarantaine de familles par mois, dont la moitié aux Dervallières."


@pytest.fixture(scope="module")
def aap_site(tmp_path_factory):
    """Un serveur à lui : la base des tests navigateur, préparée pour le parcours (journey_aap_db.py)."""
    workdir = tmp_path_factory.mktemp("parcours-aap")
    db = workdir / "db.sqlite3"
    data = _prepared_database(db)
    extra = workdir / "parcours.json"
    extra.write_text(json.dumps(data), encoding="utf-8")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "DATABASE_URL": f"sqlite:///{db}"}
    result = subprocess.run(
        [sys.executable, str(HERE / "journey_aap_db.py"), str(db), str(extra)],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.fail(f"Préparation de la base du parcours en échec :\n{result.stderr[-4000:]}")
    with serve(db, json.loads(extra.read_text(encoding="utf-8")), workdir) as site:
        yield site


def plain(text: str) -> str:
    """Le texte tel qu'on le lit : espaces insécables (milliers, avant « % » et « € ») en espaces."""
    return re.sub(r"[\u202f\xa0]", " ", text)


class Person:
    """Une personne dans son propre onglet (navigateur en anglais). Chaque page chargée passe
    axe-core avant qu'on agisse, et laisse une capture d'écran."""

    def __init__(self, browser, site, name, who):
        self.site, self.name = site, name
        self.email, self.password = site.data[f"{who}_email"], site.data[f"{who}_password"]
        self.context = new_context(browser, locale=LOCALE)
        self.page = self.context.new_page()
        self.loaded, self.checked = [], []
        self.page.on("load", lambda _page: self.loaded.append(self.page.url))
        self.shots = 0

    def check(self, step):
        page = self.page
        page.wait_for_load_state()
        assert "Erreur" not in page.title(), f"{self.name}, {step} : {page.url} affiche une erreur."
        violations = run_axe(page)
        assert not violations, (
            f"{self.name}, {step} ({page.url}) : {len(violations)} règle(s) axe-core {axe_version()} "
            f"en échec :\n{describe_violations(violations)}"
        )
        self.checked.append(page.url)
        self.shot(step)
        return page

    def shot(self, step):
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        slug = "".join(c if c.isalnum() else "-" for c in f"{self.name}-{self.shots:02d}-{step}".lower())
        self.page.screenshot(path=str(SHOTS / f"{slug}.png"), full_page=True)

    def go(self, path, step, status=200):
        response = self.page.goto(self.site.url(path))
        assert response.status == status, f"{self.name}, {step} : {path} répond {response.status}."
        return self.check(step)

    def refused(self, path, step):
        """``path`` est refusé (403 ou 404) à cette personne."""
        response = self.page.goto(self.site.url(path))
        assert response.status in (403, 404), f"{self.name}, {step} : {path} répond {response.status}."
        self.checked.append(self.page.url)
        return response.status

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
        return plain(self.page.locator(".messages").inner_text())

    def main(self) -> str:
        return plain(self.page.locator("main").inner_text())

    def all_pages_checked(self):
        unchecked = [url for url in self.loaded if url not in self.checked]
        assert not unchecked, f"{self.name} : pages chargées sans vérification axe-core : {unchecked}"


def link(page, name):
    return page.get_by_role("link", name=name, exact=True)


def db_rows(site, sql, *params):
    with sqlite3.connect(site.db) as db:
        return db.execute(sql, params).fetchall()


# --- Étapes du parcours -----------------------------------------------------------------------------


def step_apply(asso, site):
    """L'association crée un brouillon, remplit le projet et le budget (totaux en direct), joint ses
    pièces (elle en ajoute une) et dépose : elle voit le numéro de son dossier."""
    page = asso.page
    asso.follow(page.get_by_role("link", name=re.compile(r"^Appels à projets de ")), "espace association")
    asso.follow(link(page, "Nouveau dossier"), "nouveau dossier")
    page.get_by_label("Intitulé du projet").fill(TITLE)
    asso.follow(page.get_by_role("button", name="Créer le brouillon"), "projet (brouillon)")
    assert "Brouillon (non déposé)" in asso.main()
    application_url = page.url.removesuffix("projet/")

    page.get_by_label("Résumé en langage clair").fill(
        "Des ateliers pour aider les familles à faire leurs démarches en ligne."
    )
    page.get_by_label("Objectifs").fill("Rendre les familles autonomes pour leurs démarches en ligne.")
    page.get_by_label("Public visé").fill("Familles des Dervallières.")
    page.get_by_label("Nombre de bénéficiaires prévus").fill("1 200")
    page.get_by_label("Part des bénéficiaires habitant un quartier prioritaire (%)").fill("75,5")
    page.get_by_role("group", name="Portée").get_by_role("radio").first.check()
    page.get_by_role("group", name="Quartiers concernés").get_by_label(re.compile("Dervallières")).check()
    page.get_by_label("Lieux de l'action").fill("Maison de quartier des Dervallières.")
    page.get_by_label("Début").fill(f"{site.data['aap_year']}-03-01")
    page.get_by_label("Fin").fill(f"{site.data['aap_year']}-12-15")
    enjeu = page.get_by_label("Enjeu du contrat")
    enjeu.select_option(index=1)
    page.get_by_label("Indicateurs d'évaluation").fill("Familles accueillies, démarches réussies.")
    asso.follow(page.get_by_role("button", name="Enregistrer le projet"), "projet enregistré")
    assert "Le projet est enregistré" in asso.message(), asso.message()
    # Les dates enregistrées reviennent dans leurs champs ; le nombre saisi à la française aussi.
    assert page.get_by_label("Début").input_value() == f"{site.data['aap_year']}-03-01"
    assert plain(page.get_by_label("Nombre de bénéficiaires prévus").input_value()) == "1 200"
    assert plain(
        page.get_by_label("Part des bénéficiaires habitant un quartier prioritaire (%)").input_value()
    ) in (
        "75,5",
        "75,50",
    )

    asso.follow(link(page, "2. Budget"), "budget")
    totals = page.locator("#totaux")
    page.locator("#id_amount_64").fill("12 000,50")
    page.locator("#id_amount_60").fill("3000")
    # Les totaux suivent la saisie : pour l'instant, seules des charges, l'écart est affiché.
    page.wait_for_function(
        "() => document.querySelector('#totaux').innerText.includes('15')", polling=100, timeout=5000
    )
    assert "15 000,50 €" in plain(totals.inner_text()), totals.inner_text()
    assert "doit être équilibré" in totals.inner_text()
    asso.shot("budget non equilibre")
    page.locator("#id_amount_70").fill("2 000,50 €")
    page.locator("#id_amount_74").fill("1500")
    page.locator("#id_amount_75").fill("500")
    funders = page.locator("table.budget").nth(2).locator("tbody tr")
    state_name = funders.nth(0).locator("th").inner_text().split(" (")[0].strip()
    metropole_name = funders.nth(1).locator("th").inner_text().split(" (")[0].strip()
    funders.nth(0).locator("input").first.fill("5 000")
    funders.nth(1).locator("input").first.fill("6000,00")
    page.wait_for_function(
        "() => document.querySelector('#totaux').innerText.includes('équilibré')"
        " && !document.querySelector('#totaux').innerText.includes('doit')",
        polling=100,
        timeout=5000,
    )
    shown = plain(totals.inner_text())
    assert "Total des produits\n15 000,50 €" in shown or "15 000,50 € (dont 11 000 €" in shown, shown
    assert "0 € : budget équilibré" in shown, shown
    asso.shot("budget equilibre")
    asso.follow(page.get_by_role("button", name="Enregistrer le budget"), "budget enregistré")
    assert "Le budget est enregistré" in asso.message(), asso.message()
    assert plain(page.locator("#id_amount_64").input_value()) == "12 000,50"
    assert plain(funders.nth(1).locator("input").first.input_value()) == "6 000"

    # Les pièces : statuts, comptes et rapport déjà donnés ; le RIB manque, elle l'ajoute.
    asso.follow(link(page, "3. Pièces"), "pièces")
    asso.follow(link(page, "Déposer une nouvelle pièce"), "pièces de l'association")
    page.get_by_label("Pièce").select_option(label="Relevé d'identité bancaire")
    page.get_by_label("Fichier").set_input_files(
        files=[
            {
                "name": "rib-association.pdf",
                "mimeType": "application/pdf",
                "buffer": b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n",
            }
        ]
    )
    asso.follow(page.get_by_role("button", name="Ajouter"), "pièce ajoutée")
    assert "La pièce est ajoutée" in asso.message(), asso.message()
    assert page.url.endswith("/pieces/") and "/dossiers/" in page.url, page.url  # retour au dossier
    for checkbox in page.get_by_role("group", name="Pièces jointes au dossier").get_by_role("checkbox").all():
        checkbox.check()
    asso.follow(page.get_by_role("button", name="Enregistrer les pièces jointes"), "pièces jointes")

    asso.follow(link(page, "4. Déposer"), "déposer")
    text = asso.main()
    assert "Ce qui manque" not in text, text
    assert "11 000 €" in text and "15 000,50 €" in text, text
    page.get_by_label("Nom et qualité de la personne qui dépose").fill("Nadia Référente, présidente")
    page.get_by_label(re.compile("^Je certifie")).check()
    page.get_by_label(re.compile("contrat d'engagement républicain")).check()
    asso.follow(page.get_by_role("button", name="Déposer le dossier"), "dossier déposé")
    found = re.search(r"déposé sous le numéro (\d{4}-\d{4})", asso.message())
    assert found, asso.message()
    number = found.group(1)
    assert number in page.locator("h1").inner_text()
    assert "Brouillon" not in page.locator("main").inner_text()
    receipts = [
        m for m in site.mails() if number in str(m["Subject"]) or number in m.get_body().get_content()
    ]
    assert any(asso.email in m["To"] for m in receipts), "aucun courriel de dépôt pour l'association"
    return number, application_url, state_name, metropole_name


def line_ids(site, number):
    """{nom du financeur: identifiant de sa ligne} pour le dossier ``number`` (lu dans la base)."""
    rows = db_rows(
        site,
        "SELECT p.name, l.id FROM grants_funderline l JOIN grants_callfunder f ON f.id = l.funder_id "
        "JOIN partners_partner p ON p.id = f.partner_id JOIN grants_application a ON a.id = l.application_id "
        "WHERE a.number = ?",
        number,
    )
    return dict(rows)


def open_in_queue(person, site, number):
    page = person.page
    person.go(f"/contrats/{site.data['contract']}/aap/{site.data['aap_year']}/instruction/", "file")
    box = link(page, number).bounding_box()
    assert box["height"] < 1.8 * 16 * 1.5, f"le numéro {number} est coupé sur deux lignes : {box}"
    person.follow(link(page, number), "instruction du dossier")
    return page


def step_instruct(person, site, number, funder, *, status, amount, opinion, comment):
    page = open_in_queue(person, site, number)
    person.follow(page.get_by_role("link", name=f"Instruire la ligne de {funder}"), f"ligne {funder}")
    page.get_by_label("État de la ligne").select_option(label=status)
    page.get_by_label("Montant proposé").fill(amount)
    page.get_by_label("Avis du financeur").select_option(label=opinion)
    page.get_by_label("Commentaire de l'instructeur").fill(comment)
    person.follow(page.get_by_role("button", name="Enregistrer la ligne"), "ligne enregistrée")
    return page


def step_request_info(state, site, number):
    page = state.page
    state.follow(link(page, "Demander des compléments"), "demande de compléments")
    page.get_by_label("Vos questions à l'association").fill(QUESTION)
    page.get_by_label(re.compile("^Je confirme")).check()
    state.follow(page.get_by_role("button", name="Rendre le dossier à l'association"), "compléments demandés")
    assert "Compléments demandés" in state.main()


def step_answer(asso, site, application_url):
    page = asso.page
    asso.go(application_url.removeprefix(site.base), "dossier rendu")
    text = asso.main()
    assert "Compléments demandés" in text and QUESTION in text, text
    assert STATE_COMMENT not in text, "l'association lit le commentaire interne de l'État"
    assert "4 500" not in text, "l'association voit le montant proposé par l'État"
    asso.follow(link(page, "Répondre aux questions"), "répondre")
    page.get_by_label("Votre réponse").fill(ANSWER)
    asso.follow(page.get_by_role("button", name="Envoyer la réponse et redéposer"), "réponse envoyée")
    assert "de nouveau déposé" in asso.message(), asso.message()
    assert ANSWER in asso.main()


def step_committee_cannot_vote(member, site):
    page = member.page
    base = f"/contrats/{site.data['contract']}/aap/{site.data['aap_year']}/"
    member.go(base + "programmation/", "programmation (lecture)")
    assert page.get_by_role("link", name=re.compile("Enregistrer le vote")).count() == 0
    assert page.get_by_role("button", name="Simuler").count() == 0
    assert member.refused(base + "programmation/vote/", "vote refusé") == 403


def simulate(pilot, number, funder, choice, amount=""):
    page = pilot.page
    row = page.locator("table.programmation tbody tr", has=page.get_by_role("rowheader", name=number))
    select = row.get_by_label(f"Simulation {funder}, dossier {number}")
    select.select_option(label=choice)
    row.get_by_label(f"Montant simulé {funder}, dossier {number} (€)").fill(amount)
    cell = select.locator("xpath=ancestor::td")
    with page.expect_response(re.compile(r"/simulation/$")):
        cell.get_by_role("button", name="Simuler").click()
    return page.locator("table.programmation tbody tr", has=page.get_by_role("rowheader", name=number))


def step_vote(pilot, site, number, state_name, metropole_name):
    page = pilot.page
    base = f"/contrats/{site.data['contract']}/aap/{site.data['aap_year']}/"
    pilot.go(base + "programmation/", "programmation")
    wide = page.evaluate(OVERFLOW_JS)
    assert wide["scroll"] <= wide["width"], f"la programmation élargit la page : {wide}"
    row = simulate(pilot, number, state_name, "Oui", "4 500")
    assert "oui" in row.inner_text().lower() or "4 500" in plain(row.inner_text())
    row = simulate(pilot, number, metropole_name, "Oui")  # vide : le montant proposé
    pilot.shot("programmation simulee")
    assert "Simulé : 10 500 €" in plain(row.inner_text()), row.inner_text()
    pilot.follow(
        page.get_by_role("link", name=re.compile("Enregistrer le vote du comité")), "vote : confirmation"
    )
    assert "Toutes les lignes ont une simulation." in pilot.main(), pilot.main()
    assert page.get_by_label("Date de la décision").input_value(), "la date du jour n'est pas proposée"
    page.get_by_label(re.compile("^Je confirme l'enregistrement du vote")).check()
    pilot.follow(page.get_by_role("button", name="Enregistrer le vote"), "vote enregistré")
    assert pilot.message().startswith("Vote enregistré : "), pilot.message()
    assert "Vote enregistré" in pilot.main()


def step_decisions(asso, site, application_url, number, state_name, metropole_name):
    page = asso.page
    asso.go(
        f"/contrats/{site.data['contract']}/partenaires/{site.data['aap_partner']}/aap/", "mon espace AAP"
    )
    asso.follow(link(page, TITLE), "décisions")
    text = asso.main()
    decisions = page.get_by_role("table").filter(
        has=page.get_by_role("columnheader", name="Décision du comité")
    )
    for funder, amount in ((state_name, "4 500 € accordés"), (metropole_name, "6 000 € accordés")):
        row = decisions.locator("tr", has=page.get_by_role("rowheader", name=funder, exact=True))
        assert amount in plain(row.inner_text()), row.inner_text()
    assert STATE_COMMENT not in text and METROPOLE_COMMENT not in text, "commentaires internes montrés"
    mails = [m for m in site.mails() if "Décisions des financeurs" in str(m["Subject"])]
    mine = [m for m in mails if asso.email in m["To"]]
    assert mine, "l'association n'a pas reçu le courriel des décisions"
    body = plain(mine[-1].get_body().get_content())
    assert number in body and "4 500 €" in body and "6 000 €" in body, body


def test_parcours_appel_a_projets(browser, aap_site):
    site = aap_site
    asso = Person(browser, site, "association", "applicant")
    state = Person(browser, site, "instructeur-etat", "instructor")
    metropole = Person(browser, site, "instructrice-metropole", "instructor2")
    member = Person(browser, site, "comite", "committee")
    pilot = Person(browser, site, "pilote", "pilot")
    people = (asso, state, metropole, member, pilot)
    try:
        asso.log_in()
        number, application_url, state_name, metropole_name = step_apply(asso, site)
        lines = line_ids(site, number)
        assert set(lines) == {state_name, metropole_name}, lines
        instruct = f"{application_url.removeprefix(site.base)}lignes/"

        state.log_in()
        step_instruct(
            state,
            site,
            number,
            state_name,
            status="En instruction",
            amount="4 500",
            opinion="Favorable",
            comment=STATE_COMMENT,
        )
        # Un instructeur n'ouvre pas la ligne d'un autre financeur.
        assert state.refused(f"{instruct}{lines[metropole_name]}/", "ligne de la Métropole") == 403
        open_in_queue(state, site, number)
        step_request_info(state, site, number)

        step_answer(asso, site, application_url)

        metropole.log_in()
        step_instruct(
            metropole,
            site,
            number,
            metropole_name,
            status="En instruction",
            amount="6 000,00 €",
            opinion="Favorable avec réserves",
            comment=METROPOLE_COMMENT,
        )
        assert "6 000 €" in metropole.main()
        assert metropole.refused(f"{instruct}{lines[state_name]}/", "ligne de l'État") == 403

        member.log_in()
        step_committee_cannot_vote(member, site)

        pilot.log_in()
        step_vote(pilot, site, number, state_name, metropole_name)

        step_decisions(asso, site, application_url, number, state_name, metropole_name)
        for person in people:
            person.all_pages_checked()
    finally:
        for person in people:
            person.context.close()
