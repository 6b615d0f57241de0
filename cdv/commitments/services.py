"""Écritures sur les engagements : création, modification (verrou optimiste, avenants) et cycle
de vie. Chaque fonction vérifie les droits avec ``abilities`` et lève une erreur au message
français ; rien n'est écrit en cas d'erreur."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NoReturn

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cdv.core.actors import person_or_none
from cdv.notifications import services as notifications
from cdv.notifications.enums import NotificationKind

from . import abilities
from .enums import AMENDMENT_STATUSES, CommitmentScope, FundingKind
from .enums import CommitmentStatus as S
from .models import Commitment, CommitmentAmendment, CommitmentMeans

if TYPE_CHECKING:
    from cdv.contracts.models import Contract
    from cdv.indicators.models import Indicator
    from cdv.partners.models import Partner
    from cdv.territories.models import Territory
    from cdv.users.models import User

# Moyens tels que les formulaires et les imports les donnent : {year, fte, amount_eur, funding}.
MeansRow = dict[str, Any]

EDITABLE_FIELDS = [
    "objective",
    "action",
    "scope",
    "title",
    "description",
    "summary_plain",
    "target",
    "deadline",
]


class CommitmentError(ValidationError):
    """Opération refusée par une règle métier (transition interdite, donnée incohérente)."""


class ConflictError(Exception):
    """Quelqu'un a enregistré l'engagement entre-temps : ``changes`` dit quoi.

    ``changes`` : [(libellé, valeur vue, valeur enregistrée)] pour chaque champ que l'autre personne
    a changé (moyens de chaque année compris). ``rows`` détaille la fusion à trois voies pour
    l'écran de conflit (``MergeRow``) ; ``merged`` est l'état fusionné, ``theirs`` l'état enregistré.
    """

    def __init__(
        self,
        commitment: Commitment,
        changes: list[tuple[str, object, object]],
        rows: Iterable[MergeRow] = (),
        merged: dict | None = None,
        theirs: dict | None = None,
    ) -> None:
        self.commitment = commitment
        self.changes = changes
        self.rows = list(rows)
        self.merged = merged
        self.theirs = theirs
        super().__init__(
            "Cet engagement a été modifié par quelqu'un d'autre pendant que vous le modifiiez "
            f"(version {commitment.version}). Vos modifications n'ont pas été enregistrées."
        )

    @property
    def clashes(self) -> list[str]:
        return [row.key for row in self.rows if row.kind == CLASH]


def _refuse(message: str) -> NoReturn:
    raise PermissionDenied(message)


def _check(user: User, commitment: Commitment, ability: str, message: str) -> None:
    if not abilities.commitment_abilities(user, commitment)[ability]:
        _refuse(message)


def snapshot(commitment: Commitment) -> dict:
    """L'engagement enregistré sous forme lisible (JSON), pour les avenants et les conflits."""
    means = [
        {"year": m.year, "fte": m.fte, "amount_eur": m.amount_eur, "funding": m.funding}
        for m in commitment.means.all()
    ]
    return snapshot_of_fields(
        commitment, list(commitment.qpvs.all()), means, list(commitment.indicators.all())
    )


FIELD_LABELS = {
    "title": "intitulé",
    "description": "description",
    "summary_plain": "résumé en langage clair",
    "target": "cible",
    "deadline": "échéance",
    "scope": "portée",
    "objective": "objectif",
    "action": "action",
    "status": "état",
    "qpvs": "quartiers",
    "means": "moyens",
    "indicators": "indicateurs",
}


def diff(before: dict, after: dict) -> list[tuple[str, object, object]]:
    return [
        (FIELD_LABELS.get(key, key), before.get(key), after.get(key))
        for key in FIELD_LABELS
        if before.get(key) != after.get(key)
    ]


def _contract_qpv_ids(contract: Contract) -> set[int]:
    """QPV du contrat, lus une fois par objet contrat (un import en valide des milliers)."""
    cached = getattr(contract, "_qpv_ids_cache", None)
    if cached is None:
        cached = set(contract.qpvs.values_list("pk", flat=True))
        contract._qpv_ids_cache = cached
    return cached


# Clés étrangères posées par les services à partir d'objets déjà lus : inutile de revérifier
# leur existence en base (une requête chacune) ; les règles de cohérence restent dans clean().
TRUSTED_FKS = ["contract", "partner", "objective", "action", "confirmed_by"]


def _validate_qpvs(commitment: Commitment, qpvs: list[Territory]) -> None:
    allowed = _contract_qpv_ids(commitment.contract)
    outside = [q for q in qpvs if q.pk not in allowed]
    if outside:
        raise CommitmentError(
            {"qpvs": "Ces quartiers ne relèvent pas du contrat : " + ", ".join(str(q) for q in outside) + "."}
        )
    if commitment.scope == CommitmentScope.QPV and not qpvs:
        raise CommitmentError(
            {"qpvs": "Un engagement de portée « quartiers choisis » doit citer au moins un QPV."}
        )
    if commitment.scope != CommitmentScope.QPV and qpvs:
        raise CommitmentError({"qpvs": "Un engagement de portée générale ne cite pas de quartier."})


def _validate_indicators(commitment: Commitment, indicators: list[Indicator]) -> None:
    foreign = [i for i in indicators if i.contract_id != commitment.contract_id]
    if foreign:
        raise CommitmentError(
            {
                "indicators": "Ces indicateurs relèvent d'un autre contrat : "
                + ", ".join(i.name for i in foreign)
                + "."
            }
        )


def _set_means(commitment: Commitment, means: Iterable[MeansRow]) -> None:
    """Remplace les moyens par ``means`` : liste de dict(year, fte, amount_eur, funding)."""
    wanted = {}
    for row in means:
        key = (int(row["year"]), row["funding"])
        if key in wanted:
            raise CommitmentError({"means": f"Moyens en double pour {key[0]} ({key[1]})."})
        wanted[key] = row
    existing = {(m.year, m.funding): m for m in commitment.means.all()}
    for key, obj in existing.items():
        if key not in wanted:
            obj.delete()
    for key, row in wanted.items():
        obj = existing.get(key) or CommitmentMeans(commitment=commitment, year=key[0], funding=key[1])
        fte, amount = Decimal(str(row.get("fte") or 0)), Decimal(str(row.get("amount_eur") or 0))
        if obj.pk and obj.fte == fte and obj.amount_eur == amount:
            continue
        obj.fte, obj.amount_eur = fte, amount
        obj.full_clean(exclude=["commitment"])
        obj.save()


@transaction.atomic
def create_commitment(
    *,
    user: User,
    contract: Contract,
    partner: Partner,
    data: dict,
    qpvs: Iterable[Territory] = (),
    means: Iterable[MeansRow] = (),
    indicators: Iterable[Indicator] = (),
) -> Commitment:
    if not abilities.can_create_commitment(user, contract, partner):
        _refuse("Vous ne pouvez pas créer d'engagement pour ce partenaire.")
    commitment = Commitment(contract=contract, partner=partner, status=S.DRAFT)
    for name in EDITABLE_FIELDS:
        if name in data:
            setattr(commitment, name, data[name])
    commitment.full_clean(exclude=TRUSTED_FKS)
    qpvs, indicators = list(qpvs), list(indicators)
    _validate_qpvs(commitment, qpvs)
    _validate_indicators(commitment, indicators)
    commitment.save()
    commitment.qpvs.set(qpvs)
    if indicators:
        commitment.indicators.set(indicators)
    _set_means(commitment, means)
    return commitment


class BulkCommitmentError(Exception):
    """Création en lot refusée : ``errors`` associe l'indice de chaque élément fautif à son erreur."""

    def __init__(self, errors: dict[int, ValidationError]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} engagement(s) invalide(s) : rien n'a été créé.")


def _check_means_rows(contract: Contract, means: Iterable[MeansRow]) -> list[CommitmentMeans]:
    """Valide des moyens pour un engagement pas encore enregistré ; renvoie les objets à créer."""
    seen, result = set(), []
    for row in means:
        year, funding = int(row["year"]), row["funding"]
        if (year, funding) in seen:
            raise CommitmentError({"means": f"Moyens en double pour {year} ({funding})."})
        seen.add((year, funding))
        if not contract.start_year <= year <= contract.end_year:
            raise CommitmentError(
                {"means": f"L'année {year} sort de la période du contrat ({contract.period_label})."}
            )
        obj = CommitmentMeans(
            year=year,
            funding=funding,
            fte=Decimal(str(row.get("fte") or 0)),
            amount_eur=Decimal(str(row.get("amount_eur") or 0)),
        )
        obj.full_clean(exclude=["commitment"])
        result.append(obj)
    return result


@transaction.atomic
def create_commitments(
    *, user: User, contract: Contract, partner: Partner, items: list[dict]
) -> list[Commitment]:
    """Crée des brouillons en lot (imports) : mêmes règles que ``create_commitment``, tout ou rien.

    ``items`` : des dict ``{"data": {...}, "qpvs": [...], "means": [...]}``. Chaque élément est
    validé avant toute écriture ; la moindre erreur lève ``BulkCommitmentError`` et rien n'est
    écrit. Les écritures (engagements, quartiers, moyens et leur historique) se font par lots.
    """
    if not abilities.can_create_commitment(user, contract, partner):
        _refuse("Vous ne pouvez pas créer d'engagement pour ce partenaire.")
    errors, prepared = {}, []
    for index, item in enumerate(items):
        commitment = Commitment(contract=contract, partner=partner, status=S.DRAFT)
        for name in EDITABLE_FIELDS:
            if name in item["data"]:
                setattr(commitment, name, item["data"][name])
        qpvs = list(item.get("qpvs") or [])
        indicators = list(item.get("indicators") or [])
        try:
            commitment.full_clean(exclude=TRUSTED_FKS)
            _validate_qpvs(commitment, qpvs)
            _validate_indicators(commitment, indicators)
            means = _check_means_rows(contract, item.get("means") or [])
        except ValidationError as error:
            errors[index] = error
            continue
        prepared.append((commitment, qpvs, means))
        if indicators:  # rare dans un import : écrits un par un après la création en lot
            commitment._pending_indicators = indicators
    if errors:
        raise BulkCommitmentError(errors)
    if not prepared:
        return []
    author, now = person_or_none(user), timezone.now()
    commitments = Commitment.objects.bulk_create([c for c, _, _ in prepared], batch_size=500)
    histories = Commitment.history.bulk_history_create(
        commitments, batch_size=500, default_user=author, default_date=now
    )
    through = Commitment.qpvs.through
    links, link_histories = [], []
    for (commitment, qpvs, _), history in zip(prepared, histories, strict=True):
        for qpv in qpvs:
            links.append(through(commitment_id=commitment.pk, territory_id=qpv.pk))
            link_histories.append(history)
    links = through.objects.bulk_create(links, batch_size=1000)
    _bulk_m2m_history(zip(link_histories, links, strict=True))
    means = []
    for commitment, _, rows in prepared:
        for obj in rows:
            obj.commitment = commitment
            means.append(obj)
    for commitment in commitments:
        if getattr(commitment, "_pending_indicators", None):
            commitment.indicators.set(commitment._pending_indicators)
    if means:
        created = CommitmentMeans.objects.bulk_create(means, batch_size=1000)
        CommitmentMeans.history.bulk_history_create(
            created, batch_size=1000, default_user=author, default_date=now
        )
    return commitments


def _bulk_m2m_history(links: Iterable[tuple[Any, Any]]) -> None:
    """Écrit l'état des quartiers dans l'historique des engagements créés en lot."""
    from django.apps import apps

    model = apps.get_model("commitments", "HistoricalCommitment_qpvs")
    model.objects.bulk_create(
        [
            model(
                id=link.pk, history=history, commitment_id=link.commitment_id, territory_id=link.territory_id
            )
            for history, link in links
        ],
        batch_size=1000,
    )


@transaction.atomic
def update_commitment(
    *,
    user: User,
    commitment: Commitment,
    expected_version: int,
    data: dict,
    qpvs: Iterable[Territory] | None = None,
    means: Iterable[MeansRow] | None = None,
    indicators: Iterable[Indicator] | None = None,
    amendment_reason: str = "",
    base: dict | None = None,
) -> Commitment:
    """Modifie un engagement si personne ne l'a fait entre-temps (sinon ``ConflictError``).

    ``base`` : l'état que la personne avait chargé (``editable_state``) ; sans lui, il est relu dans
    l'historique. Le conflit détaille la fusion : ce que l'autre a changé, ce qui est à trancher.

    Un engagement confirmé ne change que par avenant : ``amendment_reason`` est alors requis et
    l'état d'avant est conservé dans ``CommitmentAmendment``. Sans changement, rien n'est écrit.
    """
    current = Commitment.objects.select_for_update().get(pk=commitment.pk)
    _check(user, current, "edit", "Vous ne pouvez pas modifier cet engagement.")
    if current.version != expected_version:
        theirs = editable_state(current)
        if base is None:
            base = commitment_state_at(current, expected_version)
        raise _conflict(current, base, theirs, _proposed_state(theirs, data, qpvs, means, indicators))
    before = snapshot(current)
    for name in EDITABLE_FIELDS:
        if name in data:
            setattr(current, name, data[name])
    current.full_clean(exclude=TRUSTED_FKS)
    qpvs = list(qpvs) if qpvs is not None else list(current.qpvs.all())
    _validate_qpvs(current, qpvs)
    indicators = list(indicators) if indicators is not None else list(current.indicators.all())
    _validate_indicators(current, indicators)
    proposed = snapshot_of_fields(current, qpvs, means if means is not None else before["means"], indicators)
    changes = diff(before, proposed)
    if not changes:
        return current
    if before["status"] in AMENDMENT_STATUSES and not amendment_reason.strip():
        raise CommitmentError(
            {"amendment_reason": "Cet engagement est confirmé : indiquez le motif de l'avenant."}
        )
    current.version += 1
    current.save()
    current.qpvs.set(qpvs)
    if set(before["indicators"]) != {i.code for i in indicators}:
        current.indicators.set(indicators)
    if means is not None:
        _set_means(current, means)
    if before["status"] in AMENDMENT_STATUSES:
        CommitmentAmendment.objects.create(
            commitment=current,
            number=current.amendments.count() + 1,
            reason=amendment_reason.strip(),
            author=person_or_none(user),
            previous_version=before["version"],
            previous=before,
            changes=[[label, _plain(old), _plain(new)] for label, old, new in changes],
        )
    return current


def _money(value: Decimal | float | str | None) -> str:
    return str(Decimal(str(value or 0)).quantize(Decimal("0.01")))


def snapshot_of_fields(
    commitment: Commitment,
    qpvs: Iterable[Territory],
    means: Iterable[MeansRow],
    indicators: Iterable[Indicator] | None = None,
) -> dict:
    """Comme ``snapshot`` mais pour un état pas encore enregistré (quartiers et moyens donnés)."""
    state = {
        "title": commitment.title,
        "description": commitment.description,
        "summary_plain": commitment.summary_plain,
        "target": commitment.target,
        "deadline": commitment.deadline.isoformat() if commitment.deadline else None,
        "scope": commitment.scope,
        "objective": str(commitment.objective),
        "action": str(commitment.action) if commitment.action_id else None,
        "status": commitment.status,
        "qpvs": sorted(q.code for q in qpvs),
        "means": sorted(
            (
                {
                    "year": int(m["year"]),
                    "fte": _money(m.get("fte")),
                    "amount_eur": _money(m.get("amount_eur")),
                    "funding": m["funding"],
                }
                for m in means
            ),
            key=lambda m: (m["year"], m["funding"]),
        ),
        "version": commitment.version,
    }
    if indicators is not None:
        state["indicators"] = sorted(i.code for i in indicators)
    return state


def _plain(value: object) -> str | int | float | None:
    return value if isinstance(value, str | int | float | type(None)) else str(value)


def commitment_state_at(commitment: Commitment, version: int) -> dict | None:
    """L'état modifiable (``editable_state``) de l'engagement à une version, d'après l'historique.

    Quartiers et indicateurs : l'historique garde leur liste à chaque enregistrement. Moyens : leur
    propre historique, jusqu'à l'enregistrement qui a créé la version suivante. ``None`` si
    l'historique ne connaît pas cette version.
    """
    record = commitment.history.filter(version=version).order_by("-history_date", "-history_id").first()
    if record is None:
        return None
    state = _fields_state(
        record,
        qpvs=record.qpvs.values_list("territory_id", flat=True),
        indicators=record.indicators.values_list("indicator_id", flat=True),
    )
    later = commitment.history.filter(version__gt=version).order_by("history_date", "history_id").first()
    means = CommitmentMeans.history.filter(commitment_id=commitment.pk)
    if later is not None:
        means = means.filter(history_date__lt=later.history_date)
    last = {}
    for row in means.order_by("history_date", "history_id"):
        last[row.id] = row
    state.update(_means_state(row for row in last.values() if row.history_type != "-"))
    return state


# Fusion à trois voies : ce que la personne avait chargé (base), ce qui est enregistré (l'autre
# personne) et ce qu'elle envoie. Un champ changé d'un seul côté garde ce changement ; un champ
# changé des deux côtés différemment doit être tranché par la personne.
THEIRS, MINE, SAME, CLASH = "theirs", "mine", "same", "clash"
TEXT_FIELDS = ["title", "summary_plain", "description", "target"]
STATE_FIELDS = [
    "objective",
    "action",
    "title",
    "summary_plain",
    "description",
    "scope",
    "qpvs",
    "indicators",
    "target",
    "deadline",
]
NO_MEANS = ["0.00", "0.00"]


@dataclass(frozen=True)
class MergeRow:
    """Un champ qui diffère : valeurs affichables (vue, enregistrée, la vôtre) et issue de la fusion."""

    key: str
    label: str
    seen: str
    saved: str
    yours: str
    kind: str  # THEIRS (repris), MINE (le vôtre), SAME (même changement), CLASH (à choisir)


def means_key(year: int | str, funding: str) -> str:
    return f"means:{int(year)}:{funding}"


def is_state_key(key: str) -> bool:
    """Vrai pour une clé de ``editable_state`` (une clé venue de la requête est vérifiée ainsi)."""
    if key in STATE_FIELDS:
        return True
    kind, _, rest = key.partition(":")
    year, _, funding = rest.partition(":")
    return (
        kind == "means"
        and year.isascii()
        and year.isdigit()
        and len(year) == 4
        and funding in FundingKind.values
    )


def _text(value: str | None) -> str:
    return (value or "").replace("\r\n", "\n").strip()


def _means_state(rows: Iterable[Any]) -> dict:
    result = {}
    for row in rows:
        get = row.get if isinstance(row, dict) else (lambda name, row=row: getattr(row, name))
        cell = [_money(get("fte")), _money(get("amount_eur"))]
        if cell != NO_MEANS:
            result[means_key(get("year"), get("funding"))] = cell
    return result


def _fields_state(obj: Any, *, qpvs: Iterable[int], indicators: Iterable[int]) -> dict:
    """Les champs de ``editable_state`` hors moyens, lus sur l'engagement ou sur une ligne de son
    historique (mêmes attributs) ; quartiers et indicateurs donnés par l'appelant (identifiants)."""
    state = {name: _text(getattr(obj, name)) for name in TEXT_FIELDS}
    state |= {
        "objective": obj.objective_id,
        "action": obj.action_id,
        "scope": obj.scope,
        "deadline": obj.deadline.isoformat() if obj.deadline else None,
        "qpvs": sorted(qpvs),
        "indicators": sorted(indicators),
    }
    return state


def editable_state(commitment: Commitment) -> dict:
    """Ce que le formulaire modifie, sous une forme comparable et sérialisable en JSON : les
    moyens y sont une case par année et par nature (``means:2026:DROIT_COMMUN``)."""
    state = _fields_state(
        commitment,
        qpvs=[q.pk for q in commitment.qpvs.all()],
        indicators=[i.pk for i in commitment.indicators.all()],
    )
    state.update(_means_state(commitment.means.all()))
    return state


def _proposed_state(
    saved: dict,
    data: dict,
    qpvs: Iterable[Territory] | None,
    means: Iterable[MeansRow] | None,
    indicators: Iterable[Indicator] | None,
) -> dict:
    """L'état qu'enregistrerait la personne : ce qu'elle envoie, le reste tel qu'enregistré."""
    state = dict(saved)
    for name in STATE_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name in {"objective", "action"}:
            value = value.pk if value else None
        elif name == "deadline":
            value = value.isoformat() if value else None
        elif name in TEXT_FIELDS:
            value = _text(value)
        state[name] = value
    if qpvs is not None:
        state["qpvs"] = sorted(q.pk for q in qpvs)
    if indicators is not None:
        state["indicators"] = sorted(i.pk for i in indicators)
    if means is not None:
        state = {k: v for k, v in state.items() if not k.startswith("means:")}
        state.update(_means_state(means))
    return state


def state_value(state: dict, key: str) -> Any:
    return state.get(key, NO_MEANS if key.startswith("means:") else None)


def merge_states(base: dict | None, theirs: dict, mine: dict) -> tuple[dict, list[tuple[str, str]]]:
    """Fusionne : renvoie l'état fusionné et [(clé, issue)] pour chaque champ qui diffère.

    Sans ``base`` (version inconnue de l'historique), tout champ qui diffère est à trancher.
    En cas de conflit (CLASH), l'état fusionné garde la valeur de la personne, en attente de son choix.
    """
    means_keys = {k for state in (base or {}, theirs, mine) for k in state if k.startswith("means:")}
    merged, outcome = {}, []
    for key in STATE_FIELDS + sorted(means_keys):
        saved, yours = state_value(theirs, key), state_value(mine, key)
        seen = state_value(base, key) if base is not None else None
        if saved == yours:
            merged[key] = saved
            if base is not None and seen != saved:
                outcome.append((key, SAME))
        elif base is not None and yours == seen:
            merged[key] = saved
            outcome.append((key, THEIRS))
        elif base is not None and saved == seen:
            merged[key] = yours
            outcome.append((key, MINE))
        else:
            merged[key] = yours
            outcome.append((key, CLASH))
    return {k: v for k, v in merged.items() if v != NO_MEANS or not k.startswith("means:")}, outcome


def state_label(key: str) -> str:
    if key.startswith("means:"):
        _, year, funding = key.split(":")
        return f"moyens {year} ({FundingKind(funding).label})"
    return FIELD_LABELS[key]


def means_text(fte: Decimal | float | str | None, amount_eur: Decimal | float | str | None) -> str:
    from cdv.core.figures import french_number

    return f"{french_number(Decimal(str(fte or 0)))} ETP, {french_number(Decimal(str(amount_eur or 0)))} €"


def _describer(states: list[dict | None]) -> Callable[[str, Any], str]:
    """Une fonction (clé, valeur) → texte lisible ; lit en une fois les noms des objets cités."""
    from cdv.indicators.models import Indicator
    from cdv.plan.models import Action, Objective
    from cdv.territories.models import Territory

    def ids(*keys: str) -> set:
        found = set()
        for state in states:
            for key in keys:
                value = state_value(state, key) if state else None
                found.update(value if isinstance(value, list) else [value] if value else [])
        return found

    names = {
        "objective": {o.pk: str(o) for o in Objective.objects.filter(pk__in=ids("objective"))},
        "action": {a.pk: str(a) for a in Action.objects.filter(pk__in=ids("action"))},
        "qpvs": dict(Territory.objects.filter(pk__in=ids("qpvs")).values_list("pk", "name")),
        "indicators": dict(Indicator.objects.filter(pk__in=ids("indicators")).values_list("pk", "name")),
    }

    def describe(key: str, value: Any) -> str:
        if value in (None, "", []):
            return ""
        if key.startswith("means:"):
            return means_text(*value)
        if key in {"objective", "action"}:
            return names[key].get(value, "")
        if key in {"qpvs", "indicators"}:
            return ", ".join(sorted(names[key].get(pk, str(pk)) for pk in value))
        if key == "scope":
            return CommitmentScope(value).label
        if key == "deadline":
            return datetime.date.fromisoformat(value).strftime("%d/%m/%Y")
        return value

    return describe


def _conflict(current: Commitment, base: dict | None, theirs: dict, mine: dict) -> ConflictError:
    merged, outcome = merge_states(base, theirs, mine)
    describe = _describer([base, theirs, mine])
    rows = [
        MergeRow(
            key=key,
            label=state_label(key),
            seen=describe(key, state_value(base, key)) if base is not None else "",
            saved=describe(key, state_value(theirs, key)),
            yours=describe(key, state_value(mine, key)),
            kind=kind,
        )
        for key, kind in outcome
    ]
    changes = [
        (row.label, row.seen if base is not None else None, row.saved) for row in rows if row.kind != MINE
    ]
    return ConflictError(current, changes, rows=rows, merged=merged, theirs=theirs)


def unresolved_choices(
    *,
    commitment: Commitment,
    saved: dict,
    keys: Collection[str],
    data: dict,
    qpvs: Iterable[Territory] | None,
    means: Iterable[MeansRow] | None,
    indicators: Iterable[Indicator] | None,
) -> ConflictError:
    """Après un conflit : les champs à trancher (``keys``) dont la valeur envoyée diffère encore de
    celle enregistrée (``saved``) sans que la personne ait choisi ; ``rows`` vide s'il n'y en a pas."""
    error = _conflict(commitment, None, saved, _proposed_state(saved, data, qpvs, means, indicators))
    error.rows = [row for row in error.rows if row.key in keys]
    return error


def _transition(
    user: User, commitment: Commitment, ability: str, message: str, new_status: str, **fields: Any
) -> Commitment:
    current = Commitment.objects.select_for_update().get(pk=commitment.pk)
    _check(user, current, ability, message)
    current.status = new_status
    for name, value in fields.items():
        setattr(current, name, value)
    current.version += 1
    current.full_clean()
    current.save()
    return current


@transaction.atomic
def propose(*, user: User, commitment: Commitment) -> Commitment:
    proposed = _transition(
        user,
        commitment,
        "propose",
        "Seul un brouillon ou un engagement renvoyé peut être proposé.",
        S.PROPOSED,
        status_comment="",
    )
    notify_commitments(NotificationKind.COMMITMENT_PROPOSED, [proposed])
    return proposed


def _validate(user: User, commitment: Commitment) -> Commitment:
    return _transition(
        user,
        commitment,
        "validate",
        "Seul le pilote valide un engagement proposé.",
        S.VALIDATED,
        status_comment="",
    )


def _return(user: User, commitment: Commitment, comment: str) -> Commitment:
    return _transition(
        user,
        commitment,
        "return",
        "Seul le pilote renvoie un engagement proposé ou validé.",
        S.RETURNED,
        status_comment=comment.strip(),
    )


@transaction.atomic
def validate(*, user: User, commitment: Commitment) -> Commitment:
    validated = _validate(user, commitment)
    notify_commitments(NotificationKind.COMMITMENT_VALIDATED, [validated])
    return validated


@transaction.atomic
def return_to_partner(*, user: User, commitment: Commitment, comment: str) -> Commitment:
    if not comment.strip():
        raise CommitmentError(
            {"status_comment": "Expliquez au partenaire pourquoi l'engagement lui est renvoyé."}
        )
    returned = _return(user, commitment, comment)
    notify_commitments(NotificationKind.COMMITMENT_RETURNED, [returned], comment=comment.strip())
    return returned


def notify_commitments(kind: str, commitments: Iterable[Commitment], comment: str = "") -> None:
    """Prévient, une fois par partenaire : les pilotes d'un engagement proposé, les référents du
    partenaire d'un engagement validé ou renvoyé (``comment`` : le motif du renvoi)."""
    by_partner = {}
    for commitment in commitments:
        by_partner.setdefault((commitment.contract, commitment.partner), []).append(commitment)
    for (contract, partner), items in by_partner.items():
        titles = _named(items)
        several = len(items) > 1
        path = (
            reverse("www:dashboard", args=[contract.slug])
            if kind == NotificationKind.COMMITMENT_PROPOSED
            else reverse("www:partner_space", args=[contract.slug, partner.slug])
        )
        if not several:
            path = reverse("www:commitment", args=[contract.slug, items[0].pk])
        if kind == NotificationKind.COMMITMENT_PROPOSED:
            recipients = notifications.pilots(contract)
            noun = "les engagements" if several else "l'engagement"
            text = f"{partner.name} propose {noun} {titles} : à valider ou à renvoyer."
        else:
            recipients = notifications.referents(contract, [partner.pk])
            noun = "les engagements" if several else "l'engagement"
            if kind == NotificationKind.COMMITMENT_VALIDATED:
                text = f"Le pilote a validé {noun} {titles} de {partner.name}."
            else:
                text = f"Le pilote a renvoyé {noun} {titles} de {partner.name} : « {comment} »"
        notifications.notify(kind=kind, recipients=recipients, contract=contract, text=text, path=path)


BULK_ACTIONS = {"validate": "valider", "return": "renvoyer"}


def _named(commitments: Iterable[Commitment]) -> str:
    return ", ".join(f"« {c.title} »" for c in commitments)


@transaction.atomic
def bulk_transition(
    *, user: User, contract: Contract, commitment_ids: Iterable[int | str], action: str, comment: str = ""
) -> list[Commitment]:
    """Valide (``action="validate"``) ou renvoie (``"return"``, avec un commentaire commun) une
    sélection d'engagements proposés du contrat. Tout ou rien : si un seul est refusé, l'erreur
    les nomme tous et aucun n'est modifié. Les droits de chacun sont revérifiés."""
    if action not in BULK_ACTIONS:
        raise CommitmentError("Action inconnue : valider ou renvoyer la sélection.")
    ids, malformed = [], []
    for raw in commitment_ids:
        try:
            ids.append(int(raw))
        except (TypeError, ValueError):
            malformed.append(str(raw))
    if malformed:
        raise CommitmentError(
            {"engagements": "Identifiants d'engagement invalides : " + ", ".join(malformed) + "."}
        )
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise CommitmentError({"engagements": "Cochez au moins un engagement."})
    if action == "return" and not comment.strip():
        raise CommitmentError(
            {"comment": "Expliquez au partenaire pourquoi les engagements lui sont renvoyés."}
        )
    found = {
        c.pk: c
        for c in Commitment.objects.select_for_update().filter(contract=contract, pk__in=ids).order_by("pk")
    }
    errors = []
    outside = [i for i in ids if i not in found]
    if outside:
        errors.append(
            "Ces engagements ne font pas partie du contrat : " + ", ".join(f"n° {i}" for i in outside) + "."
        )
    selected = [found[i] for i in ids if i in found]
    not_proposed = [c for c in selected if c.status != S.PROPOSED]
    if not_proposed:
        errors.append(
            "Ces engagements ne sont pas (ou plus) proposés : "
            + ", ".join(f"« {c.title} » ({c.get_status_display().lower()})" for c in not_proposed)
            + "."
        )
    ability = "validate" if action == "validate" else "return"
    refused = [
        c for c in selected if c not in not_proposed and not abilities.commitment_abilities(user, c)[ability]
    ]
    if refused:
        _refuse(f"Seul un pilote du contrat peut {BULK_ACTIONS[action]} ces engagements : {_named(refused)}.")
    if errors:
        raise CommitmentError({"engagements": errors})
    if action == "validate":
        changed = [_validate(user, c) for c in selected]
        notify_commitments(NotificationKind.COMMITMENT_VALIDATED, changed)
    else:
        changed = [_return(user, c, comment) for c in selected]
        notify_commitments(NotificationKind.COMMITMENT_RETURNED, changed, comment=comment.strip())
    return changed


@transaction.atomic
def start(*, user: User, commitment: Commitment) -> Commitment:
    return _transition(user, commitment, "start", "Seul un engagement confirmé peut démarrer.", S.IN_PROGRESS)


CLOSING = {S.DONE, S.PARTLY_DONE, S.NOT_DONE, S.ABANDONED}


@transaction.atomic
def close(*, user: User, commitment: Commitment, outcome: str, reason: str = "") -> Commitment:
    if outcome not in CLOSING:
        raise CommitmentError(
            {"status": "Issue inconnue : réalisé, partiellement réalisé, non réalisé ou abandonné."}
        )
    if outcome == S.ABANDONED and not reason.strip():
        raise CommitmentError({"status_comment": "Indiquez pourquoi l'engagement est abandonné."})
    return _transition(
        user,
        commitment,
        "close",
        "Seul un engagement confirmé ou en cours peut être clos.",
        outcome,
        status_comment=reason.strip(),
    )


def cahier_summary(*, contract: Contract, partner: Partner) -> dict:
    """Ce que « confirmer mon cahier » confirmerait, et ce qui resterait de côté."""
    commitments = list(
        Commitment.objects.filter(contract=contract, partner=partner)
        .select_related("objective__enjeu")
        .prefetch_related("qpvs", "means")
    )
    return {
        "to_confirm": [c for c in commitments if c.status == S.VALIDATED],
        "pending": [c for c in commitments if c.status in {S.DRAFT, S.PROPOSED, S.RETURNED}],
        "already_confirmed": [
            c for c in commitments if c.status not in {S.DRAFT, S.PROPOSED, S.RETURNED, S.VALIDATED}
        ],
    }


@transaction.atomic
def confirm_cahier(
    *,
    user: User,
    contract: Contract,
    partner: Partner,
    signatory_name: str,
    signatory_role: str,
    confirmed: bool = False,
) -> list[Commitment]:
    """Confirme d'un coup tous les engagements validés du partenaire : c'est le cahier signé.
    Irréversible : seulement sur confirmation explicite (``confirmed=True``)."""
    if not abilities.can_manage_cahier(user, contract, partner):
        _refuse("Seul le référent du partenaire (ou le pilote) confirme son cahier d'engagements.")
    if confirmed is not True:
        raise CommitmentError(
            {"agree": "Confirmer le cahier est irréversible : une confirmation explicite est requise."}
        )
    errors = {}
    if not signatory_name.strip():
        errors["signatory_name"] = "Indiquez le nom de la personne qui signe le cahier."
    if not signatory_role.strip():
        errors["signatory_role"] = "Indiquez sa qualité (ex. : directrice, président)."
    if errors:
        raise CommitmentError(errors)
    to_confirm = list(
        Commitment.objects.select_for_update().filter(contract=contract, partner=partner, status=S.VALIDATED)
    )
    if not to_confirm:
        raise CommitmentError("Aucun engagement validé par le pilote n'attend de confirmation.")
    now = timezone.now()
    for commitment in to_confirm:
        commitment.status = S.CONFIRMED
        commitment.confirmed_by = person_or_none(user)
        commitment.confirmed_name = signatory_name.strip()
        commitment.confirmed_role = signatory_role.strip()
        commitment.confirmed_at = now
        commitment.version += 1
        commitment.save()
    return to_confirm


@transaction.atomic
def delete_draft(*, user: User, commitment: Commitment) -> None:
    current = Commitment.objects.select_for_update().get(pk=commitment.pk)
    _check(user, current, "delete", "Seul un brouillon peut être supprimé.")
    current.delete()


def today() -> datetime.date:
    return timezone.localdate()
