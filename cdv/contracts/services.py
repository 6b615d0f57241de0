"""Écritures qui touchent plusieurs modèles autour d'un contrat."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.text import slugify

from cdv.users.enums import Role
from cdv.users.models import Membership, User

from .enums import SignatoryKind
from .models import Contract, Signatory


def default_contract(queryset=None):
    """Le contrat présenté par défaut : DEFAULT_CONTRACT_SLUG, sinon le plus récent."""
    queryset = queryset if queryset is not None else Contract.objects.all()
    return queryset.filter(slug=settings.DEFAULT_CONTRACT_SLUG).first() or queryset.first()


@transaction.atomic
def ensure_pilot_account(*, email: str, password: str, contract_slug: str | None = None):
    """Crée (une seule fois) un pilote du contrat, avec accès au back-office limité à ses contrats.

    Renvoie ``(user, created, demoted)`` ; un compte existant garde son mot de passe. Le pilote n'est
    jamais opérateur de l'instance (superutilisateur, voir docs/decisions/0006) : un compte pilote
    fait superutilisateur par une version précédente de cette commande est ramené à son rôle
    (``demoted``). Un opérateur se crée à part (``manage.py createsuperuser``).
    """
    contract = Contract.objects.filter(slug=contract_slug).first() if contract_slug else default_contract()
    if contract is None:
        raise ValueError("Aucun contrat : lancez d'abord `python manage.py load_reference_data`.")
    email = User.objects.normalize_email(email).lower()
    user = User.objects.filter(email=email).first()
    created, demoted = user is None, False
    if created:
        user = User.objects.create_user(email=email, password=password, is_staff=True, first_name="Pilote")
    elif user.is_superuser or not user.is_staff:
        demoted = user.is_superuser
        user.is_superuser, user.is_staff = False, True
        user.save(update_fields=["is_superuser", "is_staff"])
    Membership.objects.get_or_create(user=user, contract=contract, role=Role.PILOT, partner=None)
    return user, created, demoted


@transaction.atomic
def add_partner_to_contract(*, user, contract, partner, kind: str = SignatoryKind.PARTICIPANT):
    """Fait prendre part un partenaire de l'instance au contrat (acte explicite d'un pilote) : il
    devient participant (ou signataire) et apparaît comme tel sur la page publique du contrat ; on
    peut ensuite inviter des personnes en son nom."""
    from cdv.commitments.abilities import is_pilot

    if not is_pilot(user, contract):
        raise PermissionDenied("Seul un pilote du contrat y ajoute un partenaire.")
    if kind not in SignatoryKind.values:
        raise ValidationError({"kind": "Place dans le contrat inconnue."})
    if Signatory.objects.filter(contract=contract, partner=partner).exists():
        raise ValidationError(
            {"partner": f"« {partner.name} » est déjà signataire ou participant de ce contrat."}
        )
    order = (Signatory.objects.filter(contract=contract).aggregate(m=Max("order"))["m"] or 0) + 1
    signatory = Signatory(contract=contract, partner=partner, kind=kind, order=order)
    signatory.full_clean()
    signatory.save()
    return signatory


@transaction.atomic
def create_partner_in_contract(
    *, user, contract, name: str, kind: str, siret: str = "", place: str = SignatoryKind.PARTICIPANT
):
    """Crée une organisation qui n'existe pas encore dans l'instance et l'ajoute au contrat."""
    from cdv.commitments.abilities import is_pilot
    from cdv.partners.models import Partner

    if not is_pilot(user, contract):
        raise PermissionDenied("Seul un pilote du contrat y ajoute un partenaire.")
    name = " ".join((name or "").split())
    existing = Partner.objects.filter(name__iexact=name).first()
    if existing is not None:
        raise ValidationError(
            {"name": f"« {existing.name} » existe déjà dans la plateforme : cherchez-le et ajoutez-le."}
        )
    base = slugify(name)[:70] or "partenaire"
    slug, n = base, 1
    while Partner.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    siret = "".join((siret or "").split())
    partner = Partner(name=name, slug=slug, kind=kind, siret=siret, siren=siret[:9])
    partner.full_clean()
    partner.save()
    add_partner_to_contract(user=user, contract=contract, partner=partner, kind=place)
    return partner
