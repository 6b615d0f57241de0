import pytest
from django.test import Client
from django.urls import reverse

from cdv.commitments.enums import PUBLIC_STATUSES
from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from cdv.partners.models import Partner
from cdv.users.enums import Role
from cdv.users.services import create_api_token
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.demo]
BASE = "/api/v1/contracts/nantes-metropole-2024-2030/commitments"


@pytest.fixture
def tremplin():
    return Partner.objects.get(name="Association Tremplin Quartiers (démonstration)")


def bearer(user):
    _, key = create_api_token(user=user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


@pytest.fixture
def editor(nantes, tremplin):
    return factories.MembershipFactory(contract=nantes, partner=tremplin, role=Role.EDITOR).user


@pytest.fixture
def pilot(nantes):
    return factories.MembershipFactory(contract=nantes, role=Role.PILOT).user


def test_anonymous_sees_only_published_commitments(client):
    data = client.get(BASE).json()
    statuses = {item["status"] for item in data["items"]}
    assert statuses and statuses <= {
        S.CONFIRMED,
        S.IN_PROGRESS,
        S.DONE,
        S.PARTLY_DONE,
        S.NOT_DONE,
        S.ABANDONED,
    }
    draft = Commitment.objects.get(title__startswith="Financer vingt permis")
    assert client.get(f"{BASE}/{draft.pk}").status_code == 404


def test_a_referent_sees_the_published_and_its_own_with_filters(client, editor, pilot, tremplin):
    headers = bearer(editor)
    everything = client.get(BASE, **headers).json()
    nantes = Commitment.objects.filter(contract__slug="nantes-metropole-2024-2030")
    published = nantes.filter(status__in=PUBLIC_STATUSES)
    own = nantes.filter(partner=tremplin).exclude(status__in=PUBLIC_STATUSES)
    assert nantes.exclude(status__in=PUBLIC_STATUSES).exclude(partner=tremplin).exists()
    assert everything["count"] == published.count() + own.count()
    # Le pilote lit tout, le non-publié de chaque partenaire compris.
    assert client.get(BASE, **bearer(pilot)).json()["count"] == nantes.count()
    drafts = client.get(BASE, {"status": "BROUILLON"}, **headers).json()["items"]
    assert drafts and {item["partner_slug"] for item in drafts} == {tremplin.slug}
    by_qpv = client.get(BASE, {"qpv": "QN04405M"}, **headers).json()["items"]
    assert by_qpv and all("QN04405M" in item["qpvs"] for item in by_qpv)
    by_enjeu = client.get(BASE, {"enjeu": 4}, **headers).json()["items"]
    assert by_enjeu and all(item["enjeu"] == 4 for item in by_enjeu)
    by_partner = client.get(BASE, {"partner": "bailleur-habitat-solidaire-demonstration"}, **headers).json()
    assert {item["partner_slug"] for item in by_partner["items"]} == {
        "bailleur-habitat-solidaire-demonstration"
    }


def test_create_update_and_transition_through_the_api(client, editor, pilot, tremplin):
    headers = bearer(editor)
    payload = {
        "partner": tremplin.slug,
        "objective": "1.1",
        "action": "1.1.1",
        "title": "Ateliers numériques",
        "scope": "QPV",
        "qpvs": ["QN04405M"],
        "means": [{"year": 2026, "fte": "0.3", "amount_eur": "5000", "funding": "DROIT_COMMUN"}],
    }
    response = client.post(BASE, payload, content_type="application/json", **headers)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == S.DRAFT and created["qpvs"] == ["QN04405M"]
    url = f"{BASE}/{created['id']}"
    patch = client.patch(
        url,
        {"version": created["version"], "target": "50 personnes"},
        content_type="application/json",
        **headers,
    )
    assert patch.status_code == 200 and patch.json()["target"] == "50 personnes"
    stale = client.patch(
        url, {"version": created["version"], "title": "Autre"}, content_type="application/json", **headers
    )
    assert stale.status_code == 409
    assert ["cible", "", "50 personnes"] in stale.json()["changes"]
    proposed = client.post(
        f"{url}/transitions", {"action": "propose"}, content_type="application/json", **headers
    )
    assert proposed.json()["status"] == S.PROPOSED
    refused = client.post(
        f"{url}/transitions", {"action": "validate"}, content_type="application/json", **headers
    )
    assert refused.status_code == 403
    validated = client.post(
        f"{url}/transitions", {"action": "validate"}, content_type="application/json", **bearer(pilot)
    )
    assert validated.json()["status"] == S.VALIDATED


def test_writes_are_refused_to_anonymous_other_partners_and_bad_tokens(client, nantes, editor):
    target = Commitment.objects.get(title__startswith="Équiper 200 logements")  # autre partenaire, en cours
    url = f"{BASE}/{target.pk}"
    body = {"version": target.version, "title": "Piraté"}
    assert client.patch(url, body, content_type="application/json").status_code == 401
    assert (
        client.patch(url, body, content_type="application/json", HTTP_AUTHORIZATION="Bearer faux").status_code
        == 401
    )
    assert client.patch(url, body, content_type="application/json", **bearer(editor)).status_code == 403
    other = factories.PartnerFactory()
    response = client.post(
        BASE,
        {"partner": other.slug, "objective": "1.1", "title": "x", "scope": "CONTRAT"},
        content_type="application/json",
        **bearer(editor),
    )
    assert response.status_code == 403
    target.refresh_from_db()
    assert target.title.startswith("Équiper 200 logements")


def test_session_writes_need_the_csrf_token(nantes, editor):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(editor)
    draft = Commitment.objects.get(title__startswith="Financer vingt permis")
    response = browser.patch(
        f"{BASE}/{draft.pk}", {"version": draft.version, "title": "x"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_validation_errors_are_french_and_name_the_field(client, editor, tremplin):
    """Un code bien formé mais inconnu du contrat : 409 (la requête est conforme au schéma, les
    données la refusent) ; un code mal formé : 422 avec la liste des champs (#18, point 4)."""
    headers = bearer(editor)
    bad = [
        ({"objective": "9.9"}, "objective"),
        ({"qpvs": ["QN04401M"]}, "QN04401M"),
        ({"action": "4.1.1"}, "action"),
    ]
    for change, expected in bad:
        payload = {
            "partner": tremplin.slug,
            "objective": "1.1",
            "title": "x",
            "scope": "QPV",
            "qpvs": ["QN04405M"],
        } | change
        response = client.post(BASE, payload, content_type="application/json", **headers)
        assert response.status_code == 409, change
        assert expected in response.json()["detail"]
        assert not Commitment.objects.filter(title="x").exists()
    payload = {"partner": tremplin.slug, "objective": "neuf", "title": "x", "qpvs": ["QN04405M"]}
    response = client.post(BASE, payload, content_type="application/json", **headers)
    assert response.status_code == 422
    assert [e["parametre"].rsplit(".", 1)[-1] for e in response.json()["errors"]] == ["objective"]


def test_api_token_is_created_once_from_my_space_and_can_be_revoked(client, editor):
    client.force_login(editor)
    response = client.post(reverse("www:my_space"), {"token_action": "create", "name": "script"})
    key = response.context["new_key"]
    assert key.startswith("cdv_") and key in response.content.decode()
    anonymous = Client()
    assert anonymous.get(BASE, HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    token = editor.api_tokens.get()
    assert key not in token.key_hash
    client.post(reverse("www:my_space"), {"token_action": "revoke", "token": token.pk})
    assert anonymous.get(BASE, HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401


def test_a_token_last_use_is_written_to_the_minute_not_at_every_call(client, editor):
    """La dernière utilisation d'un jeton se lit à la minute près : des appels rapprochés ne
    réécrivent pas la ligne du jeton ; un appel une minute plus tard, si."""
    import datetime

    from django.utils import timezone

    token, key = create_api_token(user=editor, name="script")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    assert client.get(BASE, **headers).status_code == 200
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None and timezone.now() - first < datetime.timedelta(seconds=30)
    assert client.get(BASE, **headers).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == first
    earlier = first - datetime.timedelta(minutes=1)
    type(token).objects.filter(pk=token.pk).update(last_used_at=earlier)
    assert client.get(BASE, **headers).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at > earlier + datetime.timedelta(seconds=30)
