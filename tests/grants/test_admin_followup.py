"""Après le vote, le back-office consulte : actes, versements et comptes-rendus ne s'écrivent que
sur la plateforme (qui vérifie droits, montants et historique)."""

import re

import pytest
from django.urls import reverse

from tests import factories
from tests.factories.base import new_qpv_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["grantact", "payment", "finalreport", "reportreview", "reportblocklift"])
def test_the_operator_reads_but_cannot_add_or_change(client, admin_user, model):
    act = factories.GrantActFactory(signed=True)
    factories.PaymentFactory(line=act.line)
    factories.ReportReviewFactory(
        report=factories.FinalReportFactory(application=act.line.application, submitted=True)
    )
    factories.ReportBlockLiftFactory(call=act.line.application.call)
    client.force_login(admin_user)
    assert client.get(reverse(f"admin:grants_{model}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:grants_{model}_add")).status_code == 403


def test_a_quartier_opinion_in_the_back_office_is_on_one_of_the_applications_qpvs(client, admin_user):
    """Le back-office n'enregistre pas l'avis sur un quartier étranger au dossier (le champ cherche
    parmi tous les territoires) ; sur un quartier du dossier, si."""
    application = factories.ApplicationFactory(submitted=True)
    (own,) = application.qpvs.all()
    elsewhere = new_qpv_of(application.call.contract)
    client.force_login(admin_user)
    add = reverse("admin:grants_quartieropinion_add")
    data = {"application": application.pk, "kind": "CORRESPONDANT", "opinion": "FAVORABLE", "version": 1}
    data["author"] = admin_user.pk
    response = client.post(add, {**data, "qpv": elsewhere.pk})
    assert response.status_code == 200
    assert "Ce quartier n&#x27;est pas l&#x27;un des quartiers du dossier." in response.content.decode()
    assert not application.quartier_opinions.exists()
    response = client.post(add, {**data, "qpv": own.pk})
    assert response.status_code == 302, re.findall(r"errorlist[^>]*>(.*?)</ul>", response.content.decode())
    assert application.quartier_opinions.get().qpv == own


def test_a_whole_territory_project_takes_an_opinion_on_any_qpv_in_the_back_office_too(client, admin_user):
    """Un projet de tout le territoire concerne chaque quartier (la règle de la page de l'avis) : le
    back-office enregistre son avis sur un quartier du contrat."""
    application = factories.ApplicationFactory(submitted=True, whole_territory=True)
    qpv = new_qpv_of(application.call.contract)
    client.force_login(admin_user)
    data = {"application": application.pk, "kind": "CORRESPONDANT", "opinion": "FAVORABLE", "version": 1}
    response = client.post(
        reverse("admin:grants_quartieropinion_add"), {**data, "qpv": qpv.pk, "author": admin_user.pk}
    )
    assert response.status_code == 302, re.findall(r"errorlist[^>]*>(.*?)</ul>", response.content.decode())
    assert application.quartier_opinions.get().qpv == qpv
