"""Parcours au clavier seul (Tab, Maj+Tab, Entrée, Espace, flèches), focus visible à chaque arrêt."""

import re

import pytest
from django.urls import reverse

from .pages import ACTIVE_JS, focus_is_visible

MAX_TABS = 250


class Keyboard:
    """Déplace le focus avec Tab et vérifie, à chaque arrêt, que le focus se voit."""

    def __init__(self, page):
        self.page = page
        self.invisible = []  # arrêts de tabulation sans indicateur de focus

    def tab_to(self, predicate, what: str, shift=False) -> dict:
        stops = []
        for _ in range(MAX_TABS):
            self.page.keyboard.press("Shift+Tab" if shift else "Tab")
            active = self.page.evaluate(ACTIVE_JS)
            stops.append(active and f"<{active['tag']} id={active['id']!r}> {active['text'][:30]!r}")
            if active is None:
                continue
            visible, detail = focus_is_visible(self.page)
            if not visible:
                where = f"{self.page.url} <{active['tag']}> « {active['text'][:40]} »"
                self.invisible.append(f"{where} : {detail}")
            if predicate(active):
                return active
        last = "\n".join(str(stop) for stop in stops[:60])
        pytest.fail(f"{what} : introuvable en {MAX_TABS} tabulations sur {self.page.url} ; arrêts :\n{last}")

    def press_and_wait(self, key: str):
        with self.page.expect_navigation():
            self.page.keyboard.press(key)

    def assert_focus_always_visible(self):
        assert not self.invisible, "Focus invisible sur :\n- " + "\n- ".join(self.invisible)


def href_matches(pattern):
    regex = re.compile(pattern)
    return lambda active: active["tag"] == "a" and bool(regex.search(active["href"] or ""))


def test_accueil_quartier_action_au_clavier(page, site):
    keys = Keyboard(page)
    page.goto(site.url("/"))

    qpv_link = keys.tab_to(href_matches(r"/quartiers/[^/]+/$"), "Lien vers un quartier depuis l'accueil")
    keys.press_and_wait("Enter")
    assert re.search(r"/quartiers/[^/]+/$", page.url), page.url
    assert page.locator("h1").inner_text().strip() == qpv_link["text"]

    action_link = keys.tab_to(href_matches(r"/actions/\d+/$"), "Lien vers une action depuis le quartier")
    keys.press_and_wait("Enter")
    assert re.search(r"/actions/\d+/$", page.url), page.url
    assert page.locator("main").get_by_role("heading", level=1).count() == 1
    heading = page.locator("h1").inner_text()
    assert action_link["text"] in heading, (action_link, heading)

    # Retour en arrière au clavier : Maj+Tab jusqu'au fil d'Ariane ou au menu.
    keys.tab_to(lambda a: a["tag"] == "a", "Un lien avant le contenu", shift=True)
    keys.assert_focus_always_visible()


def test_connexion_et_engagement_au_clavier(page, site):
    keys = Keyboard(page)
    data = site.data
    page.goto(site.url("/"))

    keys.tab_to(href_matches(r"^/connexion/$"), "Lien « Se connecter »")
    keys.press_and_wait("Enter")
    keys.tab_to(lambda a: a["id"] == "id_username", "Champ adresse électronique")
    page.keyboard.type(data["editor_email"])
    keys.tab_to(lambda a: a["id"] == "id_password", "Champ mot de passe")
    page.keyboard.type(data["editor_password"])
    keys.press_and_wait("Enter")
    assert page.url.endswith(reverse("www:my_space")), f"connexion refusée ? {page.url}"

    space = reverse("www:partner_space", args=[data["contract"], data["partner"]])
    keys.tab_to(href_matches(f"^{re.escape(space)}$"), "Lien vers l'espace partenaire")
    keys.press_and_wait("Enter")
    create = reverse("www:commitment_create", args=[data["contract"], data["partner"]])
    keys.tab_to(href_matches(f"^{re.escape(create)}$"), "Lien « Nouvel engagement »")
    keys.press_and_wait("Enter")
    assert page.url.endswith(create), page.url

    # Objectif : liste déroulante fermée, flèche bas choisit le premier objectif.
    keys.tab_to(lambda a: a["id"] == "id_objective", "Liste des objectifs")
    page.keyboard.press("ArrowDown")
    assert page.locator("#id_objective").input_value(), "aucun objectif choisi au clavier"
    keys.tab_to(lambda a: a["id"] == "id_title", "Champ intitulé")
    title = "Tenir une permanence emploi chaque semaine (clavier)"
    page.keyboard.type(title)
    # Portée « quartiers choisis » (cochée par défaut) : cocher le premier quartier avec Espace.
    keys.tab_to(lambda a: (a["name"] or "") == "qpvs", "Première case des quartiers")
    page.keyboard.press("Space")
    assert page.locator("input[name=qpvs]:checked").count() == 1
    keys.tab_to(lambda a: a["tag"] == "button" and a["text"] == "Enregistrer", "Bouton « Enregistrer »")
    keys.press_and_wait("Enter")

    assert re.search(r"/engagements/\d+/$", page.url), (
        f"formulaire refusé ? {page.url}\n" + page.locator("main").inner_text()[:1500]
    )
    assert "Engagement enregistré en brouillon." in page.locator(".messages").inner_text()
    assert page.locator("h1").inner_text().strip().endswith(title) or title in page.locator("h1").inner_text()
    keys.assert_focus_always_visible()


def test_le_controle_du_focus_detecte_un_focus_invisible(page):
    """Garde-fou : un lien dont le focus est effacé est signalé ; un contour ou un fond qui change, non."""
    page.set_content(
        "<style>a { outline: none !important; } #fond:focus { background: #ffd166; }</style>"
        '<a id="nu" href="#">sans indicateur</a> <a id="fond" href="#">fond au focus</a> '
        '<button style="outline: 3px solid red">contour</button>'
    )
    page.keyboard.press("Tab")
    assert focus_is_visible(page)[0] is False
    page.keyboard.press("Tab")
    assert focus_is_visible(page)[0] is True
    page.keyboard.press("Tab")
    assert focus_is_visible(page)[0] is True
