"""Lectures de l'appel à projets : l'appel ouvert d'un contrat, la liste des appels avec leurs
comptes, ce qui manque avant publication, les associations qui ont un brouillon."""

import datetime
from typing import Any

from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from .enums import ApplicationStatus
from .models import Application, Call

# Le calendrier dans l'ordre : chaque date (si elle est donnée) ne précède pas la précédente.
CALENDAR_ORDER = [
    ("publication_date", "filing_opens"),
    ("filing_opens", "filing_closes"),
    ("filing_closes", "instruction_ends"),
    ("filing_closes", "committee_date"),
    ("instruction_ends", "committee_date"),
    ("committee_date", "notification_date"),
]


def _label(field: str) -> str:
    return str(Call._meta.get_field(field).verbose_name)


def date_errors(values: dict[str, Any]) -> dict[str, str]:
    """Dates du calendrier dans le désordre : {champ fautif : message}."""
    errors = {}
    for before, after in CALENDAR_ORDER:
        first, second = values.get(before), values.get(after)
        if isinstance(first, datetime.date) and isinstance(second, datetime.date) and first > second:
            errors.setdefault(
                after,
                f"« {_label(after)} » ({second:%d/%m/%Y}) ne peut pas précéder "
                f"« {_label(before)} » ({first:%d/%m/%Y}).",
            )
    return errors


def publication_gaps(call: Call, *, today: datetime.date | None = None) -> list[str]:
    """Ce qui manque encore pour publier l'appel (phrases en français ; vide : publiable)."""
    today = today or timezone.localdate()
    gaps = []
    if not call.summary.strip():
        gaps.append("la présentation en langage clair est vide")
    if not call.funders.exists():
        gaps.append("aucun financeur n'est inscrit")
    elif not call.funders.filter(envelope__gt=0).exists():
        gaps.append("aucun financeur n'a d'enveloppe")
    if not call.eligible_enjeux.exists():
        gaps.append("aucun enjeu éligible n'est choisi")
    values = {f.name: getattr(call, f.name) for f in Call._meta.concrete_fields}
    gaps.extend(f"dates incohérentes : {message}" for message in date_errors(values).values())
    if call.filing_closes < today:
        gaps.append(f"la clôture du dépôt ({call.filing_closes:%d/%m/%Y}) est passée")
    if call.committee_date is None:
        gaps.append("la date du comité des financeurs n'est pas fixée")
    if not call.contacts.strip():
        gaps.append("aucun contact n'est indiqué")
    return gaps


def open_call(contract: Any, *, today: datetime.date | None = None, qpv: Any = None) -> Call | None:
    """L'appel publié du contrat dont la fenêtre de dépôt contient ``today`` (une requête) ;
    avec ``qpv`` : seulement s'il est éligible dans ce quartier (appel sans liste : tous)."""
    today = today or timezone.localdate()
    calls = Call.objects.for_contract(contract).open_on(today)
    if qpv is not None:
        calls = calls.filter(Q(eligible_qpvs__isnull=True) | Q(eligible_qpvs=qpv))
    return (
        calls.only("id", "year", "title", "filing_closes", "contract_id", "status", "filing_opens")
        .order_by("filing_closes")
        .first()
    )


def calls_with_counts(queryset: Any) -> Any:
    """Appels avec le nombre de dossiers déposés, de brouillons, de financeurs et le total des
    enveloppes (une requête)."""
    submitted = ~Q(applications__status__in=[ApplicationStatus.DRAFT, ApplicationStatus.WITHDRAWN])
    return queryset.annotate(
        submitted_count=Count("applications", filter=submitted, distinct=True),
        draft_count=Count(
            "applications", filter=Q(applications__status=ApplicationStatus.DRAFT), distinct=True
        ),
        funder_count=Count("funders", distinct=True),
    ).order_by("-year")


def envelope_totals(call_ids: list[int]) -> dict[int, Any]:
    """Total des enveloppes par appel (une requête, sans multiplier les lignes des dossiers)."""
    rows = (
        Call.objects.filter(pk__in=call_ids)
        .annotate(total=Sum("funders__envelope"))
        .values_list("pk", "total")
    )
    return dict(rows)


def drafts_by_partner(call: Call) -> list[dict[str, Any]]:
    """Associations qui ont un brouillon dans l'appel : nombre et dernière modification."""
    return list(
        Application.objects.for_call(call)
        .drafts()
        .values("partner_id", "partner__name", "partner__slug")
        .annotate(count=Count("id"), last_modified=Max("updated_at"))
        .order_by("-last_modified", "partner__name")
    )
