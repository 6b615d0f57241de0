"""Écritures sur les engagements : création, modification (verrou optimiste, avenants) et cycle
de vie. Chaque fonction vérifie les droits avec ``abilities`` et lève une erreur au message
français ; rien n'est écrit en cas d'erreur."""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from cdv.core.actors import person_or_none

from . import abilities
from .enums import CommitmentScope
from .enums import CommitmentStatus as S
from .models import Commitment, CommitmentAmendment, CommitmentMeans

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
    """Quelqu'un a enregistré l'engagement entre-temps : ``changes`` dit quoi."""

    def __init__(self, commitment, changes):
        self.commitment = commitment
        self.changes = changes  # [(libellé du champ, valeur enregistrée par l'autre personne)]
        super().__init__(
            "Cet engagement a été modifié par quelqu'un d'autre pendant que vous le modifiiez "
            f"(version {commitment.version}). Vos modifications n'ont pas été enregistrées."
        )


def _refuse(message):
    raise PermissionDenied(message)


def _check(user, commitment, ability, message):
    if not abilities.commitment_abilities(user, commitment)[ability]:
        _refuse(message)


def snapshot(commitment) -> dict:
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


def _contract_qpv_ids(contract) -> set[int]:
    """QPV du contrat, lus une fois par objet contrat (un import en valide des milliers)."""
    cached = getattr(contract, "_qpv_ids_cache", None)
    if cached is None:
        cached = set(contract.qpvs.values_list("pk", flat=True))
        contract._qpv_ids_cache = cached
    return cached


# Clés étrangères posées par les services à partir d'objets déjà lus : inutile de revérifier
# leur existence en base (une requête chacune) ; les règles de cohérence restent dans clean().
TRUSTED_FKS = ["contract", "partner", "objective", "action", "confirmed_by"]


def _validate_qpvs(commitment, qpvs):
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


def _validate_indicators(commitment, indicators):
    foreign = [i for i in indicators if i.contract_id != commitment.contract_id]
    if foreign:
        raise CommitmentError(
            {
                "indicators": "Ces indicateurs relèvent d'un autre contrat : "
                + ", ".join(i.name for i in foreign)
                + "."
            }
        )


def _set_means(commitment, means):
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
def create_commitment(*, user, contract, partner, data: dict, qpvs=(), means=(), indicators=()) -> Commitment:
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

    def __init__(self, errors: dict[int, ValidationError]):
        self.errors = errors
        super().__init__(f"{len(errors)} engagement(s) invalide(s) : rien n'a été créé.")


def _check_means_rows(contract, means) -> list[CommitmentMeans]:
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
def create_commitments(*, user, contract, partner, items: list[dict]) -> list[Commitment]:
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


def _bulk_m2m_history(links) -> None:
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
    user,
    commitment,
    expected_version: int,
    data: dict,
    qpvs=None,
    means=None,
    indicators=None,
    amendment_reason: str = "",
) -> Commitment:
    """Modifie un engagement si personne ne l'a fait entre-temps (sinon ``ConflictError``).

    Un engagement confirmé ne change que par avenant : ``amendment_reason`` est alors requis et
    l'état d'avant est conservé dans ``CommitmentAmendment``. Sans changement, rien n'est écrit.
    """
    current = Commitment.objects.select_for_update().get(pk=commitment.pk)
    _check(user, current, "edit", "Vous ne pouvez pas modifier cet engagement.")
    if current.version != expected_version:
        seen = commitment_state_at(current, expected_version)
        raise ConflictError(current, diff(seen, snapshot(current)) if seen else [])
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
    if before["status"] in abilities.AMENDMENT_STATUSES and not amendment_reason.strip():
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
    if before["status"] in abilities.AMENDMENT_STATUSES:
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


def _money(value) -> str:
    return str(Decimal(str(value or 0)).quantize(Decimal("0.01")))


def snapshot_of_fields(commitment, qpvs, means, indicators=None) -> dict:
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


def _plain(value):
    return value if isinstance(value, str | int | float | type(None)) else str(value)


def commitment_state_at(commitment, version: int) -> dict | None:
    """L'état (partiel : champs simples) de l'engagement à une version donnée, d'après l'historique."""
    record = commitment.history.filter(version=version).order_by("-history_date").first()
    if record is None:
        return None
    state = snapshot(commitment)
    for name in ["title", "description", "summary_plain", "target", "scope", "status"]:
        state[name] = getattr(record, name)
    state["deadline"] = record.deadline.isoformat() if record.deadline else None
    # Quartiers et moyens : on ne compare que les champs simples, faute d'état historique fiable.
    return state


def _transition(user, commitment, ability, message, new_status, **fields):
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
def propose(*, user, commitment) -> Commitment:
    return _transition(
        user,
        commitment,
        "propose",
        "Seul un brouillon ou un engagement renvoyé peut être proposé.",
        S.PROPOSED,
        status_comment="",
    )


@transaction.atomic
def validate(*, user, commitment) -> Commitment:
    return _transition(
        user,
        commitment,
        "validate",
        "Seul le pilote valide un engagement proposé.",
        S.VALIDATED,
        status_comment="",
    )


@transaction.atomic
def return_to_partner(*, user, commitment, comment: str) -> Commitment:
    if not comment.strip():
        raise CommitmentError(
            {"status_comment": "Expliquez au partenaire pourquoi l'engagement lui est renvoyé."}
        )
    return _transition(
        user,
        commitment,
        "return",
        "Seul le pilote renvoie un engagement proposé ou validé.",
        S.RETURNED,
        status_comment=comment.strip(),
    )


@transaction.atomic
def start(*, user, commitment) -> Commitment:
    return _transition(user, commitment, "start", "Seul un engagement confirmé peut démarrer.", S.IN_PROGRESS)


CLOSING = {S.DONE, S.PARTLY_DONE, S.NOT_DONE, S.ABANDONED}


@transaction.atomic
def close(*, user, commitment, outcome: str, reason: str = "") -> Commitment:
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


def cahier_summary(*, contract, partner) -> dict:
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
def confirm_cahier(*, user, contract, partner, signatory_name: str, signatory_role: str) -> list[Commitment]:
    """Confirme d'un coup tous les engagements validés du partenaire : c'est le cahier signé."""
    if not abilities.can_manage_cahier(user, contract, partner):
        _refuse("Seul le référent du partenaire (ou le pilote) confirme son cahier d'engagements.")
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
def delete_draft(*, user, commitment) -> None:
    current = Commitment.objects.select_for_update().get(pk=commitment.pk)
    _check(user, current, "delete", "Seul un brouillon peut être supprimé.")
    current.delete()


def today() -> datetime.date:
    return timezone.localdate()
