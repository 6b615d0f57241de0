"""Les mots et les dates : accords, élisions, ordinaux, durées, raisons (issue #13)."""

import datetime
import html
import re

import pytest
from django.core import mail
from django.template import engines
from django.urls import reverse
from django.utils.html import strip_tags

from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from cdv.contracts.enums import MilestoneKind
from cdv.monitoring.enums import MeetingKind
from cdv.monitoring.models import Meeting
from cdv.partners.models import Partner
from cdv.plan.models import Action, QpvPriority
from cdv.users.enums import Role
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


def render(source, **context):
    return engines["django"].from_string(source).render(context)


def text_of(response):
    return re.sub(r"\s+", " ", html.unescape(strip_tags(response.content.decode())))


def test_the_first_day_of_a_month_is_written_1er(client, nantes):
    assert render('{{ d|date:"j F Y" }}', d=datetime.date(2024, 1, 1)) == "1er janvier 2024"
    assert render('{{ d|date:"j F Y" }}', d=datetime.date(2024, 1, 2)) == "2 janvier 2024"
    assert render('{{ d|date:"d/m/Y" }}', d=datetime.date(2024, 1, 1)) == "01/01/2024"
    action = Action.objects.filter(
        objective__enjeu__contract=nantes, start_on=datetime.date(2025, 1, 1)
    ).first()
    page = text_of(client.get(reverse("www:action", args=[nantes.slug, action.pk])))
    assert "du 1er janvier 2025" in page and "du 1 janvier" not in page


def test_zero_and_one_are_singular_in_french():
    source = (
        "{{ n }} engagement{{ n|pluralize }} confirmé{{ n|pluralize }}, "
        "{{ n }} bilan{{ n|pluralize:'a,ont' }}"
    )
    assert render(source, n=0) == "0 engagement confirmé, 0 bilana"
    assert render(source, n=1) == "1 engagement confirmé, 1 bilana"
    assert render(source, n=3) == "3 engagements confirmés, 3 bilanont"


def test_status_counts_of_a_neighbourhood_agree_in_number(client, nantes):
    malakoff = nantes.qpvs.get(code="QN04413M")
    partner = Partner.objects.filter(is_demo=True).first()
    objective = Action.objects.filter(objective__enjeu__contract=nantes).first().objective
    for n in range(3):
        commitment = Commitment.objects.create(
            contract=nantes, partner=partner, objective=objective, title=f"Engagement {n}", status=S.CONFIRMED
        )
        commitment.qpvs.add(malakoff)
    confirmed = Commitment.objects.filter(contract=nantes, qpvs=malakoff, status=S.CONFIRMED).count()
    page = text_of(client.get(reverse("www:qpv", args=[nantes.slug, malakoff.code])))
    assert f"{confirmed} confirmés" in page
    assert not re.search(r"\b([2-9]|\d\d+) confirmé\b", page)


def test_demo_names_are_not_marked_twice(client, nantes):
    page = text_of(client.get(reverse("www:partners", args=[nantes.slug])))
    assert "(démonstration)" in page
    assert "(démonstration) (démonstration)" not in page


def test_article_contractions_before_names(nantes):
    from cdv.core.french import a, de

    assert de("Les Dervallières") == "des Dervallières" and a("Les Dervallières") == "aux Dervallières"
    assert de("Le Breil") == "du Breil" and de("La Boissière") == "de la Boissière"
    assert de("Malakoff") == "de Malakoff" and de("Orvault") == "d'Orvault"
    assert de("Association Tremplin") == "de l'Association Tremplin"
    assert de("Bailleur Habitat") == "du Bailleur Habitat"
    priority = QpvPriority.objects.filter(qpv__code="QN04406M", enjeu__contract=nantes).first()
    assert "priorités locales des Dervallières" in priority.text


def test_an_invitation_on_behalf_of_an_association_reads_well(client, nantes):
    pilot = factories.MembershipFactory(contract=nantes, role=Role.PILOT).user
    partner = factories.PartnerFactory(name="Association Quartiers Solidaires")
    factories.SignatoryFactory(contract=nantes, partner=partner)  # il prend part au contrat
    client.force_login(pilot)
    client.post(
        reverse("www:invitations", args=[nantes.slug]),
        {"email": "nouveau@example.org", "role": Role.EDITOR, "partner": partner.pk},
    )
    (message,) = mail.outbox
    assert "au nom de l'Association Quartiers Solidaires" in message.body
    assert "au nom de Association" not in message.body


def test_the_login_error_says_une_adresse(client):
    response = client.post(reverse("www:login"), {"username": "x@example.org", "password": "faux"})
    page = text_of(response)
    assert "Saisissez une adresse électronique et un mot de passe valides" in page
    assert "un adresse" not in page


def test_a_georef_job_does_not_say_contrat_twice(client, nantes, settings, tmp_path):
    from cdv.indicators.models import Indicator
    from tests.georef.test_georef_web import lonlat_file, upload

    settings.MEDIA_ROOT = tmp_path / "media"
    tremplin = Partner.objects.get(name="Association Tremplin Quartiers (démonstration)")
    forums = Commitment.objects.get(title__startswith="Animer deux forums")
    Commitment.objects.filter(pk=forums.pk).update(status="VALIDE")  # validé : il reçoit une valeur
    forums.indicators.add(
        Indicator.objects.create(
            contract=nantes, code="part-qpv", name="Part en QPV", unit="%", rate_scale=100
        )
    )
    client.force_login(factories.MembershipFactory(contract=nantes, partner=tremplin, role=Role.EDITOR).user)
    upload(client, lonlat_file(), contrat=nantes.slug)
    from cdv.georef.models import GeorefJob

    job = GeorefJob.objects.latest("pk")
    page = text_of(client.get(reverse("www:georef_job", args=[job.pk])))
    assert f"{nantes.title} :" in page
    assert "Contrat Contrat" not in page


def test_the_contract_summary_states_the_duration_of_its_dates(client, nantes):
    assert "six ans" not in nantes.summary_plain
    assert f"{nantes.start_year} à fin {nantes.end_year}" in nantes.summary_plain
    page = text_of(client.get(reverse("www:contract", args=[nantes.slug])))
    assert "Pour six ans" not in page


def timeline(client, nantes):
    page = client.get(reverse("www:contract", args=[nantes.slug])).content.decode()
    items = re.findall(r'<li class="milestone milestone-(\w+)">(.*?)</li>', page, flags=re.S)
    return [(state, re.sub(r"\s+", " ", strip_tags(body)).strip()) for state, body in items]


def test_the_timeline_is_in_date_order(client, nantes):
    whens = [body for _, body in timeline(client, nantes)]
    quarter = next(i for i, w in enumerate(whens) if w.startswith("1er trimestre 2024"))
    review = next(i for i, w in enumerate(whens) if w.startswith("2024 Suivi annuel"))
    assert quarter < review


def test_the_timeline_counts_recorded_copil_meetings_and_frozen_years(client, nantes):
    meeting = Meeting.objects.filter(contract=nantes, kind=MeetingKind.COPIL, date__year=2025).first()
    assert meeting is not None  # le COPIL de mars 2025 de la démonstration
    rows = dict((body.split(" Suivi annuel")[0], (state, body)) for state, body in timeline(client, nantes))
    state, body = rows["2025"]
    assert state == "done" and "20 mars 2025" in body, body
    state, body = rows["2024"]  # l'année 2024 est figée dans la démonstration
    assert state == "done", body
    assert nantes.milestones.filter(kind=MilestoneKind.YEARLY_REVIEW, done_on__isnull=True).exists()


def test_no_empty_publication_date_in_moderation(client, nantes):
    pilot = factories.MembershipFactory(contract=nantes, role=Role.PILOT).user
    client.force_login(pilot)
    page = text_of(client.get(reverse("www:moderation", args=[nantes.slug])))
    assert "(publié le )" not in page
    assert "publié le" in page


def test_a_point_outside_france_says_so(client):
    from cdv.georef.pipeline import locate_points

    brussels, bern, barcelona, nantes_centre = (
        (4.35, 50.85),
        (7.45, 46.95),
        (2.17, 41.39),
        (-1.5536, 47.2184),
    )
    results = locate_points([brussels, bern, barcelona, nantes_centre])
    assert [r["raison"] for r in results[:3]] == ["point hors de France (métropole et outre-mer)"] * 3
    assert results[3]["raison"] == ""
    response = client.get("/api/v1/georef", {"lon": 4.35, "lat": 50.85})
    assert response.json()["reason"] == "point hors de France (métropole et outre-mer)"
