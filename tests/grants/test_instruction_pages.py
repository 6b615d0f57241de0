"""Les pages de l'instruction : file filtrée, dossier, ligne de financeur (403 pour un autre
financeur, conflit sans perte), avis de quartier, notes, demande de compléments, PDF ; requêtes
SQL bornées quel que soit le nombre de dossiers."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cdv.grants.enums import ApplicationStatus, LineStatus, OpinionKind
from cdv.grants.models import FunderLine, QuartierOpinion
from tests.document_checks import assert_pdf_ua_metadata
from tests.factories.grants import (
    ApplicationFactory,
    FunderLineFactory,
    InfoRequestFactory,
    QuartierOpinionFactory,
    ScoreFactory,
    ScoringCriterionFactory,
)
from tests.factories.plan import EnjeuFactory
from tests.worlds import built_once, fresh_copy

from .instruction_world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def built_world(django_db_setup, django_db_blocker):
    """Bâti une fois pour le fichier (tests/worlds.py) ; chaque test annule ce qu'il écrit."""
    with built_once(django_db_blocker):
        yield build_world()


@pytest.fixture
def world(built_world):
    """Les objets du monde, copiés pour le test : ce qu'il y change en mémoire reste à lui."""
    return fresh_copy(built_world)


def url(world, name, application=None, **extra):
    args = [world.call.contract.slug, world.call.year]
    if application is not None:
        args.append(application.pk)
    args.extend(extra.values())
    return reverse(f"www:{name}", args=args)


def line_post(line, **overrides):
    data = {
        "version": line.version,
        "status": LineStatus.ADMISSIBLE,
        "proposed_amount": "1 500,50 €",
        "opinion": "FAVORABLE",
        "comment": "Bien.",
    }
    data.update(overrides)
    return data


def test_instructor_saves_its_line_with_a_french_amount(client, world):
    client.force_login(world.instructor_a)
    target = url(world, "funder_line_edit", world.application, line=world.line_a.pk)
    assert client.get(target).status_code == 200
    response = client.post(target, line_post(world.line_a))
    assert response.status_code == 302
    world.line_a.refresh_from_db()
    assert world.line_a.proposed_amount == Decimal("1500.50")
    client.post(target, line_post(world.line_a, proposed_amount="1200.5"))
    world.line_a.refresh_from_db()
    assert world.line_a.proposed_amount == Decimal("1200.50")


@pytest.mark.parametrize(
    ("typed", "words"), [("-5", "négatif"), ("2 500 €", "montant demandé"), ("1.500", "ambigu")]
)
def test_bad_amounts_get_a_french_message_naming_the_field(client, world, typed, words):
    client.force_login(world.instructor_a)
    target = url(world, "funder_line_edit", world.application, line=world.line_a.pk)
    response = client.post(target, line_post(world.line_a, proposed_amount=typed))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Montant proposé" in text and words in text
    world.line_a.refresh_from_db()
    assert world.line_a.version == 1


def test_instructor_of_funder_a_gets_403_on_the_state_line(client, world):
    client.force_login(world.instructor_a)
    target = url(world, "funder_line_edit", world.application, line=world.line_state.pk)
    assert client.get(target).status_code == 403
    assert client.post(target, line_post(world.line_state)).status_code == 403
    world.line_state.refresh_from_db()
    assert world.line_state.version == 1


def test_instructor_cannot_see_applications_not_asking_its_funder(client, world):
    client.force_login(world.instructor_b)
    for name in ("application_instruction", "application_pdf", "request_info", "scores_edit"):
        assert client.get(url(world, name, world.application)).status_code == 404, name
    target = url(world, "funder_line_edit", world.application, line=world.line_a.pk)
    assert client.post(target, line_post(world.line_a)).status_code == 404
    response = client.get(url(world, "call_queue"))
    assert response.status_code == 200
    assert world.application.title not in response.content.decode()


def test_conflict_page_shows_every_differing_field_and_keeps_the_typed_values(client, world):
    client.force_login(world.instructor_a)
    target = url(world, "funder_line_edit", world.application, line=world.line_a.pk)
    FunderLine.objects.filter(pk=world.line_a.pk).update(
        version=2,
        status=LineStatus.TAKEN,
        comment="Enregistré par un collègue.",
        proposed_amount=Decimal("1000"),
    )
    response = client.post(target, line_post(world.line_a, comment="Ma saisie à garder."))
    assert response.status_code == 409
    text = response.content.decode()
    assert "Conflit de modification" in text
    shown_values = ("Pris en charge", "Recevable", "Enregistré par un collègue.", "Ma saisie à garder.")
    for shown in (*shown_values, "1\u202f000\u00a0€", "1\u202f500,50\u00a0€"):
        assert shown in text
    assert 'name="version" value="2"' in text
    world.line_a.refresh_from_db()
    assert world.line_a.comment == "Enregistré par un collègue."
    # Enregistrer de nouveau (version reprise) garde la saisie.
    assert (
        client.post(target, line_post(world.line_a, version=2, comment="Ma saisie à garder.")).status_code
        == 302
    )
    world.line_a.refresh_from_db()
    assert world.line_a.comment == "Ma saisie à garder."


def test_correspondent_of_another_qpv_sees_nothing(client, world):
    client.force_login(world.other_correspondent)
    assert client.get(url(world, "application_instruction", world.application)).status_code == 404
    assert client.get(url(world, "quartier_opinion", world.application)).status_code == 404


def test_correspondent_gives_its_opinion_through_the_page(client, world):
    client.force_login(world.correspondent)
    target = url(world, "quartier_opinion", world.application)
    assert client.get(target).status_code == 200
    response = client.post(
        target,
        {
            "target": f"{world.qpv.pk}:{OpinionKind.CORRESPONDENT}",
            f"version_{world.qpv.pk}_{OpinionKind.CORRESPONDENT}": 0,
            "opinion": "RESERVE",
            "comment": "Voir avec la maison de quartier.",
        },
    )
    assert response.status_code == 302
    opinion = QuartierOpinion.objects.get(application=world.application)
    assert opinion.author == world.correspondent and opinion.qpv == world.qpv
    # Un quartier qu'il ne couvre pas, forgé dans le formulaire : refusé, rien ne change.
    response = client.post(
        target, {"target": f"{world.other_qpv.pk}:{OpinionKind.CORRESPONDENT}", "opinion": "FAVORABLE"}
    )
    assert response.status_code == 200
    assert QuartierOpinion.objects.filter(application=world.application).count() == 1


def test_info_request_loop_shows_in_the_history(client, world):
    client.force_login(world.instructor_a)
    target = url(world, "request_info", world.application)
    response = client.post(target, {"funder": world.funder_a.pk, "questions": "Quel local ?"})
    assert response.status_code == 200 and "Je confirme" in response.content.decode()
    world.application.refresh_from_db()
    assert world.application.status == ApplicationStatus.SUBMITTED
    response = client.post(
        target, {"funder": world.funder_a.pk, "questions": "Quel local ?", "confirm": "on"}
    )
    assert response.status_code == 302
    world.application.refresh_from_db()
    assert world.application.status == ApplicationStatus.RETURNED
    # L'association répond (côté « applying ») : la réponse apparaît avec la question.
    request = world.application.info_requests.get()
    request.answer, request.answered_at, request.answered_by = "Le gymnase.", timezone.now(), world.referent
    request.save()
    text = client.get(url(world, "application_instruction", world.application)).content.decode()
    assert "Quel local ?" in text and "Le gymnase." in text and "Compléments demandés" in text


def test_scores_page_refuses_a_note_above_the_scale(client, world):
    criterion = ScoringCriterionFactory(call=world.call, scale_max=5, label="Pertinence")
    client.force_login(world.instructor_a)
    target = url(world, "scores_edit", world.application)
    response = client.post(target, {f"criterion_{criterion.pk}": "7"})
    assert response.status_code == 200 and "Pertinence : la note va de 0 à 5" in response.content.decode()
    assert client.post(target, {f"criterion_{criterion.pk}": "4"}).status_code == 302
    text = client.get(url(world, "application_instruction", world.application)).content.decode()
    assert "16,0 sur 20" in text or "16 sur 20" in text


def test_queue_filters(client, world):
    call = world.call
    enjeu = EnjeuFactory(contract=call.contract)
    other = ApplicationFactory(
        call=call, submitted=True, qpvs=[world.other_qpv], funders=[world.funder_a], enjeu=enjeu
    )
    FunderLine.objects.filter(application=other).update(
        requested_amount=Decimal("9000"), status=LineStatus.TAKEN
    )
    client.force_login(world.pilot)
    base = url(world, "call_queue")

    def titles(params):
        text = client.get(base, params).content.decode()
        return {a.title for a in (world.application, other) if a.title in text}

    both = {world.application.title, other.title}
    assert titles({}) == both
    assert titles({"status": LineStatus.TAKEN}) == {other.title}
    assert titles({"enjeu": enjeu.pk}) == {other.title}
    assert titles({"qpv": world.qpv.pk}) == {world.application.title}
    assert titles({"funder": world.state.pk}) == {world.application.title}
    assert titles({"min_amount": "5 000 €"}) == {other.title}
    assert titles({"max_amount": "4000,00"}) == {world.application.title}
    assert titles({"late": "on"}) == set()
    call.instruction_ends = timezone.localdate() - datetime.timedelta(days=1)
    call.save()
    assert titles({"late": "on"}) == both  # lignes encore « Transmis » / « Pris en charge »
    FunderLine.objects.filter(application=world.application).update(status=LineStatus.INSTRUCTING)
    assert titles({"late": "on"}) == {other.title}


def test_applicant_and_anonymous_cannot_open_the_queue(client, world):
    assert client.get(url(world, "call_queue")).status_code == 302  # connexion demandée
    client.force_login(world.referent)
    assert client.get(url(world, "call_queue")).status_code == 403
    assert client.get(url(world, "application_instruction", world.application)).status_code == 403


def _populate(world, count):
    criterion = ScoringCriterionFactory(call=world.call)
    for _ in range(count):
        application = ApplicationFactory(
            call=world.call, submitted=True, qpvs=[world.qpv], funders=[world.funder_a, world.state]
        )
        ScoreFactory(application=application, criterion=criterion)
        QuartierOpinionFactory(application=application, qpv=world.qpv)
    return application


@pytest.mark.parametrize("count", [3, 30])
def test_queue_queries_are_bounded(client, world, django_assert_max_num_queries, count):
    _populate(world, count)
    client.force_login(world.instructor_a)
    with django_assert_max_num_queries(16):
        response = client.get(url(world, "call_queue"), {"funder": world.funder_a.pk})
    assert response.status_code == 200
    assert response.content.decode().count("/instruction/") >= count


@pytest.mark.parametrize("count", [3, 30])
def test_application_page_queries_are_bounded(client, world, django_assert_max_num_queries, count):
    criterion = ScoringCriterionFactory(call=world.call)
    for _ in range(count):
        ScoreFactory(application=world.application, criterion=criterion)
        InfoRequestFactory(application=world.application, funder=world.funder_a)
    for funder in [world.funder_b] * 1:
        FunderLineFactory(application=world.application, funder=funder, transmitted=True)
    client.force_login(world.instructor_a)
    with django_assert_max_num_queries(20):
        response = client.get(url(world, "application_instruction", world.application))
    assert response.status_code == 200


def test_pdf_laid_out_like_the_cerfa(client, world):
    client.force_login(world.instructor_a)
    response = client.get(url(world, "application_pdf", world.application))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    application = world.application
    assert_pdf_ua_metadata(response.content, title=f"Dossier {application.number} — {application.title}")


def test_pdf_html_has_the_five_cerfa_sections_and_the_74_split(world):
    from django.template.loader import render_to_string

    from cdv.grants.documents import application_pdf_context

    html = render_to_string("grants/instruction/pdf.html", application_pdf_context(world.application))
    for section in ("1. Identification", "2. Relations", "3. Le projet", "4. Budget", "5. Déclaration"):
        assert section in html
    assert str(world.funder_a.partner) in html and str(world.state.partner) in html


def test_average_score_is_on_20_in_the_queue_and_on_the_page(client, world):
    on_five = ScoringCriterionFactory(call=world.call, scale_max=5)
    on_ten = ScoringCriterionFactory(call=world.call, scale_max=10)
    ScoreFactory(application=world.application, criterion=on_five, value=5)  # 20 sur 20
    ScoreFactory(application=world.application, criterion=on_ten, value=5)  # 10 sur 20
    client.force_login(world.pilot)
    assert '<td class="number">15</td>' in client.get(url(world, "call_queue")).content.decode()
    assert (
        "15 sur 20" in client.get(url(world, "application_instruction", world.application)).content.decode()
    )


def test_opinion_given_meanwhile_conflicts_and_keeps_the_typed_values(client, world):
    QuartierOpinionFactory(
        application=world.application, qpv=world.qpv, kind=OpinionKind.CORRESPONDENT, comment="Premier avis."
    )
    client.force_login(world.correspondent)
    response = client.post(
        url(world, "quartier_opinion", world.application),
        {
            "target": f"{world.qpv.pk}:{OpinionKind.CORRESPONDENT}",
            f"version_{world.qpv.pk}_{OpinionKind.CORRESPONDENT}": 0,  # chargé avant le premier avis
            "opinion": "DEFAVORABLE",
            "comment": "Mon avis à garder.",
        },
    )
    assert response.status_code == 409
    text = response.content.decode()
    for shown in ("Premier avis.", "Mon avis à garder.", "Favorable", "Défavorable"):
        assert shown in text
    assert QuartierOpinion.objects.get(application=world.application).comment == "Premier avis."


def test_counts_are_written_the_french_way_on_the_page_and_in_the_pdf(client, world):
    """1 200 bénéficiaires, 1 500 bénévoles : jamais « 1200 » (vu dans le navigateur)."""
    from django.template.loader import render_to_string

    from cdv.grants.documents import application_pdf_context

    type(world.application).objects.filter(pk=world.application.pk).update(beneficiaries=1200)
    type(world.application.partner).objects.filter(pk=world.application.partner_id).update(
        employees=1100, volunteers=1500
    )
    world.application.refresh_from_db()
    client.force_login(world.instructor_a)
    page = client.get(url(world, "application_instruction", world.application)).content.decode()
    assert "1\u202f200" in page and "1200" not in page
    html = render_to_string("grants/instruction/pdf.html", application_pdf_context(world.application))
    assert "1\u202f200" in html and "1\u202f100" in html and "1\u202f500" in html
    assert "1200" not in html and "1500" not in html
