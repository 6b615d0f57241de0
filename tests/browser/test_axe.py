"""axe-core (WCAG 2.1 A et AA) et structure de chaque type de page : public, partenaire, pilote."""

import pytest

from .pages import ALL_PAGES, axe_version, describe_violations, heading_problems, open_page, params, run_axe


def structure_problems(page) -> list[str]:
    """Langue, titre, un seul h1, titres sans saut, repères ARIA, lien d'évitement qui mène au contenu."""
    problems = []
    lang = page.evaluate("() => document.documentElement.lang")
    if lang != "fr":
        problems.append(f'<html lang="{lang}"> au lieu de lang="fr"')
    if not page.title().strip():
        problems.append("titre de page (<title>) vide")
    problems += heading_problems(page)
    for role, expected in (("banner", 1), ("main", 1), ("contentinfo", 1)):
        count = page.get_by_role(role).count()
        if count != expected:
            problems.append(f"{count} repère(s) {role} au lieu de {expected}")
    if page.get_by_role("navigation").count() < 1:
        problems.append("aucun repère de navigation")

    page.keyboard.press("Tab")
    first = page.evaluate(
        "() => { const a = document.activeElement; const r = a.getBoundingClientRect();"
        " return {href: a.getAttribute('href'), text: a.textContent.trim(),"
        " visible: r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0}; }"
    )
    if first["href"] != "#contenu":
        problems.append(f"le premier arrêt de tabulation n'est pas le lien d'évitement : {first}")
    else:
        if not first["visible"]:
            problems.append("le lien d'évitement reste invisible quand il a le focus")
        page.keyboard.press("Enter")
        target = page.evaluate("() => [document.activeElement.tagName, document.activeElement.id]")
        if target != ["MAIN", "contenu"]:
            problems.append(f"le lien d'évitement ne porte pas le focus sur <main id=contenu> : {target}")
    return problems


@pytest.mark.parametrize("spec", params(ALL_PAGES))
def test_page_accessible(request, site, spec):
    """Zéro violation axe-core (WCAG 2.1 A et AA), puis la structure de la page (une seule visite)."""
    page = open_page(request, site, spec)
    violations = run_axe(page)
    problems = structure_problems(page)
    report = []
    if violations:
        report.append(
            f"{len(violations)} règle(s) axe-core {axe_version()} en échec (WCAG 2.1 A/AA) :\n"
            + describe_violations(violations)
        )
    if problems:
        report.append("structure :\n- " + "\n- ".join(problems))
    assert not report, f"{spec.id} ({page.url}) :\n" + "\n".join(report)


CHART_PAGES = {"indicateurs", "quartier", "accueil"}
CHARTS_JS = """() => [...document.querySelectorAll('main svg')]
.filter(s => !s.closest('.leaflet-container')).map(svg => {
  const figure = svg.closest('figure');
  const labelled = (svg.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean)
    .map(id => document.getElementById(id)?.textContent.trim() || '').join(' ');
  const title = svg.querySelector(':scope > title')?.textContent.trim();
  const name = svg.getAttribute('aria-label') || labelled || title || '';
  const table = figure && figure.querySelector('table');
  return {role: svg.getAttribute('role'), name, hidden: svg.getAttribute('aria-hidden') === 'true',
          figure: !!figure, table: !!table, caption: table ? (table.caption?.textContent.trim() || '') : '',
          headers: table ? table.querySelectorAll('th[scope]').length : 0,
          chart: svg.classList.contains('chart')};
})"""


@pytest.mark.parametrize("spec", params(p for p in ALL_PAGES if p.id in CHART_PAGES))
def test_graphiques_avec_texte_et_tableau(request, site, spec):
    """Chaque image SVG a un nom accessible ; chaque graphique a son tableau de données (légendé)."""
    page = open_page(request, site, spec)
    svgs = page.evaluate(CHARTS_JS)
    charts = [s for s in svgs if s["chart"]]
    if spec.id == "indicateurs":
        assert charts, "aucun graphique sur la page des indicateurs"
    problems = [s for s in svgs if not s["hidden"] and (s["role"] != "img" or len(s["name"]) < 10)]
    problems += [c for c in charts if not (c["figure"] and c["table"] and c["caption"] and c["headers"])]
    assert not problems, f"{spec.id} : graphiques sans nom accessible ou sans tableau de données : {problems}"


def test_carte_avec_liste_de_tous_les_quartiers(site, browser):
    """La carte (JavaScript) a pour alternative une liste de tous les quartiers, présente sans JavaScript."""
    from .conftest import new_context

    context = new_context(browser, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(site.url("/"))
        links = "els => [...new Set(els.map(a => a.getAttribute('href')))].sort()"
        on_home = page.locator("main a[href*='/quartiers/']").evaluate_all(links)
        page.goto(site.url(f"/contrats/{site.data['contract']}/carte/"))
        on_map = page.locator("main a[href*='/quartiers/']").evaluate_all(links)
    finally:
        context.close()
    assert len(on_home) >= 2
    missing = set(on_home) - set(on_map)
    assert not missing, f"quartiers absents de la liste de la carte : {missing}"


def test_le_controle_axe_detecte_les_violations(page):
    """Garde-fou : axe-core tourne vraiment et signale une page fautive."""
    page.set_content(
        '<html><head><title>Essai</title></head><body><main><img src="x.png">'
        '<p style="color:#999;background:#fff">gris pâle</p><input type="text"></main></body></html>'
    )
    found = {v["id"] for v in run_axe(page)}
    assert {"html-has-lang", "image-alt", "color-contrast", "label"} <= found, found


def test_creation_de_contrat_verification_accessible(request, site, page_for):
    """La page de vérification d'un nouveau contrat (réponse au formulaire de l'opérateur) : zéro
    violation axe-core, puis le retour au formulaire garde la saisie."""
    from .pages import OPERATOR_PAGES

    page = open_page(request, site, OPERATOR_PAGES[0], page=page_for("operator"))
    page.fill("#id_epci", "CA de la Région Nazairienne et de l'Estuaire (CARENE) (244400644)")
    page.fill("#id_title", "Contrat de ville de la CARENE 2024-2030")
    page.fill("#id_pilot_email", "pilote@carene.example")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert page.locator("h1").inner_text() == "Vérifier le contrat à créer"
    assert "Aucun quartier" not in page.content()
    violations = run_axe(page)
    problems = structure_problems(page)
    assert not violations, describe_violations(violations)
    assert not problems, problems
    with page.expect_navigation():
        page.click("button[value=edit]")
    assert page.input_value("#id_title") == "Contrat de ville de la CARENE 2024-2030"
