"""Instances et décisions : droits par rôle (pages et services), qui lit quelle instance, saisie par
le pilote, suivi des décisions (responsable, échéance, retard) ; l'API (filtres, engagements liés
non publiés cachés) ; et un nombre de requêtes borné sur les pages et l'API de la participation
(retours d'expérience compris). Le monde : participation_world.py."""

import datetime
import json
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from cdv.monitoring import feedback as fb
from cdv.monitoring import meetings as mt
from cdv.monitoring.enums import DecisionStatus, FeedbackKind, MeetingKind, Moderation
from cdv.monitoring.models import Decision, Feedback, Meeting
from cdv.plan.models import Action
from tests import factories

from .participation_world import (
    ROLES,
    api,
    dervallieres,
    login,
    post,
    text,
    texts,
)

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


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
