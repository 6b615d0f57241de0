"""Après le vote, le back-office consulte : actes, versements et comptes-rendus ne s'écrivent que
sur la plateforme (qui vérifie droits, montants et historique)."""

import pytest
from django.urls import reverse

from tests import factories

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
