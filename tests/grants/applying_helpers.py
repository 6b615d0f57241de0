"""Un dossier complet, prêt au dépôt, et son référent (tests du côté association)."""

import datetime
from decimal import Decimal

from django.utils import timezone

from cdv.grants.enums import Account, DocumentKind
from cdv.users.enums import Role
from tests.factories.grants import (
    ApplicationFactory,
    BudgetLineFactory,
    CallDocumentFactory,
    CallFactory,
    CallFunderFactory,
    PartnerDocumentFactory,
)
from tests.factories.partners import PartnerFactory
from tests.factories.plan import EnjeuFactory
from tests.factories.users import MembershipFactory, UserFactory

VALID_SIRET = "73282932000074"


def association(**kwargs):
    values = {
        "siret": VALID_SIRET,
        "rna": "W442000123",
        "address": "1 rue des Lilas",
        "postal_code": "44000",
        "city": "Nantes",
        "legal_representative": "Camille Martin",
    }
    values.update(kwargs)
    return PartnerFactory(**values)


def referent_of(partner, contract, **kwargs):
    user = UserFactory(**kwargs)
    MembershipFactory(user=user, contract=contract, role=Role.APPLICANT, partner=partner)
    return user


def complete_application(call=None, partner=None, **kwargs):
    """Un brouillon complet et équilibré : 10 000 € de charges = 4 000 € de produits propres +
    2 × 3 000 € demandés aux financeurs de l'appel ; statuts joints."""
    call = call or CallFactory()
    partner = partner or association()
    funders = list(call.funders.all()) or [CallFunderFactory(call=call), CallFunderFactory(call=call)]
    if not call.required_documents.exists():
        CallDocumentFactory(call=call, kind=DocumentKind.STATUTES)
    values = {
        "objectives": "Rompre l'isolement.",
        "public": "Habitants du quartier",
        "places": "Maison de quartier",
        "evaluation_indicators": "Nombre de participants",
        "start_date": timezone.localdate() + datetime.timedelta(days=60),
        "end_date": timezone.localdate() + datetime.timedelta(days=300),
        "enjeu": EnjeuFactory(contract=call.contract),
    }
    values.update(kwargs)
    application = ApplicationFactory(call=call, partner=partner, **values)
    BudgetLineFactory(application=application, account=Account.A64, amount=Decimal("10000"))
    BudgetLineFactory(
        application=application, account=Account.A70, label="Participations", amount=Decimal("4000")
    )
    for funder in funders:
        application.funder_lines.create(funder=funder, requested_amount=Decimal("3000"))
    application.documents.add(PartnerDocumentFactory(partner=partner))
    return application
