"""Écritures qui touchent plusieurs modèles autour d'un contrat."""

from django.conf import settings
from django.db import transaction

from cdv.users.enums import Role
from cdv.users.models import Membership, User

from .models import Contract


def default_contract(queryset=None):
    """Le contrat présenté par défaut : DEFAULT_CONTRACT_SLUG, sinon le plus récent."""
    queryset = queryset if queryset is not None else Contract.objects.all()
    return queryset.filter(slug=settings.DEFAULT_CONTRACT_SLUG).first() or queryset.first()


@transaction.atomic
def ensure_pilot_account(*, email: str, password: str, contract_slug: str | None = None):
    """Crée (une seule fois) un pilote du contrat avec accès au back-office.

    Renvoie ``(user, created)`` ; un compte existant garde son mot de passe.
    """
    contract = Contract.objects.filter(slug=contract_slug).first() if contract_slug else default_contract()
    if contract is None:
        raise ValueError("Aucun contrat : lancez d'abord `python manage.py load_reference_data`.")
    email = User.objects.normalize_email(email).lower()
    user = User.objects.filter(email=email).first()
    created = user is None
    if created:
        user = User.objects.create_user(
            email=email, password=password, is_staff=True, is_superuser=True, first_name="Pilote"
        )
    Membership.objects.get_or_create(user=user, contract=contract, role=Role.PILOT, partner=None)
    return user, created
