"""Le monde des tests de la participation (test_feedback.py : les retours d'expérience ;
test_meetings.py : les instances et leurs décisions) : le contrat de Nantes de la démonstration, un
autre contrat, le partenaire A, un compte et une session par rôle (pilote, référent et lecteur de A,
membre du conseil citoyen des Dervallières, évaluateur, pilote de l'autre contrat), bâti une fois
par fichier et copié pour chaque test (fixtures ``built_world`` et ``world`` de conftest.py) ; et les gestes
communs (se connecter, déposer un retour, lire l'API)."""

import html
import re

from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client

from cdv.commitments.enums import CommitmentScope
from cdv.commitments.models import Commitment
from cdv.indicators.models import Indicator
from cdv.monitoring import feedback as fb
from cdv.monitoring.enums import FeedbackKind
from cdv.monitoring.models import Feedback
from cdv.partners.models import Partner
from cdv.users.enums import Role
from cdv.users.services import create_api_token
from tests import factories

COUNCIL_NAME = "Conseil citoyen des Dervallières (démonstration)"
SECRET_FIRST, SECRET_LAST = "Zéphyrine", "Confidentielle"
ROLES = ["anonymous", "pilot", "editor", "reader", "council", "evaluator", "pilot_other"]


def text(response):
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def build_world(nantes):
    other = factories.ContractFactory(slug="autre-contrat-participation")
    other_qpv = factories.QpvFactory()
    other.qpvs.add(other_qpv)
    other_enjeu = factories.EnjeuFactory(contract=other, number=1)
    other_action = factories.ActionFactory(objective=factories.ObjectiveFactory(enjeu=other_enjeu))
    partner_a = factories.PartnerFactory(name="Partenaire A participation")
    outsider = factories.PartnerFactory(name="Partenaire hors contrat")
    factories.SignatoryFactory(contract=nantes, partner=partner_a)
    factories.SignatoryFactory(contract=other, partner=partner_a)
    council = Partner.objects.get(name=COUNCIL_NAME)
    specs = {
        "pilot": (nantes, None, Role.PILOT),
        "editor": (nantes, partner_a, Role.EDITOR),
        "reader": (nantes, partner_a, Role.READER),
        "council": (nantes, council, Role.COUNCIL_MEMBER),
        "evaluator": (nantes, None, Role.EVALUATOR),
        "pilot_other": (other, None, Role.PILOT),
    }
    users = factories.users_by_role(specs)
    council_user = users["council"]
    council_user.first_name, council_user.last_name = SECRET_FIRST, SECRET_LAST
    council_user.email = "zephyrine.confidentielle@example.org"
    council_user.save()
    other_objective = other_action.objective
    return {
        "users": users,
        "nantes": nantes,
        "other": other,
        "partner_a": partner_a,
        "council": council,
        "outsider": outsider,
        "other_qpv": other_qpv,
        "other_enjeu": other_enjeu,
        "other_action": other_action,
        "other_commitment": Commitment.objects.create(
            contract=other,
            partner=partner_a,
            objective=other_objective,
            title="Engagement d'un autre contrat",
            scope=CommitmentScope.CONTRACT,
        ),
        "other_indicator": Indicator.objects.create(contract=other, code="autre", name="Autre", unit="%"),
    }


def session_of(user) -> str:
    """La session de ``user``, ouverte une fois pour le fichier (dans la transaction du monde) : son
    cookie."""
    browser = Client()
    browser.force_login(user)
    return browser.cookies[settings.SESSION_COOKIE_NAME].value


def login(client, world, role):
    """Connecte ``client`` sous ``role`` : la session du rôle, ouverte une fois pour le fichier (ce
    qu'un test y écrit est annulé avec lui) ; une session neuve si le test l'a fermée (``logout``)."""
    user = world["users"][role]
    if user is not None:
        key = world["sessions"][role]
        if Session.objects.filter(session_key=key).exists():
            client.cookies[settings.SESSION_COOKIE_NAME] = key
        else:
            client.force_login(user)
    return user


def dervallieres(nantes):
    return nantes.qpvs.get(code="QN04406M")


def post(world, role="council", text_="Les ateliers du mercredi ont trouvé leur public.", **kwargs):
    nantes = world["nantes"]
    return fb.post_feedback(
        user=world["users"][role], contract=nantes, kind=FeedbackKind.SUCCESS, text=text_, **kwargs
    )


def feedback_state():
    return sorted(Feedback.objects.values_list("pk", "moderation", "text", "kind", "moderation_comment"))


def texts(data):
    return {item["text"] for item in data["items"]}


def api(client, url, user=None):
    headers = {}
    if user is not None:
        headers["HTTP_AUTHORIZATION"] = "Bearer " + create_api_token(user=user, name="test")[1]
    response = client.get(url, **headers)
    assert response.status_code == 200, response.content[:300]
    return response.json()
