"""Le monde des matrices des droits (tests/security/permissions/) : deux contrats (le contrat
principal — un petit contrat à lui, ou Nantes pour un fichier marqué ``demo`` (conftest.py) — et un
autre), deux partenaires A et B signataires des deux, un compte par rôle et une session ouverte par
rôle ; les rôles, les cibles et les actions sur un engagement ; qui peut quoi.

Chaque fichier de la matrice le bâtit une fois (fixture ``world`` de portée ``module``,
tests/worlds.py) et lit les documents reçus avec ``response_text``.

L'opérateur de l'instance (superutilisateur, rôle « operator ») a partout les droits d'un pilote."""

from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from cdv.users.enums import Role
from cdv.users.models import CrossContractReader
from tests import factories

ROLES = [
    "anonymous",
    "pilot",
    "editor_a",
    "editor_b",
    "reader_a",
    "council",
    "evaluator",
    "pilot_other",
    "operator",
    "state_reader",
]
TARGETS = ["own_partner", "other_partner", "other_contract"]
# action : (état de départ, qui peut, s'agissant d'un engagement du partenaire A du contrat C)
ACTIONS = {
    "edit": (S.DRAFT, {"pilot", "editor_a"}),
    "propose": (S.DRAFT, {"pilot", "editor_a"}),
    "validate": (S.PROPOSED, {"pilot"}),
    "return": (S.PROPOSED, {"pilot"}),
    "start": (S.CONFIRMED, {"pilot", "editor_a"}),
    "close": (S.IN_PROGRESS, {"pilot", "editor_a"}),
    "delete": (S.DRAFT, {"pilot", "editor_a"}),
    "create": (None, {"pilot", "editor_a"}),
    "confirm_cahier": (S.VALIDATED, {"pilot", "editor_a"}),
}


def role_users(main):
    """Un autre contrat, deux partenaires A et B signataires des deux, et un compte par rôle de
    ``ROLES`` qui a une appartenance (plus « anonymous ») : (autre contrat, A, B, comptes). Partagé
    par les matrices des droits et celle du suivi annuel (tests/monitoring/test_review_cycle.py)."""
    other_contract = factories.ContractFactory(slug="autre-contrat")
    factories.EnjeuFactory(contract=other_contract, number=1)
    partner_a = factories.PartnerFactory(name="Partenaire A")
    partner_b = factories.PartnerFactory(name="Partenaire B")
    for contract in (main, other_contract):
        for partner in (partner_a, partner_b):
            factories.SignatoryFactory(contract=contract, partner=partner)
    specs = {
        "pilot": (main, None, Role.PILOT),
        "editor_a": (main, partner_a, Role.EDITOR),
        "editor_b": (main, partner_b, Role.EDITOR),
        "reader_a": (main, partner_a, Role.READER),
        "council": (main, partner_b, Role.COUNCIL_MEMBER),
        "evaluator": (main, None, Role.EVALUATOR),
        "pilot_other": (other_contract, None, Role.PILOT),
    }
    users = factories.users_by_role(specs)
    return other_contract, partner_a, partner_b, users


SMALL_SLUG = "contrat-des-droits"


def small_contract():
    """Un petit contrat à lui, à la place de Nantes : deux quartiers, un enjeu. Pour une matrice qui
    ne lit et n'écrit que ses propres objets : ce qu'elle vérifie ne dépend pas de la taille du
    contrat, et chaque compilation PDF a une page au lieu des dix-neuf du cahier de Nantes."""
    contract = factories.ContractFactory(slug=SMALL_SLUG, title="Contrat de ville des droits")
    contract.qpvs.add(
        factories.QpvFactory(code="QN09810M", name="Quartier des droits"),
        factories.QpvFactory(code="QN09811M", name="Quartier voisin"),
    )  # ni donné par la fabrique (QN096…, QN097…), ni réel (pas de département 98)
    factories.EnjeuFactory(contract=contract, number=1, title="Emploi et activité économique")
    return contract


def build_world(main=None):
    """Le monde des matrices, sur ``main`` (par défaut le contrat de Nantes de la démonstration)."""
    from cdv.contracts.models import Contract

    main = main or Contract.objects.get(slug="nantes-metropole-2024-2030")
    other_contract, partner_a, partner_b, users = role_users(main)
    other_contract.qpvs.add(*main.qpvs.all()[:2])
    users["operator"] = factories.UserFactory(is_superuser=True, is_staff=True)
    # Lecture inter-contrats d'un État qui signe le contrat principal seul : la vue de l'État, rien
    # de non publié.
    state = factories.PartnerFactory(name="État signataire", kind="ETAT")
    factories.SignatoryFactory(contract=main, partner=state)
    users["state_reader"] = factories.UserFactory()
    CrossContractReader.objects.create(user=users["state_reader"], partner=state)
    return {
        "users": users,
        "sessions": _sessions(users),
        "contracts": {"main": main, "other": other_contract},
        "partners": {"a": partner_a, "b": partner_b},
    }


def _sessions(users):
    """Une session ouverte par rôle, une fois pour le fichier (dans la transaction du module) : celle
    que ``force_login`` du client de test ouvrirait à chaque cas. Ce qu'un cas écrit dans sa session
    est annulé avec lui."""
    from django.test import Client

    sessions = {}
    for role, user in users.items():
        if user is not None:
            client = Client()
            client.force_login(user)
            sessions[role] = client.session.session_key
    return sessions


def log_in(client, world, role):
    """Connecte le client de test sous ce rôle (rien pour « anonymous ») avec la session du monde."""
    from django.conf import settings

    if role in world["sessions"]:
        client.cookies[settings.SESSION_COOKIE_NAME] = world["sessions"][role]


def target_of(world, target):
    """(contrat, partenaire) de l'objet visé : A dans le contrat principal, B dans celui-ci, A dans un
    autre contrat."""
    c, p = world["contracts"], world["partners"]
    return {
        "own_partner": (c["main"], p["a"]),
        "other_partner": (c["main"], p["b"]),
        "other_contract": (c["other"], p["a"]),
    }[target]


def expected_allowed(role, target, action):
    allowed = ACTIONS[action][1]
    if role == "operator":  # les droits d'un pilote, dans chaque contrat
        return "pilot" in allowed
    if target == "own_partner":
        return role in allowed
    if target == "other_partner":  # les droits du référent A valent pour B à son référent seul
        owners = {"editor_b"} if "editor_a" in allowed else set()
        return role in (allowed - {"editor_a"}) | owners
    return role == "pilot_other" and "pilot" in allowed  # un autre contrat : seul son pilote


def state(contract, partner):
    # Trié ici : sans le tri par défaut des engagements (quatre tables jointes pour le calculer).
    return sorted(
        Commitment.objects.filter(contract=contract, partner=partner)
        .order_by()
        .values_list("pk", "status", "title", "version")
    )


# --- Texte des réponses (pages, PDF, classeurs) ---------------------------------------------------


def pdf_text(content: bytes) -> str:
    """Le texte d'un PDF sur une ligne ; lu une fois par contenu (``tests.document_checks``) : deux
    rôles qui voient les mêmes engagements reçoivent le même document, octet pour octet."""
    from tests.document_checks import pdf_text as read

    return " ".join(read(content).split())


def _xlsx_text(content: bytes) -> str:
    import io

    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content), read_only=True)
    return " ".join(
        str(value)
        for ws in workbook.worksheets
        for row in ws.iter_rows(values_only=True)
        for value in row
        if value
    )


def response_text(response) -> str:
    kind = response.get("Content-Type", "")
    if response.status_code != 200:
        return ""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if kind.startswith("application/pdf") and b"piece jointe secrete" not in content:
        return pdf_text(content)
    if "spreadsheetml" in kind:
        return _xlsx_text(content)
    return content.decode("utf-8", errors="replace")
