"""Ce que « Mon espace » montre à chaque rôle d'un contrat : lectures seulement, en un nombre de
requêtes borné qui ne dépend pas du volume du contrat (des comptes, jamais des listes entières).

- pilote : sa liste du jour (engagements à valider, bilans en retard ou à examiner, retours à
  modérer, décisions dont le suivi est dû, prochaines échéances) et l'état du contrat d'un coup d'œil
  (cahiers confirmés, complétude de la campagne, avancement de l'évaluation) ;
- référent partenaire : ses engagements à compléter, ses bilans à remplir, son cahier ;
- lecteur partenaire : ce qu'il peut lire de son partenaire ;
- membre de conseil citoyen : son quartier, ses retours, les questionnaires de son quartier ;
- évaluateur : l'évaluation en cours et son avancement ;
- référent d'association : l'espace appels à projets de son association ;
- instructeur, correspondant de quartier, délégué du préfet, membre du comité des financeurs :
  l'appel à projets du moment et ce que le rôle y ouvre (file d'instruction, programmation).
"""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q

from cdv.commitments.enums import NOT_CONFIRMED_STATUSES
from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from cdv.core.french import plural
from cdv.evaluation.enums import QuestionnaireStatus
from cdv.evaluation.models import Evaluation, Questionnaire
from cdv.monitoring.enums import (
    NOT_SUBMITTED_STATES,
    ReportState,
)
from cdv.monitoring.models import Decision, Feedback, ProgressReport, ReviewCampaign
from cdv.territories.models import Territory
from cdv.users.enums import Role

from .enums import MilestoneState
from .models import Milestone
from .timeline import contract_timeline

# Engagements qui empêchent un cahier d'être confirmé (le partenaire ou le pilote doit encore agir).
# Une décision ouverte dont l'échéance tombe dans ce délai est « à suivre » dès aujourd'hui.
DECISION_NOTICE_DAYS = 30
NEXT_DEADLINES = 3


@dataclass
class Bar:
    """Une barre d'avancement : sa légende, sa valeur sur son maximum, et la phrase qui la dit."""

    key: str
    label: str
    value: int
    total: int
    detail: str

    @property
    def percent(self) -> int:
        return round(100 * self.value / self.total) if self.total else 0


def open_campaign(contract):
    """La campagne de suivi ouverte la plus récente du contrat, ou None."""
    return ReviewCampaign.objects.for_contract(contract).open().order_by("-year").first()


def campaign_counts(campaign, today) -> dict:
    """Comptes d'une campagne en une requête : total, transmis, acceptés, non transmis, en retard."""
    counts = dict(campaign.reports.order_by().values_list("state").annotate(n=Count("id")))
    total = sum(counts.values())
    not_sent = sum(counts.get(state, 0) for state in NOT_SUBMITTED_STATES)
    return {
        "total": total,
        "submitted": counts.get(ReportState.SUBMITTED, 0),
        "accepted": counts.get(ReportState.ACCEPTED, 0),
        "not_sent": not_sent,
        "late": not_sent if today > campaign.deadline else 0,
        "done": counts.get(ReportState.SUBMITTED, 0) + counts.get(ReportState.ACCEPTED, 0),
    }


def current_evaluation(contract):
    """L'évaluation en cours la plus proche (ou, à défaut, la dernière), avec ses questions jugées."""
    evaluations = Evaluation.objects.for_contract(contract).annotate(
        n_questions=Count("questions", distinct=True),
        n_judged=Count("questions", filter=Q(questions__judgement__isnull=False), distinct=True),
    )
    return (
        evaluations.in_progress().order_by("period_end").first()
        or evaluations.order_by("-period_end").first()
    )


def evaluation_bar(evaluation) -> Bar | None:
    if evaluation is None:
        return None
    return Bar(
        "evaluation",
        f"Questions évaluatives jugées : {evaluation.n_judged} sur {evaluation.n_questions}",
        evaluation.n_judged,
        evaluation.n_questions,
        f"{evaluation.title} ({evaluation.get_status_display().lower()})",
    )


def pilot_todo(contract, *, today: datetime.date) -> dict:
    """La liste du jour du pilote d'un contrat et l'état du contrat d'un coup d'œil."""
    proposed = Commitment.objects.for_contract(contract).proposed().count()
    campaign = open_campaign(contract)
    reports = campaign_counts(campaign, today) if campaign else None
    to_moderate = Feedback.objects.for_contract(contract).pending().count()
    decisions = (
        Decision.objects.for_contract(contract)
        .open()
        .filter(due_on__isnull=False)
        .aggregate(
            late=Count("id", filter=Q(due_on__lt=today)),
            soon=Count(
                "id",
                filter=Q(
                    due_on__gte=today, due_on__lte=today + datetime.timedelta(days=DECISION_NOTICE_DAYS)
                ),
            ),
        )
    )
    milestones = [
        (milestone, state)
        for milestone, state, _ in contract_timeline(
            contract, Milestone.objects.for_contract(contract), today
        )
        if state != MilestoneState.DONE
    ][:NEXT_DEADLINES]
    # Cahiers : un partenaire engagé dont aucun engagement n'attend plus d'être proposé, validé ou
    # confirmé a confirmé son cahier.
    cahiers = list(
        Commitment.objects.filter(contract=contract)
        .order_by()
        .values("partner_id")
        .annotate(pending=Count("id", filter=Q(status__in=NOT_CONFIRMED_STATUSES)))
        .values_list("pending", flat=True)
    )
    confirmed = sum(1 for pending in cahiers if not pending)
    bars = [
        Bar(
            "cahiers",
            "Cahiers d'engagements confirmés",
            confirmed,
            len(cahiers),
            f"{plural(confirmed, 'partenaire')} sur {len(cahiers)} "
            + ("a confirmé tout son cahier" if confirmed < 2 else "ont confirmé tout leur cahier"),
        )
    ]
    if reports is not None:
        bars.append(
            Bar(
                "campagne",
                f"Bilans transmis ou acceptés (campagne {campaign.year})",
                reports["done"],
                reports["total"],
                f"{reports['done']} sur {reports['total']}",
            )
        )
    evaluation = current_evaluation(contract)
    if (bar := evaluation_bar(evaluation)) is not None:
        bars.append(bar)
    return {
        "proposed": proposed,
        "campaign": campaign,
        "reports": reports,
        "to_moderate": to_moderate,
        "decisions_late": decisions["late"],
        "decisions_soon": decisions["soon"],
        "decision_notice_days": DECISION_NOTICE_DAYS,
        "campaign_deadline_ahead": campaign is not None and campaign.deadline >= today,
        "milestones": milestones,
        "bars": bars,
        "evaluation": evaluation,
    }


def partner_home(contract, partner, *, today: datetime.date) -> dict:
    """Pour un référent ou un lecteur : ses engagements à compléter, ses bilans à remplir."""
    counts = Commitment.objects.filter(contract=contract, partner=partner).aggregate(
        total=Count("id"),
        draft=Count("id", filter=Q(status=S.DRAFT)),
        returned=Count("id", filter=Q(status=S.RETURNED)),
        proposed=Count("id", filter=Q(status=S.PROPOSED)),
        validated=Count("id", filter=Q(status=S.VALIDATED)),
    )
    campaign = open_campaign(contract)
    reports = None
    if campaign is not None:
        reports = ProgressReport.objects.filter(campaign=campaign, partner=partner).aggregate(
            total=Count("id"),
            due=Count("id", filter=Q(state__in=NOT_SUBMITTED_STATES)),
            returned=Count("id", filter=Q(state=ReportState.RETURNED)),
        )
    return {
        "commitments": counts,
        "to_complete": counts["draft"] + counts["returned"],
        "campaign": campaign,
        "reports": reports,
        "late": campaign is not None and today > campaign.deadline,
    }


def council_home(contract, qpv_ids) -> dict:
    """Pour un membre de conseil citoyen : ses quartiers et les questionnaires de ses quartiers."""
    qpvs = list(Territory.objects.filter(pk__in=qpv_ids).only("code", "name").order_by("name"))
    questionnaires = list(
        Questionnaire.objects.filter(
            evaluation__contract=contract,
            qpv_id__in=qpv_ids,
            status__in=[QuestionnaireStatus.OPEN, QuestionnaireStatus.CLOSED],
        )
        .select_related("evaluation", "qpv")
        .only("title", "status", "qpv__code", "qpv__name", "evaluation__kind", "evaluation__title")
        .order_by("qpv__name", "evaluation__period_end")
    )
    return {"qpvs": qpvs, "questionnaires": questionnaires}


HOME_TEMPLATES = {
    Role.PILOT: "accounts/_home_pilot.html",
    Role.EDITOR: "accounts/_home_editor.html",
    Role.READER: "accounts/_home_reader.html",
    Role.COUNCIL_MEMBER: "accounts/_home_council.html",
    Role.EVALUATOR: "accounts/_home_evaluator.html",
    Role.APPLICANT: "accounts/_home_applicant.html",
    Role.INSTRUCTOR: "accounts/_home_grants.html",
    Role.CORRESPONDENT: "accounts/_home_grants.html",
    Role.PREFECT_DELEGATE: "accounts/_home_grants.html",
    Role.COMMITTEE_MEMBER: "accounts/_home_grants.html",
}
GRANT_ROLES = {Role.INSTRUCTOR, Role.CORRESPONDENT, Role.PREFECT_DELEGATE, Role.COMMITTEE_MEMBER}


def grants_home(user, contract) -> dict:
    """L'appel à projets du moment (le dernier publié) et ce que la personne peut y ouvrir, selon
    ``call_abilities`` (file d'instruction, programmation) ; une requête."""
    from cdv.grants.abilities import call_abilities
    from cdv.grants.models import Call

    call = Call.objects.for_contract(contract).published().order_by("-year").first()
    return {"call": call, "call_rights": call_abilities(user, call) if call else {}}


def role_homes(user, memberships, *, today: datetime.date) -> list[dict]:
    """Un bloc par rôle de la personne (dans l'ordre de ``memberships``), avec ce que ce rôle fait."""
    from cdv.evaluation.abilities import council_qpv_ids

    homes = []
    for index, membership in enumerate(memberships, start=1):
        contract = membership.contract
        home = {"index": index, "membership": membership, "contract": contract, "role": membership.role}
        # Le bloc à inclure (gabarit accounts/_home_*.html) ; aucun pour un rôle sans partenaire.
        home["template"] = HOME_TEMPLATES.get(membership.role)
        if membership.role == Role.PILOT:
            home["todo"] = pilot_todo(contract, today=today)
        elif membership.role in {Role.EDITOR, Role.READER}:
            if membership.partner_id:
                home["partner_home"] = partner_home(contract, membership.partner, today=today)
            else:
                home["template"] = None
        elif membership.role == Role.COUNCIL_MEMBER:
            home.update(council_home(contract, council_qpv_ids(user, contract)))
        elif membership.role in GRANT_ROLES:
            home.update(grants_home(user, contract))
        elif membership.role == Role.EVALUATOR:
            evaluation = current_evaluation(contract)
            home["evaluation"] = evaluation
            home["evaluation_bar"] = evaluation_bar(evaluation)
        homes.append(home)
    return homes
