"""Les services de l'instruction : chaque financeur n'écrit que sa ligne, les avis de quartier
viennent de qui couvre le quartier, le verrou optimiste ne perd rien, la demande de compléments
va dans l'historique et prévient l'association."""

from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied

from cdv.grants.enums import ApplicationStatus, EventKind, LineStatus, Opinion, OpinionKind
from cdv.grants.errors import ConflictError, GrantsError
from cdv.grants.models import ApplicationEvent, FunderLine, InfoRequest, QuartierOpinion, Score
from cdv.grants.services import instruction as services
from cdv.users.enums import Role
from tests.factories.grants import ScoringCriterionFactory

from .instruction_world import build_world, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def save_line(world, user, line, **overrides):
    values = {
        "version": line.version,
        "status": LineStatus.ADMISSIBLE,
        "proposed_amount": Decimal("1500"),
        "opinion": Opinion.FAVORABLE,
        "comment": "Projet solide.",
    }
    values.update(overrides)
    return services.update_funder_line(user=user, line=line, **values)


def test_instructor_writes_its_funder_line_and_leaves_an_event(world):
    line = save_line(world, world.instructor_a, world.line_a)
    line.refresh_from_db()
    assert line.status == LineStatus.ADMISSIBLE
    assert line.proposed_amount == Decimal("1500")
    assert line.version == 2
    assert line.updated_by == world.instructor_a
    event = ApplicationEvent.objects.get(application=world.application, kind=EventKind.LINE_UPDATED)
    assert event.funder == world.funder_a and event.actor == world.instructor_a


def test_instructor_of_another_funder_cannot_write_the_line(world):
    with pytest.raises(PermissionDenied):
        save_line(world, world.instructor_b, world.line_a)
    with pytest.raises(PermissionDenied):  # même l'instructeur de A sur la ligne de l'État
        save_line(world, world.instructor_a, world.line_state)
    world.line_a.refresh_from_db()
    assert world.line_a.version == 1 and world.line_a.proposed_amount is None


def test_prefect_delegate_writes_the_state_line_of_its_qpv_only(world):
    save_line(world, world.delegate, world.line_state)
    with pytest.raises(PermissionDenied):
        save_line(world, world.delegate, world.line_a)


@pytest.mark.parametrize(
    ("amount", "field_words"),
    [(Decimal("-1"), "négatif"), (Decimal("2000.01"), "montant demandé")],
)
def test_negative_or_excessive_proposed_amount_is_refused_and_changes_nothing(world, amount, field_words):
    with pytest.raises(GrantsError) as refusal:
        save_line(world, world.instructor_a, world.line_a, proposed_amount=amount)
    message = refusal.value.message_dict["proposed_amount"][0]
    assert message.startswith("Montant proposé") and field_words in message
    world.line_a.refresh_from_db()
    assert world.line_a.version == 1


def test_proposed_amount_never_above_the_envelope(world):
    world.funder_a.envelope = Decimal("1000")
    world.funder_a.save()
    with pytest.raises(GrantsError) as refusal:
        save_line(world, world.instructor_a, world.line_a, proposed_amount=Decimal("1200"))
    assert "enveloppe" in refusal.value.message_dict["proposed_amount"][0]


def test_status_outside_instruction_statuses_is_refused(world):
    with pytest.raises(GrantsError) as refusal:
        save_line(world, world.instructor_a, world.line_a, status=LineStatus.VOTED)
    assert "status" in refusal.value.message_dict


def test_concurrent_saves_conflict_listing_every_differing_field(world):
    second = world.instructor_a
    colleague = member(world.call.contract, Role.INSTRUCTOR, partner=world.funder_a.partner)
    loaded = FunderLine.objects.get(pk=world.line_a.pk)  # les deux ont chargé la version 1
    save_line(world, second, world.line_a, comment="Avis de la première.")
    with pytest.raises(ConflictError) as conflict:
        save_line(
            world,
            colleague,
            loaded,
            version=1,
            status=LineStatus.INSTRUCTING,
            proposed_amount=Decimal("900"),
            comment="Avis de la seconde.",
        )
    fields = {field: (saved, typed) for field, _, saved, typed in conflict.value.changes}
    assert fields == {
        "status": (LineStatus.ADMISSIBLE, LineStatus.INSTRUCTING),
        "proposed_amount": (Decimal("1500.00"), Decimal("900")),
        "comment": ("Avis de la première.", "Avis de la seconde."),
    }
    world.line_a.refresh_from_db()
    assert world.line_a.comment == "Avis de la première." and world.line_a.version == 2
    # En reprenant la version enregistrée, la seconde enregistre sa saisie.
    save_line(world, colleague, loaded, version=2, comment="Avis de la seconde.")
    world.line_a.refresh_from_db()
    assert world.line_a.comment == "Avis de la seconde." and world.line_a.version == 3


def test_correspondent_gives_opinion_for_its_qpv_only(world):
    opinion = services.give_quartier_opinion(
        user=world.correspondent,
        application=world.application,
        qpv=world.qpv,
        kind=OpinionKind.CORRESPONDENT,
        opinion=Opinion.RESERVED,
        comment="À articuler avec le centre social.",
        version=0,
    )
    assert opinion.author == world.correspondent
    assert ApplicationEvent.objects.filter(application=world.application, kind=EventKind.OPINION).exists()
    with pytest.raises(PermissionDenied):  # l'autre quartier ne concerne pas ce dossier
        services.give_quartier_opinion(
            user=world.other_correspondent,
            application=world.application,
            qpv=world.other_qpv,
            kind=OpinionKind.CORRESPONDENT,
            opinion=Opinion.FAVORABLE,
            comment="",
            version=0,
        )
    with pytest.raises(PermissionDenied):  # le correspondant ne donne pas l'avis du délégué
        services.give_quartier_opinion(
            user=world.correspondent,
            application=world.application,
            qpv=world.qpv,
            kind=OpinionKind.PREFECT_DELEGATE,
            opinion=Opinion.FAVORABLE,
            comment="",
            version=0,
        )
    assert QuartierOpinion.objects.filter(application=world.application).count() == 1


def test_second_opinion_from_a_stale_form_conflicts(world):
    kwargs = {"application": world.application, "qpv": world.qpv, "kind": OpinionKind.PREFECT_DELEGATE}
    services.give_quartier_opinion(
        user=world.delegate, opinion=Opinion.FAVORABLE, comment="", version=0, **kwargs
    )
    with pytest.raises(ConflictError) as conflict:
        services.give_quartier_opinion(
            user=world.delegate, opinion=Opinion.UNFAVORABLE, comment="Non.", version=0, **kwargs
        )
    assert {c[0] for c in conflict.value.changes} == {"opinion", "comment"}


def test_scores_within_the_scale_and_refused_above(world):
    criterion = ScoringCriterionFactory(call=world.call, scale_max=5, label="Ancrage local")
    services.save_scores(user=world.instructor_a, application=world.application, scores={criterion: (4, "")})
    assert Score.objects.get(application=world.application).value == 4
    with pytest.raises(GrantsError) as refusal:
        services.save_scores(
            user=world.instructor_a, application=world.application, scores={criterion: (6, "")}
        )
    assert "Ancrage local" in refusal.value.messages[0]
    assert Score.objects.get(application=world.application).value == 4
    with pytest.raises(PermissionDenied):
        services.save_scores(user=world.referent, application=world.application, scores={criterion: (1, "")})


def test_info_request_returns_the_application_emails_referents_and_goes_into_history(world, settings):
    request = services.request_information(
        user=world.instructor_a,
        application=world.application,
        funder=world.funder_a,
        questions="Combien de séances ?",
    )
    world.application.refresh_from_db()
    assert world.application.status == ApplicationStatus.RETURNED
    assert (
        InfoRequest.objects.get(application=world.application) == request
        and request.asked_by == world.instructor_a
    )
    event = ApplicationEvent.objects.get(application=world.application, kind=EventKind.INFO_REQUESTED)
    assert "Combien de séances ?" in event.message
    assert [m.to for m in mail.outbox] == [[world.referent.email]]
    # Rendu, le dossier n'accepte pas une seconde demande tant que l'association n'a pas répondu.
    with pytest.raises(PermissionDenied):
        services.request_information(
            user=world.instructor_a, application=world.application, funder=world.funder_a, questions="Et ?"
        )


def test_info_request_refused_for_a_funder_one_does_not_instruct(world):
    with pytest.raises(PermissionDenied):
        services.request_information(
            user=world.instructor_a, application=world.application, funder=world.state, questions="?"
        )
    with pytest.raises(GrantsError):
        services.request_information(
            user=world.instructor_a, application=world.application, funder=world.funder_a, questions="  "
        )
    world.application.refresh_from_db()
    assert world.application.status == ApplicationStatus.SUBMITTED


def test_pilot_reads_but_does_not_write_a_funder_line(world):
    with pytest.raises(PermissionDenied):
        save_line(world, world.pilot, world.line_a)


def test_no_line_writing_after_the_committee_vote(world):
    from django.utils import timezone

    world.call.committee_held_at = timezone.now()
    world.call.save()
    with pytest.raises(PermissionDenied):
        save_line(world, world.instructor_a, world.line_a)


def test_correspondent_gives_opinion_on_a_whole_territory_project(world):
    from tests.factories.grants import ApplicationFactory

    whole = ApplicationFactory(
        call=world.call, submitted=True, whole_territory=True, funders=[world.funder_a]
    )
    services.give_quartier_opinion(
        user=world.other_correspondent,
        application=whole,
        qpv=world.other_qpv,
        kind=OpinionKind.CORRESPONDENT,
        opinion=Opinion.FAVORABLE,
        comment="",
        version=0,
    )
    assert QuartierOpinion.objects.filter(application=whole, qpv=world.other_qpv).exists()
