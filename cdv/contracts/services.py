"""Écritures qui touchent plusieurs modèles autour d'un contrat."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.text import slugify

from cdv.core.slugs import unique_slug
from cdv.users.enums import Role
from cdv.users.models import Membership, User
from cdv.users.roles import forget_memberships

from .abilities import contract_abilities
from .enums import SignatoryKind
from .models import Contract, Signatory

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest

    from cdv.partners.models import Partner
    from cdv.territories.models import Territory


def default_contract(queryset: QuerySet[Contract] | None = None) -> Contract | None:
    """Le contrat présenté par défaut : DEFAULT_CONTRACT_SLUG, sinon le plus récent."""
    queryset = queryset if queryset is not None else Contract.objects.all()
    return queryset.filter(slug=settings.DEFAULT_CONTRACT_SLUG).first() or queryset.first()


@transaction.atomic
def ensure_pilot_account(
    *, email: str, password: str, contract_slug: str | None = None
) -> tuple[User, bool, bool]:
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
    forget_memberships(user)
    return user, created, demoted


@transaction.atomic
def add_partner_to_contract(
    *, user: User, contract: Contract, partner: Partner, kind: str = SignatoryKind.PARTICIPANT
) -> Signatory:
    """Fait prendre part un partenaire de l'instance au contrat (acte explicite d'un pilote) : il
    devient participant (ou signataire) et apparaît comme tel sur la page publique du contrat ; on
    peut ensuite inviter des personnes en son nom."""
    if not contract_abilities(user, contract)["invite"]:
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
    *,
    user: User,
    contract: Contract,
    name: str,
    kind: str,
    siret: str = "",
    place: str = SignatoryKind.PARTICIPANT,
) -> Partner:
    """Crée une organisation qui n'existe pas encore dans l'instance et l'ajoute au contrat."""
    from cdv.partners.models import Partner

    if not contract_abilities(user, contract)["invite"]:
        raise PermissionDenied("Seul un pilote du contrat y ajoute un partenaire.")
    name = " ".join((name or "").split())
    existing = Partner.objects.filter(name__iexact=name).first()
    if existing is not None:
        raise ValidationError(
            {"name": f"« {existing.name} » existe déjà dans la plateforme : cherchez-le et ajoutez-le."}
        )
    slug = unique_slug(Partner.objects.all(), name, fallback="partenaire")
    siret = "".join((siret or "").split())
    partner = Partner(name=name, slug=slug, kind=kind, siret=siret, siren=siret[:9])
    partner.full_clean()
    partner.save()
    add_partner_to_contract(user=user, contract=contract, partner=partner, kind=place)
    return partner


def existing_partner(
    *, name: str, kind: str, candidates: Iterable[str] = (), siren: str = ""
) -> Partner | None:
    """Le partenaire de l'instance qui porte ce nom, l'une des variantes ``candidates`` ou ce SIREN."""
    from cdv.partners.models import Partner

    if siren:
        found = Partner.objects.filter(siren=siren, kind=kind).first()
        if found is not None:
            return found
    for candidate in (name, *candidates):
        found = Partner.objects.filter(name__iexact=candidate).first()
        if found is not None:
            return found
    return None


def _partner(*, name: str, kind: str, candidates: Iterable[str] = (), siren: str = "") -> Partner:
    """Le partenaire de l'instance qui porte ce nom (ou l'une des variantes ``candidates``, ou ce
    SIREN), sinon un nouveau : l'État ou la CAF d'un département prennent part à plusieurs contrats."""
    from cdv.partners.models import Partner

    found = existing_partner(name=name, kind=kind, candidates=candidates, siren=siren)
    if found is not None:
        return found
    slug = unique_slug(Partner.objects.all(), name, fallback="partenaire")
    partner = Partner(name=name, slug=slug, kind=kind, siren=siren)
    partner.full_clean()
    partner.save()
    return partner


def usual_signatory_partners(
    *, kinds: Iterable[str], epci_row: dict | None, communes: dict[str, str]
) -> list[tuple[str, str, list[str], str]]:
    """Les partenaires (nom, type, variantes de nom, SIREN) des signataires habituels choisis.

    ``epci_row`` est la ligne de l'EPCI dans le référentiel national (département, région) ;
    ``communes`` donne le nom des communes qui ont un QPV, par code INSEE. Ce que le référentiel ne
    dit pas (le département d'un territoire hors EPCI) est refusé avec un message clair.
    """
    from cdv.core.french import de
    from cdv.partners.enums import PartnerKind

    from .enums import UsualSignatory

    row = epci_row or {}
    de_dep, region = row.get("de_dep", ""), row.get("nom_region", "")
    bare_dep = de_dep.removeprefix("de la ").removeprefix("de l'").removeprefix("du ").removeprefix("des ")
    bare_dep = bare_dep.removeprefix("de ").removeprefix("d'")
    wanted, missing = [], []
    for kind in kinds:
        if kind == UsualSignatory.PREFECTURE:
            if de_dep:
                wanted.append(
                    (f"État — Préfecture {de_dep}", PartnerKind.STATE, [f"Préfecture {de_dep}"], "")
                )
            else:
                missing.append(UsualSignatory(kind).label)
        elif kind == UsualSignatory.EPCI:
            if row:
                wanted.append((row["nom"], PartnerKind.EPCI, [], row["siren_epci"]))
            else:
                missing.append(UsualSignatory(kind).label)
        elif kind == UsualSignatory.COMMUNES:
            for name in communes.values():
                wanted.append((f"Ville {de(name)}", PartnerKind.COMMUNE, [], ""))
        elif kind == UsualSignatory.DEPARTMENT:
            if de_dep:
                wanted.append(
                    (f"Département {de_dep}", PartnerKind.DEPARTMENT, [f"Département de {bare_dep}"], "")
                )
            else:
                missing.append(UsualSignatory(kind).label)
        elif kind == UsualSignatory.REGION:
            if region:
                wanted.append((f"Région {region}", PartnerKind.REGION, [], ""))
            else:
                missing.append(UsualSignatory(kind).label)
        elif kind == UsualSignatory.CAF:
            if de_dep:
                name = f"Caisse d'allocations familiales {de_dep}"
                wanted.append((name, PartnerKind.CAF, [f"Caisse d'allocations familiales de {bare_dep}"], ""))
            else:
                missing.append(UsualSignatory(kind).label)
        elif kind == UsualSignatory.FRANCE_TRAVAIL:
            wanted.append(("France Travail", PartnerKind.OPERATOR, [], ""))
        else:
            raise ValidationError({"signatory_kinds": f"Signataire habituel inconnu : « {kind} »."})
    if missing:
        raise ValidationError(
            {
                "signatory_kinds": "Le référentiel ne donne pas le département ou l'EPCI de ce territoire ; "
                "saisissez ces signataires par leur nom : " + ", ".join(missing) + "."
            }
        )
    return wanted


def contract_territory(
    *, epci_code: str = "", commune_codes: Iterable[str] = ()
) -> tuple[Territory, dict, list[Territory], dict[str, str]]:
    """L'EPCI porteur, sa ligne du référentiel national, les QPV 2024 et leurs communes (code → nom)
    d'un contrat à créer, à partir du SIREN de l'EPCI ou des codes INSEE de communes."""
    from cdv.territories.enums import TerritoryKind
    from cdv.territories.loaders import epci_codes_by_commune, national_epcis
    from cdv.territories.models import Territory

    epcis = national_epcis()
    epci_code = (epci_code or "").strip()
    commune_codes = [c.strip().upper() for c in commune_codes if c.strip()]
    if bool(epci_code) == bool(commune_codes):
        raise ValidationError({"epci_code": "Choisissez un EPCI, ou bien des communes par leur code INSEE."})
    if commune_codes:
        by_commune = epci_codes_by_commune(list(epcis.values()))
        unknown = [c for c in commune_codes if c not in by_commune]
        owners = {e for c in commune_codes for e in by_commune.get(c, ())}
        if unknown:
            raise ValidationError(
                {
                    "commune_codes": "Ces codes INSEE ne sont membres d'aucun EPCI du référentiel : "
                    + ", ".join(unknown)
                }
            )
        if len(owners) > 1:
            raise ValidationError(
                {
                    "commune_codes": "Ces communes relèvent de plusieurs EPCI ; "
                    "un contrat a un seul EPCI porteur."
                }
            )
        epci_code = owners.pop()
        wanted = set(commune_codes)
    row = epcis.get(epci_code)
    epci = Territory.objects.filter(kind=TerritoryKind.EPCI, code=epci_code).first()
    if row is None or epci is None:
        raise ValidationError(
            {
                "epci_code": f"Aucun EPCI de SIREN « {epci_code} » dans le référentiel national "
                "(chargez-le : load_reference_data)."
            }
        )
    qpvs = list(Territory.objects.qpvs().in_epci(epci_code).defer("geometry").order_by("code"))
    if commune_codes:
        qpvs = [q for q in qpvs if wanted & set(q.commune_codes)]
    names = dict(zip(row["insee_com"].split(";"), row["lib_com"].split(";"), strict=True))
    communes = {}
    for qpv in qpvs:
        for code in qpv.commune_codes:
            if code in names:
                communes.setdefault(code, names[code])
    return epci, row, qpvs, dict(sorted(communes.items()))


def _copy_plan(source: Contract, contract: Contract) -> None:
    """Copie enjeux, objectifs et actions d'un contrat, sans quartiers, partenaires ni engagements."""
    from cdv.plan.models import Action, Enjeu, Objective

    for enjeu in Enjeu.objects.filter(contract=source).prefetch_related("objectives__actions"):
        new_enjeu = Enjeu.objects.create(
            contract=contract,
            number=enjeu.number,
            title=enjeu.title,
            slug=enjeu.slug,
            summary_plain=enjeu.summary_plain,
            description=enjeu.description,
        )
        for objective in enjeu.objectives.all():
            new_objective = Objective.objects.create(
                enjeu=new_enjeu,
                number=objective.number,
                title=objective.title,
                description=objective.description,
            )
            for action in objective.actions.all():
                Action.objects.create(
                    objective=new_objective,
                    code=action.code,
                    title=action.title,
                    summary_plain=action.summary_plain,
                    description=action.description,
                    scope=action.scope,
                )


@transaction.atomic
def create_contract(
    *,
    operator: User,
    title: str,
    start_year: int,
    end_year: int,
    pilot_email: str,
    epci_code: str = "",
    commune_codes: Iterable[str] = (),
    signatory_kinds: Iterable[str] = (),
    other_signatories: Iterable[tuple[str, str]] = (),
    plan_start: str = "empty",
    copy_from: Contract | None = None,
    request: HttpRequest | None = None,
) -> tuple[Contract, str]:
    """Crée un contrat de ville à partir du référentiel national (acte d'un opérateur de l'instance).

    Les QPV 2024 de l'EPCI (ou des communes choisies) sont rattachés ; les signataires habituels
    choisis sont créés ou repris parmi les partenaires de l'instance, ainsi que ``other_signatories``
    (couples nom, type de partenaire) ; le plan part vide, des quatre priorités nationales ou de la
    structure de ``copy_from`` ; le premier pilote reçoit son invitation par courriel (il sera
    ``is_staff``, jamais superutilisateur). Renvoie ``(contract, invitation_link)``.
    """
    from cdv.partners.enums import PartnerKind
    from cdv.plan.models import Enjeu
    from cdv.users.abilities import account_abilities
    from cdv.users.services import invite

    from . import nantes
    from .enums import PlanStart

    if not account_abilities(operator)["create_contract"]:
        raise PermissionDenied("Seul un opérateur de l'instance crée un contrat.")
    errors = {}
    title = " ".join((title or "").split())
    if not title:
        errors["title"] = "Donnez un intitulé au contrat."
    if plan_start not in PlanStart.values:
        errors["plan_start"] = "Choisissez comment commence le plan."
    elif plan_start == PlanStart.COPY and copy_from is None:
        errors["copy_from"] = "Choisissez le contrat dont copier la structure."
    if not (pilot_email or "").strip():
        errors["pilot_email"] = "Donnez l'adresse du premier pilote."
    others = []
    for name, kind in other_signatories:
        name = " ".join((name or "").split())
        if name and kind not in PartnerKind.values:
            errors["other_signatories"] = f"Type de partenaire inconnu pour « {name} »."
        elif name:
            others.append((name, kind, [], ""))
    if errors:
        raise ValidationError(errors)
    epci, row, qpvs, communes = contract_territory(epci_code=epci_code, commune_codes=commune_codes)
    partners = usual_signatory_partners(kinds=signatory_kinds, epci_row=row, communes=communes) + others

    slug = unique_slug(Contract.objects.all(), title, fallback="contrat")
    contract = Contract(
        slug=slug, title=title, epci=epci, reference_territory=epci, start_year=start_year, end_year=end_year
    )
    contract.full_clean()
    contract.save()
    contract.qpvs.set(qpvs)

    seen = set()
    for order, (name, kind, candidates, siren) in enumerate(partners, start=1):
        partner = _partner(name=name, kind=kind, candidates=candidates, siren=siren)
        if partner.pk in seen:
            continue
        seen.add(partner.pk)
        Signatory.objects.create(
            contract=contract, partner=partner, kind=SignatoryKind.SIGNATORY, order=order
        )

    if plan_start == PlanStart.NATIONAL:
        for number, enjeu_title, summary in nantes.ENJEUX:
            Enjeu.objects.create(
                contract=contract,
                number=number,
                title=enjeu_title,
                slug=slugify(enjeu_title)[:80],
                summary_plain=summary,
            )
    elif plan_start == PlanStart.COPY:
        _copy_plan(copy_from, contract)

    _, link = invite(inviter=operator, contract=contract, email=pilot_email, role=Role.PILOT, request=request)
    return contract, link
