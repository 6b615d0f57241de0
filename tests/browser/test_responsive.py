"""Affichage à 320 px sans défilement horizontal ; tout le site (sauf la carte) sans JavaScript."""

import re

import pytest
from django.urls import reverse

from .conftest import new_context
from .pages import ALL_PAGES, HEADINGS_JS, PUBLIC_PAGES, open_page, params

NARROW = {"width": 320, "height": 640}

OVERFLOW_JS = """() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });  // tableaux de données repliés
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')].filter(e => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.right > width + 1 && !e.closest('.visually-hidden, .skip-link');
  });
  const outer = wide.filter(e => !wide.some(o => o !== e && o.contains(e)));
  return {scroll: document.documentElement.scrollWidth, width,
          culprits: outer.slice(0, 8).map(e => `<${e.tagName.toLowerCase()}${e.id ? ' id=' + e.id : ''}`
            + `${e.className && typeof e.className === 'string' ? ' class=' + e.className : ''}>`
            + ` ${Math.round(e.getBoundingClientRect().right)} px`)};
}"""


@pytest.fixture(scope="module")
def narrow_context(browser, login_state):
    """``narrow_context(user)`` : un contexte de 320 px de large, anonyme ou connecté, par module."""
    contexts = {}

    def get(user):
        if user not in contexts:
            options = {"storage_state": login_state(user)} if user else {}
            contexts[user] = new_context(browser, viewport=NARROW, **options)
        return contexts[user]

    yield get
    for context in contexts.values():
        context.close()


@pytest.fixture(scope="module")
def js_and_nojs(browser):
    with_js, without_js = new_context(browser), new_context(browser, java_script_enabled=False)
    yield with_js, without_js
    with_js.close()
    without_js.close()


@pytest.mark.parametrize("spec", params(ALL_PAGES))
def test_320_px_sans_defilement_horizontal(request, site, narrow_context, spec):
    page = narrow_context(spec.user).new_page()
    try:
        open_page(request, site, spec, page=page)
        result = page.evaluate(OVERFLOW_JS)
        assert result["scroll"] <= NARROW["width"], (
            f"{spec.id} à 320 px : la page fait {result['scroll']} px de large ; déborde(nt) :\n- "
            + "\n- ".join(result["culprits"])
        )
    finally:
        page.close()


@pytest.mark.parametrize("spec", params(PUBLIC_PAGES))
def test_sans_javascript(request, site, js_and_nojs, spec):
    """Sans JavaScript, la page montre le même contenu structuré (titres) qu'avec."""
    page, bare = js_and_nojs[0].new_page(), js_and_nojs[1].new_page()
    try:
        open_page(request, site, spec, page=page)
        with_js = page.evaluate(HEADINGS_JS)
        open_page(request, site, spec, page=bare)
        without_js = bare.evaluate(HEADINGS_JS)
        assert bare.locator("h1").count() == 1
        text = bare.locator("main").inner_text().strip()
        assert len(text) > 40, f"{spec.id} : contenu vide sans JavaScript"
        missing = [h for h in with_js if h not in without_js]
        assert not missing, f"{spec.id} : titres absents sans JavaScript : {missing}"
        if spec.id == "carte":
            # La carte demande JavaScript ; la liste des quartiers, non.
            links = bare.locator("main a[href*='/quartiers/']")
            assert links.count() >= 1, "carte sans JavaScript : aucune liste de quartiers en alternative"
    finally:
        page.close()
        bare.close()


def test_engagement_sans_javascript(browser, site, editor_state):
    """Le formulaire d'engagement s'enregistre sans JavaScript (la liste des actions reste complète)."""
    data = site.data
    context = new_context(browser, java_script_enabled=False, storage_state=editor_state)
    try:
        page = context.new_page()
        page.goto(site.url(reverse("www:commitment_create", args=[data["contract"], data["partner"]])))
        objective = page.locator("#id_objective option").nth(1).get_attribute("value")
        page.select_option("#id_objective", objective)
        page.fill("#id_title", "Ouvrir un atelier numérique (sans JavaScript)")
        page.locator("input[name=scope][value=CONTRAT]").check()
        with page.expect_navigation():
            page.get_by_role("button", name="Enregistrer").click()
        assert re.search(r"/engagements/\d+/$", page.url), page.locator("main").inner_text()[:1500]
        assert "Engagement enregistré en brouillon." in page.locator(".messages").inner_text()
    finally:
        context.close()
