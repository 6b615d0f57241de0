import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from cdv.commitments.models import Commitment
from cdv.partners.models import Partner
from cdv.users.enums import Role
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


@pytest.fixture
def tremplin():
    return Partner.objects.get(name="Association Tremplin Quartiers (démonstration)")


@pytest.fixture
def referent(nantes, tremplin):
    return factories.MembershipFactory(contract=nantes, partner=tremplin, role=Role.EDITOR).user


def test_members_download_the_cahier_as_pdf_and_xlsx(client, nantes, tremplin, referent):
    client.force_login(referent)
    pdf = client.get(reverse("www:cahier", args=[nantes.slug, tremplin.slug, "pdf"]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert "attachment;" in pdf["Content-Disposition"]
    xlsx = client.get(reverse("www:cahier", args=[nantes.slug, tremplin.slug, "xlsx"]))
    workbook = load_workbook(io.BytesIO(xlsx.content))
    values = [c.value for row in workbook.worksheets[0].iter_rows() for c in row]
    assert any(isinstance(v, str) and "Animer deux forums emploi" in v for v in values)
    compilation = client.get(reverse("www:compilation", args=[nantes.slug, "pdf"]))
    assert compilation.content.startswith(b"%PDF")
    assert client.get(f"/contrats/{nantes.slug}/cahiers.docx").status_code == 404


def test_the_public_cannot_download_full_cahiers(client, nantes, tremplin):
    url = reverse("www:cahier", args=[nantes.slug, tremplin.slug, "pdf"])
    assert client.get(url).status_code == 302  # connexion demandée
    outsider = factories.UserFactory()
    client.force_login(outsider)
    assert client.get(url).status_code == 403


def test_template_then_upload_round_trip_through_the_pages(client, nantes, tremplin, referent):
    client.force_login(referent)
    template = client.get(reverse("www:cahier_template", args=[nantes.slug, tremplin.slug]))
    assert template.status_code == 200
    before = list(Commitment.objects.filter(partner=tremplin).values_list("pk", "version"))
    upload_url = reverse("www:cahier_upload", args=[nantes.slug, tremplin.slug])
    response = client.post(upload_url, {"fichier": SimpleUploadedFile("modele.xlsx", template.content)})
    assert response.status_code == 200
    assert "Import réussi" in response.content.decode()
    assert list(Commitment.objects.filter(partner=tremplin).values_list("pk", "version")) == before


def test_a_file_that_is_not_xlsx_is_refused_with_a_message(client, nantes, tremplin, referent):
    client.force_login(referent)
    upload_url = reverse("www:cahier_upload", args=[nantes.slug, tremplin.slug])
    response = client.post(
        upload_url, {"fichier": SimpleUploadedFile("engagements.xlsx", b"nom;titre\nA;B\n")}
    )
    assert response.status_code == 422
    assert "Rien n'a été enregistré" in response.content.decode()


def test_another_partner_cannot_use_the_template_or_upload(client, nantes, tremplin):
    other = factories.PartnerFactory()
    factories.SignatoryFactory(contract=nantes, partner=other)
    intruder = factories.MembershipFactory(contract=nantes, partner=other, role=Role.EDITOR).user
    client.force_login(intruder)
    assert client.get(reverse("www:cahier_template", args=[nantes.slug, tremplin.slug])).status_code == 403
    response = client.post(
        reverse("www:cahier_upload", args=[nantes.slug, tremplin.slug]),
        {"fichier": SimpleUploadedFile("x.xlsx", b"PK")},
    )
    assert response.status_code == 403
