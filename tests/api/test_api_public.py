"""L'API ouverte : seulement ce qui est publié pour le public, filtres, pagination, cache HTTP,
requêtes SQL bornées, document OpenAPI."""

import importlib
import pkgutil
import re

import jsonschema
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from ninja import Schema
from schemathesis.specs.openapi.definitions import OPENAPI_31

import cdv.api
from cdv.api.pagination import MAX_LIMIT
from cdv.commitments.enums import PUBLIC_STATUSES
from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from cdv.contracts.enums import ContractStatus
from cdv.indicators.models import Indicator
from cdv.monitoring.enums import FeedbackKind, MeetingKind, Moderation
from cdv.monitoring.models import Decision, Feedback, Meeting
from cdv.partners.enums import PartnerKind
from cdv.partners.models import Partner
from cdv.plan.enums import ActionScope, ActionStatus
from cdv.plan.models import Action, Objective, QpvPriority
from cdv.territories.models import Qpv
from cdv.users.enums import Role
from cdv.users.services import create_api_token
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.demo]
SLUG = "nantes-metropole-2024-2030"
BASE = f"/api/v1/contracts/{SLUG}"
LISTS = [
    "/api/v1/qpv",
    "/api/v1/contracts",
    f"{BASE}/enjeux",
    f"{BASE}/objectives",
    f"{BASE}/actions",
    f"{BASE}/partners",
    f"{BASE}/commitments",
    f"{BASE}/indicators",
    f"{BASE}/meetings",
    f"{BASE}/decisions",
    f"{BASE}/feedback",
]


def bearer(user):
    _, key = create_api_token(user=user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def items(client, url, params=None, **headers):
    response = client.get(url, params or {}, **headers)
    assert response.status_code == 200, response.content
    return response.json()["items"]


def count(client, url, params=None, **headers):
    response = client.get(url, params or {}, **headers)
    assert response.status_code == 200, response.content
    return response.json()["count"]


@pytest.fixture
def pilot(nantes):
    return factories.MembershipFactory(contract=nantes, role=Role.PILOT).user


@pytest.fixture
def objective(nantes):
    return Objective.objects.filter(enjeu__contract=nantes).select_related("enjeu").order_by("id").first()


# --- Ce que le public voit -----------------------------------------------------------------------


def test_a_contract_in_preparation_is_invisible_everywhere_without_a_role(client, pilot):
    draft = factories.ContractFactory(status=ContractStatus.PREPARING, slug="en-preparation")
    enjeu = factories.EnjeuFactory(contract=draft)
    factories.ActionFactory(objective=factories.ObjectiveFactory(enjeu=enjeu))
    assert "en-preparation" not in [c["slug"] for c in items(client, "/api/v1/contracts")]
    for suffix in [
        "",
        "/enjeux",
        "/objectives",
        "/actions",
        "/partners",
        "/commitments",
        "/indicators",
        "/feedback",
    ]:
        assert client.get(f"/api/v1/contracts/en-preparation{suffix}").status_code == 404, suffix
    assert client.get("/api/v1/qpv", {"contract": "en-preparation"}).status_code == 404
    # Un membre le voit, avec un jeton comme avec une session.
    member = factories.MembershipFactory(contract=draft, role=Role.READER).user
    assert "en-preparation" in [c["slug"] for c in items(client, "/api/v1/contracts", **bearer(member))]
    assert count(client, "/api/v1/contracts/en-preparation/actions", **bearer(member)) == 1
    # …pas un pilote d'un autre contrat.
    assert client.get("/api/v1/contracts/en-preparation", **bearer(pilot)).status_code == 404


def test_draft_commitments_never_appear_anonymously(client, nantes, pilot, objective):
    hidden = factories.PartnerFactory(name="Partenaire aux seuls brouillons")
    draft = factories.CommitmentFactory(
        contract=nantes,
        partner=hidden,
        objective=objective,
        status=S.DRAFT,
        qpvs=[nantes.qpvs.first()],
        means=[2025],
        title="Test",
    )
    public_statuses = {S.CONFIRMED, S.IN_PROGRESS, S.DONE, S.PARTLY_DONE, S.NOT_DONE, S.ABANDONED}
    listed = items(client, f"{BASE}/commitments", {"limit": MAX_LIMIT})
    assert listed and {c["status"] for c in listed} <= public_statuses
    assert count(client, f"{BASE}/commitments") == (
        Commitment.objects.filter(contract=nantes, status__in=public_statuses).count()
    )
    assert client.get(f"{BASE}/commitments/{draft.pk}").status_code == 404
    assert draft.pk not in [c["id"] for c in items(client, f"{BASE}/commitments", {"year": 2025})]
    # Le partenaire qui n'a que des brouillons n'a pas de place publique dans le contrat.
    assert hidden.slug not in [p["slug"] for p in items(client, f"{BASE}/partners", {"limit": MAX_LIMIT})]
    assert client.get(f"{BASE}/partners/{hidden.slug}").status_code == 404
    # Un lien vers un brouillon depuis un retour publié ou une décision publique ne le révèle pas.
    feedback = Feedback.objects.create(
        contract=nantes, kind=FeedbackKind.NEED, text="Besoin", moderation=Moderation.PUBLISHED
    )
    feedback.commitments.add(draft)
    shown = next(f for f in items(client, f"{BASE}/feedback") if f["id"] == feedback.pk)
    assert shown["commitments"] == []
    # Le pilote voit tout.
    headers = bearer(pilot)
    assert client.get(f"{BASE}/commitments/{draft.pk}", **headers).status_code == 200
    assert (
        count(client, f"{BASE}/commitments", **headers) == Commitment.objects.filter(contract=nantes).count()
    )
    assert client.get(f"{BASE}/partners/{hidden.slug}", **headers).json()["commitments"] == [draft.pk]


def test_unpublished_feedback_never_appears_anonymously(client, nantes, pilot):
    pending = Feedback.objects.create(contract=nantes, kind=FeedbackKind.NEED, text="En attente")
    rejected = Feedback.objects.create(
        contract=nantes, kind=FeedbackKind.NEED, text="Écarté", moderation=Moderation.REJECTED
    )
    published = Feedback.objects.create(
        contract=nantes, kind=FeedbackKind.SUCCESS, text="Publié", moderation=Moderation.PUBLISHED
    )
    listed = items(client, f"{BASE}/feedback", {"limit": MAX_LIMIT})
    assert {f["moderation"] for f in listed} == {Moderation.PUBLISHED}
    assert published.pk in [f["id"] for f in listed]
    assert (
        count(client, f"{BASE}/feedback")
        == Feedback.objects.filter(contract=nantes, moderation=Moderation.PUBLISHED).count()
    )
    for hidden in (pending, rejected):
        assert client.get(f"{BASE}/feedback/{hidden.pk}").status_code == 404
    assert client.get(f"{BASE}/feedback/{published.pk}").json()["text"] == "Publié"
    assert "author" not in client.get(f"{BASE}/feedback/{published.pk}").json()
    assert client.get(f"{BASE}/feedback/{pending.pk}", **bearer(pilot)).status_code == 200


def test_only_steering_committees_are_public(client, nantes, pilot):
    cotech = Meeting.objects.create(
        contract=nantes, kind=MeetingKind.COTECH, title="Technique", date="2025-03-01"
    )
    Decision.objects.create(meeting=cotech, text="Décision technique")
    assert {m["kind"] for m in items(client, f"{BASE}/meetings")} == {MeetingKind.COPIL}
    assert client.get(f"{BASE}/meetings/{cotech.pk}").status_code == 404
    assert "Décision technique" not in [d["text"] for d in items(client, f"{BASE}/decisions")]
    assert client.get(f"{BASE}/meetings/{cotech.pk}", **bearer(pilot)).json()["decisions"][0]["text"] == (
        "Décision technique"
    )


def test_ids_from_the_url_are_looked_up_in_the_contract_only(client, nantes):
    other = factories.ContractFactory()
    foreign = factories.ActionFactory(
        objective=factories.ObjectiveFactory(enjeu=factories.EnjeuFactory(contract=other))
    )
    assert client.get(f"/api/v1/contracts/{other.slug}/actions/{foreign.pk}").status_code == 200
    assert client.get(f"{BASE}/actions/{foreign.pk}").status_code == 404
    nantes_action = Action.objects.for_contract(nantes).first()
    assert client.get(f"/api/v1/contracts/{other.slug}/actions/{nantes_action.pk}").status_code == 404
    stranger = factories.PartnerFactory()
    assert client.get(f"{BASE}/partners/{stranger.slug}").status_code == 404
    assert client.get(f"{BASE}/objectives/9.9").status_code == 404
    assert client.get(f"{BASE}/enjeux/99").status_code == 404
    # Un QPV qui ne relève pas du contrat ne filtre rien « par défaut » : la liste est vide.
    for url in (f"{BASE}/actions", f"{BASE}/partners", f"{BASE}/feedback", f"{BASE}/commitments"):
        assert count(client, url, {"qpv": "QN04401M"}) == 0, url


# --- Détail des nouveaux objets ------------------------------------------------------------------


def test_plan_enjeux_objectives_actions(client, nantes):
    enjeux = items(client, f"{BASE}/enjeux")
    assert [e["number"] for e in enjeux] == [1, 2, 3, 4]
    assert enjeux[0]["objectives"][0]["code"] == "1.1"
    first = client.get(f"{BASE}/enjeux/1").json()
    priorities = QpvPriority.objects.filter(enjeu__contract=nantes, enjeu__number=1)
    assert len(first["priorities"]) == priorities.count()
    objective = client.get(f"{BASE}/objectives/1.1").json()
    assert objective["enjeu"] == 1 and objective["code"] == "1.1"
    action = Action.objects.for_contract(nantes).get(code="1.1.1")
    assert objective["actions"] == sorted(
        Action.objects.filter(
            objective__enjeu__contract=nantes, objective__enjeu__number=1, objective__number=1
        ).values_list("code", flat=True)
    )
    detail = client.get(f"{BASE}/actions/{action.pk}").json()
    assert detail["code"] == "1.1.1" and detail["objective"] == "1.1" and detail["enjeu"] == 1
    assert detail["qpvs"] == sorted(q.code for q in action.qpvs.all())
    assert detail["pilot_partner"]["slug"] == action.pilot_partner.slug


def test_partners_of_a_contract(client, nantes):
    partners = items(client, f"{BASE}/partners", {"limit": MAX_LIMIT})
    by_slug = {p["slug"]: p for p in partners}
    assert by_slug["etat-prefecture-de-la-loire-atlantique"]["place"] == "SIGNATAIRE"
    assert by_slug["inter-bailleurs"]["place"] == "PARTICIPANT"
    names = [p["name"] for p in partners]
    assert names == sorted(names)
    slug = "bailleur-habitat-solidaire-demonstration"
    published = Commitment.objects.filter(contract=nantes, partner__slug=slug, status__in=PUBLIC_STATUSES)
    assert by_slug[slug]["commitment_count"] == published.count() >= 1
    assert by_slug[slug]["place"] is None  # ni signataire ni participant : pilote d'actions, engagé
    detail = client.get(f"{BASE}/partners/{slug}").json()
    actions = Action.objects.for_contract(nantes)
    assert detail["actions"] == sorted(
        set(actions.filter(pilot_partner__slug=slug).values_list("code", flat=True))
        | set(actions.filter(contributors__slug=slug).values_list("code", flat=True))
    )
    assert detail["commitments"] == sorted(published.values_list("id", flat=True))


# --- Filtres -------------------------------------------------------------------------------------


def test_action_filters_match_the_database(client, nantes):
    actions = Action.objects.for_contract(nantes)
    url = f"{BASE}/actions"
    assert count(client, url) == actions.count()
    assert count(client, url, {"enjeu": 2}) == actions.filter(objective__enjeu__number=2).count()
    assert count(client, url, {"objective": "1.1"}) == (
        actions.filter(objective__enjeu__number=1, objective__number=1).count()
    )
    assert (
        count(client, url, {"status": ActionStatus.IN_PROGRESS})
        == actions.filter(status=ActionStatus.IN_PROGRESS).count()
    )
    assert (
        count(client, url, {"scope": ActionScope.METROPOLITAN})
        == actions.filter(scope=ActionScope.METROPOLITAN).count()
    )
    # Quartier : sa feuille de route (actions qui le citent et métropolitaines).
    qpv = Qpv.objects.get(code="QN04413M")
    roadmap = {a.code for a in actions.applying_to(qpv)}
    assert {a["code"] for a in items(client, url, {"qpv": "qn04413m"})} == roadmap
    assert {a["code"] for a in items(client, url, {"qpv": "QN04413M", "scope": "QPV"})} == {
        a.code for a in actions.filter(qpvs=qpv)
    }
    # Partenaire : pilote ou contributeur.
    partner = Partner.objects.get(slug="association-tremplin-quartiers-demonstration")
    contributed = factories.ActionFactory(objective=Objective.objects.filter(enjeu__contract=nantes).first())
    contributed.contributors.add(partner)
    found = {a["code"] for a in items(client, url, {"partner": partner.slug})}
    assert found == set(actions.filter(pilot_partner=partner).values_list("code", flat=True)) | {
        contributed.code
    }
    assert (
        count(client, url, {"enjeu": 1, "status": ActionStatus.PLANNED})
        == actions.filter(objective__enjeu__number=1, status=ActionStatus.PLANNED).count()
    )


def test_partner_filters_match_the_database(client, nantes):
    url = f"{BASE}/partners"
    communes = count(client, url, {"kind": PartnerKind.COMMUNE})
    assert (
        communes == Partner.objects.filter(signatures__contract=nantes, kind=PartnerKind.COMMUNE).count() > 0
    )
    # Quartier : engagements publiés qui s'y appliquent, pilotes de sa feuille de route, conseil citoyen.
    dervallieres = {p["slug"] for p in items(client, url, {"qpv": "QN04406M"})}
    assert "conseil-citoyen-des-dervallieres-demonstration" in dervallieres  # couvre le quartier
    assert "association-les-petits-debrouillards-du-quartier-demonstration" in dervallieres  # pilote 2.1.1
    assert (
        "association-tremplin-quartiers-demonstration" in dervallieres
    )  # pilote d'une action métropolitaine
    assert "ville-de-reze" not in dervallieres


def test_commitment_filters_match_the_database(client, nantes, objective, pilot):
    partner = factories.PartnerFactory()
    qpv = nantes.qpvs.get(code="QN04413M")
    factories.CommitmentFactory(
        contract=nantes,
        partner=partner,
        objective=objective,
        status=S.CONFIRMED,
        qpvs=[qpv],
        means=[2027],
        title="Test",
    )
    factories.CommitmentFactory(
        contract=nantes,
        partner=partner,
        objective=objective,
        status=S.IN_PROGRESS,
        means=[2027, 2028],
        title="Test",
    )
    factories.CommitmentFactory(
        contract=nantes,
        partner=partner,
        objective=objective,
        status=S.DRAFT,
        qpvs=[qpv],
        means=[2027],
        title="Test",
    )
    public = Commitment.objects.filter(contract=nantes, status__in=PUBLIC_STATUSES)
    url = f"{BASE}/commitments"
    assert count(client, url, {"partner": partner.slug}) == 2
    # Malakoff : le nôtre (confirmé) et ceux de la démonstration, pas le brouillon.
    in_malakoff = public.filter(qpvs=qpv)
    assert count(client, url, {"qpv": "QN04413M"}) == in_malakoff.count() >= 1
    assert in_malakoff.filter(partner=partner).count() == 1
    assert count(client, url, {"year": 2027}) == public.filter(means__year=2027).distinct().count() == 2
    assert count(client, url, {"year": 2028, "partner": partner.slug}) == 1
    assert (
        count(client, url, {"enjeu": objective.enjeu.number})
        == public.filter(objective__enjeu=objective.enjeu).count()
    )
    assert count(client, url, {"status": S.IN_PROGRESS}) == public.filter(status=S.IN_PROGRESS).count()
    assert count(client, url, {"status": S.DRAFT}) == 0
    assert count(client, url, {"status": S.DRAFT, "partner": partner.slug}, **bearer(pilot)) == 1


def test_other_filters_match_the_database(client, nantes):
    assert (
        count(client, f"{BASE}/objectives", {"enjeu": 3})
        == Objective.objects.filter(enjeu__contract=nantes, enjeu__number=3).count()
    )
    assert (
        count(client, f"{BASE}/indicators", {"enjeu": 1})
        == Indicator.objects.filter(contract=nantes, enjeu__number=1).count()
    )
    assert (
        count(client, f"{BASE}/feedback", {"qpv": "QN04406M"})
        == Feedback.objects.filter(
            contract=nantes, moderation=Moderation.PUBLISHED, qpvs__code="QN04406M"
        ).count()
    )


def test_bad_filter_values_are_422_in_french(client):
    for url, params in [
        (f"{BASE}/actions", {"status": "FINIE"}),
        (f"{BASE}/actions", {"objective": "premier"}),
        (f"{BASE}/actions", {"enjeu": 0}),
        (f"{BASE}/commitments", {"year": 1789}),
        (f"{BASE}/partners", {"kind": "CLUB"}),
        (f"{BASE}/commitments", {"enjeu": 10**30}),
    ]:
        response = client.get(url, params)
        assert response.status_code == 422, (url, params)
        assert response.json()["detail"].startswith("Requête invalide")
    assert client.get(f"{BASE}/actions/{2**70}").status_code == 422
    assert client.get("/api/v1/contracts/pas un slug").status_code == 422


def test_the_nul_character_is_refused_before_reaching_the_database(client, pilot):
    assert client.get(f"{BASE}/actions", {"partner": "a\x00b"}).status_code == 422
    assert client.get("/api/v1/qpv", {"q": "\x00"}).status_code == 422
    response = client.post(
        f"{BASE}/commitments",
        '{"partner": "x\\u0000", "objective": "1.1", "title": "t"}',
        content_type="application/json",
        **bearer(pilot),
    )
    assert response.status_code == 422 and "U+0000" in response.json()["detail"]


def test_server_errors_found_by_schemathesis_are_now_refusals(client, pilot):
    """Trouvés par tests/api/test_api_schemathesis.py : chacun donnait 500."""
    headers = bearer(pilot)
    target = Commitment.objects.get(title__startswith="Financer vingt permis")  # brouillon
    url = f"{BASE}/commitments/{target.pk}"
    # null dans un champ texte : IntegrityError (NOT NULL) → 422.
    response = client.patch(
        url, {"version": target.version, "description": None}, content_type="application/json", **headers
    )
    assert response.status_code == 422 and "description" in response.json()["detail"]
    # null pour la portée la laisse inchangée, comme pour les autres champs non textuels.
    response = client.patch(
        url,
        {"version": target.version, "scope": None, "target": "Cible"},
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 200 and response.json()["scope"] == target.scope
    # Objectif non numérique : ValueError dans la requête → 422 en français.
    response = client.patch(
        url, {"version": target.version + 1, "objective": "a.b"}, content_type="application/json", **headers
    )
    assert response.status_code == 422 and "objective" in response.json()["detail"]
    # Corps illisible : 400 en français, pas en anglais.
    response = client.post(f"{BASE}/commitments", b"\xff{", content_type="application/json", **headers)
    assert response.status_code == 400 and "Corps de la requête illisible" in response.json()["detail"]
    # Nombres hors des bornes de la base (OverflowError) → 422.
    assert client.get(f"{BASE}/commitments/{2**64}").status_code == 422
    assert client.get(f"{BASE}/actions", {"offset": 10**20}).status_code == 422
    response = client.patch(url, {"version": 10**20}, content_type="application/json", **headers)
    assert response.status_code == 422
    # Moyens trop grands pour la colonne décimale → 422.
    response = client.patch(
        url,
        {"version": target.version + 1, "means": [{"year": 2025, "fte": "1e30", "funding": "DROIT_COMMUN"}]},
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 422


# --- Pagination ----------------------------------------------------------------------------------


def test_every_list_is_paginated_the_same_way(client):
    for url in LISTS:
        body = client.get(url, {"limit": 1}).json()
        assert set(body) == {"count", "limit", "offset", "items"}, url
        assert body["limit"] == 1 and body["offset"] == 0 and len(body["items"]) <= 1, url
        response = client.get(url, {"limit": MAX_LIMIT + 1})
        assert response.status_code == 422, url
        assert "limit" in response.json()["detail"]
        assert client.get(url, {"offset": -1}).status_code == 422, url


def test_pages_follow_a_stable_order(client, nantes, national_qpv_count):
    for _ in range(3):
        factories.ActionFactory(objective=Objective.objects.filter(enjeu__contract=nantes).first())
    url = f"{BASE}/actions"
    everything = [a["id"] for a in items(client, url, {"limit": MAX_LIMIT})]
    paged = []
    for offset in range(0, len(everything), 2):
        page = client.get(url, {"limit": 2, "offset": offset}).json()
        assert page["count"] == len(everything) and page["offset"] == offset
        paged += [a["id"] for a in page["items"]]
    assert paged == everything
    beyond = client.get(url, {"offset": len(everything) + 10}).json()
    assert beyond["items"] == [] and beyond["count"] == len(everything)
    qpv = client.get("/api/v1/qpv", {"limit": MAX_LIMIT, "offset": 1500}).json()
    assert qpv["count"] == national_qpv_count and len(qpv["items"]) == national_qpv_count - 1500


# --- Cache HTTP ----------------------------------------------------------------------------------


def test_anonymous_reads_are_publicly_cacheable_with_a_strong_etag(client):
    response = client.get(f"{BASE}/actions")
    assert response["Cache-Control"] == "public, max-age=300"
    etag = response["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{64}"', etag)
    assert {"Authorization", "Cookie"} <= {v.strip() for v in response["Vary"].split(",")}
    assert client.get(f"{BASE}/actions")["ETag"] == etag  # même corps, même ETag
    assert client.get(f"{BASE}/actions", {"limit": 1})["ETag"] != etag

    not_modified = client.get(f"{BASE}/actions", HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified["ETag"] == etag and not_modified["Cache-Control"] == "public, max-age=300"
    assert client.get(f"{BASE}/actions", HTTP_IF_NONE_MATCH=f'"autre", W/{etag}').status_code == 304
    assert client.get(f"{BASE}/actions", HTTP_IF_NONE_MATCH='"autre"').status_code == 200
    # Les données changent : l'ancien ETag ne vaut plus.
    Action.objects.filter(code="1.1.1").update(title="Nouveau titre")
    assert client.get(f"{BASE}/actions", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_personal_responses_never_land_in_a_shared_cache(client, pilot):
    with_token = client.get(f"{BASE}/commitments", **bearer(pilot))
    assert with_token.status_code == 200
    assert with_token["Cache-Control"] == "private, no-store"
    assert "ETag" in with_token
    browser = Client()
    browser.force_login(pilot)
    with_session = browser.get(f"{BASE}/commitments")
    assert with_session["Cache-Control"] == "private, no-store"
    assert {"Authorization", "Cookie"} <= {v.strip() for v in with_session["Vary"].split(",")}
    # Même une donnée publique, lue avec un jeton, reste privée.
    assert client.get("/api/v1/qpv/QN04413M", **bearer(pilot))["Cache-Control"] == "private, no-store"


def test_errors_and_writes_are_not_cacheable(client, pilot):
    missing = client.get(f"{BASE}/actions/999999")
    assert missing.status_code == 404 and missing["Cache-Control"] == "private, no-store"
    assert "ETag" not in missing
    invalid = client.get(f"{BASE}/actions", {"limit": 0})
    assert invalid.status_code == 422 and invalid["Cache-Control"] == "private, no-store"
    write = client.post(f"{BASE}/commitments", {}, content_type="application/json", **bearer(pilot))
    assert write.status_code == 422 and write["Cache-Control"] == "private, no-store"


# --- Requêtes SQL bornées ------------------------------------------------------------------------


def _add_rows(nantes, n):
    """n objets de plus de chaque sorte, avec leurs relations (QPV, partenaires, moyens…)."""
    qpvs = list(nantes.qpvs.order_by("code")[:3])
    objective = Objective.objects.filter(enjeu__contract=nantes).order_by("id").first()
    indicator = Indicator.objects.filter(contract=nantes).first()
    start = Partner.objects.count()
    for i in range(n):
        partner = factories.PartnerFactory(name=f"Partenaire ajouté {start + i}")
        partner.qpvs.add(qpvs[0])
        partner.member_of.add(Partner.objects.get(slug="inter-bailleurs"))
        factories.SignatoryFactory(contract=nantes, partner=partner)
        enjeu = factories.EnjeuFactory(contract=nantes, number=100 + start + i)
        new_objective = factories.ObjectiveFactory(enjeu=enjeu, number=1)
        QpvPriority.objects.create(enjeu=enjeu, qpv=qpvs[0], text="Priorité")
        action = factories.ActionFactory(
            objective=new_objective, pilot_partner=partner, scope=ActionScope.QPV
        )
        action.qpvs.set(qpvs)
        action.contributors.add(partner)
        made = factories.CommitmentFactory(
            contract=nantes,
            partner=partner,
            objective=objective,
            status=S.CONFIRMED,
            qpvs=qpvs,
            means=[2025, 2026],
            title="Test",
        )
        made.indicators.add(indicator)
        Indicator.objects.create(
            contract=nantes, code=f"ajoute-{start + i}", name="Ajouté", unit="%", enjeu=enjeu
        )
        meeting = Meeting.objects.create(
            contract=nantes, kind=MeetingKind.COPIL, title="COPIL", date="2026-01-01"
        )
        meeting.participants.add(partner)
        decision = Decision.objects.create(meeting=meeting, text="Décidé", owner=partner)
        decision.actions.add(action)
        decision.commitments.add(made)
        feedback = Feedback.objects.create(
            contract=nantes,
            partner=partner,
            kind=FeedbackKind.SUCCESS,
            text="Bien",
            moderation=Moderation.PUBLISHED,
        )
        feedback.qpvs.set(qpvs)
        feedback.actions.add(action)
        feedback.commitments.add(made)
        feedback.indicators.add(indicator)
        feedback.enjeu = enjeu
        feedback.save()


def _queries(client, url, **headers):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, {"limit": MAX_LIMIT}, **headers)
    assert response.status_code == 200, (url, response.content)
    return len(context.captured_queries)


@pytest.mark.parametrize("as_pilot", [False, True], ids=["anonyme", "pilote"])
def test_list_queries_do_not_grow_with_the_rows(client, nantes, django_assert_max_num_queries, as_pilot):
    headers = bearer(factories.MembershipFactory(contract=nantes, role=Role.PILOT).user) if as_pilot else {}
    _add_rows(nantes, 1)  # chaque relation préchargée a au moins une ligne
    before = {url: _queries(client, url, **headers) for url in LISTS}
    _add_rows(nantes, 12)
    for url in LISTS:
        assert before[url] <= 14, url
        with django_assert_max_num_queries(before[url]):
            response = client.get(url, {"limit": MAX_LIMIT}, **headers)
        assert response.json()["count"] >= 13 or url.endswith(("/qpv", "/contracts")), url


def test_detail_queries_are_bounded(client, nantes, django_assert_max_num_queries):
    _add_rows(nantes, 5)
    action = Action.objects.for_contract(nantes).last()
    meeting = Meeting.objects.filter(contract=nantes).last()
    feedback = Feedback.objects.filter(contract=nantes, moderation=Moderation.PUBLISHED).last()
    partner = Partner.objects.filter(signatures__contract=nantes).last()
    for url in [
        BASE,
        f"{BASE}/enjeux/1",
        f"{BASE}/objectives/1.1",
        f"{BASE}/actions/{action.pk}",
        f"{BASE}/partners/{partner.slug}",
        f"{BASE}/meetings/{meeting.pk}",
        f"{BASE}/feedback/{feedback.pk}",
        "/api/v1/qpv/QN04413M",
        f"{BASE}/indicators/taux-pauvrete/values",
    ]:
        with django_assert_max_num_queries(12):
            assert client.get(url).status_code == 200, url


# --- Document OpenAPI ----------------------------------------------------------------------------

EXPECTED_OPERATIONS = {
    ("get", "/api/v1/qpv"),
    ("get", "/api/v1/qpv/{code}"),
    ("get", "/api/v1/contracts"),
    ("get", "/api/v1/contracts/{slug}"),
    ("get", "/api/v1/contracts/{slug}/enjeux"),
    ("get", "/api/v1/contracts/{slug}/enjeux/{number}"),
    ("get", "/api/v1/contracts/{slug}/objectives"),
    ("get", "/api/v1/contracts/{slug}/objectives/{code}"),
    ("get", "/api/v1/contracts/{slug}/actions"),
    ("get", "/api/v1/contracts/{slug}/actions/{pk}"),
    ("get", "/api/v1/contracts/{slug}/partners"),
    ("get", "/api/v1/contracts/{slug}/partners/{partner_slug}"),
    ("get", "/api/v1/contracts/{slug}/commitments"),
    ("post", "/api/v1/contracts/{slug}/commitments"),
    ("get", "/api/v1/contracts/{slug}/commitments/{pk}"),
    ("patch", "/api/v1/contracts/{slug}/commitments/{pk}"),
    ("post", "/api/v1/contracts/{slug}/commitments/{pk}/transitions"),
    ("get", "/api/v1/contracts/{slug}/indicators"),
    ("get", "/api/v1/contracts/{slug}/indicators/{code}/values"),
    ("get", "/api/v1/contracts/{slug}/meetings"),
    ("get", "/api/v1/contracts/{slug}/meetings/{pk}"),
    ("get", "/api/v1/contracts/{slug}/decisions"),
    ("get", "/api/v1/contracts/{slug}/feedback"),
    ("get", "/api/v1/contracts/{slug}/feedback/{pk}"),
}
FRENCH = re.compile(r"[àâçéèêëîïôûùüÿœ]|\b(un|une|des|du|d'un|d'une|les|le|la)\b", re.IGNORECASE)


def test_openapi_document_is_valid_3_1_and_describes_every_operation_in_french(client):
    response = client.get("/api/v1/openapi.json")
    spec = response.json()
    assert spec["openapi"].startswith("3.1")
    jsonschema.Draft202012Validator(OPENAPI_31).validate(spec)
    operations = {(method, path): op for path, ops in spec["paths"].items() for method, op in ops.items()}
    assert EXPECTED_OPERATIONS <= set(operations)  # et celles qu'ajoutent d'autres routeurs
    tags = {t["name"] for t in spec["tags"]}
    paged_operations = set()
    for (method, path), op in operations.items():
        label = f"{method.upper()} {path}"
        assert FRENCH.search(op.get("summary", "")), label
        assert op.get("description"), label
        assert op.get("tags") and set(op["tags"]) <= tags, label
        assert {"401", "404", "422"} <= set(op["responses"]), label
        for parameter in op.get("parameters", []) if (method, path) in EXPECTED_OPERATIONS else []:
            assert parameter.get("description"), (label, parameter["name"])
        ok = op["responses"].get("200") or op["responses"].get("201")
        if "Paged" in ok["content"]["application/json"]["schema"]["$ref"]:
            paged_operations.add(path)
            assert {"limit", "offset"} <= {p["name"] for p in op["parameters"]}, label
    assert {url.replace(SLUG, "{slug}") for url in LISTS} <= paged_operations
    paged = spec["components"]["schemas"]["PagedActionOut"]
    assert set(paged["required"]) >= {"count", "limit", "offset", "items"}
    assert f"{MAX_LIMIT} au plus" in spec["info"]["description"]
    assert "max-age=300" in spec["info"]["description"]
    for name, schema in spec["components"]["schemas"].items():
        for field, prop in schema.get("properties", {}).items():
            if name.endswith("Out") and not name.startswith("Paged"):
                assert prop.get("description"), (name, field)


def test_schema_names_are_unique_across_the_api_modules():
    """Le document OpenAPI nomme ses schémas par leur nom de classe : deux classes homonymes dans
    deux modules de cdv/api s'écraseraient (le corps d'une réponse ne suivrait plus son schéma)."""
    seen = {}
    for module_info in pkgutil.iter_modules(cdv.api.__path__):
        module = importlib.import_module(f"cdv.api.{module_info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Schema) and value.__module__ == module.__name__:
                assert value.__name__ not in seen, (value.__name__, seen.get(value.__name__), module.__name__)
                seen[value.__name__] = module.__name__
    assert "CommitmentOut" in seen


def test_path_parameters_have_real_examples(client):
    spec = client.get("/api/v1/openapi.json").json()
    examples = {}
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for parameter in op.get("parameters", []) if (method, path) in EXPECTED_OPERATIONS else []:
                if parameter["in"] == "path":
                    examples.setdefault(parameter["name"], set()).add(str(parameter.get("example")))
    assert examples["slug"] == {SLUG}
    assert "QN04413M" in examples["code"]
    assert client.get(f"{BASE}/partners/{examples['partner_slug'].pop()}").status_code == 200
    (indicator,) = examples["code"] - {"QN04413M", "1.1"}
    assert client.get(f"{BASE}/indicators/{indicator}/values").status_code == 200
    assert client.get(f"{BASE}/objectives/1.1").status_code == 200
