"""L'appel à projets monté par le pilote : création, réglages, financeurs et enveloppes, pièces
demandées, grille de notation, publication, archivage, copie de l'appel de l'année précédente.

Chaque fonction revérifie les droits (``call_abilities``), valide tout avant d'écrire (un refus ne
change rien) et ne croit aucun identifiant : enjeux, objectifs, quartiers et financeurs doivent
relever du contrat de l'appel.
"""

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from cdv.contracts.models import Contract
from cdv.core.validators import validate_siret
from cdv.partners.models import Partner
from cdv.plan.models import Enjeu, Objective
from cdv.users.models import User

from ..abilities import call_abilities, contract_call_abilities
from ..enums import CallStatus, DocumentKind, FunderKind
from ..errors import ConflictError, GrantsError, check_version
from ..models import Call, CallDocument, CallFunder, FunderLine, Score, ScoringCriterion
from ..selectors_calls import date_errors, publication_gaps

# Ce que le pilote règle sur l'appel (hors relations).
TEXT_FIELDS = ["title", "summary", "info_meetings", "contacts"]
DATE_FIELDS = [
    "publication_date",
    "filing_opens",
    "filing_closes",
    "instruction_ends",
    "committee_date",
    "notification_date",
    "reporting_date",
]
RULE_FIELDS = [
    "allow_whole_territory",
    "min_qpv_share",
    "min_amount",
    "max_amount",
    "max_call_share",
    "min_funders",
]
CALL_FIELDS = [*TEXT_FIELDS, *DATE_FIELDS, *RULE_FIELDS]
M2M_FIELDS = ["eligible_enjeux", "eligible_objectives", "eligible_qpvs"]
MAX_ENVELOPE = Decimal("9999999999.99")  # ce que la base garde (12 chiffres dont 2 décimales)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise PermissionDenied(message)


def _ids(items: Iterable[Any] | None) -> set[int] | None:
    if items is None:
        return None
    return {item.pk if isinstance(item, Model) else int(item) for item in items}


def _label(field: str) -> str:
    return str(Call._meta.get_field(field).verbose_name)


def _validate_values(contract: Contract, values: dict[str, Any], errors: dict[str, str]) -> None:
    """Règles sur les valeurs de l'appel (déjà fusionnées avec l'existant)."""
    if not (values.get("title") or "").strip():
        errors["title"] = "Le titre de l'appel est obligatoire."
    for field in ("filing_opens", "filing_closes"):
        if not values.get(field):
            errors[field] = f"La date « {_label(field)} » est obligatoire."
    for field, message in date_errors(values).items():
        errors.setdefault(field, message)
    for field in ("min_qpv_share", "max_call_share"):
        value = values.get(field)
        if value is None:
            errors[field] = f"« {_label(field)} » est obligatoire (un pourcentage de 0 à 100)."
        elif not Decimal("0") <= Decimal(value) <= Decimal("100"):
            errors[field] = f"« {_label(field)} » : un pourcentage entre 0 et 100."
    for field in ("min_amount", "max_amount"):
        value = values.get(field)
        if value is not None and Decimal(value) < 0:
            errors[field] = f"« {_label(field)} » ne peut pas être négatif."
        elif value is not None and Decimal(value) > MAX_ENVELOPE:
            errors[field] = f"« {_label(field)} » : montant trop élevé."
    low, high = values.get("min_amount"), values.get("max_amount")
    if low is not None and high is not None and "min_amount" not in errors and Decimal(low) > Decimal(high):
        errors["max_amount"] = "Le montant maximal doit être au moins égal au montant minimal."
    min_funders = values.get("min_funders")
    if min_funders is None or int(min_funders) < 0 or int(min_funders) > 20:
        errors["min_funders"] = "« nombre minimal de financeurs sollicités » : un nombre entier de 0 à 20."


def _validate_relations(contract: Contract, m2m: dict[str, set[int] | None], errors: dict[str, str]) -> None:
    """Enjeux, objectifs et quartiers éligibles : seulement ceux du contrat (aucun id n'est cru)."""
    allowed = {
        "eligible_enjeux": lambda: set(Enjeu.objects.for_contract(contract).values_list("pk", flat=True)),
        "eligible_objectives": lambda: set(
            Objective.objects.filter(enjeu__contract=contract).values_list("pk", flat=True)
        ),
        "eligible_qpvs": lambda: set(contract.qpvs.values_list("pk", flat=True)),
    }
    names = {
        "eligible_enjeux": "Un enjeu choisi n'appartient pas à ce contrat.",
        "eligible_objectives": "Un objectif choisi n'appartient pas à ce contrat.",
        "eligible_qpvs": "Un quartier choisi n'est pas un quartier prioritaire de ce contrat.",
    }
    for field, ids in m2m.items():
        if ids and not ids <= allowed[field]():
            errors[field] = names[field]
    enjeux, objectives = m2m.get("eligible_enjeux"), m2m.get("eligible_objectives")
    if enjeux and objectives and "eligible_objectives" not in errors:
        outside = Objective.objects.filter(pk__in=objectives).exclude(enjeu_id__in=enjeux)
        if outside.exists():
            errors["eligible_objectives"] = (
                "Un objectif choisi relève d'un enjeu qui n'est pas éligible : cochez aussi son enjeu."
            )


def _year_taken(contract: Contract, year: int, exclude: int | None = None) -> bool:
    return Call.objects.for_contract(contract).filter(year=year).exclude(pk=exclude).exists()


def _check_year(contract: Contract, year: Any, errors: dict[str, str], exclude: int | None = None) -> None:
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        errors["year"] = "L'année des projets doit être une année entre 2000 et 2100."
    elif _year_taken(contract, year, exclude):
        errors["year"] = (
            f"Ce contrat a déjà un appel à projets pour {year} : modifiez-le ou choisissez une autre année."
        )


def _set_m2m(call: Call, m2m: dict[str, set[int] | None]) -> None:
    for field, ids in m2m.items():
        if ids is not None:
            getattr(call, field).set(ids)


@transaction.atomic
def create_call(
    *,
    user: User,
    contract: Contract,
    year: int,
    values: dict[str, Any],
    eligible_enjeux: Iterable[Any] | None = None,
    eligible_objectives: Iterable[Any] | None = None,
    eligible_qpvs: Iterable[Any] | None = None,
) -> Call:
    """Crée l'appel (en préparation) de ``contract`` pour ``year``."""
    _require(
        contract_call_abilities(user, contract)["create"],
        "Seul le pilote du contrat monte un appel à projets.",
    )
    unknown = set(values) - set(CALL_FIELDS)
    if unknown:
        raise ValueError(f"Champs inconnus : {sorted(unknown)}")
    defaults = {f: Call._meta.get_field(f).get_default() for f in CALL_FIELDS}
    merged = {**defaults, **values}
    m2m = {
        "eligible_enjeux": _ids(eligible_enjeux),
        "eligible_objectives": _ids(eligible_objectives),
        "eligible_qpvs": _ids(eligible_qpvs),
    }
    errors: dict[str, str] = {}
    _check_year(contract, year, errors)
    _validate_values(contract, merged, errors)
    _validate_relations(contract, m2m, errors)
    if errors:
        raise GrantsError(errors)
    call = Call.objects.create(contract=contract, year=year, status=CallStatus.DRAFT, **merged)
    _set_m2m(call, m2m)
    return call


def _locked(call: Call) -> Call:
    return Call.objects.select_for_update().get(pk=call.pk)


def _display_m2m(field: str, ids: set[int]) -> str:
    model = Call._meta.get_field(field).related_model
    names = sorted(str(obj) for obj in model.objects.filter(pk__in=ids))
    return ", ".join(names) or "aucun"


@transaction.atomic
def update_call(
    *,
    user: User,
    call: Call,
    version: int | None,
    values: dict[str, Any],
    eligible_enjeux: Iterable[Any] | None = None,
    eligible_objectives: Iterable[Any] | None = None,
    eligible_qpvs: Iterable[Any] | None = None,
) -> Call:
    """Enregistre les champs donnés (les autres restent tels quels). ``version`` : celle du
    formulaire ; si quelqu'un a enregistré entre-temps un champ que l'on change aussi,
    ``ConflictError`` liste chaque champ qui diffère et rien n'est écrit."""
    call = _locked(call)
    _require(call_abilities(user, call)["edit"], "Vous ne pouvez pas modifier cet appel à projets.")
    unknown = set(values) - set(CALL_FIELDS)
    if unknown:
        raise ValueError(f"Champs inconnus : {sorted(unknown)}")
    m2m = {
        "eligible_enjeux": _ids(eligible_enjeux),
        "eligible_objectives": _ids(eligible_objectives),
        "eligible_qpvs": _ids(eligible_qpvs),
    }
    changes: list[tuple[str, str, object, object]] = []
    try:
        check_version(call, version, values)
    except ConflictError as conflict:
        changes = list(conflict.changes)
    if version is not None and call.version != version:
        for field, ids in m2m.items():
            if ids is None:
                continue
            current = set(getattr(call, field).values_list("pk", flat=True))
            if current != ids:
                changes.append((field, _label(field), _display_m2m(field, current), _display_m2m(field, ids)))
    if changes:
        raise ConflictError(call, changes)
    merged = {f: getattr(call, f) for f in CALL_FIELDS} | values
    errors: dict[str, str] = {}
    _validate_values(call.contract, merged, errors)
    _validate_relations(call.contract, m2m, errors)
    if call.status != CallStatus.DRAFT and m2m["eligible_enjeux"] is not None and not m2m["eligible_enjeux"]:
        errors["eligible_enjeux"] = "Un appel publié garde au moins un enjeu éligible."
    if errors:
        raise GrantsError(errors)
    for field, value in values.items():
        setattr(call, field, value)
    call.version += 1
    call.save()
    _set_m2m(call, m2m)
    return call


def _bump(call: Call) -> None:
    Call.objects.filter(pk=call.pk).update(version=call.version + 1, updated_at=timezone.now())
    call.version += 1


@transaction.atomic
def set_funders(*, user: User, call: Call, funders: list[dict[str, Any]]) -> list[CallFunder]:
    """Remplace la liste des financeurs de l'appel. Chaque élément : ``partner`` (un partenaire du
    contrat, objet ou id), ``envelope`` (€, positif ou nul), ``kind``, ``label`` (ligne budgétaire).
    Un financeur déjà sollicité par un dossier ne peut pas être retiré."""
    call = _locked(call)
    _require(call_abilities(user, call)["edit"], "Vous ne pouvez pas modifier les financeurs de cet appel.")
    partners = {p.pk: p for p in Partner.objects.taking_part_in(call.contract).only("pk", "siren", "siret")}
    allowed = set(partners)
    existing = {f.partner_id: f for f in call.funders.select_related("partner")}
    errors: list[str] = []
    rows: list[tuple[int, dict[str, Any]]] = []
    seen: set[int] = set()
    for position, row in enumerate(funders, start=1):
        partner = row.get("partner")
        partner_id = partner.pk if isinstance(partner, Model) else partner
        try:
            partner_id = int(partner_id)
        except (TypeError, ValueError):
            errors.append(f"Ligne {position} : choisissez le financeur.")
            continue
        if partner_id not in allowed:
            errors.append(f"Ligne {position} : ce financeur ne prend pas part au contrat.")
            continue
        if partner_id in seen:
            errors.append(f"Ligne {position} : ce financeur figure déjà plus haut.")
            continue
        seen.add(partner_id)
        envelope = row.get("envelope")
        if envelope is None:
            errors.append(f"Ligne {position} : l'enveloppe (€) est obligatoire.")
        elif Decimal(envelope) < 0:
            errors.append(f"Ligne {position} : l'enveloppe (€) ne peut pas être négative.")
        elif Decimal(envelope) > MAX_ENVELOPE:
            errors.append(f"Ligne {position} : l'enveloppe (€) est trop élevée.")
        kind = row.get("kind") or FunderKind.PARTNER
        if kind not in FunderKind.values:
            errors.append(f"Ligne {position} : place dans le cofinancement inconnue.")
        siret = "".join((row.get("siret") or "").split())
        if siret:
            errors += [
                f"Ligne {position} : {message}" for message in _siret_errors(siret, partners[partner_id])
            ]
        rows.append(
            (
                partner_id,
                {"envelope": envelope, "kind": kind, "label": (row.get("label") or "")[:200], "siret": siret},
            )
        )
    removed = [f for pid, f in existing.items() if pid not in seen]
    used = set(
        FunderLine.objects.filter(funder__in=removed)
        .values_list("funder__partner__name", flat=True)
        .distinct()
    )
    for name in sorted(used):
        errors.append(
            f"{name} ne peut pas être retiré : des dossiers le sollicitent déjà (sa ligne y reste). "
            "Mettez son enveloppe à 0 € si ce financeur ne finance plus l'appel."
        )
    if errors:
        raise GrantsError({"funders": errors})
    CallFunder.objects.filter(pk__in=[f.pk for f in removed]).delete()
    result = []
    for order, (partner_id, data) in enumerate(rows):
        funder = existing.get(partner_id) or CallFunder(call=call, partner_id=partner_id)
        funder.envelope, funder.kind, funder.label, funder.order = (
            data["envelope"],
            data["kind"],
            data["label"],
            order,
        )
        funder.save()
        # Le SIRET du financeur (publié dans les données ouvertes des subventions, « idAttribuant ») :
        # renseigné ou corrigé ici ; laissé vide, il n'est pas effacé.
        if data["siret"] and data["siret"] != partners[partner_id].siret:
            Partner.objects.filter(pk=partner_id).update(siret=data["siret"])
        result.append(funder)
    _bump(call)
    return result


def _siret_errors(siret: str, partner: Partner) -> list[str]:
    try:
        validate_siret(siret)
    except ValidationError as error:
        return [f"SIRET du financeur : {message}" for message in error.messages]
    if partner.siren and not siret.startswith(partner.siren):
        return [f"SIRET du financeur : il doit commencer par le SIREN de l'organisation ({partner.siren})."]
    return []


@transaction.atomic
def set_required_documents(*, user: User, call: Call, documents: list[dict[str, Any]]) -> list[CallDocument]:
    """Remplace les pièces demandées : ``kind`` (une fois chacune), ``label``, ``required``."""
    call = _locked(call)
    _require(call_abilities(user, call)["edit"], "Vous ne pouvez pas modifier les pièces de cet appel.")
    errors: list[str] = []
    seen: set[str] = set()
    for position, row in enumerate(documents, start=1):
        kind = row.get("kind")
        if kind not in DocumentKind.values:
            errors.append(f"Pièce {position} : choisissez le type de pièce.")
        elif kind in seen:
            errors.append(f"Pièce {position} : « {DocumentKind(kind).label} » est déjà demandée.")
        seen.add(kind)
    if errors:
        raise GrantsError({"documents": errors})
    existing = {d.kind: d for d in call.required_documents.all()}
    call.required_documents.exclude(kind__in=seen).delete()
    result = []
    for row in documents:
        document = existing.get(row["kind"]) or CallDocument(call=call, kind=row["kind"])
        document.label = (row.get("label") or "")[:200]
        document.required = bool(row.get("required", True))
        document.save()
        result.append(document)
    _bump(call)
    return result


@transaction.atomic
def set_criteria(*, user: User, call: Call, criteria: list[dict[str, Any]]) -> list[ScoringCriterion]:
    """Remplace la grille de notation : ``label``, ``description``, ``scale_max`` (1 à 20) et, pour
    un critère existant, ``pk``. Un critère déjà noté ne peut pas être retiré."""
    call = _locked(call)
    _require(call_abilities(user, call)["edit"], "Vous ne pouvez pas modifier la grille de cet appel.")
    existing = {c.pk: c for c in call.criteria.all()}
    errors: list[str] = []
    kept: set[int] = set()
    for position, row in enumerate(criteria, start=1):
        pk = row.get("pk")
        if pk is not None and pk not in existing:  # un id d'un autre appel : jamais cru
            errors.append(f"Critère {position} : ce critère n'appartient pas à cet appel.")
        elif pk is not None:
            kept.add(pk)
        if not (row.get("label") or "").strip():
            errors.append(f"Critère {position} : le libellé est obligatoire.")
        scale = row.get("scale_max")
        if not isinstance(scale, int) or not 1 <= scale <= 20:
            errors.append(f"Critère {position} : la note maximale est un nombre entier de 1 à 20.")
    removed = [pk for pk in existing if pk not in kept]
    scored = set(Score.objects.filter(criterion_id__in=removed).values_list("criterion__label", flat=True))
    for label in sorted(scored):
        errors.append(f"Le critère « {label} » a déjà des notes : il ne peut pas être retiré.")
    if errors:
        raise GrantsError({"criteria": errors})
    ScoringCriterion.objects.filter(pk__in=removed).delete()
    result = []
    for order, row in enumerate(criteria):
        criterion = existing.get(row.get("pk")) or ScoringCriterion(call=call)
        criterion.label = row["label"].strip()[:200]
        criterion.description = row.get("description") or ""
        criterion.scale_max = row["scale_max"]
        criterion.order = order
        criterion.save()
        result.append(criterion)
    _bump(call)
    return result


@transaction.atomic
def publish_call(*, user: User, call: Call) -> Call:
    """Publie l'appel : il devient public. Refusé tant qu'il reste des manques (voir
    ``publication_gaps``)."""
    call = _locked(call)
    _require(call_abilities(user, call)["publish"], "Cet appel ne peut pas être publié par vous.")
    gaps = publication_gaps(call)
    if gaps:
        raise GrantsError(["L'appel n'est pas publié : " + " ; ".join(gaps)])
    call.status = CallStatus.PUBLISHED
    if call.publication_date is None:
        call.publication_date = timezone.localdate()
    call.version += 1
    call.save(update_fields=["status", "publication_date", "version", "updated_at"])
    return call


@transaction.atomic
def archive_call(*, user: User, call: Call) -> Call:
    """Archive un appel publié : il reste consultable mais n'est plus modifiable."""
    call = _locked(call)
    _require(call_abilities(user, call)["archive"], "Cet appel ne peut pas être archivé par vous.")
    call.status = CallStatus.ARCHIVED
    call.version += 1
    call.save(update_fields=["status", "version", "updated_at"])
    return call


def shift_year(day: datetime.date | None, years: int = 1) -> datetime.date | None:
    """La même date ``years`` ans plus tard (le 29 février devient le 28)."""
    if day is None:
        return None
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@transaction.atomic
def copy_call(*, user: User, call: Call, year: int | None = None) -> Call:
    """Un nouvel appel (en préparation) pour l'année suivante, copie de ``call`` : textes, règles,
    éligibilité, financeurs et enveloppes, pièces, grille ; dates décalées d'autant d'années."""
    call = Call.objects.select_related("contract").get(pk=call.pk)  # relu : rien de périmé n'est copié
    _require(call_abilities(user, call)["copy"], "Seul le pilote du contrat copie un appel à projets.")
    year = call.year + 1 if year is None else year
    errors: dict[str, str] = {}
    _check_year(call.contract, year, errors)
    if errors:
        raise GrantsError(errors)
    shift = year - call.year
    values = {f: getattr(call, f) for f in [*TEXT_FIELDS, *RULE_FIELDS]}
    values |= {f: shift_year(getattr(call, f), shift) for f in DATE_FIELDS}
    new = Call.objects.create(
        contract=call.contract, year=year, status=CallStatus.DRAFT, copied_from=call, is_demo=False, **values
    )
    for field in M2M_FIELDS:
        getattr(new, field).set(getattr(call, field).all())
    CallFunder.objects.bulk_create(
        CallFunder(
            call=new, partner_id=f.partner_id, kind=f.kind, label=f.label, envelope=f.envelope, order=f.order
        )
        for f in call.funders.all()
    )
    CallDocument.objects.bulk_create(
        CallDocument(call=new, kind=d.kind, label=d.label, required=d.required)
        for d in call.required_documents.all()
    )
    ScoringCriterion.objects.bulk_create(
        ScoringCriterion(
            call=new, label=c.label, description=c.description, scale_max=c.scale_max, order=c.order
        )
        for c in call.criteria.all()
    )
    return new
