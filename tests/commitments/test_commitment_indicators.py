"""Les indicateurs qui montreront qu'un engagement est tenu : saisis, validés, montrés, exportés."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from cdv.commitments import services
from cdv.commitments.documents import build_cahier_pdf
from cdv.commitments.models import Commitment
from cdv.commitments.xlsx_export import export_cahier_xlsx
from cdv.indicators.models import Indicator
from cdv.partners.models import Partner
from cdv.users.enums import Role
from cdv.users.services import create_api_token
from tests import factories
from tests.document_checks import pdf_page_texts

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


@pytest.fixture
def tremplin():
    return Partner.objects.get(name="Association Tremplin Quartiers (démonstration)")


@pytest.fixture
def referent(nantes, tremplin):
    return factories.MembershipFactory(contract=nantes, partner=tremplin, role=Role.EDITOR).user


@pytest.fixture
def pilot(nantes):
    return factories.MembershipFactory(contract=nantes, role=Role.PILOT).user


@pytest.fixture
def forums():
    return Commitment.objects.get(title__startswith="Animer deux forums")


def test_demo_commitments_name_their_indicators(forums):
    assert [i.code for i in forums.indicators.all()] == ["participants-forums-emploi"]
    assert forums.indicators.get().is_demo


def test_an_indicator_of_another_contract_is_refused(nantes, tremplin, pilot, forums):
    other = factories.ContractFactory()
    foreign = Indicator.objects.create(contract=other, code="x", name="Indicateur d'ailleurs", unit="%")
    with pytest.raises(services.CommitmentError, match="autre contrat"):
        services.update_commitment(
            user=pilot, commitment=forums, expected_version=forums.version, data={}, indicators=[foreign]
        )
    assert [i.code for i in forums.indicators.all()] == ["participants-forums-emploi"]


def test_indicators_are_chosen_in_the_form_and_shown_on_the_page(client, nantes, tremplin, referent):
    client.force_login(referent)
    indicator = Indicator.objects.get(code="participants-forums-emploi")
    objective = nantes.enjeux.get(number=1).objectives.first()
    response = client.post(
        reverse("www:commitment_create", args=[nantes.slug, tremplin.slug]),
        {
            "objective": objective.pk,
            "title": "Suivi par indicateur",
            "scope": "CONTRAT",
            "indicators": [indicator.pk],
        },
    )
    assert response.status_code == 302
    commitment = Commitment.objects.get(title="Suivi par indicateur")
    assert list(commitment.indicators.all()) == [indicator]
    page = client.get(reverse("www:commitment", args=[nantes.slug, commitment.pk])).content.decode()
    assert indicator.name in page


def test_changing_indicators_is_tracked_as_a_change(nantes, pilot, forums):
    other = Indicator.objects.get(code="logements-equipes-thermostat")
    services.update_commitment(
        user=pilot, commitment=forums, expected_version=forums.version, data={}, indicators=[other]
    )
    forums.refresh_from_db()
    assert forums.version == 2 and [i.code for i in forums.indicators.all()] == [
        "logements-equipes-thermostat"
    ]


def test_indicators_in_the_api_pdf_and_xlsx(client, nantes, tremplin, pilot, forums):
    headers = {"HTTP_AUTHORIZATION": "Bearer " + create_api_token(user=pilot, name="t")[1]}
    base = f"/api/v1/contracts/{nantes.slug}/commitments"
    assert client.get(f"{base}/{forums.pk}", **headers).json()["indicators"] == ["participants-forums-emploi"]
    response = client.patch(
        f"{base}/{forums.pk}",
        {"version": forums.version, "indicators": ["inconnu"]},
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 409 and "inconnu" in response.json()["detail"]
    text = "".join(pdf_page_texts(build_cahier_pdf(contract=nantes, partner=tremplin)))
    assert "Participants aux forums emploi" in text
    sheet = load_workbook(io.BytesIO(export_cahier_xlsx(contract=nantes, partner=tremplin)))["Engagements"]
    headers_row = [c.value for c in sheet[1]]
    column = headers_row.index("Indicateurs de suivi")
    values = [row[column].value for row in sheet.iter_rows(min_row=2)]
    assert forums.indicators.get().name in values
