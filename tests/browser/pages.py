"""Pages visitées par les tests navigateur, et vérifications communes (axe-core, structure, focus)."""

from dataclasses import dataclass, field

import pytest
from django.urls import reverse

# Les critères WCAG 2.1 niveaux A et AA (ceux du RGAA).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@dataclass(frozen=True)
class SitePage:
    id: str
    name: str
    args: tuple = ()  # clés de site.data, ou valeurs littérales préfixées par « = »
    query: str = ""
    user: str = (
        ""  # vue anonyme, ou connectée : référent partenaire (editor), pilote (pilot), opérateur (operator),
        # comptes de l'appel à projets (conftest.AAP_ACCOUNTS)
    )
    status: int = 200
    new: bool = False  # pages publiques ajoutées en dernier (views/pages.py, views/opendata.py)
    marks: tuple = field(default_factory=tuple)

    def url(self, site) -> str:
        args = []
        for arg in self.args:
            if arg.startswith("="):
                args.append(arg[1:])
            else:
                value = site.data.get(arg)
                if value is None:
                    pytest.fail(f"La base de test ne fournit pas de « {arg} » pour la page {self.id}.")
                args.append(value)
        return site.url(reverse(self.name, args=args) + self.query)


C = "contract"
PUBLIC_PAGES = [
    SitePage("accueil", "www:home"),
    SitePage("contrat", "www:contract", (C,)),
    SitePage("quartier", "www:qpv", (C, "qpv")),
    SitePage("indicateurs", "www:indicators", (C,)),
    SitePage("indicateur", "www:indicator", (C, "indicator"), new=True),
    SitePage("engagement", "www:commitment", (C, "public_commitment")),
    SitePage("retours", "www:feedback_list", (C,)),
    SitePage("instances", "www:meetings", (C,)),
    SitePage("instance", "www:meeting", (C, "meeting")),
    SitePage("decisions", "www:decisions", (C,)),
    SitePage("connexion", "www:login"),
    SitePage("mot-de-passe-oublie", "www:password_reset"),
    SitePage("page-introuvable", "www:qpv", (C, "=QN00000X"), status=404),
    SitePage("enjeu", "www:enjeu", (C, "enjeu"), new=True),
    SitePage("action", "www:action", (C, "action"), new=True),
    SitePage("partenaires", "www:partners", (C,), new=True),
    SitePage("partenaire", "www:partner", (C, "partner"), new=True),
    SitePage("recherche", "www:search", (C,), query="?q=emploi", new=True),
    SitePage("carte", "www:map", (C,), new=True),
    SitePage("accessibilite", "www:accessibility", new=True),
    SitePage("donnees", "www:opendata", (C,), new=True),
    SitePage("evaluations", "www:evaluations", (C,), new=True),
    SitePage("avenants", "www:amendments", (C,), new=True),
]
PARTNER_PAGES = [
    SitePage("mon-espace", "www:my_space", user="editor"),
    SitePage("second-facteur", "www:two_factor", user="editor"),
    SitePage("notifications", "www:notifications", user="editor"),
    SitePage("supprimer-compte", "www:delete_account", user="editor"),
    SitePage("espace-partenaire", "www:partner_space", (C, "partner"), user="editor"),
    SitePage("engagement-nouveau", "www:commitment_create", (C, "partner"), user="editor"),
    SitePage("engagement-brouillon", "www:commitment", (C, "draft_commitment"), user="editor"),
    SitePage("engagement-modifier", "www:commitment_edit", (C, "draft_commitment"), user="editor"),
    SitePage("cahier-televerser", "www:cahier_upload", (C, "partner"), user="editor"),
    SitePage("retour-nouveau", "www:feedback_create", (C,), user="editor"),
    SitePage("mes-retours", "www:my_feedback", (C,), user="editor"),
    SitePage("suivi-annuel", "www:review_campaigns", (C,), user="editor"),
    SitePage("bilans-partenaire", "www:review_partner", (C, "review_year", "report_partner"), user="editor"),
    SitePage("bilan-formulaire", "www:review_report", (C, "review_year", "report"), user="editor"),
]
PILOT_PAGES = [
    SitePage("pilotage", "www:dashboard", (C,), user="pilot"),
    SitePage("mon-espace-pilote", "www:my_space", user="pilot"),
    SitePage("mon-espace-conseil", "www:my_space", user="council"),
    SitePage("mon-espace-evaluation", "www:my_space", user="evaluator"),
    SitePage("invitations", "www:invitations", (C,), user="pilot"),
    SitePage("moderation", "www:moderation", (C,), user="pilot"),
    SitePage("campagnes", "www:review_campaigns", (C,), user="pilot"),
    SitePage("campagne", "www:review_campaign", (C, "review_year"), user="pilot"),
    SitePage("bilan-pilote", "www:review_report", (C, "review_year", "report"), user="pilot"),
    SitePage("campagne-clore", "www:review_close", (C, "review_year"), user="pilot"),
    SitePage("campagne-relancer", "www:review_remind", (C, "review_year"), user="pilot"),
    SitePage("campagne-figer", "www:review_freeze", (C, "review_year"), user="pilot"),
    SitePage("instance-nouvelle", "www:meeting_create", (C,), user="pilot"),
    SitePage("instance-modifier", "www:meeting_edit", (C, "meeting"), user="pilot"),
    SitePage("decision-nouvelle", "www:decision_create", (C, "meeting"), user="pilot"),
    SitePage("journal-audit", "www:audit", (C,), user="pilot"),
    SitePage("indicateurs-importer", "www:indicator_import", (C,), user="pilot"),
    SitePage("plan", "www:plan", (C,), user="pilot"),
    SitePage("plan-import", "www:plan_import", (C,), user="pilot"),
    SitePage("plan-enjeu-nouveau", "www:plan_enjeu_create", (C,), user="pilot"),
    SitePage("plan-objectif-nouveau", "www:plan_objective_create", (C, "enjeu_id"), user="pilot"),
    SitePage("plan-objectif-modifier", "www:plan_objective_edit", (C, "objective_id"), user="pilot"),
    SitePage("plan-action-nouvelle", "www:plan_action_create", (C, "objective_id"), user="pilot"),
    SitePage("plan-action-modifier", "www:plan_action_edit", (C, "action"), user="pilot"),
    SitePage("plan-action-historique", "www:plan_history", (C, "=action", "action"), user="pilot"),
    SitePage("plan-action-supprimer", "www:plan_delete", (C, "=action", "action"), user="pilot"),
    SitePage("evaluation", "www:evaluation", (C, "=mi-parcours"), user="pilot"),
    SitePage("evaluation-adopter", "www:evaluation_adopt", (C, "=mi-parcours"), user="pilot"),
    SitePage("questionnaires", "www:questionnaires", (C, "=mi-parcours"), user="pilot"),
    SitePage("questionnaire", "www:questionnaire", (C, "=mi-parcours", "=QN04406M"), user="pilot"),
    SitePage(
        "questionnaire-papier", "www:questionnaire_paper", (C, "=mi-parcours", "=QN04406M"), user="pilot"
    ),
    SitePage(
        "questionnaire-resultats", "www:questionnaire_results", (C, "=mi-parcours", "=QN04406M"), user="pilot"
    ),
]
OPERATOR_PAGES = [
    SitePage("nouveau-contrat", "www:new_contract", user="operator"),
    SitePage("vue-etat", "www:state_dashboard", user="operator"),
    SitePage("lecture-inter-contrats", "www:cross_contract_readers", user="operator"),
]
# Appel à projets (AAP) : chaque page, vue par le rôle qui s'en sert (comptes de demo_grants.py). Les
# repères (années des appels, dossiers, ligne) sont cherchés dans la démonstration par prepare_db.py.
Y, YV, YD, AP = "aap_year", "aap_voted_year", "aap_draft_year", "aap_partner"
AAP_PAGES = [
    # L'appel : public, pilote
    SitePage("aap-appels", "www:call_list", (C,)),
    SitePage("aap-appel-public", "www:call", (C, Y)),
    SitePage("aap-appel-vote-public", "www:call", (C, YV)),
    SitePage("aap-projets-finances", "www:call_results", (C, YV)),
    SitePage("aap-projets-finances-quartiers", "www:call_results", (C, YV), query="?par=quartier"),
    SitePage("aap-appels-pilote", "www:call_list", (C,), user="pilot"),
    SitePage("aap-appel-pilote", "www:call", (C, Y), user="pilot"),
    SitePage("aap-appel-preparation", "www:call", (C, YD), user="pilot"),
    SitePage("aap-appel-nouveau", "www:call_create", (C,), user="pilot"),
    SitePage("aap-appel-modifier", "www:call_edit", (C, Y), user="pilot"),
    SitePage("aap-appel-financeurs", "www:call_funders", (C, Y), user="pilot"),
    SitePage("aap-appel-reglages", "www:call_settings", (C, Y), user="pilot"),
    SitePage("aap-appel-brouillons", "www:call_drafts", (C, Y), user="pilot"),
    SitePage("aap-appel-copier", "www:call_copy", (C, Y), user="pilot"),
    SitePage("aap-appel-publier", "www:call_publish", (C, YD), user="pilot"),
    SitePage("aap-appel-archiver", "www:call_archive", (C, YV), user="pilot"),
    # L'association
    SitePage("aap-appel-association", "www:call", (C, Y), user="applicant"),
    SitePage("aap-espace-association", "www:partner_applications", (C, AP), user="applicant"),
    SitePage("aap-identite", "www:partner_identity", (C, AP), user="applicant"),
    SitePage("aap-pieces-association", "www:partner_documents", (C, AP), user="applicant"),
    SitePage("aap-dossier-nouveau", "www:application_create", (C, Y, AP), user="applicant"),
    SitePage("aap-dossier-brouillon", "www:application", (C, Y, "aap_draft"), user="applicant"),
    SitePage("aap-dossier-projet", "www:application_project", (C, Y, "aap_draft"), user="applicant"),
    SitePage("aap-dossier-budget", "www:application_budget", (C, Y, "aap_draft"), user="applicant"),
    SitePage("aap-dossier-pieces", "www:application_documents", (C, Y, "aap_draft"), user="applicant"),
    SitePage("aap-dossier-deposer", "www:application_submit", (C, Y, "aap_draft"), user="applicant"),
    SitePage("aap-dossier-retirer", "www:application_withdraw", (C, Y, "aap_draft"), user="applicant"),
    SitePage("aap-dossier-supprimer", "www:application_delete", (C, Y, "aap_draft"), user="applicant"),
    SitePage("aap-dossier-complements", "www:application", (C, Y, "aap_returned"), user="applicant"),
    SitePage("aap-dossier-repondre", "www:application_answer", (C, Y, "aap_returned"), user="applicant"),
    SitePage("aap-dossier-decide", "www:application", (C, YV, "aap_decided"), user="applicant"),
    SitePage("aap-compte-rendu", "www:report", (C, YV, "aap_reporting"), user="applicant"),
    SitePage("aap-compte-rendu-budget", "www:report_budget", (C, YV, "aap_reporting"), user="applicant"),
    SitePage("aap-compte-rendu-qpv", "www:report_beneficiaries", (C, YV, "aap_reporting"), user="applicant"),
    SitePage("aap-compte-rendu-transmettre", "www:report_submit", (C, YV, "aap_reporting"), user="applicant"),
    SitePage("aap-compte-rendu-instructeur", "www:report", (C, YV, "aap_decided"), user="instructor"),
    # L'instruction
    SitePage("aap-file-instructeur", "www:call_queue", (C, Y), user="instructor"),
    SitePage("aap-file-correspondant", "www:call_queue", (C, Y), user="correspondent"),
    SitePage("aap-file-delegue", "www:call_queue", (C, Y), user="delegate"),
    SitePage("aap-file-comite", "www:call_queue", (C, Y), user="committee"),
    SitePage("aap-file-pilote", "www:call_queue", (C, Y), user="pilot"),
    SitePage("aap-dossier-instructeur", "www:application", (C, Y, "aap_instructed"), user="instructor"),
    SitePage("aap-instruction", "www:application_instruction", (C, Y, "aap_instructed"), user="instructor"),
    SitePage(
        "aap-ligne-financeur",
        "www:funder_line_edit",
        (C, Y, "aap_instructed", "aap_state_line"),
        user="instructor",
    ),
    SitePage("aap-avis-quartier", "www:quartier_opinion", (C, Y, "aap_instructed"), user="correspondent"),
    SitePage("aap-notes", "www:scores_edit", (C, Y, "aap_instructed"), user="instructor"),
    SitePage("aap-demande-complements", "www:request_info", (C, Y, "aap_instructed"), user="instructor"),
    SitePage("aap-instruction-pilote", "www:application_instruction", (C, Y, "aap_instructed"), user="pilot"),
    # Le comité des financeurs
    SitePage("aap-programmation-pilote", "www:programmation", (C, Y), user="pilot"),
    SitePage("aap-programmation-votee", "www:programmation", (C, YV), user="committee"),
    SitePage("aap-programmation-instructeur", "www:programmation", (C, Y), user="instructor2"),
    SitePage("aap-vote", "www:committee_vote", (C, Y), user="pilot"),
    # Après le vote : actes, versements, examen des comptes-rendus, blocages, import de Dauphin
    SitePage("aap-modeles-actes", "www:act_templates", (C,), user="instructor"),
    SitePage("aap-modele-acte", "www:act_template_edit", (C, "aap_state_partner"), user="instructor"),
    SitePage("aap-actes-instructeur", "www:call_acts", (C, YV), user="instructor"),
    SitePage("aap-actes-pilote", "www:call_acts", (C, YV), user="pilot"),
    SitePage("aap-acte", "www:line_act", (C, YV, "aap_followed", "aap_followed_line"), user="instructor"),
    SitePage(
        "aap-acte-signature", "www:act_sign", (C, YV, "aap_followed", "aap_followed_line"), user="instructor"
    ),
    SitePage(
        "aap-acte-association", "www:line_act", (C, YV, "aap_followed", "aap_followed_line"), user="applicant"
    ),
    SitePage(
        "aap-versements", "www:line_payments", (C, YV, "aap_followed", "aap_followed_line"), user="instructor"
    ),
    SitePage(
        "aap-versements-association",
        "www:line_payments",
        (C, YV, "aap_followed", "aap_followed_line"),
        user="applicant",
    ),
    SitePage("aap-retards-instructeur", "www:call_payments", (C, YV), user="instructor"),
    SitePage("aap-retards-pilote", "www:call_payments", (C, YV), user="pilot"),
    SitePage("aap-examen-compte-rendu", "www:report_review", (C, YV, "aap_reviewed"), user="instructor"),
    SitePage("aap-comptes-rendus-instructeur", "www:call_reports", (C, YV), user="instructor"),
    SitePage("aap-comptes-rendus-pilote", "www:call_reports", (C, YV), user="pilot"),
    SitePage("aap-blocages", "www:call_blocks", (C, Y), user="pilot"),
    SitePage("aap-import-dauphin", "www:call_import", (C, Y), user="pilot"),
]
ALL_PAGES = PUBLIC_PAGES + PARTNER_PAGES + PILOT_PAGES + OPERATOR_PAGES + AAP_PAGES


def params(pages):
    return [pytest.param(p, id=p.id, marks=list(p.marks)) for p in pages]


def open_page(request, site, spec: SitePage, page=None):
    """Ouvre ``spec`` dans un onglet (connecté au besoin) et vérifie le statut de la réponse."""
    if page is None:
        page = request.getfixturevalue("page_for")(spec.user)
    url = spec.url(site)
    response = page.goto(url)
    status = response.status if response else None
    if status != spec.status:
        hint = " (page pas encore livrée ?)" if spec.new and status == 404 else ""
        if status and status >= 500:
            lines = site.log.read_text(errors="replace").strip().splitlines()
            hint = " ; journal du serveur :\n" + "\n".join(lines[-6:])
        pytest.fail(f"{spec.id} : {url} répond {status}, {spec.status} attendu{hint}.")
    return page


def run_axe(page) -> list[dict]:
    from axe_playwright_python.base import AXE_SCRIPT

    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT)
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    return page.evaluate("options => axe.run(document, options)", options)["violations"]


def axe_version() -> str:
    from axe_playwright_python.base import AXE_SCRIPT

    return AXE_SCRIPT.split("axe v", 1)[1].split()[0]


def describe_violations(violations) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}) : {v['help']} — {v['helpUrl']}")
        for node in v["nodes"][:10]:
            target = " ".join(str(t) for t in node["target"])
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    · {target} : {summary[:300]}")
        if len(v["nodes"]) > 10:
            lines.append(f"    · … et {len(v['nodes']) - 10} autre(s) élément(s)")
    return "\n".join(lines)


HEADINGS_JS = """() => [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')]
  .filter(h => !h.closest('[hidden], [aria-hidden="true"]'))
  .map(h => [Number(h.tagName[1]), h.textContent.trim().replace(/\\s+/g, ' ').slice(0, 80)])"""


def heading_problems(page) -> list[str]:
    headings = page.evaluate(HEADINGS_JS)
    problems = []
    h1s = [text for level, text in headings if level == 1]
    if len(h1s) != 1:
        problems.append(f"{len(h1s)} titre(s) h1 au lieu d'un seul : {h1s}")
    if headings and headings[0][0] != 1:
        problems.append(f"le premier titre n'est pas un h1 : h{headings[0][0]} « {headings[0][1]} »")
    for (before, _), (level, text) in zip(headings, headings[1:], strict=False):
        if level > before + 1:
            problems.append(f"saut de niveau : h{before} puis h{level} « {text} »")
    return problems


ACTIVE_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const r = el.getBoundingClientRect();
  return {tag: el.tagName.toLowerCase(), id: el.id,
          text: (el.innerText || el.value || '').trim().slice(0, 80),
          href: el.getAttribute('href'), type: el.getAttribute('type'), name: el.getAttribute('name'),
          width: r.width, height: r.height};
}"""


FOCUS_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return [false, "aucun élément n'a le focus"];
  const look = e => {
    const s = getComputedStyle(e);
    return {outline: `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`, outlineStyle: s.outlineStyle,
            outlineWidth: parseFloat(s.outlineWidth) || 0, shadow: s.boxShadow, background: s.backgroundColor,
            border: `${s.borderStyle} ${s.borderWidth} ${s.borderColor}`,
            decoration: `${s.textDecorationLine} ${s.textDecorationThickness} ${s.textDecorationColor}`};
  };
  const focused = look(el);
  if (focused.outlineStyle !== 'none' && focused.outlineWidth > 0) {
    return [true, `contour ${focused.outline}`];
  }
  // Sinon, comparer avec le même élément sans focus : une copie inerte posée juste à côté.
  const copy = el.cloneNode(true);
  for (const node of [copy, ...copy.querySelectorAll('[id], [name]')]) {
    node.removeAttribute('id');
    node.removeAttribute('name');
  }
  copy.setAttribute('tabindex', '-1');
  copy.setAttribute('aria-hidden', 'true');
  el.after(copy);
  const plain = look(copy);
  copy.remove();
  const changed = ['shadow', 'background', 'border', 'decoration'].filter(k => focused[k] !== plain[k]);
  if (changed.length) return [true, `style modifié au focus : ${changed.join(', ')}`];
  return [false, `aucun indicateur de focus (contour ${focused.outline}, ombre ${focused.shadow})`];
}"""


def focus_is_visible(page) -> tuple[bool, str]:
    """Le focus clavier courant se voit-il ? Contour, sinon style différent de l'élément sans focus."""
    visible, detail = page.evaluate(FOCUS_JS)
    return visible, detail
