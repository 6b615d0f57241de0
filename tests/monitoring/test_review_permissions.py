"""Suivi annuel, droits sur les bilans : matrice rôle × action d'écriture (chaque rôle du monde
contre chaque action, par les pages), lecture d'un bilan par rôle, identifiants d'un autre contrat
sous l'adresse de celui-ci. Le monde et les outils sont ceux de tests/monitoring/test_review_cycle.py."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cdv.commitments.enums import CommitmentStatus as S
from cdv.monitoring import services
from cdv.monitoring.enums import ReportState
from cdv.monitoring.models import ProgressReport, ReportAttachment, ReviewCampaign
from tests import factories
from tests.monitoring import test_review_cycle
from tests.monitoring.test_review_cycle import COMPLETE, ROLES, YEAR, open_2025, pdf_bytes, report_of, text

pytestmark = [pytest.mark.django_db, pytest.mark.demo]

# Le monde du suivi annuel, bâti une fois pour ce fichier (tests/worlds.py).
world = test_review_cycle.world
built_world = test_review_cycle.built_world
media = test_review_cycle.media


# ---------------------------------------------------------------------------------------------
# Matrice des droits : rôle × action d'écriture
# ---------------------------------------------------------------------------------------------

# action : (état de départ du bilan du partenaire A, rôles autorisés)
ACTIONS = {
    "open": (None, {"pilot"}),
    "save": (ReportState.DRAFT, {"editor_a"}),
    "submit": (ReportState.DRAFT, {"editor_a"}),
    "accept": (ReportState.SUBMITTED, {"pilot"}),
    "return": (ReportState.SUBMITTED, {"pilot"}),
    "upload": (ReportState.DRAFT, {"editor_a"}),
    "close": (None, {"pilot"}),
}


def state_of(world, campaign, report):
    fresh = ProgressReport.objects.get(pk=report.pk)
    return (
        sorted(ReviewCampaign.objects.filter(contract=world["nantes"]).values_list("year", "status")),
        ProgressReport.objects.filter(campaign__contract=world["nantes"]).count(),
        (fresh.state, fresh.version, fresh.what_worked, fresh.progress_pct, fresh.reviewer_comment),
        ReportAttachment.objects.filter(report=fresh).count(),
    )


def request_for(action, world, campaign, report):
    slug = world["nantes"].slug
    if action == "open":
        deadline = timezone.localdate() + datetime.timedelta(days=60)
        return reverse("www:review_campaigns", args=[slug]), {"year": 2026, "deadline": deadline.isoformat()}
    if action == "close":
        return reverse("www:review_close", args=[slug, YEAR]), {"confirm": "oui"}
    if action == "accept":
        return reverse("www:review_accept", args=[slug, YEAR, report.pk]), {}
    if action == "return":
        return reverse("www:review_return", args=[slug, YEAR, report.pk]), {"comment": "À compléter"}
    data = COMPLETE | {"version": report.version, "action": "submit" if action == "submit" else "save"}
    if action == "save":
        data["what_worked"] = "Texte modifié"
    if action == "upload":
        data = {
            "version": report.version,
            "action": "save",
            "reported_status": report.reported_status,
            "attachment": SimpleUploadedFile("bilan.pdf", pdf_bytes(), "application/pdf"),
        }
    return reverse("www:review_report", args=[slug, YEAR, report.pk]), data


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(client, world, role, action):
    campaign = open_2025(world)
    report = report_of(campaign, world["commitments"]["a_confirmed"])
    if ACTIONS[action][0] == ReportState.SUBMITTED:
        ProgressReport.objects.filter(pk=report.pk).update(
            state=ReportState.SUBMITTED,
            **{k: v for k, v in COMPLETE.items() if k not in {"fte_actual", "amount_actual"}},
        )
        report.refresh_from_db()
    user = world["users"][role]
    if user is not None:
        client.force_login(user)
    before = state_of(world, campaign, report)
    url, data = request_for(action, world, campaign, report)
    response = client.post(url, data)
    if role in ACTIONS[action][1]:
        assert response.status_code == 302, (response.status_code, text(response)[:600])
        assert state_of(world, campaign, report) != before
    else:
        if user is None:
            assert response.status_code == 302 and reverse("www:login") in response["Location"]
        else:
            assert response.status_code in {403, 404}, response.status_code
        assert state_of(world, campaign, report) == before


@pytest.mark.parametrize("role", ROLES)
def test_reading_a_report(client, world, role):
    campaign = open_2025(world)
    report = report_of(campaign, world["commitments"]["a_confirmed"])
    user = world["users"][role]
    if user is not None:
        client.force_login(user)
    response = client.get(reverse("www:review_report", args=[world["nantes"].slug, YEAR, report.pk]))
    if user is None:
        assert response.status_code == 302
    elif role in {"pilot_other", "editor_b", "council"}:
        # Un bilan se lit par son partenaire, les pilotes et les évaluateurs : ni un autre
        # partenaire, ni un membre de conseil citoyen (docs/security.md, « Qui voit quoi »).
        assert response.status_code in {403, 404}
    else:
        assert response.status_code == 200  # le partenaire A (référent, lecteur), pilote, évaluateur
        assert ("Remplir le bilan" in text(response)) == (role == "editor_a")


def test_an_id_from_another_contract_under_this_contract_url_is_a_404(client, world):
    other = world["other"]
    commitment = factories.CommitmentFactory(
        contract=other, partner=world["a"], status=S.CONFIRMED, title="Engagement suivi"
    )
    other_campaign = services.open_campaign(
        user=world["users"]["pilot_other"],
        contract=other,
        year=YEAR,
        opens_on=datetime.date(2026, 1, 5),
        deadline=datetime.date(2026, 3, 31),
    )
    other_report = report_of(other_campaign, commitment)
    open_2025(world)
    slug = world["nantes"].slug
    client.force_login(world["users"]["pilot"])
    assert client.get(reverse("www:review_report", args=[slug, YEAR, other_report.pk])).status_code == 404
    ProgressReport.objects.filter(pk=other_report.pk).update(state=ReportState.SUBMITTED)
    response = client.post(reverse("www:review_accept", args=[slug, YEAR, other_report.pk]))
    assert response.status_code == 404
    assert ProgressReport.objects.get(pk=other_report.pk).state == ReportState.SUBMITTED
    client.force_login(world["users"]["editor_a"])
    response = client.post(
        reverse("www:review_report", args=[slug, YEAR, other_report.pk]),
        COMPLETE | {"version": 1, "action": "save"},
    )
    assert response.status_code == 404
    assert client.get(reverse("www:review_campaign", args=[slug, 2031])).status_code in {403, 404}
