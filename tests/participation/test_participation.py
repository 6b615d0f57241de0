"""Retours d'expérience (dépôt, modération, publication, anonymat des conseillers citoyens),
instances et décisions (droits par rôle, suivi et retard), pages et API."""

import datetime
import html
import json
import re

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cdv.commitments.enums import CommitmentScope
from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from cdv.indicators.models import Indicator
from cdv.monitoring import feedback as fb
from cdv.monitoring import meetings as mt
from cdv.monitoring.enums import DecisionStatus, FeedbackKind, MeetingKind, Moderation
from cdv.monitoring.models import Decision, Feedback, Meeting
from cdv.partners.models import Partner
from cdv.plan.models import Action
from cdv.users.enums import Role
from cdv.users.services import create_api_token
from tests import factories
from tests.worlds import built_once, fresh_copy

pytestmark = [pytest.mark.django_db, pytest.mark.demo]

COUNCIL_NAME = "Conseil citoyen des Dervallières (démonstration)"
SECRET_FIRST, SECRET_LAST = "Zéphyrine", "Confidentielle"
ROLES = ["anonymous", "pilot", "editor", "reader", "council", "evaluator", "pilot_other"]


def text(response):
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


@pytest.fixture(scope="module")
def built_world(demo_data, django_db_blocker):
    """Bâti une fois pour le fichier (tests/worlds.py) ; chaque test annule ce qu'il écrit."""
    from cdv.contracts.models import Contract

    with built_once(django_db_blocker):
        world = build_world(Contract.objects.get(slug="nantes-metropole-2024-2030"))
        world["sessions"] = {role: session_of(user) for role, user in world["users"].items() if user}
        yield world


@pytest.fixture
def world(built_world):
    """Les objets du monde, copiés pour le test : ce qu'il y change en mémoire reste à lui."""
    return fresh_copy(built_world)


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
    users = {"anonymous": None}
    for name, (contract, partner, role) in specs.items():
        users[name] = factories.MembershipFactory(contract=contract, partner=partner, role=role).user
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


# --- Retours d'expérience : cycle de vie ----------------------------------------------------------


def test_feedback_life_cycle_through_the_pages(client, world):
    nantes, council = world["nantes"], world["council"]
    enjeu = nantes.enjeux.get(number=2)
    action = Action.objects.for_contract(nantes).get(title="Aide aux devoirs après l'école")
    login(client, world, "council")
    form = client.get(reverse("www:feedback_create", args=[nantes.slug]))
    assert form.status_code == 200
    assert "jamais votre nom" in text(form) and COUNCIL_NAME in text(form)
    response = client.post(
        reverse("www:feedback_create", args=[nantes.slug]),
        {
            "kind": FeedbackKind.NEED,
            "text": "Il manque des bénévoles pour l'aide aux devoirs le jeudi.",
            "qpvs": [dervallieres(nantes).pk],
            "enjeu": enjeu.pk,
            "actions": [action.pk],
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse(
        "www:my_feedback", args=[nantes.slug]
    )
    feedback = Feedback.objects.get(text__startswith="Il manque des bénévoles")
    assert feedback.moderation == Moderation.PENDING
    assert feedback.partner == council and feedback.author == world["users"]["council"]
    assert list(feedback.qpvs.all()) == [dervallieres(nantes)] and list(feedback.actions.all()) == [action]
    mine = text(client.get(reverse("www:my_feedback", args=[nantes.slug])))
    assert "En attente de modération" in mine and "Modifier ce retour" in mine

    public_url = reverse("www:feedback_list", args=[nantes.slug])
    anonymous = Client()
    assert "Il manque des bénévoles" not in text(anonymous.get(public_url))
    assert feedback.text not in texts(api(anonymous, f"/api/v1/contracts/{nantes.slug}/feedback"))

    login(client, world, "pilot")
    queue = text(client.get(reverse("www:moderation", args=[nantes.slug])))
    pending = Feedback.objects.filter(contract=nantes, moderation=Moderation.PENDING).count()
    assert "Il manque des bénévoles" in queue and f"Retours à modérer ({pending})" in queue
    response = client.post(
        reverse("www:feedback_moderate", args=[nantes.slug, feedback.pk]), {"decision": "publier"}
    )
    assert response.status_code == 302
    feedback.refresh_from_db()
    assert feedback.moderation == Moderation.PUBLISHED
    assert feedback.moderated_by == world["users"]["pilot"] and feedback.moderated_at is not None

    page = text(anonymous.get(public_url))
    assert "Il manque des bénévoles pour l'aide aux devoirs le jeudi." in page
    assert "Besoin" in page and COUNCIL_NAME in page and "Dervallières" in page
    assert "2. " in page and "Aide aux devoirs après l'école" in page
    published = Feedback.objects.filter(contract=nantes, moderation=Moderation.PUBLISHED).count()
    assert f"{published} retours publiés" in page

    # Publié : son auteur ne le modifie plus.
    login(client, world, "council")
    url = reverse("www:feedback_edit", args=[nantes.slug, feedback.pk])
    before = feedback_state()
    assert client.get(url).status_code == 403
    assert (
        client.post(url, {"kind": FeedbackKind.SUCCESS, "text": "Modifié après publication"}).status_code
        == 403
    )
    assert feedback_state() == before


def test_rejected_feedback_is_never_public_and_the_author_reads_the_reason(client, world):
    nantes = world["nantes"]
    feedback = post(world, text_="Un retour qui cite une personne nommément.")
    url = reverse("www:feedback_moderate", args=[nantes.slug, feedback.pk])
    login(client, world, "pilot")
    response = client.post(url, {"decision": "refuser", "reason": "  "})
    assert response.status_code == 200
    page = text(response)
    assert "La modération n'a pas été enregistrée" in page and "Indiquez à son auteur pourquoi" in page
    assert Feedback.objects.get(pk=feedback.pk).moderation == Moderation.PENDING

    response = client.post(url, {"decision": "refuser", "reason": "Merci de ne nommer personne."})
    assert response.status_code == 302
    feedback.refresh_from_db()
    assert feedback.moderation == Moderation.REJECTED
    assert feedback.moderation_comment == "Merci de ne nommer personne."

    # Jamais publié ensuite, ni par la page ni par le service.
    client.post(url, {"decision": "publier"})
    assert Feedback.objects.get(pk=feedback.pk).moderation == Moderation.REJECTED
    with pytest.raises(fb.FeedbackError):
        fb.publish_feedback(user=world["users"]["pilot"], feedback=feedback)
    anonymous = Client()
    assert "cite une personne" not in text(anonymous.get(reverse("www:feedback_list", args=[nantes.slug])))
    assert feedback.text not in texts(api(anonymous, f"/api/v1/contracts/{nantes.slug}/feedback"))

    login(client, world, "council")
    mine = text(client.get(reverse("www:my_feedback", args=[nantes.slug])))
    assert "Non publié" in mine and "Merci de ne nommer personne." in mine
    assert "Modifier ce retour" not in mine
    edit = reverse("www:feedback_edit", args=[nantes.slug, feedback.pk])
    assert client.post(edit, {"kind": FeedbackKind.SUCCESS, "text": "Corrigé"}).status_code == 403


def test_a_published_feedback_can_be_withdrawn_with_a_reason_and_stays_private(client, world):
    nantes = world["nantes"]
    feedback = post(world)
    fb.publish_feedback(user=world["users"]["pilot"], feedback=feedback)
    fb.reject_feedback(
        user=world["users"]["pilot"], feedback=feedback, reason="Retiré à la demande du conseil."
    )
    feedback.refresh_from_db()
    assert feedback.moderation == Moderation.REJECTED
    assert "ateliers du mercredi" not in text(client.get(reverse("www:feedback_list", args=[nantes.slug])))


def test_the_author_edits_own_pending_feedback_only(client, world):
    nantes = world["nantes"]
    feedback = post(world)
    url = reverse("www:feedback_edit", args=[nantes.slug, feedback.pk])
    data = {"kind": FeedbackKind.PROPOSAL, "text": "Proposer les ateliers aussi le samedi.", "qpvs": []}

    for role, status in [("editor", 404), ("reader", 404), ("pilot", 403), ("pilot_other", 404)]:
        client.logout()
        login(client, world, role)
        before = feedback_state()
        assert client.post(url, data).status_code == status, role
        assert feedback_state() == before
    client.logout()
    response = client.post(url, data)
    assert response.status_code == 302 and reverse("www:login") in response["Location"]

    login(client, world, "council")
    form = text(client.get(url))
    assert "Les ateliers du mercredi ont trouvé leur public." in form
    assert client.post(url, data).status_code == 302
    feedback.refresh_from_db()
    assert (feedback.kind, feedback.text) == (FeedbackKind.PROPOSAL, "Proposer les ateliers aussi le samedi.")
    assert feedback.moderation == Moderation.PENDING
    with pytest.raises(PermissionDenied):
        fb.update_feedback(user=world["users"]["editor"], feedback=feedback, kind="REUSSITE", text="Piraté")


@pytest.mark.parametrize("role", ROLES)
def test_only_pilots_moderate(client, world, role):
    nantes = world["nantes"]
    feedback = post(world)
    login(client, world, role)
    before = feedback_state()
    queue = client.get(reverse("www:moderation", args=[nantes.slug]))
    response = client.post(
        reverse("www:feedback_moderate", args=[nantes.slug, feedback.pk]), {"decision": "publier"}
    )
    if role == "pilot":
        assert queue.status_code == 200 and response.status_code == 302
        assert Feedback.objects.get(pk=feedback.pk).moderation == Moderation.PUBLISHED
        return
    if role == "anonymous":
        assert queue.status_code == 302 and response.status_code == 302
        assert reverse("www:login") in response["Location"]
    else:
        assert queue.status_code == 403 and response.status_code == 403
    assert feedback_state() == before
    if role != "anonymous":
        with pytest.raises(PermissionDenied):
            fb.publish_feedback(user=world["users"][role], feedback=feedback)
        with pytest.raises(PermissionDenied):
            fb.reject_feedback(user=world["users"][role], feedback=feedback, reason="Non")


@pytest.mark.parametrize(
    "role,expected",
    [
        ("pilot", 302),
        ("editor", 302),
        ("reader", 302),
        ("council", 302),
        ("evaluator", 403),
        ("pilot_other", 403),
        ("anonymous", "login"),
    ],
)
def test_who_may_post_feedback(client, world, role, expected):
    nantes = world["nantes"]
    login(client, world, role)
    before = feedback_state()
    response = client.post(
        reverse("www:feedback_create", args=[nantes.slug]),
        {"kind": FeedbackKind.DIFFICULTY, "text": "Les locaux ferment trop tôt."},
    )
    if expected == "login":
        assert response.status_code == 302 and reverse("www:login") in response["Location"]
    else:
        assert response.status_code == expected, text(response)[:500]
    if expected == 302:
        created = Feedback.objects.get(text="Les locaux ferment trop tôt.")
        assert created.moderation == Moderation.PENDING
        expected_partner = {"pilot": None, "council": world["council"]}.get(role, world["partner_a"])
        assert created.partner == expected_partner
    else:
        assert feedback_state() == before


def test_feedback_links_to_another_contract_are_refused(client, world):
    nantes = world["nantes"]
    before = feedback_state()
    cases = {
        "qpvs": {"qpvs": [world["other_qpv"]]},
        "enjeu": {"enjeu": world["other_enjeu"]},
        "actions": {"actions": [world["other_action"]]},
        "commitments": {"commitments": [world["other_commitment"]]},
        "indicators": {"indicators": [world["other_indicator"]]},
    }
    for field, links in cases.items():
        with pytest.raises(fb.FeedbackError) as caught:
            post(world, role="editor", **links)
        assert list(caught.value.message_dict) == [field]
        message = " ".join(caught.value.message_dict[field])
        assert "autre contrat" in message or "ne relèvent pas du contrat" in message
    assert feedback_state() == before

    # Par la page : l'identifiant d'un objet d'un autre contrat n'est pas un choix valide.
    login(client, world, "editor")
    response = client.post(
        reverse("www:feedback_create", args=[nantes.slug]),
        {
            "kind": FeedbackKind.NEED,
            "text": "Lien vers un autre contrat",
            "actions": [world["other_action"].pk],
            "commitments": [world["other_commitment"].pk],
        },
    )
    assert response.status_code == 200
    page = text(response)
    assert "Le formulaire contient des erreurs" in page and "choix valide" in page
    assert feedback_state() == before


def test_form_errors_are_summarised_in_french(client, world):
    nantes = world["nantes"]
    login(client, world, "council")
    before = feedback_state()
    response = client.post(reverse("www:feedback_create", args=[nantes.slug]), {"kind": "", "text": ""})
    page = text(response)
    assert response.status_code == 200
    assert "Le formulaire contient des erreurs" in page and "Ce champ est obligatoire" in page
    assert 'href="#id_text"' in response.content.decode()
    assert feedback_state() == before


def test_a_member_of_several_partners_chooses_on_whose_behalf(client, world):
    nantes = world["nantes"]
    editor = world["users"]["editor"]
    factories.MembershipFactory(user=editor, contract=nantes, partner=world["council"], role=Role.READER)
    with pytest.raises(fb.FeedbackError):
        post(world, role="editor")
    with pytest.raises(fb.FeedbackError):
        post(world, role="editor", partner=world["outsider"])
    feedback = post(world, role="editor", partner=world["council"])
    assert feedback.partner == world["council"]


# --- Anonymat, XSS ------------------------------------------------------------------------------


def test_council_members_are_never_named_in_public_pages_or_the_api(client, world):
    nantes = world["nantes"]
    feedback = post(world, text_="Le conseil demande un banc devant l'école.")
    fb.publish_feedback(user=world["users"]["pilot"], feedback=feedback)
    council_user = world["users"]["council"]
    secrets = [SECRET_FIRST, SECRET_LAST, council_user.email]
    for role in ["anonymous", "reader", "editor"]:
        client.logout()
        user = login(client, world, role)
        page = client.get(reverse("www:feedback_list", args=[nantes.slug])).content.decode()
        assert "Le conseil demande un banc" in page and html.escape(COUNCIL_NAME) in page
        data = api(Client(), f"/api/v1/contracts/{nantes.slug}/feedback", user)
        dumped = json.dumps(data, ensure_ascii=False)
        item = next(i for i in data["items"] if i["id"] == feedback.pk)
        assert item["on_behalf_of"] == COUNCIL_NAME
        for secret in secrets:
            assert secret not in page and secret not in dumped
        assert not {"author", "author_id", "email", "moderated_by"} & set(item)
    # Ses propres pages ne l'exposent pas davantage au public ; le pilote, lui, sait qui modère.
    login(client, world, "pilot")
    fb.post_feedback(user=council_user, contract=nantes, kind=FeedbackKind.NEED, text="Un autre retour.")
    assert SECRET_LAST in text(client.get(reverse("www:moderation", args=[nantes.slug])))


def test_a_stored_script_in_a_feedback_is_rendered_escaped(client, world):
    nantes = world["nantes"]
    payload = '<script>alert("xss")</script><img src=x onerror=alert(1)>'
    feedback = post(world, text_=payload)
    login(client, world, "pilot")
    queue = client.get(reverse("www:moderation", args=[nantes.slug])).content.decode()
    assert "<script>alert" not in queue and "&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;" in queue
    fb.publish_feedback(user=world["users"]["pilot"], feedback=feedback)
    page = Client().get(reverse("www:feedback_list", args=[nantes.slug])).content.decode()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;" in page


def test_forms_are_csrf_protected(world):
    nantes = world["nantes"]
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["users"]["council"])
    url = reverse("www:feedback_create", args=[nantes.slug])
    data = {"kind": FeedbackKind.SUCCESS, "text": "Avec ou sans jeton CSRF"}
    assert client.post(url, data).status_code == 403
    assert not Feedback.objects.filter(text="Avec ou sans jeton CSRF").exists()
    client.get(url)
    token = client.cookies["csrftoken"].value
    assert client.post(url, data | {"csrfmiddlewaretoken": token}).status_code == 302
    assert Feedback.objects.filter(text="Avec ou sans jeton CSRF").count() == 1


def test_public_list_filters_by_qpv_and_enjeu(client, world):
    nantes = world["nantes"]
    pilot = world["users"]["pilot"]
    bellevue = nantes.qpvs.get(code="QN04405M")
    enjeu = nantes.enjeux.get(number=3)
    Feedback.objects.filter(contract=nantes, is_demo=True).delete()  # seuls les retours de ce test
    first = post(world, text_="Retour aux Dervallières", qpvs=[dervallieres(nantes)], enjeu=enjeu)
    second = post(world, role="editor", text_="Retour à Bellevue", qpvs=[bellevue])
    for f in (first, second):
        fb.publish_feedback(user=pilot, feedback=f)
    url = reverse("www:feedback_list", args=[nantes.slug])
    page = text(client.get(url, {"quartier": "QN04406M"}))
    assert "Retour aux Dervallières" in page and "Retour à Bellevue" not in page
    page = text(client.get(url, {"enjeu": "3"}))
    assert "Retour aux Dervallières" in page and "Retour à Bellevue" not in page
    page = text(client.get(url, {"quartier": "QN04405M", "enjeu": "3"}))
    assert "Aucun retour publié pour ces critères" in page
    page = text(client.get(url, {"quartier": "inconnu", "enjeu": "x"}))
    assert "Retour aux Dervallières" in page and "Retour à Bellevue" in page
    data = api(client, f"/api/v1/contracts/{nantes.slug}/feedback?qpv=QN04405M")
    assert [i["text"] for i in data["items"]] == ["Retour à Bellevue"]


# --- Instances et décisions : droits -------------------------------------------------------------


def meetings_state():
    return (
        sorted(Meeting.objects.values_list("pk", "kind", "title", "date", "minutes")),
        sorted(Decision.objects.values_list("pk", "meeting_id", "text", "status", "follow_up", "closed_on")),
    )


WRITE_ACTIONS = ["create_meeting", "edit_meeting", "create_decision", "edit_decision"]


def write_request(action, nantes, meeting, decision):
    if action == "create_meeting":
        url = reverse("www:meeting_create", args=[nantes.slug])
        return url, {"kind": MeetingKind.COPIL, "title": "COPIL écrit", "date": "2025-11-20"}
    if action == "edit_meeting":
        url = reverse("www:meeting_edit", args=[nantes.slug, meeting.pk])
        return url, {"kind": meeting.kind, "title": "Titre modifié", "date": "2025-06-12"}
    if action == "create_decision":
        url = reverse("www:decision_create", args=[nantes.slug, meeting.pk])
        return url, {"text": "Décision écrite", "status": DecisionStatus.OPEN}
    url = reverse("www:decision_edit", args=[nantes.slug, decision.pk])
    return url, {"text": decision.text, "status": DecisionStatus.DONE, "follow_up": "Fait."}


def expected_write(role, kind, action):
    if role == "pilot":
        return 302
    if role == "anonymous":
        return "login"
    if role == "pilot_other" and kind != MeetingKind.COPIL and action != "create_meeting":
        return 404  # une instance interne d'un autre contrat n'existe pas pour lui
    return 403


@pytest.mark.parametrize("action", WRITE_ACTIONS)
@pytest.mark.parametrize("kind", [MeetingKind.COPIL, MeetingKind.COTECH])
@pytest.mark.parametrize("role", ROLES)
def test_meeting_and_decision_permission_matrix(client, world, role, kind, action):
    nantes = world["nantes"]
    meeting = factories.MeetingFactory(contract=nantes, kind=kind)
    decision = factories.DecisionFactory(meeting=meeting)
    login(client, world, role)
    before = meetings_state()
    url, data = write_request(action, nantes, meeting, decision)
    response = client.post(url, data)
    expected = expected_write(role, kind, action)
    if expected == "login":
        assert response.status_code == 302 and reverse("www:login") in response["Location"]
    else:
        assert response.status_code == expected, (response.status_code, text(response)[:300])
    if expected == 302:
        assert meetings_state() != before
    else:
        assert meetings_state() == before
        if role != "anonymous":
            assert client.get(url).status_code == expected


@pytest.mark.parametrize("role", ROLES)
def test_meeting_services_refuse_non_pilots(world, role):
    if role in {"pilot", "anonymous"}:
        return
    nantes, user = world["nantes"], world["users"][role]
    meeting = factories.MeetingFactory(contract=nantes)
    decision = factories.DecisionFactory(meeting=meeting)
    before = meetings_state()
    with pytest.raises(PermissionDenied):
        mt.create_meeting(
            user=user, contract=nantes, data={"kind": "COPIL", "title": "x", "date": "2025-01-01"}
        )
    with pytest.raises(PermissionDenied):
        mt.update_meeting(user=user, meeting=meeting, data={"title": "x"})
    with pytest.raises(PermissionDenied):
        mt.create_decision(user=user, meeting=meeting, data={"text": "x"})
    with pytest.raises(PermissionDenied):
        mt.update_decision(user=user, decision=decision, data={"status": DecisionStatus.DONE})
    assert meetings_state() == before


@pytest.mark.parametrize("role", ROLES)
def test_who_reads_which_meeting(client, world, role):
    nantes = world["nantes"]
    copil = factories.MeetingFactory(contract=nantes, kind=MeetingKind.COPIL, title="Le COPIL annuel")
    cotech = factories.MeetingFactory(
        contract=nantes, kind=MeetingKind.COTECH, title="Le COTECH de juin", minutes="Minutes internes"
    )
    factories.DecisionFactory(meeting=cotech, text="Décision technique interne")
    factories.DecisionFactory(meeting=copil, text="Décision publique du COPIL")
    login(client, world, role)
    member = role not in {"anonymous", "pilot_other"}
    assert client.get(reverse("www:meeting", args=[nantes.slug, copil.pk])).status_code == 200
    assert client.get(reverse("www:meeting", args=[nantes.slug, cotech.pk])).status_code == (
        200 if member else 404
    )
    listing = text(client.get(reverse("www:meetings", args=[nantes.slug])))
    assert "Le COPIL annuel" in listing
    assert ("Le COTECH de juin" in listing) is member
    follow = text(client.get(reverse("www:decisions", args=[nantes.slug])))
    assert "Décision publique du COPIL" in follow
    assert ("Décision technique interne" in follow) is member
    base = f"/api/v1/contracts/{nantes.slug}"
    meetings = api(Client(), f"{base}/meetings", world["users"][role])
    titles = {m["title"] for m in meetings["items"]}
    assert "Le COPIL annuel" in titles and ("Le COTECH de juin" in titles) is member
    assert member or {m["kind"] for m in meetings["items"]} == {MeetingKind.COPIL}
    dumped = json.dumps(meetings, ensure_ascii=False)
    assert ("Minutes internes" in dumped) is member
    decisions = api(Client(), f"{base}/decisions", world["users"][role])
    seen = texts(decisions)
    assert ("Décision technique interne" in seen) is member and "Décision publique du COPIL" in seen


def test_an_id_from_another_contract_is_a_404(client, world):
    nantes, other = world["nantes"], world["other"]
    meeting = factories.MeetingFactory(contract=other)
    decision = factories.DecisionFactory(meeting=meeting)
    login(client, world, "pilot")
    for url in [
        reverse("www:meeting", args=[nantes.slug, meeting.pk]),
        reverse("www:meeting_edit", args=[nantes.slug, meeting.pk]),
        reverse("www:decision_create", args=[nantes.slug, meeting.pk]),
        reverse("www:decision_edit", args=[nantes.slug, decision.pk]),
    ]:
        assert client.get(url).status_code == 404
    feedback = fb.post_feedback(
        user=world["users"]["pilot_other"], contract=other, kind=FeedbackKind.NEED, text="Ailleurs"
    )
    url = reverse("www:feedback_moderate", args=[nantes.slug, feedback.pk])
    assert client.post(url, {"decision": "publier"}).status_code == 404
    assert Feedback.objects.get(pk=feedback.pk).moderation == Moderation.PENDING


# --- Instances et décisions : saisie par le pilote -----------------------------------------------


def test_pilot_creates_a_meeting_and_its_decisions_through_the_pages(client, world):
    nantes, partner_a = world["nantes"], world["partner_a"]
    commitment = Commitment.objects.get(title__startswith="Équiper 200 logements")
    action = Action.objects.for_contract(nantes).get(title="Forums emploi de proximité")
    login(client, world, "pilot")
    url = reverse("www:meeting_create", args=[nantes.slug])
    assert "Partenaires présents" in text(client.get(url))
    response = client.post(
        url,
        {
            "kind": MeetingKind.COPIL,
            "title": "COPIL de bilan 2025",
            "date": "2025-12-04",
            "participants": [partner_a.pk, world["council"].pk],
            "agenda": "Bilan de l'année",
            "minutes": "Le COPIL adopte le bilan.",
        },
    )
    assert response.status_code == 302
    meeting = Meeting.objects.get(title="COPIL de bilan 2025")
    assert set(meeting.participants.all()) == {partner_a, world["council"]}

    due = (timezone.localdate() + datetime.timedelta(days=30)).isoformat()
    response = client.post(
        reverse("www:decision_create", args=[nantes.slug, meeting.pk]),
        {
            "text": "Étendre les forums emploi au Breil",
            "owner": partner_a.pk,
            "due_on": due,
            "status": DecisionStatus.OPEN,
            "actions": [action.pk],
            "commitments": [commitment.pk],
        },
    )
    assert response.status_code == 302
    decision = Decision.objects.get(text="Étendre les forums emploi au Breil")
    assert decision.owner == partner_a and decision.closed_on is None
    assert list(decision.actions.all()) == [action] and list(decision.commitments.all()) == [commitment]

    detail = text(Client().get(reverse("www:meeting", args=[nantes.slug, meeting.pk])))
    assert "Le COPIL adopte le bilan." in detail and "Étendre les forums emploi au Breil" in detail
    assert "Partenaire A participation" in detail and "Modifier l'instance" not in detail

    # Une instance de quartier cite un QPV du contrat ; un COPIL n'en cite pas.
    data = {"kind": MeetingKind.COPIL, "title": "COPIL mal rattaché", "date": "2025-03-01"}
    response = client.post(url, data | {"qpv": dervallieres(nantes).pk})
    assert response.status_code == 200 and "Seule une instance de quartier" in text(response)
    response = client.post(url, data | {"kind": MeetingKind.NEIGHBOURHOOD, "qpv": dervallieres(nantes).pk})
    assert response.status_code == 302
    assert Meeting.objects.get(title="COPIL mal rattaché").qpv == dervallieres(nantes)

    # Un partenaire étranger au contrat n'est pas un choix possible.
    response = client.post(url, data | {"title": "Avec un intrus", "participants": [world["outsider"].pk]})
    assert response.status_code == 200 and "choix valide" in text(response)
    assert not Meeting.objects.filter(title="Avec un intrus").exists()


def test_meeting_services_check_links_to_the_contract(world):
    nantes, pilot = world["nantes"], world["users"]["pilot"]
    meeting = factories.MeetingFactory(contract=nantes)
    before = meetings_state()
    with pytest.raises(mt.MeetingError) as caught:
        mt.create_meeting(
            user=pilot,
            contract=nantes,
            data={"kind": MeetingKind.COPIL, "title": "Intrus", "date": datetime.date(2025, 1, 1)},
            participants=[world["outsider"]],
        )
    assert "participants" in caught.value.message_dict
    with pytest.raises(mt.MeetingError) as caught:
        mt.create_decision(
            user=pilot,
            meeting=meeting,
            data={"text": "Liens étrangers", "owner": world["outsider"]},
            actions=[world["other_action"]],
            commitments=[world["other_commitment"]],
        )
    assert {"owner", "actions", "commitments"} <= set(caught.value.message_dict)
    with pytest.raises(mt.MeetingError) as caught:
        mt.create_meeting(
            user=pilot,
            contract=nantes,
            data={
                "kind": MeetingKind.NEIGHBOURHOOD,
                "title": "Q",
                "date": "2025-01-01",
                "qpv": world["other_qpv"],
            },
        )
    assert "qpv" in caught.value.message_dict
    assert meetings_state() == before


def test_closing_a_decision_sets_closed_on_and_reopening_clears_it(world):
    pilot = world["users"]["pilot"]
    decision = factories.DecisionFactory(meeting=factories.MeetingFactory(contract=world["nantes"]))
    decision = mt.update_decision(user=pilot, decision=decision, data={"status": DecisionStatus.DONE})
    assert decision.closed_on == timezone.localdate()
    decision = mt.update_decision(user=pilot, decision=decision, data={"status": DecisionStatus.IN_PROGRESS})
    assert decision.closed_on is None
    with pytest.raises(mt.MeetingError) as caught:
        mt.update_decision(user=pilot, decision=decision, data={"status": DecisionStatus.DROPPED})
    assert "follow_up" in caught.value.message_dict
    decision = mt.update_decision(
        user=pilot, decision=decision, data={"status": DecisionStatus.DROPPED, "follow_up": "Plus de budget."}
    )
    assert decision.closed_on == timezone.localdate()


def test_decisions_to_follow_show_owner_due_date_and_lateness_in_words(client, world):
    nantes, partner_a = world["nantes"], world["partner_a"]
    today = timezone.localdate()
    copil = factories.MeetingFactory(contract=nantes)
    late = factories.DecisionFactory(
        meeting=copil,
        text="Ouvrir la maison de projet",
        owner=partner_a,
        due_on=today - datetime.timedelta(days=3),
    )
    factories.DecisionFactory(
        meeting=copil, text="Publier le bilan", due_on=today + datetime.timedelta(days=60)
    )
    factories.DecisionFactory(
        meeting=copil, text="Déjà faite", status=DecisionStatus.DONE, closed_on=today, due_on=today
    )
    url = reverse("www:decisions", args=[nantes.slug])
    response = Client().get(url)
    raw = response.content.decode()
    page = text(response)
    assert "Ouvrir la maison de projet" in page and "Publier le bilan" in page and "Déjà faite" not in page
    assert "Partenaire A participation" in page and "en retard" in page
    row = re.search(r"<tr>\s*<th scope=\"row\">Ouvrir la maison de projet.*?</tr>", raw, re.S).group(0)
    assert '<strong class="error">en retard</strong>' in row
    future = re.search(r"<tr>\s*<th scope=\"row\">Publier le bilan.*?</tr>", raw, re.S).group(0)
    assert "en retard" not in future
    filtered = text(Client().get(url, {"porteur": partner_a.slug}))
    assert "Ouvrir la maison de projet" in filtered and "Publier le bilan" not in filtered
    assert "1 décision en retard" in filtered

    # Le pilote met à jour le suivi : close, la décision quitte la page.
    login(client, world, "pilot")
    assert "Mettre à jour le suivi" in text(client.get(url))
    response = client.post(
        reverse("www:decision_edit", args=[nantes.slug, late.pk]),
        {
            "text": late.text,
            "owner": partner_a.pk,
            "status": DecisionStatus.DONE,
            "follow_up": "Ouverte le 3.",
        },
    )
    assert response.status_code == 302
    late.refresh_from_db()
    assert late.closed_on == today
    assert "Ouvrir la maison de projet" not in text(client.get(url))

    data = api(client, f"/api/v1/contracts/{nantes.slug}/decisions?status={DecisionStatus.OPEN}")
    mine = [d for d in data["items"] if not d["is_demo"]]
    assert [d["text"] for d in mine] == ["Publier le bilan"] and mine[0]["late"] is False
    assert all(d["status"] == DecisionStatus.OPEN for d in data["items"])
    data = api(client, f"/api/v1/contracts/{nantes.slug}/decisions?owner={partner_a.slug}")
    assert [(d["text"], d["closed_on"]) for d in data["items"]] == [
        ("Ouvrir la maison de projet", today.isoformat())
    ]


# --- API ----------------------------------------------------------------------------------------


def test_feedback_api_per_role(world):
    nantes, pilot = world["nantes"], world["users"]["pilot"]
    published = post(world, text_="Publié")
    fb.publish_feedback(user=pilot, feedback=published)
    post(world, text_="En attente du conseil")
    post(world, role="editor", text_="En attente du référent")
    url = f"/api/v1/contracts/{nantes.slug}/feedback"
    seen = {
        role: {i["text"] for i in api(Client(), url, world["users"][role])["items"] if not i["is_demo"]}
        for role in ["anonymous", "pilot", "council", "editor", "reader", "pilot_other"]
    }
    assert seen["anonymous"] == seen["reader"] == seen["pilot_other"] == {"Publié"}
    assert seen["pilot"] == {"Publié", "En attente du conseil", "En attente du référent"}
    assert seen["council"] == {"Publié", "En attente du conseil"}
    assert seen["editor"] == {"Publié", "En attente du référent"}
    item = next(i for i in api(Client(), url)["items"] if i["id"] == published.pk)
    assert item["moderation"] == Moderation.PUBLISHED and item["on_behalf_of"] == COUNCIL_NAME


def test_openapi_documents_the_new_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for name in ["meetings", "decisions", "feedback"]:
        assert f"/api/v1/contracts/{{slug}}/{name}" in paths


def test_api_filters_are_validated_in_french(client, world):
    response = client.get(f"/api/v1/contracts/{world['nantes'].slug}/decisions?status=PERDUE")
    assert response.status_code == 422 and "valeur non admise" in response.json()["detail"]
    assert client.get("/api/v1/contracts/inconnu/meetings").status_code == 404


def test_api_hides_draft_commitments_linked_to_public_decisions(world):
    nantes = world["nantes"]
    draft = Commitment.objects.get(title__startswith="Financer vingt permis")
    public = Commitment.objects.get(title__startswith="Équiper 200 logements")
    assert draft.status == S.DRAFT and public.status in {S.CONFIRMED, S.IN_PROGRESS}
    decision = factories.DecisionFactory(meeting=factories.MeetingFactory(contract=nantes))
    decision.commitments.set([draft, public])

    def linked(user):
        data = api(Client(), f"/api/v1/contracts/{nantes.slug}/decisions", user)
        return sorted(next(d for d in data["items"] if d["id"] == decision.pk)["commitments"])

    assert linked(None) == [public.pk]
    # Le brouillon d'un partenaire : lu par le pilote, pas par le lecteur d'un autre partenaire.
    assert draft.partner_id != world["users"]["reader"].memberships.get().partner_id
    assert linked(world["users"]["reader"]) == [public.pk]
    assert linked(world["users"]["pilot"]) == sorted([draft.pk, public.pk])


# --- Requêtes bornées ----------------------------------------------------------------------------


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        assert response.status_code == 200, url
    return len(ctx.captured_queries)


def _populate(world, n):
    nantes, pilot = world["nantes"], world["users"]["pilot"]
    action = Action.objects.for_contract(nantes).first()
    commitment = Commitment.objects.get(title__startswith="Équiper 200 logements")
    indicator = nantes.indicators.first()
    enjeu = nantes.enjeux.first()
    for i in range(n):
        f = post(
            world,
            text_=f"Retour {i}",
            qpvs=[dervallieres(nantes)],
            enjeu=enjeu,
            actions=[action],
            commitments=[commitment],
            indicators=[indicator] if indicator else [],
        )
        fb.publish_feedback(user=pilot, feedback=f)
        post(world, text_=f"En attente {i}")
        meeting = factories.MeetingFactory(
            contract=nantes, kind=MeetingKind.COPIL if i % 2 else MeetingKind.COTECH, title=f"Instance {i}"
        )
        meeting.participants.add(world["partner_a"])
        for j in range(2):
            d = factories.DecisionFactory(meeting=meeting, text=f"Décision {i}.{j}", owner=world["partner_a"])
            d.actions.add(action)
            d.commitments.add(commitment)


def test_pages_and_api_keep_a_bounded_number_of_queries(client, world):
    nantes = world["nantes"]
    _populate(world, 2)
    meeting = Meeting.objects.filter(contract=nantes).first()
    slug = nantes.slug
    pages = {
        "public": (None, reverse("www:feedback_list", args=[slug])),
        "mine": ("council", reverse("www:my_feedback", args=[slug])),
        "moderation": ("pilot", reverse("www:moderation", args=[slug])),
        "meetings": ("pilot", reverse("www:meetings", args=[slug])),
        "meeting": ("pilot", reverse("www:meeting", args=[slug, meeting.pk])),
        "decisions": ("reader", reverse("www:decisions", args=[slug])),
        "decisions_public": (None, reverse("www:decisions", args=[slug])),
        "form": ("pilot", reverse("www:decision_create", args=[slug, meeting.pk])),
        "api_meetings": (None, f"/api/v1/contracts/{slug}/meetings"),
        "api_decisions": ("reader", f"/api/v1/contracts/{slug}/decisions"),
        "api_feedback": (None, f"/api/v1/contracts/{slug}/feedback"),
    }

    def counts():
        result = {}
        for name, (role, url) in pages.items():
            client.logout()
            login(client, world, role) if role else None
            _count(client, url)  # cache des rôles, session
            result[name] = _count(client, url)
        return result

    before = counts()
    _populate(world, 12)
    after = counts()
    assert after == before
    assert max(after.values()) <= 25, after
