import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone, translation
from django.utils.formats import date_format

from cdv.commitments.models import Commitment
from cdv.monitoring import yearly
from cdv.monitoring.enums import CampaignStatus, MeetingKind, Moderation
from cdv.monitoring.models import Decision, Feedback, Meeting, ProgressReport, ReviewCampaign
from cdv.users.enums import Role
from tests import factories
from tests.document_checks import assert_pdf_ua_metadata, pdf_page_texts
from tests.worlds import built_once, fresh_copy, remove_demo_reviews

# Ces tests ouvrent leurs propres campagnes de suivi sur le contrat de Nantes : leur monde (plus bas)
# retire d'abord celles de la démonstration.
pytestmark = [pytest.mark.django_db]


def _build_campaign(nantes, pilot):
    campaign = ReviewCampaign.objects.create(
        contract=nantes, year=2025, opens_on="2026-01-10", deadline="2026-02-28", opened_by=pilot
    )
    thermostats = Commitment.objects.get(title__startswith="Équiper 200 logements")
    ProgressReport.objects.create(
        campaign=campaign,
        commitment=thermostats,
        partner=thermostats.partner,
        progress_pct=60,
        fte_actual=Decimal("0.3"),
        amount_actual=Decimal("41000"),
        what_worked="Les locataires ont adopté les thermostats.",
        state="ACCEPTE",
    )
    copil = Meeting.objects.create(
        contract=nantes, kind=MeetingKind.COPIL, title="COPIL 2025", date="2026-03-15"
    )
    Decision.objects.create(
        meeting=copil, text="Étendre les ateliers énergie à Malakoff.", owner=thermostats.partner
    )
    feedback = Feedback.objects.create(
        contract=nantes,
        kind="REUSSITE",
        text="Les ateliers énergie ont rassemblé 40 familles.",
        moderation=Moderation.PUBLISHED,
        enjeu=nantes.enjeux.get(number=4),
    )
    feedback.qpvs.add(nantes.qpvs.get(code="QN04408M"))
    Feedback.objects.create(contract=nantes, kind="DIFFICULTE", text="Retour non modéré à ne pas publier.")
    return campaign


@pytest.fixture(scope="module")
def built_year(demo_data, django_db_blocker):
    """Le pilote et la campagne 2025 (un bilan accepté, un COPIL et sa décision, deux retours), bâtis
    une fois pour le fichier (tests/worlds.py) après le retrait du suivi annuel de la démonstration ;
    chaque test annule ce qu'il écrit."""
    from cdv.contracts.models import Contract

    with built_once(django_db_blocker):
        remove_demo_reviews()
        nantes = Contract.objects.get(slug="nantes-metropole-2024-2030")
        pilot = factories.MembershipFactory(contract=nantes, role=Role.PILOT).user
        yield {"pilot": pilot, "campaign": _build_campaign(nantes, pilot)}


@pytest.fixture
def pilot(built_year):
    return fresh_copy(built_year["pilot"])


@pytest.fixture
def campaign(built_year):
    return fresh_copy(built_year["campaign"])


@pytest.fixture(scope="module")
def live_report(built_year, django_db_blocker):
    """Le bilan 2025 des données du moment (rien de figé), rendu une fois pour le fichier : (PDF, texte)."""
    from cdv.contracts.models import Contract

    with django_db_blocker.unblock():
        nantes = Contract.objects.get(slug="nantes-metropole-2024-2030")
        pdf = yearly.build_annual_report_pdf(contract=nantes, year=2025)
    return pdf, pdf_text(pdf)


def pdf_text(content, pages=None):
    """Le texte du PDF ; ``pages`` : seulement les premières pages (l'en-tête du bilan est en page 1).
    Le même PDF (le bilan figé, relu par la page de téléchargement) n'est lu qu'une fois."""
    text = " ".join(pdf_page_texts(content)[:pages])
    return " ".join(text.split())


def test_annual_report_from_live_data(nantes, campaign, live_report):
    pdf, text = live_report
    assert_pdf_ua_metadata(pdf, title=f"Bilan annuel 2025 — {nantes.title}")
    assert "Bilan annuel 2025" in text and "Contrat de ville de Nantes Métropole 2024-2030" in text
    assert "Données du moment" in text
    assert "Taux de pauvreté" in text and "44" in text and "32 points" in text
    assert "Équiper 200 logements de thermostats programmables" in text
    assert "Accepté, 60 %" in text
    assert "0,3 ETP" in text and "41 000 €" in text
    assert "Les ateliers énergie ont rassemblé 40 familles." in text
    assert "Retour non modéré" not in text
    assert "Étendre les ateliers énergie à Malakoff." in text
    assert "Malakoff" in text and "page 1 sur" in text


def test_freezing_keeps_the_year_as_it_was(nantes, campaign, pilot):
    snapshot = yearly.freeze_year(user=pilot, campaign=campaign, confirmed=True)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FROZEN
    assert snapshot.checksum == yearly.checksum(snapshot.payload)
    frozen_title = "Équiper 200 logements de thermostats programmables"
    Commitment.objects.filter(title=frozen_title).update(title="Titre changé après le COPIL")
    text = pdf_text(yearly.build_annual_report_pdf(contract=nantes, year=2025))
    assert frozen_title in text and "Titre changé après le COPIL" not in text
    assert "Année figée le" in text
    # La date du gel s'écrit en français (« 6 décembre 2026 »), pas à l'ISO (« 2026-12-06 »).
    with translation.override("fr"):
        frozen_on = date_format(timezone.localtime(snapshot.created_at).date(), "j F Y")
    assert f"Année figée le {frozen_on} :" in text, text[:300]
    with pytest.raises(ValidationError, match="déjà figée"):
        yearly.freeze_year(user=pilot, campaign=campaign, confirmed=True)
    json.dumps(snapshot.payload)  # le fichier figé reste téléchargeable tel quel


def test_only_a_pilot_freezes(nantes, campaign):
    editor = factories.MembershipFactory(
        contract=nantes, partner=factories.PartnerFactory(), role=Role.EDITOR
    ).user
    with pytest.raises(PermissionDenied):
        yearly.freeze_year(user=editor, campaign=campaign, confirmed=True)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.OPEN


def test_payload_numbers_are_exact_strings(nantes, campaign):
    payload = yearly.year_payload(nantes, 2025)
    poverty = next(i for i in payload["indicators"] if i["code"] == "taux-pauvrete")
    assert poverty["summaries"][-1]["gap_points"] == "32" and poverty["summaries"][-1]["gap_ratio"] == "3.7"
    unemployment = next(i for i in payload["indicators"] if i["code"] == "taux-chomage-localise")
    assert len(unemployment["series"]["France"]) == 20


def test_command(nantes, campaign, tmp_path):
    target = tmp_path / "bilan.pdf"
    call_command("build_annual_report", "--contract", nantes.slug, "--year", "2025", "-o", str(target))
    assert target.read_bytes().startswith(b"%PDF")
    with pytest.raises(CommandError, match="inconnu|Aucun contrat"):
        call_command("build_annual_report", "--contract", "inconnu", "--year", "2025", "-o", str(target))
    with pytest.raises(CommandError, match="période"):
        call_command("build_annual_report", "--contract", nantes.slug, "--year", "2040", "-o", str(target))


def test_freeze_and_downloads_through_the_pages(client, nantes, campaign, pilot):
    from django.urls import reverse

    evaluator = factories.MembershipFactory(contract=nantes, role=Role.EVALUATOR).user
    dashboard = reverse("www:review_campaign", args=[nantes.slug, 2025])
    client.force_login(pilot)
    assert "Figer l'année 2025" in client.get(dashboard).content.decode()
    snapshot_url = reverse("www:review_snapshot", args=[nantes.slug, 2025])
    assert client.get(snapshot_url).status_code == 404  # pas encore figée
    client.force_login(evaluator)
    assert client.post(reverse("www:review_freeze", args=[nantes.slug, 2025])).status_code == 403
    client.force_login(pilot)
    freeze_url = reverse("www:review_freeze", args=[nantes.slug, 2025])
    assert client.post(freeze_url).status_code == 200  # sans la case « Je confirme » : rien
    assert client.get(snapshot_url).status_code == 404
    assert client.post(freeze_url, {"confirm": "oui"}).status_code == 302
    frozen = client.get(snapshot_url)
    data = json.loads(frozen.content)
    assert data["payload"]["year"] == 2025 and data["checksum_sha256"] == yearly.checksum(data["payload"])
    pdf = client.get(reverse("www:annual_report", args=[nantes.slug, 2025]))
    assert pdf.content.startswith(b"%PDF") and "Année figée" in pdf_text(pdf.content, pages=1)
    assert "Figer l'année" not in client.get(dashboard).content.decode()
    client.logout()
    assert client.get(snapshot_url).status_code == 302


def test_annual_report_has_a_chart_per_qpv_when_values_exist_per_qpv(nantes, campaign, live_report):
    payload = yearly.year_payload(nantes, 2025)
    employment = next(i for i in payload["indicators"] if i["code"] == "taux-emploi-demo")
    assert len(employment["qpv_series"]) == 15 and len(employment["qpv_series"]["Malakoff"]) == 4
    _, text = live_report
    assert "un graphique par quartier" in text
    assert "Données du graphique" in text  # chaque graphique du PDF a son tableau de données


def test_annual_report_draws_the_computed_all_qpv_line_and_gives_progress_with_years(nantes, campaign):
    """Le bilan 2027 : la courbe calculée de l'ensemble des QPV (2022 et 2026 ; le motif ailleurs)
    à côté de la référence, l'évolution depuis 2022 et la distance à la cible, en 2026 ; un QPV secret
    en 2027 se lit « s » dans les petits graphiques."""
    from cdv.indicators.models import IndicatorValue
    from tests.indicators.test_indicator_pages import _rate_with_gaps

    indicator, n = _rate_with_gaps(nantes)
    last_qpv = nantes.qpvs.order_by("code").last()
    IndicatorValue.objects.create(indicator=indicator, territory=last_qpv, year=2027, is_secret=True)
    payload = yearly.year_payload(nantes, 2027)
    item = next(i for i in payload["indicators"] if i["code"] == "taux-trous")
    progress = item["progress"]
    assert (progress["period"], progress["change"], progress["distance_to_target"]) == (
        "2026",
        "-2.7",
        "11.3",
    )
    assert (progress["baseline_period"], progress["target_year"]) == ("2022", 2030)
    chart = yearly._chart_for(item)
    computed = next(s for s in chart.series if s.label == "Ensemble des QPV (calculé)")
    assert [(p, v) for p, v in computed.points if isinstance(v, Decimal)] == [
        ("2022", Decimal(44)),
        ("2026", Decimal("41.3")),
    ]
    assert any(s.label == nantes.reference.name for s in chart.series)
    assert chart.periods() == [str(y) for y in range(2022, 2028)]
    rows = dict(chart.table()["rows"])
    assert rows["2023"][0] == f"non calculé : valeurs connues pour {n - 1} QPV sur {n}"
    assert rows["2027"][0].startswith("non calculé : valeur sous secret statistique")
    multiples = yearly._multiples_for(item)
    assert dict(multiples.table()["rows"])[last_qpv.name][-1] == '<abbr title="secret statistique">s</abbr>'
    html = yearly.annual_report_html(contract=nantes, year=2027)
    text = " ".join(__import__("re").sub(r"<[^>]+>", " ", html).split())
    assert "reste 11,3 points en 2026" in text
    assert "depuis 2022 : −2,7 points en 2026" in text or "depuis 2022 : -2,7 points en 2026" in text
