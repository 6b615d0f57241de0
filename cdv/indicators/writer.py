"""Valeurs d'indicateurs : écriture en masse des valeurs validées par le ``mapper``, tout ou rien.

``write_values`` compare chaque valeur à la base (créée, modifiée, inchangée), n'écrit que ce qui
diffère, et montre les premières valeurs lues (``PreviewRow``) ; une simulation (``dry_run``) compte
sans rien écrire.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connections, router, transaction

from cdv.territories.models import Territory

from .enums import Scope, ValueStatus
from .mapper import VALUE_FIELDS, NullBar, ValueRecord, _fr
from .models import IndicatorValue

MAX_PREVIEW_ROWS = 200  # valeurs détaillées dans l'aperçu (les suivantes sont comptées)
BATCH_SIZE = 2_000


@dataclass
class PreviewRow:
    """Une valeur lue, telle que l'import la traiterait (``action`` : créée, modifiée, inchangée)."""

    number: int
    indicator: str
    territory: str
    period: str
    value: str
    status: str
    action: str = ""


# Écriture en masse. ``bulk_create`` et ``bulk_update`` compilent leur SQL champ par champ et ligne par
# ligne : pour 100 000 valeurs, 7 s de création et 16 s de modification sur la machine de
# développement, pour 1 s passée dans la base. Une requête préparée exécutée par lots
# (``executemany``) fait le même travail en une fraction de ce temps, sur SQLite comme sur
# PostgreSQL. IndicatorValue n'a ni historique, ni signal, ni champ calculé à l'enregistrement :
# rien n'est contourné. Les champs que l'import ne renseigne pas reçoivent leur valeur par défaut.
KEY_FIELDS = ("indicator_id", "scope", "territory_id", "year", "quarter")
WRITTEN_FIELDS = VALUE_FIELDS
DECIMAL_FIELDS = {"value", "numerator", "denominator"}


class _Sql:
    def __init__(self):
        self.alias = router.db_for_write(IndicatorValue)
        self.connection = connections[self.alias]
        meta = IndicatorValue._meta
        quote = self.connection.ops.quote_name
        table = quote(meta.db_table)
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        provided = KEY_FIELDS + WRITTEN_FIELDS
        # Chaque colonne de l'INSERT : l'indice de la valeur fournie, ou une constante (le défaut).
        self.insert_slots = [
            (provided.index(f.attname), None)
            if f.attname in provided
            else (None, f.get_db_prep_save(f.get_default(), self.connection))
            for f in fields
        ]
        columns = ", ".join(quote(f.column) for f in fields)
        self.insert = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
        assignments = ", ".join(f"{quote(meta.get_field(name).column)} = %s" for name in WRITTEN_FIELDS)
        self.update = f"UPDATE {table} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
        adapt = self.connection.ops.adapt_decimalfield_value
        self.decimal_slots = [i for i, name in enumerate(WRITTEN_FIELDS) if name in DECIMAL_FIELDS]
        self.adapt = lambda number: None if number is None else adapt(number, 16, 4)

    def written(self, values: tuple) -> list:
        values = list(values)
        for index in self.decimal_slots:
            values[index] = self.adapt(values[index])
        return values

    def insert_params(self, key: tuple, values: tuple) -> tuple:
        provided = (*key, *self.written(values))
        return tuple(
            provided[index] if index is not None else default for index, default in self.insert_slots
        )

    def run(self, statement: str, params: list, bar) -> None:
        with self.connection.cursor() as cursor:
            for start in range(0, len(params), BATCH_SIZE):
                batch = params[start : start + BATCH_SIZE]
                cursor.executemany(statement, batch)
                bar.update(len(batch))


def _preview_rows(shown: list[tuple[ValueRecord, str]]) -> list[PreviewRow]:
    """Les premières valeurs lues, avec leur territoire nommé (une requête)."""
    ids = {record.territory_id for record, _ in shown if record.territory_id}
    names = {
        pk: f"{name} ({code})"
        for pk, code, name in Territory.objects.filter(pk__in=ids).values_list("pk", "code", "name")
    }
    statuses = dict(ValueStatus.choices)
    rows = []
    for record, action in shown:
        period = f"{record.year}-T{record.quarter}" if record.quarter else str(record.year)
        value = "secret statistique" if record.is_secret else _fr(record.value)
        territory = (
            names.get(record.territory_id, "") if record.territory_id else "Ensemble des QPV du contrat"
        )
        rows.append(
            PreviewRow(
                number=record.number,
                indicator=record.indicator.name,
                territory=territory,
                period=period,
                value=value,
                status=statuses.get(record.status, record.status),
                action=action,
            )
        )
    return rows


@transaction.atomic
def write_values(*, records: list[ValueRecord], report, dry_run: bool, progress=None) -> None:
    """Écrit ``records`` (ou les compte seulement : ``dry_run``) ; remplit les nombres et l'aperçu."""
    if not records:
        return
    sql = _Sql()
    indicator_ids = {record.indicator.pk for record in records}
    years = [record.year for record in records]
    existing = {}
    rows = (
        IndicatorValue.objects.using(sql.alias)
        .filter(indicator_id__in=indicator_ids, year__gte=min(years), year__lte=max(years))
        .values_list("pk", "indicator_id", "territory_id", "year", "quarter", *WRITTEN_FIELDS)
        .iterator(chunk_size=10_000)
    )
    for row in rows:
        existing[(row[1], row[2], row[3], row[4])] = (row[0], row[5:])
    inserts: list[tuple] = []
    updates: list[list] = []
    shown: list[tuple[ValueRecord, str]] = []
    for record in records:
        found = existing.get(record.key)
        if found is None:
            if len(shown) < MAX_PREVIEW_ROWS:
                shown.append((record, "créée"))
            key = (
                record.indicator.pk,
                Scope.TERRITORY.value if record.territory_id else Scope.CONTRACT_QPVS.value,
                record.territory_id,
                record.year,
                record.quarter,
            )
            inserts.append(sql.insert_params(key, record.written(record.comment or "")))
            continue
        pk, current = found
        comment = current[-1]
        wanted = record.written(comment if record.comment is None else record.comment)
        if wanted == current:  # Decimal("12.5000") == Decimal("12.5") : l'échelle ne compte pas
            report.unchanged += 1
            action = "inchangée"
        else:
            updates.append([*sql.written(wanted), pk])
            action = "modifiée"
        if len(shown) < MAX_PREVIEW_ROWS:
            shown.append((record, action))
    report.created = len(inserts)
    report.updated = len(updates)
    report.preview = _preview_rows(shown)
    if dry_run or not (inserts or updates):
        return
    bar = (
        progress(total=len(inserts) + len(updates), desc="Écriture", unit="valeur") if progress else NullBar()
    )
    try:
        sql.run(sql.insert, inserts, bar)
        sql.run(sql.update, updates, bar)
    finally:
        bar.close()
