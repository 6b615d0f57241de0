"""La matrice des droits de l'appel à projets : chaque rôle × chaque page de cdv/www/urls/grants.py
(GET, et POST pour les écritures) × chaque opération de l'API des appels à projets — ce qui est
commun à ses cinq fichiers (test_grants_permissions_*.py : l'appel et son comité, l'espace de
l'association, ses dossiers en cours, l'instruction, l'API).

Les réponses attendues viennent de la spécification, ``cdv/grants/abilities.py`` :
- autorisé : 200 (GET) ; POST : 200 ou 302 hors connexion (formulaire réaffiché ou acte fait), ou
  400/422 (les droits sont passés, le contenu vide est refusé) ;
- objet invisible pour la personne (dossier d'une autre association, d'un autre quartier…) : 404 ;
- objet visible, acte refusé : 403 ;
- anonyme refusé : 404, 403 ou renvoi vers la connexion (jamais une page).

Le monde est bâti une fois par fichier (``grants_world``), et chaque rôle s'y connecte une
fois (une session pour les pages, un jeton pour l'API : ``logins``, fixture de portée ``module``
de conftest.py) ; chaque test s'exécute dans une transaction annulée.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.urls import reverse

from .grants_world import ROLES

EVERYONE = frozenset(ROLES)
# Qui voit le dossier déposé 2025-0001 (association A, quartier 1, lignes État et X).
SUB_A = frozenset({"pilot", "referent_a", "instructor_x", "correspondent_1", "delegate", "committee"})
# Qui voit le dossier 2025-0003 rendu pour compléments (association A, quartier 2, ligne Y).
RET_A = frozenset({"pilot", "referent_a", "instructor_y", "correspondent_2", "committee"})
QUEUE = frozenset(
    {
        "pilot",
        "instructor_x",
        "instructor_y",
        "correspondent_1",
        "correspondent_2",
        "delegate",
        "committee",
    }
)
PROGRAMMATION = frozenset({"pilot", "committee", "instructor_x", "instructor_y"})


@dataclass(frozen=True)
class Row:
    name: str  # nom d'URL (www:<name>)
    args: object  # world -> arguments de reverse()
    allowed: frozenset
    visible: frozenset = EVERYONE  # hors de cet ensemble : 404 ; dedans mais refusé : 403
    methods: tuple = ("get",)
    label: str = ""
    loose: bool = field(default=False)  # refus : 403 ou 404 (visibilité non définie par abilities)


def call_args(year):
    return lambda w: [w["contract"].slug, year]


def app_args(key):
    return lambda w: [w["contract"].slug, w[key].call.year, w[key].pk]


def line_args(key, funder):
    def args(w):
        line = w[key].funder_lines.get(funder__partner=w[funder])
        return [w["contract"].slug, w[key].call.year, w[key].pk, line.pk]

    return args


def partner_args(key):
    return lambda w: [w["contract"].slug, w[key].slug]


PILOT = frozenset({"pilot"})
REF_A = frozenset({"referent_a"})
GET_POST = ("get", "post")

# L'appel et son comité des financeurs
CALL_PAGES = [
    Row("call_list", lambda w: [w["contract"].slug], EVERYONE),
    Row("call_create", lambda w: [w["contract"].slug], PILOT, methods=GET_POST),
    Row("call", call_args(2025), EVERYONE, label="publié"),
    Row("call", call_args(2026), PILOT, visible=PILOT, label="en préparation"),
    Row("call_edit", call_args(2025), PILOT, methods=GET_POST),
    Row("call_funders", call_args(2025), PILOT, methods=GET_POST),
    Row("call_settings", call_args(2025), PILOT, methods=GET_POST),
    Row("call_publish", call_args(2026), PILOT, visible=PILOT, methods=("post",)),
    Row("call_archive", call_args(2025), PILOT, methods=("post",)),
    Row("call_copy", call_args(2025), PILOT, methods=GET_POST),
    Row("call_drafts", call_args(2025), PILOT),
    # Le comité des financeurs
    Row("programmation", call_args(2025), PROGRAMMATION),
    Row("programmation_xlsx", call_args(2025), PROGRAMMATION),
    Row(
        "simulate_line",
        lambda w: [
            w["contract"].slug,
            2025,
            w["sub_a"].funder_lines.get(funder__partner=w["funder_x"]).pk,
        ],
        PILOT,
        methods=("post",),
        loose=True,
    ),
    Row("committee_vote", call_args(2025), PILOT, methods=GET_POST),
]
# L'espace de l'association, la sienne seulement : ses dossiers, son identité, ses pièces, un
# nouveau dossier, la fiche d'un dossier et son accusé de réception
ASSOCIATION_PAGES = [
    Row("partner_applications", partner_args("asso_a"), REF_A, visible=REF_A),
    Row("partner_identity", partner_args("asso_a"), REF_A, visible=REF_A, methods=GET_POST),
    Row("partner_documents", partner_args("asso_a"), REF_A, visible=REF_A, methods=GET_POST),
    Row(
        "application_create",
        lambda w: [w["contract"].slug, 2025, w["asso_a"].slug],
        REF_A,
        visible=REF_A,
        methods=GET_POST,
    ),
    Row("application", app_args("draft_a"), REF_A, visible=REF_A, label="brouillon"),
    Row("application", app_args("sub_a"), SUB_A, visible=SUB_A, label="déposé"),
    Row("application_receipt", app_args("sub_a"), SUB_A, visible=SUB_A),
]
# Un dossier de l'association en cours : projet, budget, pièces, dépôt, retrait, suppression, réponse
APPLICATION_PAGES = [
    Row("application_project", app_args("draft_a"), REF_A, visible=REF_A, methods=GET_POST),
    Row("application_project", app_args("sub_a"), frozenset(), visible=SUB_A, label="déposé (figé)"),
    Row("application_budget", app_args("draft_a"), REF_A, visible=REF_A, methods=GET_POST),
    Row("application_documents", app_args("draft_a"), REF_A, visible=REF_A, methods=GET_POST),
    Row("application_submit", app_args("draft_a"), REF_A, visible=REF_A, methods=GET_POST),
    Row("application_withdraw", app_args("sub_a"), REF_A, visible=SUB_A, methods=GET_POST),
    Row("application_delete", app_args("draft_a"), REF_A, visible=REF_A, methods=GET_POST),
    Row("application_answer", app_args("ret_a"), REF_A, visible=RET_A, methods=GET_POST),
]
# L'instruction
INSTRUCTION_PAGES = [
    Row("call_queue", call_args(2025), QUEUE),
    Row("application_instruction", app_args("sub_a"), SUB_A - REF_A, visible=SUB_A),
    Row(
        "funder_line_edit",
        line_args("sub_a", "funder_x"),
        frozenset({"instructor_x"}),
        visible=SUB_A,
        methods=GET_POST,
        label="ligne X",
    ),
    Row(
        "funder_line_edit",
        line_args("sub_a", "state"),
        frozenset({"delegate"}),
        visible=SUB_A,
        methods=GET_POST,
        label="ligne de l'État, quartier 1",
    ),
    Row(
        "quartier_opinion",
        app_args("sub_a"),
        frozenset({"correspondent_1", "delegate"}),
        visible=SUB_A,
        methods=GET_POST,
    ),
    Row(
        "scores_edit",
        app_args("sub_a"),
        frozenset({"pilot", "instructor_x", "delegate"}),
        visible=SUB_A,
        methods=GET_POST,
    ),
    Row(
        "request_info",
        app_args("sub_a"),
        frozenset({"pilot", "instructor_x", "delegate"}),
        visible=SUB_A,
        methods=GET_POST,
    ),
    Row("application_pdf", app_args("sub_a"), SUB_A, visible=SUB_A),
]
PAGES = CALL_PAGES + ASSOCIATION_PAGES + APPLICATION_PAGES + INSTRUCTION_PAGES


def row_id(row, method):
    return f"{row.name}{'[' + row.label + ']' if row.label else ''}:{method}"


def page_cases(rows):
    """(ligne, méthode) de chaque ligne, et leurs identifiants de test."""
    cases = [(row, method) for row in rows for method in row.methods]
    return cases, [row_id(row, method) for row, method in cases]


def login(client, logins, role):
    if role in logins:
        client.cookies[settings.SESSION_COOKIE_NAME] = logins[role][0]


def check_page(client, grants_world, logins, row, method, role):
    """La réponse de cette page à ce rôle est-elle celle que dit la ligne ?"""
    url = reverse(f"www:{row.name}", args=row.args(grants_world))
    login(client, logins, role)
    response = getattr(client, method)(url)
    status = response.status_code
    location = response.get("Location", "")
    to_login = status == 302 and reverse("www:login") in location
    if role in row.allowed:
        # Un POST vide d'une personne autorisée passe le contrôle des droits : la page répond, ou
        # refuse le contenu (400, 422 : formulaire incomplet, ex. un vote sans décision sur chaque ligne).
        ok = status == 200 if method == "get" else status in {200, 302, 400, 422} and not to_login
        expected = "200" if method == "get" else "200, 302, 400 ou 422"
    elif role == "anonymous":
        ok = to_login or status in {403, 404}
        expected = "connexion, 403 ou 404"
    elif row.loose:
        ok = status in {403, 404}
        expected = "403 ou 404"
    else:
        wanted = 403 if role in row.visible else 404
        ok = status == wanted
        expected = str(wanted)
    assert ok, f"{role} {method.upper()} {url} : {status} (attendu {expected}) {location}"


# --- L'API ----------------------------------------------------------------------------------------

API = "/api/v1/contracts"


def api(client, world, logins, role, method, path, body=None):
    headers = {}
    if role in logins:
        headers["HTTP_AUTHORIZATION"] = "Bearer " + logins[role][1]
    url = f"{API}/{world['contract'].slug}{path(world)}"
    if method == "get":
        return client.get(url, **headers)
    return getattr(client, method)(url, body(world), content_type="application/json", **headers)


def draft(w):
    return f"/calls/2025/applications/brouillon-{w['draft_a'].pk}"


def expect(allowed, ok, *, visible=EVERYONE, anonymous=None):
    """{rôle: statut} : ``ok`` pour les rôles autorisés, 403 s'ils voient l'objet, 404 sinon ;
    l'anonyme reçoit ``anonymous`` (401 pour une écriture)."""
    table = {role: ok if role in allowed else 403 if role in visible else 404 for role in ROLES}
    if anonymous is not None and "anonymous" not in allowed:
        table["anonymous"] = anonymous
    return table


API_CASES = {
    "list_calls": ("get", lambda w: "/calls", None, expect(EVERYONE, 200)),
    "get_call": ("get", lambda w: "/calls/2025", None, expect(EVERYONE, 200)),
    "get_call[en préparation]": ("get", lambda w: "/calls/2026", None, expect(PILOT, 200, visible=PILOT)),
    "list_applications": ("get", lambda w: "/calls/2025/applications", None, expect(EVERYONE, 200)),
    "get_application[déposé]": (
        "get",
        lambda w: "/calls/2025/applications/2025-0001",
        None,
        expect(SUB_A, 200, visible=SUB_A),
    ),
    "get_application[brouillon]": ("get", draft, None, expect(REF_A, 200, visible=REF_A)),
    "get_application[voté, public]": (
        "get",
        lambda w: "/calls/2024/applications/2024-0001",
        None,
        expect(EVERYONE, 200),
    ),
    "get_application[refusé]": (
        "get",
        lambda w: "/calls/2024/applications/2024-0002",
        None,
        expect(
            frozenset({"pilot", "referent_b", "instructor_y", "correspondent_2", "committee"}),
            200,
            visible=frozenset(),
        ),
    ),
    # Écritures : le seul référent de l'association, sur son propre dossier.
    "create_application": (
        "post",
        lambda w: "/calls/2025/applications",
        lambda w: {"partner": w["asso_a"].slug},
        expect(REF_A, 201, anonymous=401),
    ),
    "update_application": (
        "patch",
        draft,
        lambda w: {"version": 1, "summary": "Modifié"},
        expect(REF_A, 200, visible=REF_A, anonymous=401),
    ),
    "update_application[déposé, figé]": (
        "patch",
        lambda w: "/calls/2025/applications/2025-0001",
        lambda w: {"version": 1, "summary": "Modifié"},
        expect(frozenset(), 200, visible=SUB_A, anonymous=401),
    ),
    "set_application_budget": (
        "put",
        lambda w: draft(w) + "/budget",
        lambda w: {"version": 1, "lines": [{"account": "64", "amount": "100"}]},
        expect(REF_A, 200, visible=REF_A, anonymous=401),
    ),
    # Le brouillon du monde n'est pas complet : le dépôt est refusé en 409 (les données, pas la forme
    # de la requête), pas en 403/404.
    "submit_application": (
        "post",
        lambda w: draft(w) + "/submit",
        lambda w: {"sworn_name": "Camille Martin", "sworn_statement": True, "republican_contract": True},
        expect(REF_A, 409, visible=REF_A, anonymous=401),
    ),
}


def check_api(client, grants_world, logins, case, role):
    """Le statut de cette opération pour ce rôle est-il celui du tableau ?"""
    method, path, body, expected = API_CASES[case]
    response = api(client, grants_world, logins, role, method, path, body)
    assert response.status_code == expected[role], (case, role, response.content[:300])
    if response.status_code >= 400:
        assert response.json()["detail"].strip()
