import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.demo]
URL = "/contrats/nantes-metropole-2024-2030/quartiers/{}/"


def text(response):
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def test_a_qpv_page_shows_portrait_roadmap_partners_council_and_published_feedback(client):
    response = client.get(URL.format("QN04406M"))
    assert response.status_code == 200
    page = text(response)
    assert "Les Dervallières" in page and "QN04406M" in page and "Nantes" in page
    assert "Il remplace le quartier Les Dervallières (QP044006) de 2015 (périmètre modifié)" in page
    assert "Taux d'emploi des 15-64 ans (démonstration)" in page and "49,03 %" in page
    assert "1. Emploi et activité économique" in page and "Aide aux devoirs après l'école" in page
    assert "Permanences d'accès aux droits" in page  # action métropolitaine
    assert "Conseil citoyen des Dervallières (démonstration)" in page
    assert "L'aide aux devoirs du mardi est très suivie" in page
    assert "L'éclairage du passage" not in page  # retour en attente de modération
    assert "<script" not in response.content.decode()


def test_only_published_commitments_are_public_on_the_qpv_page(client, nantes):
    devoirs = Commitment.objects.get(title__startswith="Ouvrir l'aide aux devoirs")
    assert devoirs.title not in text(client.get(URL.format("QN04406M")))
    Commitment.objects.filter(pk=devoirs.pk).update(status=S.CONFIRMED)
    assert devoirs.title in text(client.get(URL.format("QN04406M")))
    member = factories.MembershipFactory(contract=nantes, role="EVALUATEUR").user
    Commitment.objects.filter(pk=devoirs.pk).update(status=S.VALIDATED)
    client.force_login(member)
    assert devoirs.title in text(client.get(URL.format("QN04406M")))


def test_a_qpv_outside_the_contract_is_a_404_and_home_links_to_each_qpv(client):
    assert client.get(URL.format("QN04401M")).status_code == 404  # Saint-Nazaire
    assert client.get(URL.format("QN99999M")).status_code == 404
    assert URL.format("QN04413M") in client.get("/").content.decode()


def test_qpv_page_queries_are_bounded(client, nantes):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL.format("QN04405M")).status_code == 200
        return len(ctx.captured_queries)

    objective = nantes.enjeux.get(number=1).objectives.first()
    before = None
    for n in range(11):
        if n == 1:  # une liste vide ne lit pas sa page : on compte à partir d'un engagement
            before = count()
        c = Commitment.objects.create(
            contract=nantes,
            partner=factories.PartnerFactory(),
            objective=objective,
            title=f"E{n}",
            scope="QPV",
            status=S.CONFIRMED,
        )
        c.qpvs.add(nantes.qpvs.get(code="QN04405M"))
    assert count() == before


def test_commitments_come_by_pages_with_a_count_per_status_and_every_partner(client, nantes):
    objective = nantes.enjeux.get(number=1).objectives.first()
    qpv = nantes.qpvs.get(code="QN04405M")
    before = client.get(URL.format("QN04405M")).context["page"].paginator.count
    partners = []
    for n in range(35):
        partner = factories.PartnerFactory(name=f"Zz partenaire {n:02d}")
        partners.append(partner)
        c = Commitment.objects.create(
            contract=nantes,
            partner=partner,
            objective=objective,
            title=f"Engagement paginé {n:02d}",
            scope="QPV",
            status=S.DONE if n % 5 == 0 else S.CONFIRMED,
        )
        c.qpvs.add(qpv)
    first = client.get(URL.format("QN04405M"))
    total = before + 35
    assert first.context["page"].paginator.count == total
    page = text(first)
    assert f"{total} engagements" in page and "7 réalisé" in page
    shown = page.count("Engagement paginé")
    assert shown <= 30
    assert "Page suivante" in page and '?page=2#engagements"' in first.content.decode()
    # Chaque partenaire actif dans le quartier est cité, même si son engagement est sur une autre page.
    assert all(p.name in page for p in partners)
    rest = sum(
        text(client.get(URL.format("QN04405M"), {"page": n})).count("Engagement paginé")
        for n in range(2, first.context["page"].paginator.num_pages + 1)
    )
    assert shown + rest == 35


def test_a_qpv_page_gives_a_gap_only_between_rates_and_says_s_for_a_secret(client, nantes):
    """La population d'un quartier ne se compare pas à celle de la métropole (pas d'« écart en points »
    ni de barres côte à côte) ; un taux, si : 40 % contre 12 % donne +28 points."""
    from cdv.indicators.models import Indicator, IndicatorValue

    qpv = nantes.qpvs.get(code="QN04406M")
    count = Indicator.objects.create(
        contract=nantes, code="habitants-test", name="Habitants test", unit="habitants"
    )
    rate = Indicator.objects.create(
        contract=nantes, code="taux-test", name="Taux test", unit="%", rate_scale=100
    )
    secret = Indicator.objects.create(
        contract=nantes, code="secret-test", name="Secret test", unit="%", rate_scale=100
    )
    for indicator, mine, reference in ((count, 5000, 680000), (rate, 40, 12)):
        IndicatorValue.objects.create(indicator=indicator, territory=qpv, year=2024, value=mine)
        IndicatorValue.objects.create(
            indicator=indicator, territory=nantes.reference, year=2024, value=reference
        )
    IndicatorValue.objects.create(indicator=secret, territory=qpv, year=2024, is_secret=True)
    response = client.get(URL.format("QN04406M"))
    page = text(response)
    counted = page[page.index("Habitants test") : page.index("Secret test")]
    assert "Écart" not in counted and "points" not in counted
    assert "Habitants test en 2024" not in page  # pas de graphique population du quartier / métropole
    assert "Écart : +28 points" in page[page.index("Taux test") :]
    assert '<abbr title="secret statistique">s</abbr>' in response.content.decode()
