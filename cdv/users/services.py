"""Invitations : un pilote invite une personne dans un contrat, avec un rôle."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from cdv.core.links import absolute_url

from .enums import ROLES_WITH_PARTNER, ROLES_WITH_QPV, Role
from .models import ApiToken, CrossContractReader, Invitation, Membership, User
from .roles import forget_memberships

if TYPE_CHECKING:
    from django.http import HttpRequest

    from cdv.contracts.models import Contract
    from cdv.partners.models import Partner
    from cdv.territories.models import Territory


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def invite(
    *,
    inviter: User,
    contract: Contract,
    email: str,
    role: str,
    partner: Partner | None = None,
    qpv: Territory | None = None,
    request: HttpRequest | None = None,
) -> tuple[Invitation, str]:
    """Crée l'invitation et envoie le courriel ; renvoie l'invitation et le lien envoyé.

    Le lien pointe vers le site de la requête quand il y en a une, sinon vers ``SITE_URL``.
    """
    from cdv.commitments.abilities import partner_takes_part
    from cdv.contracts.abilities import contract_abilities

    if not contract_abilities(inviter, contract)["invite"]:
        raise PermissionDenied("Seul un pilote du contrat invite des personnes.")
    email = User.objects.normalize_email(email).strip().lower()
    errors = {}
    if role not in Role.values:
        errors["role"] = "Rôle inconnu."
    if role in ROLES_WITH_PARTNER and partner is None:
        errors["partner"] = "Ce rôle s'exerce au nom d'un partenaire : choisissez-le."
    if role == Role.PREFECT_DELEGATE and partner is None:
        errors["partner"] = "Le délégué du préfet agit au nom de l'État : choisissez le partenaire de l'État."
    if role not in ROLES_WITH_PARTNER | {Role.PREFECT_DELEGATE} and partner is not None:
        errors["partner"] = "Ce rôle ne s'exerce pas au nom d'un partenaire : laissez le champ vide."
    elif partner is not None and not partner_takes_part(contract, partner):
        errors["partner"] = _outside_message(partner, contract)
    elif partner is not None:
        errors.update(_grants_partner_errors(role, partner))
    errors.update(_qpv_errors(contract, role, qpv))
    if Membership.objects.filter(
        user__email=email, contract=contract, role=role, partner=partner, qpv=qpv
    ).exists():
        errors["email"] = "Cette personne a déjà ce rôle dans le contrat."
    if errors:
        raise ValidationError(errors)
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        email=email,
        contract=contract,
        partner=partner,
        role=role,
        qpv=qpv,
        token_hash=hash_token(token),
        invited_by=inviter if getattr(inviter, "pk", None) else None,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    link = absolute_url(reverse("www:invitation", args=[token]), request)
    context = {
        "invitation": invitation,
        "link": link,
        "inviter": inviter,
        "days": settings.INVITATION_VALID_DAYS,
    }
    send_mail(
        subject=f"Invitation : {contract.title}",
        message=render_to_string("accounts/invitation_email.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[email],
    )
    return invitation, link


def _grants_partner_errors(role: str, partner: Partner) -> dict[str, str]:
    """Rôles de l'appel à projets : le partenaire doit être de la bonne sorte."""
    from cdv.partners.enums import PartnerKind

    if role == Role.APPLICANT and partner.kind != PartnerKind.ASSOCIATION:
        return {"partner": "Un référent d'appel à projets agit au nom d'une association : choisissez-la."}
    if role == Role.INSTRUCTOR and partner.kind in (PartnerKind.ASSOCIATION, PartnerKind.CITIZEN_COUNCIL):
        return {"partner": "Un instructeur agit au nom d'un financeur (État, collectivité, CAF…)."}
    if role == Role.PREFECT_DELEGATE and partner.kind != PartnerKind.STATE:
        return {"partner": "Le délégué du préfet agit au nom de l'État : choisissez le partenaire de l'État."}
    return {}


def _qpv_errors(contract: Contract, role: str, qpv: Territory | None) -> dict[str, str]:
    """Correspondant de quartier et délégué du préfet : un quartier prioritaire du contrat."""
    if role in ROLES_WITH_QPV and qpv is None:
        return {"qpv": "Ce rôle s'exerce pour un quartier : choisissez-le."}
    if role not in ROLES_WITH_QPV and qpv is not None:
        return {
            "qpv": "Seuls le correspondant de quartier et le délégué du préfet s'exercent pour un quartier."
        }
    if qpv is not None and not contract.qpvs.filter(pk=qpv.pk).exists():
        return {"qpv": f"« {qpv.name} » n'est pas un quartier prioritaire de ce contrat."}
    return {}


def _outside_message(partner: Partner, contract: Contract) -> str:
    return (
        f"« {partner.name} » ne prend pas part au contrat « {contract.title} » : un pilote doit d'abord "
        "l'ajouter au contrat (« Ajouter un partenaire au contrat », page des invitations)."
    )


def find_invitation(token: str) -> Invitation | None:
    return (
        Invitation.objects.select_related("contract", "partner")
        .filter(token_hash=hash_token(token or ""))
        .first()
    )


@transaction.atomic
def accept_invitation(
    *,
    invitation: Invitation,
    password: str = "",
    first_name: str = "",
    last_name: str = "",
    user: User | None = None,
) -> User:
    """Crée le compte (ou rattache le compte existant) et donne le rôle ; le lien ne sert qu'une fois."""
    from cdv.commitments.abilities import partner_takes_part

    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_usable:
        raise ValidationError("Cette invitation n'est plus valable (déjà utilisée, expirée ou révoquée).")
    # Une invitation envoyée avant que le partenaire ne soit exigé dans le contrat ne l'y fait pas entrer.
    if invitation.partner_id and not partner_takes_part(invitation.contract, invitation.partner):
        raise ValidationError(_outside_message(invitation.partner, invitation.contract))
    if invitation.qpv_id and not invitation.contract.qpvs.filter(pk=invitation.qpv_id).exists():
        raise ValidationError(
            "Ce quartier ne relève plus du contrat : demandez une nouvelle invitation au pilote."
        )
    existing = User.objects.filter(email=invitation.email).first()
    if existing is not None:
        if user is None or user.pk != existing.pk:
            raise ValidationError(
                "Un compte existe déjà pour cette adresse : connectez-vous, puis rouvrez le lien."
            )
        account = existing
    else:
        account = User.objects.create_user(
            email=invitation.email, password=password, first_name=first_name, last_name=last_name
        )
    Membership.objects.get_or_create(
        user=account,
        contract=invitation.contract,
        role=invitation.role,
        partner=invitation.partner,
        qpv=invitation.qpv,
    )
    forget_memberships(account)
    forget_memberships(user)  # la personne connectée (un autre objet pour le même compte)
    if invitation.role == Role.PILOT and not account.is_staff:
        # Le back-office, limité aux contrats qu'il pilote (cdv/core/adminscope.py), jamais plus.
        account.is_staff = True
        account.save(update_fields=["is_staff"])
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = account
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return account


def create_api_token(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Crée un jeton ; sa valeur n'est donnée qu'une fois, seule l'empreinte est conservée."""

    if not name.strip():
        raise ValidationError({"name": "Donnez un nom au jeton (ex. : « import nocturne »)."})
    key = "cdv_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name.strip()[:100], key_hash=hash_token(key), prefix=key[:8]
    )
    return token, key


API_TOKEN_USE_PRECISION = timedelta(minutes=1)


def user_for_api_key(key: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(key or ""), revoked=False, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    # « Dernière utilisation » à la minute près : un script qui enchaîne les lectures n'écrit pas en
    # base à chaque appel (sous SQLite, chaque écriture prend le verrou de toute la base).
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= API_TOKEN_USE_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


# --- Lecture inter-contrats (vue de l'État) ---------------------------------------------------


def _signing_partner(partner_text: str):
    """Le partenaire signataire d'au moins un contrat désigné par son nom, son sigle ou son SIREN."""
    from cdv.contracts.enums import SignatoryKind
    from cdv.contracts.models import Signatory
    from cdv.partners.models import Partner

    text = (partner_text or "").strip()
    if not text:
        raise ValidationError({"partner": "Indiquez le partenaire signataire (nom, sigle ou SIREN)."})
    signing = Partner.objects.filter(
        pk__in=Signatory.objects.filter(kind=SignatoryKind.SIGNATORY).values("partner_id")
    )
    exact = list(signing.filter(name__iexact=text)[:2])
    found = exact if len(exact) == 1 else list(signing.search(text).order_by("name")[:11])
    if not found:
        raise ValidationError(
            {"partner": f"Aucun partenaire signataire d'un contrat ne répond à « {text} »."}
        )
    if len(found) > 1:
        names = ", ".join(p.name for p in found[:10]) + ("…" if len(found) > 10 else "")
        raise ValidationError(
            {"partner": f"Plusieurs partenaires signataires répondent à « {text} » : {names}. Précisez."}
        )
    return found[0]


@transaction.atomic
def grant_cross_contract_reading(*, operator: User, email: str, partner_text: str) -> CrossContractReader:
    """Accorde à la personne de ``email`` la lecture inter-contrats au nom d'un partenaire signataire :
    le tableau de tous les contrats qu'il a signés. L'opérateur de l'instance seul."""
    from cdv.contracts.abilities import state_view_abilities

    if not state_view_abilities(operator)["grant"]:
        raise PermissionDenied("Seul un opérateur de l'instance accorde la lecture inter-contrats.")
    errors = {}
    address = (email or "").strip().lower()
    user = User.objects.filter(email=address, is_active=True, anonymized_at__isnull=True).first()
    if user is None:
        errors["email"] = (
            f"Aucun compte actif pour « {address} » : la personne doit d'abord avoir un compte "
            "(invitation dans un contrat, ou connexion ProConnect)."
            if address
            else "Indiquez l'adresse électronique de la personne."
        )
    try:
        partner = _signing_partner(partner_text)
    except ValidationError as error:
        errors.update(error.message_dict)
        partner = None
    if errors:
        raise ValidationError(errors)
    grant, created = CrossContractReader.objects.get_or_create(
        user=user, partner=partner, defaults={"granted_by": operator}
    )
    if not created:
        raise ValidationError(
            {"email": f"{user.email} a déjà la lecture inter-contrats pour « {partner.name} »."}
        )
    forget_memberships(user)
    return grant


@transaction.atomic
def revoke_cross_contract_reading(*, operator: User, grant_id: int) -> None:
    """Retire une lecture inter-contrats (l'opérateur de l'instance seul)."""
    from cdv.contracts.abilities import state_view_abilities

    if not state_view_abilities(operator)["grant"]:
        raise PermissionDenied("Seul un opérateur de l'instance retire la lecture inter-contrats.")
    grant = CrossContractReader.objects.filter(pk=grant_id).select_related("user").first()
    if grant is None:
        raise ValidationError("Cette lecture inter-contrats n'existe plus.")
    grant.delete()
    forget_memberships(grant.user)
