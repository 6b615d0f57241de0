"""La démonstration de l'appel à projets : l'appel 2025 voté, avec des dossiers dans tous les états,
et l'appel 2026 ouvert le jour du chargement, cohérents avec les règles de l'appel."""

import datetime
from collections import Counter
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from cdv.grants.abilities import application_abilities, call_abilities, funder_line_abilities
from cdv.grants.enums import INSTRUCTION_LINE_STATUSES, ApplicationStatus, BudgetSide, LineStatus, side_of
from cdv.grants.models import (
    Application,
    ApplicationEvent,
    Call,
    FunderLine,
    InfoRequest,
    QuartierOpinion,
    Score,
)
from cdv.seed.demo_grants import (
    APPLICANT_EMAIL,
    COMMITTEE_EMAIL,
    CORRESPONDENT_EMAIL,
    METROPOLE_INSTRUCTOR_EMAIL,
    PREFECT_DELEGATE_EMAIL,
    STATE_INSTRUCTOR_EMAIL,
)
from cdv.users.models import User

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


def calls(nantes):
    return Call.objects.filter(contract=nantes, is_demo=True)


def test_the_two_demo_calls_are_marked_and_the_2026_one_is_open_today(nantes):
    past, current = calls(nantes).get(year=2025), calls(nantes).get(year=2026)
    for call in (past, current):
        assert "démonstration" in call.title and "démonstration" in call.summary.lower()
        assert call.funders.count() == 6 and call.required_documents.exists() and call.criteria.count() == 3
    assert past.committee_held_at is not None and past.committee_date < timezone.localdate()
    today = timezone.localdate()
    assert current.is_open_on(today) and current.committee_held_at is None
    assert current.filing_opens == today - datetime.timedelta(days=20)
    assert current.filing_closes == today + datetime.timedelta(days=25)
    assert 50 <= past.applications.count() <= 70
    assert not Application.objects.filter(call__in=calls(nantes), is_demo=False).exists()


def test_the_demo_covers_every_state_of_a_file_and_of_a_funder_line(nantes):
    applications = Application.objects.filter(call__in=calls(nantes))
    assert set(applications.values_list("status", flat=True)) == set(ApplicationStatus.values)
    lines = FunderLine.objects.filter(application__in=applications)
    wanted = {LineStatus.DRAFT, *INSTRUCTION_LINE_STATUSES, LineStatus.VOTED, LineStatus.REJECTED}
    assert wanted <= set(lines.values_list("status", flat=True))
    voted = lines.filter(status=LineStatus.VOTED)
    assert not voted.filter(voted_amount__isnull=True).exists()
    decided = lines.filter(status__in=[LineStatus.VOTED, LineStatus.REJECTED])
    assert not decided.filter(decision_date__isnull=True).exists()
    assert not decided.filter(decision_reference="").exists()
    assert not decided.exclude(application__call__year=2025).exists()
    # Un dossier rendu pour compléments porte la question ; un autre, la réponse.
    returned = applications.filter(status=ApplicationStatus.RETURNED)
    assert all(r.info_requests.filter(answer="").exists() for r in returned)
    assert InfoRequest.objects.filter(application__in=applications).exclude(answer="").exists()
    assert QuartierOpinion.objects.filter(application__in=applications).exists()
    assert Score.objects.filter(application__in=applications).exists()


def test_numbers_lines_history_and_budgets_follow_the_rules(nantes):
    for call in calls(nantes):
        applications = list(
            call.applications.prefetch_related("funder_lines", "budget_lines", "events").order_by("pk")
        )
        numbers = [a.number for a in applications if a.number]
        assert len(numbers) == len(set(numbers)) == call.last_number
        assert sorted(numbers) == [f"{call.year}-{n:04d}" for n in range(1, len(numbers) + 1)]
        for application in applications:
            statuses = {line.status for line in application.funder_lines.all()}
            kinds = {event.kind for event in application.events.all()}
            assert "CREE" in kinds, application
            if application.number:
                assert application.submitted_at and application.sworn_statement and "DEPOSE" in kinds
                assert LineStatus.DRAFT not in statuses, application
            else:
                assert statuses == {LineStatus.DRAFT}, application
            charges = sum(
                b.amount for b in application.budget_lines.all() if side_of(b.account) == BudgetSide.CHARGE
            )
            income = sum(
                b.amount for b in application.budget_lines.all() if side_of(b.account) != BudgetSide.CHARGE
            )
            requested = sum(line.requested_amount for line in application.funder_lines.all())
            assert charges == income + requested > Decimal(0), application
            assert requested <= charges * call.max_call_share / 100, application
            assert all(
                len(line.later_amounts) == application.years - 1 for line in application.funder_lines.all()
            )


def test_each_demo_account_finds_its_work(nantes):
    past, current = calls(nantes).get(year=2025), calls(nantes).get(year=2026)
    referent = User.objects.get(email=APPLICANT_EMAIL)
    own = Application.objects.filter(call__in=[past, current], partner__memberships__user=referent)
    assert own.filter(status=ApplicationStatus.DRAFT, call=current).exists()
    assert own.filter(status=ApplicationStatus.DECIDED, call=past).exists()
    assert call_abilities(referent, current)["apply"]
    draft = own.filter(call=current, status=ApplicationStatus.DRAFT).first()
    assert application_abilities(referent, draft)["submit"]
    decided = own.filter(status=ApplicationStatus.DECIDED).first()
    assert application_abilities(referent, decided)["view_decisions"]
    # L'instructeur de l'État instruit une ligne de l'appel ouvert.
    instructor = User.objects.get(email=STATE_INSTRUCTOR_EMAIL)
    lines = FunderLine.objects.filter(
        application__call=current, funder__order=0, application__status=ApplicationStatus.SUBMITTED
    )
    assert any(funder_line_abilities(instructor, line)["instruct"] for line in lines)
    for email in (METROPOLE_INSTRUCTOR_EMAIL, CORRESPONDENT_EMAIL, PREFECT_DELEGATE_EMAIL):
        assert call_abilities(User.objects.get(email=email), current)["view_queue"], email
    assert call_abilities(User.objects.get(email=COMMITTEE_EMAIL), past)["view_programmation"]
    correspondent = User.objects.get(email=CORRESPONDENT_EMAIL)
    submitted = Application.objects.filter(call=current, status=ApplicationStatus.SUBMITTED)
    assert any(application_abilities(correspondent, a)["give_opinion"] for a in submitted)


def test_envelopes_cover_the_voted_amounts(nantes):
    past = calls(nantes).get(year=2025)
    for funder in past.funders.all():
        voted = funder.lines.filter(status=LineStatus.VOTED).aggregate(total=Sum("voted_amount"))["total"]
        assert voted and voted <= funder.envelope, funder


def test_loading_the_demo_again_changes_nothing(nantes):
    models = [Call, Application, FunderLine, ApplicationEvent, QuartierOpinion, Score, InfoRequest]
    before = [model.objects.count() for model in models]
    lines = Counter(FunderLine.objects.values_list("status", flat=True))
    history = (Call.history.count(), Application.history.count())
    call_command("load_demo_data", verbosity=0)
    assert [model.objects.count() for model in models] == before
    assert Counter(FunderLine.objects.values_list("status", flat=True)) == lines
    assert (Call.history.count(), Application.history.count()) == history


def test_the_voted_demo_call_goes_on_after_the_vote(nantes):
    """Actes, versements et comptes-rendus de l'appel 2025 : de quoi parcourir la partie 2, et
    l'association du référent de démonstration n'a aucun compte-rendu manquant."""
    from cdv.grants.enums import ReportStatus
    from cdv.grants.models import FinalReport, GrantAct, Payment

    past = calls(nantes).get(year=2025)
    voted = FunderLine.objects.filter(application__call=past, status=LineStatus.VOTED, voted_amount__gt=0)
    acts = GrantAct.objects.filter(line__in=voted)
    assert acts.count() == voted.count()
    assert acts.exclude(signed_on=None).exists() and acts.filter(signed_on=None).exists()
    assert Payment.objects.filter(line__in=voted).exists()
    statuses = set(FinalReport.objects.filter(application__call=past).values_list("status", flat=True))
    assert statuses == set(ReportStatus.values)
    decided = Application.objects.filter(call=past, status=ApplicationStatus.DECIDED)
    assert decided.filter(final_report=None).exists()  # des comptes-rendus jamais commencés
    applicant = User.objects.get(email=APPLICANT_EMAIL)
    own = decided.filter(partner__memberships__user=applicant)
    assert own.exists()
    assert not own.filter(final_report=None).exists()
    assert not own.filter(
        final_report__status__in=[ReportStatus.DRAFT, ReportStatus.CHANGES_REQUESTED]
    ).exists()


def test_demo_acts_are_numbered_as_the_platform_numbers_them(nantes):
    """Les actes de démonstration portent la référence que la plateforme donne (sigle du financeur,
    sans modèle d'acte) : l'acte préparé ensuite continue la même série."""
    from cdv.grants.acts import default_prefix, reference_for
    from cdv.grants.models import GrantAct

    acts = GrantAct.objects.filter(funder__call__in=calls(nantes)).select_related(
        "funder__partner", "funder__call"
    )
    assert acts.exists()
    for act in acts:
        assert act.reference == reference_for(
            default_prefix(act.funder.partner), act.funder.call.year, act.number
        )
