"""Cahier d'engagements : écriture, tout ou rien, des lignes vérifiées par le ``mapper``."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from cdv.core.spreadsheets import norm_text, normalize_header
from cdv.core.uploads import sentence

from . import services
from .enums import CommitmentStatus
from .models import Commitment
from .xlsx_export import commitments_of
from .xlsx_template import LABELS, TEXT_FIELDS

# Champ d'une erreur de service → colonne du modèle.
FIELD_COLUMNS = {
    "objective": "Objectif",
    "action": "Action",
    "scope": "Portée",
    "qpvs": "QPV",
    "title": "Intitulé",
    "description": "Description",
    "summary_plain": "Résumé en langage clair",
    "target": "Cible",
    "deadline": "Échéance",
    "status": "État",
    "status_comment": "État",
    "amendment_reason": "Motif de l'avenant",
}


class Rollback(Exception):
    """Annule la transaction d'import quand une erreur a été relevée."""


@transaction.atomic
def write_commitments(*, user, contract, partner, rows, pairs, errors, report) -> None:
    """Crée et modifie les engagements des ``rows`` (lues par le ``mapper``) par les seules fonctions
    de ``services`` (droits, verrou optimiste, avenants) ; compte dans ``report``. À la moindre
    erreur (rangée dans ``errors``), lève ``Rollback`` : rien n'est écrit.

    ``pairs`` : les (année, nature) de moyens que le fichier porte ; les autres sont conservés."""
    _Writer(user=user, contract=contract, partner=partner, errors=errors, pairs=pairs).write(rows, report)
    if errors:
        raise Rollback


class _Writer:
    def __init__(self, *, user, contract, partner, errors, pairs):
        self.user = user
        self.contract = contract
        self.partner = partner
        self.errors = errors
        self.pairs = pairs

    def write(self, rows, report):
        existing = {c.pk: c for c in commitments_of(self.contract, self.partner)}
        by_title = {}
        for commitment in existing.values():
            by_title.setdefault(normalize_header(commitment.title), commitment)
        to_create = []
        for row in rows:
            if row.failed:
                continue
            current = existing.get(row.id) if row.id else by_title.get(normalize_header(row.data["title"]))
            if row.id and current is None:  # supprimé depuis la lecture du fichier
                self.errors.at(
                    f"l'engagement n° {row.id} n'existe plus.", row=row.number, column=LABELS["id"]
                )
                continue
            if current is None:
                if self._can_create(row):
                    to_create.append(row)
                continue
            try:
                self._update(row, current, report)
            except services.ConflictError as error:
                self._conflict(row, error)
            except PermissionDenied as error:
                self.errors.at(sentence(error), row=row.number)
            except ValidationError as error:
                self._service_error(row, error)
        self._create_all(to_create, report)

    def _can_create(self, row) -> bool:
        if row.status not in (None, CommitmentStatus.DRAFT):
            self.errors.at(
                "un nouvel engagement commence toujours à l'état « Brouillon » : "
                "l'état se change ensuite sur la plateforme.",
                row=row.number,
                column=LABELS["status"],
            )
            return False
        return True

    def _create_all(self, rows, report):
        """Nouveaux engagements : validés un par un, créés en lot (un import en compte des milliers)."""
        if not rows:
            return
        items = [
            {
                "data": row.data,
                "qpvs": row.qpvs or [],
                "means": [
                    {"year": year, "funding": funding, **amounts}
                    for (year, funding), amounts in (row.means or {}).items()
                ],
            }
            for row in rows
        ]
        try:
            created = services.create_commitments(
                user=self.user, contract=self.contract, partner=self.partner, items=items
            )
        except PermissionDenied as error:
            for row in rows:
                self.errors.at(sentence(error), row=row.number)
        except services.BulkCommitmentError as error:
            for index, row_error in error.errors.items():
                self._service_error(rows[index], row_error)
        else:
            report.created += len(created)

    def _update(self, row, current, report):
        if row.id and row.status and row.status != current.status and row.version == current.version:
            self.errors.at(
                f"l'état ne se modifie pas par import (« {current.get_status_display()} » enregistré) : "
                "utilisez la plateforme pour proposer, valider ou clore un engagement.",
                row=row.number,
                column=LABELS["status"],
            )
            return
        data = dict(row.data)
        for key in TEXT_FIELDS:
            if key in data and norm_text(data[key]) == norm_text(getattr(current, key)):
                data[key] = getattr(current, key)
        current_means = [
            {"year": m.year, "funding": m.funding, "fte": m.fte, "amount_eur": m.amount_eur}
            for m in current.means.all()
        ]
        means = None
        if row.means is not None:
            # Moyens des (année, nature) sans colonne dans le fichier : conservés tels quels.
            means = [m for m in current_means if (m["year"], m["funding"]) not in self.pairs]
            means += [{"year": y, "funding": f, **amounts} for (y, f), amounts in row.means.items()]
        qpvs = row.qpvs if row.qpvs is not None else list(current.qpvs.all())

        proposed = Commitment(
            contract=self.contract, partner=self.partner, status=current.status, version=current.version
        )
        for name in services.EDITABLE_FIELDS:
            setattr(proposed, name, data[name] if name in data else getattr(current, name))
        before = services.snapshot_of_fields(current, list(current.qpvs.all()), current_means)
        after = services.snapshot_of_fields(proposed, qpvs, means if means is not None else current_means)
        if not services.diff(before, after):
            report.unchanged += 1
            return
        if not row.id:
            self.errors.at(
                f"un engagement de ce partenaire porte déjà cet intitulé (n° {current.pk}) : "
                "pour le modifier, téléchargez à nouveau le modèle et modifiez sa ligne.",
                row=row.number,
                column=LABELS["title"],
            )
            return
        version = current.version
        updated = services.update_commitment(
            user=self.user,
            commitment=current,
            expected_version=row.version,
            data=data,
            qpvs=qpvs,
            means=means,
            amendment_reason=row.reason,
        )
        if updated.version != version:
            report.updated += 1
        else:
            report.unchanged += 1

    def _conflict(self, row, error):
        changes = []
        for change in error.changes or []:
            label, value = change[0], change[-1]
            shown = "vide" if value in (None, "", []) else f"« {value} »"
            changes.append(f"{label} : {shown}")
        detail = f" Changements enregistrés entre-temps : {' ; '.join(changes)}." if changes else ""
        self.errors.at(
            "conflit : cet engagement a été modifié sur la plateforme depuis le téléchargement du modèle "
            f"(version {error.commitment.version} enregistrée, version {row.version} dans le fichier)."
            f"{detail} "
            "Téléchargez à nouveau le modèle et reportez-y vos modifications.",
            row=row.number,
        )

    def _service_error(self, row, error):
        if hasattr(error, "error_dict"):
            for name, messages in error.message_dict.items():
                column = FIELD_COLUMNS.get(name)
                for message in messages:
                    self.errors.at(sentence(message), row=row.number, column=column)
        else:
            for message in error.messages:
                self.errors.at(sentence(message), row=row.number)
