"""Le calendrier d'un contrat tel que le montre son accueil : chaque jalon, où il en est, et quand il a
été réalisé.

Un jalon de suivi annuel est réalisé quand la plateforme en garde la trace, même si personne n'a
renseigné sa date de réalisation : un comité de pilotage enregistré cette année-là (sa date), ou
l'année arrêtée (campagne de suivi figée). Les jalons sont dans l'ordre des dates : ceux sans échéance
précise comptent pour la fin de leur année (« 1er trimestre 2024 » avant « 2024 »).
"""

import datetime

from .enums import MilestoneKind, MilestoneState


def contract_timeline(contract, milestones, today: datetime.date) -> list[tuple]:
    """``[(jalon, état, réalisé le ou None)]`` dans l'ordre des dates ; ``milestones`` : ceux du contrat."""
    from django.db.models import DateField, Value
    from django.db.models.functions import ExtractYear

    from cdv.monitoring.enums import MeetingKind
    from cdv.monitoring.models import Meeting, ReviewCampaign

    # Une seule requête : (année, date du COPIL) et (année figée, sans date).
    copils = (
        Meeting.objects.filter(contract=contract, kind=MeetingKind.COPIL, date__lte=today)
        .order_by()
        .values_list(ExtractYear("date"), "date")
    )
    frozen = (
        ReviewCampaign.objects.for_contract(contract)
        .frozen()
        .order_by()
        .values_list("year", Value(None, output_field=DateField()))
    )
    copil_on, frozen_years = {}, set()
    for year, date in sorted(copils.union(frozen, all=True), key=lambda row: (row[0], row[1] or today)):
        if date is None:
            frozen_years.add(year)
        else:
            copil_on.setdefault(year, date)
    rows = []
    for milestone in milestones:
        done_on, done = milestone.done_on, bool(milestone.done_on)
        if not done and milestone.kind == MilestoneKind.YEARLY_REVIEW:
            done_on = copil_on.get(milestone.year)
            done = done_on is not None or milestone.year in frozen_years
        state = MilestoneState.DONE if done else milestone.state(today)
        rows.append((milestone, state, done_on))
    rows.sort(key=lambda row: (row[0].year, row[0].due_on or datetime.date(row[0].year, 12, 31), row[0].pk))
    return rows
