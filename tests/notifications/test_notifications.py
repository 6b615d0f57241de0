"""Notifications : dans l'espace de chacun et par courriel (immédiat, résumé quotidien, désactivé),
à chaque moment qui compte (campagne ouverte, relances, engagements, bilans, retours, décisions),
et « Relancer maintenant » du pilote."""

import datetime
import io
import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cdv.commitments import services as commitment_services
from cdv.commitments.enums import CommitmentStatus as S
from cdv.monitoring import feedback as feedback_services
from cdv.monitoring import meetings as meeting_services
from cdv.monitoring import services as review_services
from cdv.monitoring.enums import FeedbackKind, MeetingKind, ReportState
from cdv.notifications import services
from cdv.notifications.enums import Delivery, NotificationKind
from cdv.notifications.models import Notification
from cdv.users.enums import Role
from tests import factories
from tests.monitoring import test_review_cycle as cycle
from tests.monitoring.test_review_cycle import COMPLETE, YEAR, open_2025, report_of, set_state

# Le monde du suivi annuel (contrat de Nantes, partenaires A et B, une personne par rôle) et le dossier
# jetable des marqueurs de relance.
world = cycle.world
built_world = cycle.built_world
media = cycle.media

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_demo_reviews")]

SITE = "https://cdv.example.org"
SERVED = "http://testserver"  # l'hôte des requêtes du client de test


@pytest.fixture(autouse=True)
def site_url():
    with override_settings(SITE_URL=SITE):
        yield


def to(email):
    return [m for m in mail.outbox if m.to == [email]]


def link_of(message):
    return re.findall(r"https?://\S+", message.body)


def prefer(user, kind, delivery):
    services.set_preferences(user=user, choices={kind: delivery})


# --- Chaque nature : un courriel immédiat avec un lien absolu vers le site servi -------------------


def test_campaign_opened_writes_to_the_referents_of_the_partners_concerned(client, world):
    users = world["users"]
    client.force_login(users["pilot"])
    deadline = timezone.localdate() + datetime.timedelta(days=30)
    response = client.post(
        reverse("www:review_campaigns", args=[world["nantes"].slug]),
        {"year": YEAR, "deadline": deadline.isoformat()},
    )
    assert response.status_code == 302
    recipients = {m.to[0] for m in mail.outbox}
    assert {users["editor_a"].email, users["editor_b"].email} <= recipients
    for name in ("reader_a", "council", "pilot", "evaluator", "pilot_other"):
        assert users[name].email not in recipients
    (message,) = to(users["editor_a"].email)
    assert message.subject == f"Ouverture d'une campagne de bilans — {world['nantes'].title}"
    assert f"avant le {deadline:%d/%m/%Y}" in message.body
    assert SERVED + reverse("www:review_campaigns", args=[world["nantes"].slug]) in link_of(message)
    notification = Notification.objects.get(recipient=users["editor_a"])
    assert notification.kind == NotificationKind.CAMPAIGN_OPENED and notification.emailed_at is not None
    assert notification.read_at is None and notification.url.startswith(SERVED + "/")


def test_commitment_proposed_writes_to_the_pilots(world):
    users, nantes = world["users"], world["nantes"]
    second_pilot = factories.MembershipFactory(contract=nantes, role=Role.PILOT).user
    draft = world["commitments"]["a_draft"]
    commitment_services.propose(user=users["editor_a"], commitment=draft)
    assert {m.to[0] for m in mail.outbox} >= {users["pilot"].email, second_pilot.email}
    assert not to(users["editor_a"].email) and not to(users["pilot_other"].email)
    (message,) = to(users["pilot"].email)
    assert message.subject.startswith("Engagement proposé par un partenaire")
    assert "Partenaire A propose l'engagement « Projet en brouillon »" in message.body
    # Hors requête (commande, tâche) : le lien pointe vers SITE_URL.
    assert SITE + reverse("www:commitment", args=[nantes.slug, draft.pk]) in link_of(message)


def test_commitment_validated_and_returned_write_to_the_partner_referents(client, world):
    users, nantes = world["users"], world["nantes"]
    commitment = factories.CommitmentFactory(
        contract=nantes, partner=world["a"], status=S.PROPOSED, title="Jardin partagé"
    )
    client.force_login(users["pilot"])
    url = reverse("www:commitment_transition", args=[nantes.slug, commitment.pk, "valider"])
    assert client.post(url).status_code == 302
    assert [m.to[0] for m in mail.outbox] == [users["editor_a"].email]
    (message,) = mail.outbox
    assert message.subject.startswith("Engagement validé par le pilote")
    assert "Le pilote a validé l'engagement « Jardin partagé » de Partenaire A." in message.body
    assert SERVED + reverse("www:commitment", args=[nantes.slug, commitment.pk]) in link_of(message)
    mail.outbox.clear()
    url = reverse("www:commitment_transition", args=[nantes.slug, commitment.pk, "renvoyer"])
    assert client.post(url, {"comment": "Précisez le public visé."}).status_code == 302
    (message,) = mail.outbox
    assert message.to == [users["editor_a"].email]
    assert message.subject.startswith("Engagement renvoyé par le pilote")
    assert "« Précisez le public visé. »" in message.body


def test_bulk_transition_sends_one_message_per_partner(world):
    users, nantes = world["users"], world["nantes"]
    a1 = factories.CommitmentFactory(contract=nantes, partner=world["a"], status=S.PROPOSED, title="Lot un")
    a2 = factories.CommitmentFactory(contract=nantes, partner=world["a"], status=S.PROPOSED, title="Lot deux")
    b1 = factories.CommitmentFactory(
        contract=nantes, partner=world["b"], status=S.PROPOSED, title="Lot trois"
    )
    commitment_services.bulk_transition(
        user=users["pilot"], contract=nantes, commitment_ids=[a1.pk, a2.pk, b1.pk], action="validate"
    )
    (to_a,) = to(users["editor_a"].email)
    (to_b,) = to(users["editor_b"].email)
    assert "les engagements « Lot un », « Lot deux »" in to_a.body and "Lot trois" not in to_a.body
    assert SITE + reverse("www:partner_space", args=[nantes.slug, world["a"].slug]) in link_of(to_a)
    assert "l'engagement « Lot trois »" in to_b.body
    mail.outbox.clear()
    for c in (a1, a2):
        c.status = S.PROPOSED
        c.save()
    commitment_services.bulk_transition(
        user=users["pilot"],
        contract=nantes,
        commitment_ids=[a1.pk, a2.pk],
        action="return",
        comment="À revoir.",
    )
    (message,) = mail.outbox
    assert message.to == [users["editor_a"].email] and "« À revoir. »" in message.body


def test_report_accepted_and_returned_write_to_the_partner_referents(client, world):
    users, nantes = world["users"], world["nantes"]
    campaign = open_2025(world)
    mail.outbox.clear()
    report = report_of(campaign, world["commitments"]["a_confirmed"])
    review_services.save_report(user=users["editor_a"], report=report, expected_version=1, data=COMPLETE)
    review_services.submit_report(user=users["editor_a"], report=report)
    client.force_login(users["pilot"])
    url = reverse("www:review_return", args=[nantes.slug, YEAR, report.pk])
    assert client.post(url, {"comment": "Ajoutez les ETP."}).status_code == 302
    (message,) = mail.outbox
    assert message.to == [users["editor_a"].email]
    assert message.subject.startswith("Bilan renvoyé pour complément")
    assert "« Ateliers numériques »" in message.body and "« Ajoutez les ETP. »" in message.body
    assert SERVED + reverse("www:review_report", args=[nantes.slug, YEAR, report.pk]) in link_of(message)
    mail.outbox.clear()
    set_state(campaign, world["commitments"]["a_confirmed"], ReportState.SUBMITTED)
    assert client.post(reverse("www:review_accept", args=[nantes.slug, YEAR, report.pk])).status_code == 302
    (message,) = mail.outbox
    assert message.to == [users["editor_a"].email] and message.subject.startswith("Bilan accepté")


def test_feedback_published_writes_to_its_author(world):
    users, nantes = world["users"], world["nantes"]
    feedback = feedback_services.post_feedback(
        user=users["council"],
        contract=nantes,
        kind=FeedbackKind.NEED,
        text="Il manque un local pour les jeunes.",
    )
    assert mail.outbox == []
    feedback_services.publish_feedback(user=users["pilot"], feedback=feedback)
    (message,) = mail.outbox
    assert message.to == [users["council"].email]
    assert message.subject.startswith("Publication de votre retour d'expérience")
    assert SITE + reverse("www:my_feedback", args=[nantes.slug]) in link_of(message)


def test_decision_entrusted_to_a_partner_writes_to_its_referents(world):
    users, nantes = world["users"], world["nantes"]
    meeting = meeting_services.create_meeting(
        user=users["pilot"],
        contract=nantes,
        data={"kind": MeetingKind.COPIL, "title": "COPIL de printemps", "date": datetime.date(2026, 4, 2)},
    )
    meeting_services.create_decision(user=users["pilot"], meeting=meeting, data={"text": "Sans porteur."})
    assert mail.outbox == []
    decision = meeting_services.create_decision(
        user=users["pilot"],
        meeting=meeting,
        data={
            "text": "Ouvrir une permanence le samedi.",
            "owner": world["a"],
            "due_on": datetime.date(2026, 6, 30),
        },
    )
    (message,) = mail.outbox
    assert message.to == [users["editor_a"].email]
    assert message.subject.startswith("Décision d'instance confiée à votre organisation")
    assert "décision confiée à Partenaire A, échéance le 30/06/2026" in message.body
    assert SITE + reverse("www:meeting", args=[nantes.slug, meeting.pk]) in link_of(message)
    # Modifier le suivi sans changer de porteur ne réécrit pas ; la confier à B prévient B.
    meeting_services.update_decision(
        user=users["pilot"], decision=decision, data={"follow_up": "Local trouvé."}
    )
    assert len(mail.outbox) == 1
    meeting_services.update_decision(user=users["pilot"], decision=decision, data={"owner": world["b"]})
    assert [m.to for m in mail.outbox[1:]] == [[users["editor_b"].email]]


def test_deadline_reminders_are_notifications_too(world):
    users = world["users"]
    open_2025(world, opens_on=datetime.date(2026, 1, 5), deadline=datetime.date(2026, 3, 31))
    mail.outbox.clear()
    call_command("send_review_reminders", "--date", "2026-03-24", stdout=io.StringIO())  # J-7
    (message,) = to(users["editor_a"].email)
    assert message.subject.startswith(f"Bilans {YEAR} à transmettre avant le 31/03/2026")
    assert SITE + reverse(
        "www:review_partner", args=[world["nantes"].slug, YEAR, world["a"].slug]
    ) in link_of(message)
    notification = Notification.objects.get(
        recipient=users["editor_a"], kind=NotificationKind.REVIEW_REMINDER
    )
    assert "à transmettre au pilote avant le 31/03/2026" in notification.text
    call_command("send_review_reminders", "--date", "2026-03-30", stdout=io.StringIO())  # J-1
    assert "demain" in to(users["editor_a"].email)[-1].subject
    assert (
        Notification.objects.filter(
            recipient=users["editor_a"], kind=NotificationKind.REVIEW_REMINDER
        ).count()
        == 2
    )


# --- Préférences et résumé quotidien -------------------------------------------------------------


def digest():
    out = io.StringIO()
    call_command("send_notification_digest", stdout=out)
    return out.getvalue()


def test_digest_groups_pending_notifications_once_and_skips_disabled_kinds(world):
    users, nantes = world["users"], world["nantes"]
    editor = users["editor_a"]
    prefer(editor, NotificationKind.COMMITMENT_VALIDATED, Delivery.DIGEST)
    prefer(editor, NotificationKind.COMMITMENT_RETURNED, Delivery.DIGEST)
    prefer(editor, NotificationKind.DECISION, Delivery.OFF)
    one = factories.CommitmentFactory(
        contract=nantes, partner=world["a"], status=S.PROPOSED, title="Premier projet"
    )
    two = factories.CommitmentFactory(
        contract=nantes, partner=world["a"], status=S.PROPOSED, title="Second projet"
    )
    commitment_services.validate(user=users["pilot"], commitment=one)
    commitment_services.return_to_partner(user=users["pilot"], commitment=two, comment="Chiffrez-le.")
    meeting = meeting_services.create_meeting(
        user=users["pilot"],
        contract=nantes,
        data={"kind": MeetingKind.COPIL, "title": "COPIL", "date": datetime.date(2026, 4, 2)},
    )
    meeting_services.create_decision(
        user=users["pilot"], meeting=meeting, data={"text": "Décision désactivée.", "owner": world["a"]}
    )
    assert mail.outbox == []  # rien d'immédiat
    # Dans l'espace : les deux notifications du résumé, pas la nature désactivée.
    assert set(Notification.objects.filter(recipient=editor).values_list("kind", flat=True)) == {
        NotificationKind.COMMITMENT_VALIDATED,
        NotificationKind.COMMITMENT_RETURNED,
    }
    output = digest()
    (message,) = mail.outbox
    assert message.to == [editor.email] and "2 notifications" in message.subject
    assert "Premier projet" in message.body and "Second projet" in message.body
    assert "Décision désactivée" not in message.body
    assert SITE + reverse("www:commitment", args=[nantes.slug, one.pk]) in link_of(message)
    assert "1 courriel(s) envoyé(s)" in output
    # Une seconde exécution n'envoie rien de plus.
    assert "0 courriel(s)" in digest()
    assert len(mail.outbox) == 1
    assert not Notification.objects.filter(recipient=editor, emailed_at__isnull=True).exists()


def test_disabling_a_kind_drops_what_waited_for_the_digest(world):
    users, nantes = world["users"], world["nantes"]
    editor = users["editor_a"]
    prefer(editor, NotificationKind.COMMITMENT_VALIDATED, Delivery.DIGEST)
    commitment_services.validate(
        user=users["pilot"],
        commitment=factories.CommitmentFactory(
            contract=nantes, partner=world["a"], status=S.PROPOSED, title="Attente"
        ),
    )
    prefer(editor, NotificationKind.COMMITMENT_VALIDATED, Delivery.OFF)
    digest()
    assert mail.outbox == []


def test_preferences_are_respected_per_person(world):
    users, nantes = world["users"], world["nantes"]
    second = factories.MembershipFactory(contract=nantes, partner=world["a"], role=Role.EDITOR).user
    prefer(second, NotificationKind.COMMITMENT_VALIDATED, Delivery.OFF)
    commitment_services.validate(
        user=users["pilot"],
        commitment=factories.CommitmentFactory(
            contract=nantes, partner=world["a"], status=S.PROPOSED, title="Pour un seul"
        ),
    )
    assert [m.to for m in mail.outbox] == [[users["editor_a"].email]]
    assert not Notification.objects.filter(recipient=second).exists()


def test_reminder_preferences_digest_or_off(world):
    users = world["users"]
    prefer(users["editor_a"], NotificationKind.REVIEW_REMINDER, Delivery.DIGEST)
    prefer(users["editor_b"], NotificationKind.REVIEW_REMINDER, Delivery.OFF)
    campaign = open_2025(world, opens_on=datetime.date(2026, 1, 5), deadline=datetime.date(2026, 3, 31))
    set_state(campaign, world["commitments"]["b_abandoned"], ReportState.DRAFT)
    mail.outbox.clear()
    out = io.StringIO()
    call_command("send_review_reminders", "--date", "2026-03-24", stdout=out)
    assert not to(users["editor_a"].email) and not to(users["editor_b"].email)
    assert "1 dans le résumé quotidien" in out.getvalue() and "1 relance(s) désactivée(s)" in out.getvalue()
    digest()
    (message,) = to(users["editor_a"].email)
    assert "Ateliers numériques" not in message.body  # le résumé cite la phrase, pas le courriel complet
    assert "à transmettre au pilote avant le 31/03/2026" in message.body


def test_notifications_page_lists_marks_read_and_saves_preferences(client, world):
    users, nantes = world["users"], world["nantes"]
    editor = users["editor_a"]
    for title in ("Un", "Deux"):
        commitment_services.validate(
            user=users["pilot"],
            commitment=factories.CommitmentFactory(
                contract=nantes, partner=world["a"], status=S.PROPOSED, title=title
            ),
        )
    foreign = Notification.objects.create(
        recipient=users["editor_b"], contract=nantes, kind=NotificationKind.DECISION, text="Pour B", url=SITE
    )
    client.force_login(editor)
    page = client.get(reverse("www:my_space")).content.decode()
    assert reverse("www:notifications") in page and "(2 non lues)" in page
    url = reverse("www:notifications")
    content = client.get(url).content.decode()
    assert "2 notifications non lues" in content and "« Un »" in content and "Pour B" not in content
    mine = Notification.objects.filter(recipient=editor).first()
    client.post(url, {"action": "read", "notification": [mine.pk, foreign.pk]})
    mine.refresh_from_db()
    foreign.refresh_from_db()
    assert mine.read_at is not None and foreign.read_at is None  # le numéro d'un autre ne change rien
    assert services.unread_count(editor) == 1
    client.post(url, {"action": "read_all"})
    assert services.unread_count(editor) == 0
    choices = {kind: Delivery.IMMEDIATE for kind in NotificationKind.values}
    choices[NotificationKind.DECISION] = Delivery.DIGEST
    response = client.post(url, {"action": "preferences", **choices})
    assert response.status_code == 302
    assert services.preferences_of(editor)[NotificationKind.DECISION] == Delivery.DIGEST
    response = client.post(url, {"action": "preferences", **{**choices, NotificationKind.DECISION: "JAMAIS"}})
    assert response.status_code == 200 and "Sélectionnez un choix valide" in response.content.decode()
    assert services.preferences_of(editor)[NotificationKind.DECISION] == Delivery.DIGEST


def test_notifications_page_queries_do_not_grow_with_the_list(client, world):
    nantes, editor = world["nantes"], world["users"]["editor_a"]

    def add(n):
        Notification.objects.bulk_create(
            Notification(
                recipient=editor, contract=nantes, kind=NotificationKind.DECISION, text=f"N{i}", url=SITE
            )
            for i in range(n)
        )

    client.force_login(editor)
    client.get(reverse("www:notifications"))  # première requête de la session, qui la date
    add(2)
    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse("www:notifications")).status_code == 200
    add(40)
    with CaptureQueriesContext(connection) as large:
        assert client.get(reverse("www:notifications")).status_code == 200
    assert len(large) == len(small) <= 12, [q["sql"] for q in large.captured_queries]


# --- Relancer maintenant -------------------------------------------------------------------------


def test_remind_now_preview_sends_nothing_then_confirm_sends(client, world):
    users, nantes = world["users"], world["nantes"]
    prefer(
        users["editor_a"], NotificationKind.REVIEW_REMINDER, Delivery.OFF
    )  # relance explicite : part quand même
    campaign = open_2025(world)
    set_state(campaign, world["commitments"]["b_progress"], ReportState.SUBMITTED)
    set_state(campaign, world["commitments"]["b_abandoned"], ReportState.ACCEPTED)
    mail.outbox.clear()
    client.force_login(users["pilot"])
    dashboard = client.get(reverse("www:review_campaign", args=[nantes.slug, YEAR])).content.decode()
    url = reverse("www:review_remind", args=[nantes.slug, YEAR])
    assert url in dashboard
    preview = client.get(url).content.decode()
    assert (
        mail.outbox == [] and not Notification.objects.filter(kind=NotificationKind.REVIEW_REMINDER).exists()
    )
    assert users["editor_a"].email in preview and "Partenaire A" in preview
    assert "Ateliers numériques" in preview and "Permanence emploi" in preview
    assert users["editor_b"].email not in preview  # B a tout transmis
    assert "Remplir les bilans : " + SERVED in preview  # le texte du courriel, liens vers le site servi
    response = client.post(url)
    assert response.status_code == 302
    (message,) = to(users["editor_a"].email)
    assert message.subject.startswith(f"Bilans {YEAR} à transmettre avant le")
    assert SERVED + reverse("www:review_partner", args=[nantes.slug, YEAR, world["a"].slug]) in link_of(
        message
    )
    assert not to(users["editor_b"].email)
    sent = len(mail.outbox)
    client.post(url)  # un second clic le même jour n'écrit pas deux fois
    assert len(mail.outbox) == sent


@pytest.mark.parametrize("name", ["editor_a", "evaluator", "pilot_other"])
def test_remind_now_is_for_the_pilot_only(client, world, name):
    open_2025(world)
    mail.outbox.clear()
    client.force_login(world["users"][name])
    url = reverse("www:review_remind", args=[world["nantes"].slug, YEAR])
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert mail.outbox == []


def test_deleting_the_account_erases_its_notifications_and_preferences(world):
    from cdv.users import privacy

    users, nantes = world["users"], world["nantes"]
    editor = users["editor_a"]
    prefer(editor, NotificationKind.DECISION, Delivery.DIGEST)
    commitment_services.validate(
        user=users["pilot"],
        commitment=factories.CommitmentFactory(
            contract=nantes, partner=world["a"], status=S.PROPOSED, title="Effacé"
        ),
    )
    assert Notification.objects.filter(recipient=editor).exists()
    privacy.anonymize(editor)
    assert not Notification.objects.filter(recipient=editor).exists()
    assert not editor.notification_preferences.exists()


@pytest.mark.django_db
def test_applicant_referents_are_the_active_aap_referents_of_the_associations():
    """Une seule fonction donne les référents AAP d'associations (dépôt, compléments, décisions,
    relances) : ni le référent « rédaction » du même partenaire, ni un compte inactif ou sans
    adresse, ni le référent d'un autre contrat."""
    contract = factories.ContractFactory()
    asso, other_asso = factories.PartnerFactory(), factories.PartnerFactory()

    def member(role, partner, **user):
        person = factories.UserFactory(**user)
        factories.MembershipFactory(user=person, contract=contract, role=role, partner=partner)
        return person

    both = member(Role.APPLICANT, asso, email="a@example.org")
    factories.MembershipFactory(user=both, contract=contract, role=Role.APPLICANT, partner=other_asso)
    only_other = member(Role.APPLICANT, other_asso, email="b@example.org")
    member(Role.EDITOR, asso)
    member(Role.APPLICANT, asso, is_active=False)
    member(Role.APPLICANT, asso, email="")
    factories.MembershipFactory(role=Role.APPLICANT, partner=asso)

    assert services.applicant_referents(contract, [asso.pk]) == {both: [asso.pk]}
    assert services.applicant_referents(contract.pk, [asso.pk, other_asso.pk]) == {
        both: sorted([asso.pk, other_asso.pk]),
        only_other: [other_asso.pk],
    }
