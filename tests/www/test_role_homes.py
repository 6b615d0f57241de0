"""« Mon espace » montre à chaque rôle ce qu'il a à faire, et rien d'autre : la liste du jour du pilote
(avec l'état du contrat en barres accessibles), les engagements et bilans d'un référent, ce qu'un
lecteur peut lire, le quartier, les retours et les questionnaires d'un membre de conseil citoyen,
l'évaluation pour l'évaluateur. Les jetons d'API ne sont proposés qu'aux rôles qui utilisent l'API."""

import datetime
import html
import re

import pytest
from django.db import connection
from django.template.defaultfilters import date as date_format
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from cdv.monitoring.enums import CampaignStatus, Moderation, ReportState
from cdv.monitoring.models import Feedback, ProgressReport, ReviewCampaign
from cdv.partners.models import Partner
from cdv.users.enums import Role
from cdv.users.models import ApiToken
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.demo]
URL = reverse("www:my_space")


def text(response):
    assert response.status_code == 200
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))).replace(
        "\u00a0", " "
    )


def login_as(client, nantes, role, partner=None):
    user = factories.MembershipFactory(contract=nantes, role=role, partner=partner).user
    client.force_login(user)
    return user


@pytest.fixture
def tremplin():
    return Partner.objects.get(name="Association Tremplin Quartiers (démonstration)")


@pytest.fixture
def bellevue_council():
    return Partner.objects.get(name="Conseil citoyen de Bellevue (démonstration)")


# --- Pilote -----------------------------------------------------------------------------------------


def test_the_pilot_lands_on_a_todo_list_with_counts_and_links(client, nantes):
    login_as(client, nantes, Role.PILOT)
    today = timezone.localdate()
    proposed = Commitment.objects.filter(contract=nantes, status=S.PROPOSED).count()
    pending = Feedback.objects.filter(contract=nantes, moderation=Moderation.PENDING).count()
    campaign = ReviewCampaign.objects.filter(contract=nantes, status=CampaignStatus.OPEN).latest("year")
    submitted = campaign.reports.filter(state=ReportState.SUBMITTED).count()
    assert proposed and pending
    response = client.get(URL)
    page, body = text(response), html.unescape(response.content.decode())
    assert "À faire aujourd'hui" in page
    assert f"{proposed} engagement{'s' if proposed > 1 else ''} proposé" in page
    assert reverse("www:dashboard", args=[nantes.slug]) + "?etat=PROPOSE" in body
    assert f"{pending} retours d'expérience à modérer" in page
    assert reverse("www:moderation", args=[nantes.slug]) in body
    assert f"{submitted} bilan" in page and "à examiner" in page
    assert reverse("www:review_campaign", args=[nantes.slug, campaign.year]) in body
    assert "décision" in page and reverse("www:decisions", args=[nantes.slug]) in body
    # Prochaines échéances : la date limite des bilans et les jalons du calendrier.
    assert "Prochaines échéances" in page
    if campaign.deadline >= today:
        assert date_format(campaign.deadline, "j F Y") in page
    # L'état du contrat d'un coup d'œil : barres accessibles, chiffres en texte.
    assert body.count("<progress") >= 3
    assert "Cahiers d'engagements confirmés" in page and re.search(r"\d+ partenaires? sur \d+", page)
    assert "Bilans transmis ou acceptés" in page
    assert "Questions évaluatives jugées : 3 sur 5" in page
    assert "Jetons d'API" in page


def test_the_pilot_todo_counts_follow_the_data(client, nantes):
    login_as(client, nantes, Role.PILOT)
    before = Commitment.objects.filter(contract=nantes, status=S.PROPOSED).count()
    commitment = Commitment.objects.filter(contract=nantes, status=S.DRAFT).first()
    Commitment.objects.filter(pk=commitment.pk).update(status=S.PROPOSED)
    assert f"{before + 1} engagements proposés" in text(client.get(URL))
    Commitment.objects.filter(contract=nantes, status=S.PROPOSED).update(status=S.VALIDATED)
    assert "Aucun engagement proposé n'attend votre validation" in text(client.get(URL))


def test_a_late_campaign_says_how_many_reports_are_late(client, nantes):
    login_as(client, nantes, Role.PILOT)
    campaign = ReviewCampaign.objects.filter(contract=nantes, status=CampaignStatus.OPEN).latest("year")
    ReviewCampaign.objects.filter(pk=campaign.pk).update(
        deadline=timezone.localdate() - datetime.timedelta(days=3)
    )
    late = campaign.reports.filter(state__in=[ReportState.DRAFT, ReportState.RETURNED]).count()
    assert late
    assert f"{late} bilan{'s' if late > 1 else ''} en retard" in text(client.get(URL))


def test_the_pilot_home_has_a_bounded_number_of_queries(client, nantes, django_assert_max_num_queries):
    login_as(client, nantes, Role.PILOT)
    with CaptureQueriesContext(connection) as ctx:
        client.get(URL)
    baseline = len(ctx.captured_queries)
    assert baseline <= 30
    partner = Partner.objects.get(name="Association Tremplin Quartiers (démonstration)")
    objective = nantes.enjeux.first().objectives.first()
    for n in range(15):
        Commitment.objects.create(
            contract=nantes, partner=partner, objective=objective, title=f"Proposé {n}", status=S.PROPOSED
        )
        Feedback.objects.create(contract=nantes, kind="BESOIN", text=f"Retour {n}")
    with django_assert_max_num_queries(baseline):
        assert client.get(URL).status_code == 200


# --- Référent et lecteur partenaire -----------------------------------------------------------------


def test_a_partner_referent_sees_its_commitments_reports_and_cahier_only(client, nantes, tremplin):
    login_as(client, nantes, Role.EDITOR, tremplin)
    to_complete = Commitment.objects.filter(
        contract=nantes, partner=tremplin, status__in=[S.DRAFT, S.RETURNED]
    ).count()
    campaign = ReviewCampaign.objects.filter(contract=nantes, status=CampaignStatus.OPEN).latest("year")
    due = ProgressReport.objects.filter(
        campaign=campaign, partner=tremplin, state__in=[ReportState.DRAFT, ReportState.RETURNED]
    ).count()
    response = client.get(URL)
    page, body = text(response), html.unescape(response.content.decode())
    assert f"{to_complete} engagement" in page and "à compléter" in page
    assert reverse("www:partner_space", args=[nantes.slug, tremplin.slug]) in body
    assert f"{due} bilan" in page and date_format(campaign.deadline, "j F Y") in page
    assert reverse("www:review_partner", args=[nantes.slug, campaign.year, tremplin.slug]) in body
    assert reverse("www:cahier", args=[nantes.slug, tremplin.slug, "pdf"]) in body
    assert "Jetons d'API" in page
    for pilot_only in ("À faire aujourd'hui", "Modérer les retours", "Inviter", "Journal d'audit"):
        assert pilot_only not in page


def test_a_reader_sees_what_it_can_read_and_nothing_to_do(client, nantes, tremplin):
    login_as(client, nantes, Role.READER, tremplin)
    response = client.get(URL)
    page, body = text(response), html.unescape(response.content.decode())
    assert reverse("www:partner_space", args=[nantes.slug, tremplin.slug]) in body
    assert reverse("www:cahier", args=[nantes.slug, tremplin.slug, "pdf"]) in body
    assert "à compléter" not in page and "À faire aujourd'hui" not in page
    assert "Modérer les retours" not in page
    assert "Jetons d'API" in page


# --- Membre de conseil citoyen ----------------------------------------------------------------------


def test_a_council_member_sees_its_qpv_its_feedback_and_its_questionnaires(client, nantes, bellevue_council):
    login_as(client, nantes, Role.COUNCIL_MEMBER, bellevue_council)
    response = client.get(URL)
    page, body = text(response), html.unescape(response.content.decode())
    assert reverse("www:qpv", args=[nantes.slug, "QN04405M"]) in body
    assert reverse("www:my_feedback", args=[nantes.slug]) in body
    assert reverse("www:feedback_create", args=[nantes.slug]) in body
    assert reverse("www:questionnaire", args=[nantes.slug, "mi-parcours", "QN04405M"]) in body
    # Ni le questionnaire d'un autre quartier, ni le suivi annuel, ni les jetons d'API.
    assert reverse("www:questionnaire", args=[nantes.slug, "mi-parcours", "QN04406M"]) not in body
    assert "Jetons d'API" not in page and "Suivi annuel" not in page
    assert reverse("www:review_campaigns", args=[nantes.slug]) not in body
    assert "Tableau des engagements" not in page and "Créer un jeton" not in page


def test_a_council_member_cannot_create_an_api_token(client, nantes, bellevue_council):
    user = login_as(client, nantes, Role.COUNCIL_MEMBER, bellevue_council)
    response = client.post(URL, {"token_action": "create", "name": "script"})
    assert response.status_code == 403
    assert not ApiToken.objects.filter(user=user).exists()


# --- Évaluateur -------------------------------------------------------------------------------------


def test_an_evaluator_sees_the_evaluation_and_its_progress(client, nantes):
    login_as(client, nantes, Role.EVALUATOR)
    response = client.get(URL)
    page, body = text(response), html.unescape(response.content.decode())
    assert reverse("www:evaluation", args=[nantes.slug, "mi-parcours"]) in body
    assert "Questions évaluatives jugées : 3 sur 5" in page
    assert "<progress" in body
    assert "Jetons d'API" in page
    for pilot_only in ("À faire aujourd'hui", "Modérer les retours", "Journal d'audit"):
        assert pilot_only not in page


def test_a_new_contract_says_no_partner_has_confirmed_in_good_french(client):
    """Un contrat sans engagement : « 0 partenaire sur 0 a confirmé tout son cahier » (en français,
    zéro est au singulier), pas « 0 partenaires sur 0 ont confirmé tout son cahier »."""
    contract = factories.ContractFactory()
    pilot = factories.MembershipFactory(contract=contract, role=Role.PILOT).user
    client.force_login(pilot)
    text = html.unescape(client.get(reverse("www:my_space")).content.decode())
    assert "0 % — 0 partenaire sur 0 a confirmé tout son cahier." in text


def test_a_partner_role_without_a_partner_says_whom_to_ask(client, nantes):
    login_as(client, nantes, Role.EDITOR, partner=None)
    assert "Ce rôle n'est rattaché à aucun partenaire" in text(client.get(URL))


@pytest.mark.parametrize(
    ("who", "back_office", "new_contract"),
    [("editor", False, False), ("staff_pilot", True, False), ("operator", True, True)],
)
def test_the_header_links_follow_the_account(client, nantes, tremplin, who, back_office, new_contract):
    """« Back-office » pour l'équipe (pilotes à qui il est ouvert, opérateur), « Nouveau contrat »
    pour l'opérateur de l'instance seul."""
    if who == "operator":
        client.force_login(factories.UserFactory(is_superuser=True, is_staff=True))
    else:
        user = login_as(client, nantes, Role.PILOT if who == "staff_pilot" else Role.EDITOR, tremplin)
        user.is_staff = who == "staff_pilot"
        user.save(update_fields=["is_staff"])
    page = client.get(URL).content.decode()
    assert (reverse("admin:index") in page) is back_office
    assert (reverse("www:new_contract") in page) is new_contract
