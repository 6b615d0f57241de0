"""Prépare la base SQLite des tests navigateur (lancé dans un sous-processus par conftest.py).

Usage : ``python tests/browser/prepare_db.py FICHIER.sqlite3 FICHIER.json``

Migre, charge les données de référence et la démonstration, donne un mot de passe au référent
partenaire de démonstration, ajoute un pilote et ouvre la campagne de suivi annuel 2025 (pour
que le référent ait un bilan à remplir), puis écrit dans le JSON les identifiants réels dont les
tests ont besoin (codes, slugs, clés). Le fichier SQLite est laissé en journal classique (pas de WAL)
pour pouvoir être copié tel quel.
"""

import json
import os
import sqlite3
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
EDITOR_EMAIL = "referent.tremplin@example.org"
EDITOR_PASSWORD = "navigateur-mot-de-passe-2024"
PILOT_EMAIL = "pilote.navigateur@example.org"
PILOT_PASSWORD = "navigateur-pilote-2024-mdp"
OPERATOR_EMAIL = "operateur.navigateur@example.org"
OPERATOR_PASSWORD = "navigateur-operateur-2024-mdp"
# Comptes de la démonstration qui reçoivent un mot de passe connu : conseil citoyen, évaluatrice.
COUNCIL_PASSWORD = "navigateur-conseil-2024-mdp"
EVALUATOR_PASSWORD = "navigateur-evaluation-2024-mdp"
# Comptes de l'appel à projets (demo_grants.py) : un mot de passe connu, commun.
AAP_PASSWORD = "navigateur-aap-2026-mdp"
REVIEW_YEAR = 2025


def main(db_path: str, json_path: str) -> None:
    sys.path.insert(0, str(BASE_DIR))
    os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import datetime

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("load_reference_data", verbosity=0)
    call_command("load_demo_data", verbosity=0)

    from cdv.commitments.enums import PUBLIC_STATUSES, CommitmentStatus
    from cdv.commitments.models import Commitment
    from cdv.contracts.models import Contract
    from cdv.indicators.models import Indicator
    from cdv.monitoring.models import Meeting, ReviewCampaign
    from cdv.monitoring.services import open_campaign
    from cdv.plan.models import Action
    from cdv.users.enums import Role
    from cdv.users.models import Membership, User

    slug = os.environ.get("DEFAULT_CONTRACT_SLUG", "nantes-metropole-2024-2030")
    contract = Contract.objects.get(slug=slug)
    editor = User.objects.get(email=EDITOR_EMAIL)
    editor.set_password(EDITOR_PASSWORD)
    editor.save()
    membership = editor.memberships.get(contract=contract, role=Role.EDITOR)
    partner = membership.partner

    # Un quartier qui a des actions propres (pas seulement métropolitaines).
    action = (
        Action.objects.for_contract(contract)
        .filter(qpvs__isnull=False)
        .order_by("objective__enjeu__number", "pk")
        .first()
    )
    qpv = action.qpvs.order_by("code").first()
    enjeu = contract.enjeux.order_by("number").first()
    # L'indicateur le plus riche : courbes, quartiers côte à côte, un graphique par quartier.
    indicator = Indicator.objects.filter(contract=contract).order_by("-is_demo", "code").first()
    meeting = Meeting.objects.filter(contract=contract).order_by("date", "pk").first()
    public_commitment = (
        Commitment.objects.filter(contract=contract, status__in=PUBLIC_STATUSES).order_by("pk").first()
    )
    draft = (
        Commitment.objects.filter(contract=contract, partner=partner, status=CommitmentStatus.DRAFT)
        .order_by("pk")
        .first()
    )
    pilot = User.objects.create_user(email=PILOT_EMAIL, password=PILOT_PASSWORD, first_name="Pilote")
    Membership.objects.create(user=pilot, contract=contract, role=Role.PILOT)
    operator = User.objects.create_superuser(
        email=OPERATOR_EMAIL, password=OPERATOR_PASSWORD, first_name="Opérateur"
    )
    # L'opérateur s'accorde la lecture inter-contrats de l'État signataire : la vue de l'État.
    from cdv.contracts.models import Signatory
    from cdv.partners.enums import PartnerKind
    from cdv.users.models import CrossContractReader

    state_signature = Signatory.objects.filter(contract=contract, partner__kind=PartnerKind.STATE).first()
    if state_signature is not None:
        CrossContractReader.objects.create(
            user=operator, partner=state_signature.partner, granted_by=operator
        )
    from cdv.seed.demo_evaluation import DERVALLIERES_MEMBER_EMAIL, EVALUATOR_EMAIL

    for email, password in (
        (DERVALLIERES_MEMBER_EMAIL, COUNCIL_PASSWORD),
        (EVALUATOR_EMAIL, EVALUATOR_PASSWORD),
    ):
        person = User.objects.get(email=email)
        person.set_password(password)
        person.save()
    deadline = datetime.date.today() + datetime.timedelta(days=90)
    # La démonstration a déjà ouvert le suivi 2025 (en cours) : on s'en sert ; sinon on l'ouvre.
    campaign = ReviewCampaign.objects.filter(contract=contract, year=REVIEW_YEAR).first() or open_campaign(
        user=pilot, contract=contract, year=REVIEW_YEAR, deadline=deadline
    )
    # Le référent rédige aussi pour le partenaire qui a un engagement en cours : un bilan à remplir.
    report = campaign.reports.select_related("partner").filter(state="BROUILLON").order_by("pk").first()
    if report is not None and report.partner_id != partner.pk:
        Membership.objects.create(user=editor, contract=contract, role=Role.EDITOR, partner=report.partner)
    # Des notifications pour le référent : une lue, une non lue (page « Mes notifications »).
    from django.utils import timezone

    from cdv.notifications.models import Notification

    Notification.objects.bulk_create(
        Notification(
            recipient=editor,
            contract=contract,
            kind="BILAN_RENVOYE",
            text=f"Le pilote a renvoyé pour complément un bilan {REVIEW_YEAR} (notification {n}).",
            url=f"/contrats/{contract.slug}/suivi/",
            read_at=timezone.now() if n == 1 else None,
        )
        for n in (1, 2)
    )
    data = {
        "contract": contract.slug,
        "qpv": qpv.code,
        "enjeu": enjeu.slug,
        "enjeu_id": enjeu.pk,
        "objective_id": enjeu.objectives.order_by("number").first().pk,
        "indicator": indicator.code,
        "action": action.pk,
        "partner": partner.slug,
        "meeting": meeting.pk if meeting else None,
        "public_commitment": public_commitment.pk if public_commitment else None,
        "draft_commitment": draft.pk if draft else None,
        "review_year": REVIEW_YEAR,
        "report": report.pk if report else None,
        "report_partner": report.partner.slug if report else None,
        "editor_email": EDITOR_EMAIL,
        "editor_password": EDITOR_PASSWORD,
        "pilot_email": PILOT_EMAIL,
        "pilot_password": PILOT_PASSWORD,
        "operator_email": OPERATOR_EMAIL,
        "operator_password": OPERATOR_PASSWORD,
        "council_email": DERVALLIERES_MEMBER_EMAIL,
        "council_password": COUNCIL_PASSWORD,
        "evaluator_email": EVALUATOR_EMAIL,
        "evaluator_password": EVALUATOR_PASSWORD,
    }
    data.update(aap_data(contract, pilot))
    save_database(db_path, json_path, data)


def aap_data(contract, pilot) -> dict:
    """Les repères de l'appel à projets de la démonstration : l'appel ouvert au dépôt, l'appel voté,
    un appel en préparation (copié par le pilote), et les dossiers que chaque rôle ouvre ; les
    comptes de l'AAP reçoivent un mot de passe connu. Les objets sont cherchés, pas supposés."""
    from django.utils import timezone

    from cdv.grants.enums import DECIDED_LINE_STATUSES, ApplicationStatus, ProjectScope
    from cdv.grants.models import Application, Call, FunderLine
    from cdv.grants.services.calls import copy_call
    from cdv.grants.services.instruction import request_information
    from cdv.seed.demo_grants import (
        APPLICANT_EMAIL,
        COMMITTEE_EMAIL,
        CORRESPONDENT_EMAIL,
        CORRESPONDENT_QPV,
        METROPOLE_INSTRUCTOR_EMAIL,
        PREFECT_DELEGATE_EMAIL,
        STATE_INSTRUCTOR_EMAIL,
    )
    from cdv.users.enums import Role
    from cdv.users.models import Membership, User

    today = timezone.localdate()
    calls = list(Call.objects.filter(contract=contract).order_by("year"))
    open_call = next(c for c in calls if c.is_open_on(today))
    voted_call = next(c for c in calls if c.committee_held_at is not None)
    draft_call = copy_call(user=pilot, call=open_call, year=max(c.year for c in calls) + 1)

    accounts = {}
    for key, email in (
        ("applicant", APPLICANT_EMAIL),
        ("instructor", STATE_INSTRUCTOR_EMAIL),
        ("instructor2", METROPOLE_INSTRUCTOR_EMAIL),
        ("correspondent", CORRESPONDENT_EMAIL),
        ("delegate", PREFECT_DELEGATE_EMAIL),
        ("committee", COMMITTEE_EMAIL),
    ):
        person = User.objects.get(email=email)
        person.set_password(AAP_PASSWORD)
        person.save()
        accounts[f"{key}_email"], accounts[f"{key}_password"] = email, AAP_PASSWORD
    applicant = User.objects.get(email=APPLICANT_EMAIL)
    association = Membership.objects.get(user=applicant, contract=contract, role=Role.APPLICANT).partner
    state = Membership.objects.get(user__email=STATE_INSTRUCTOR_EMAIL, contract=contract).partner

    mine = Application.objects.filter(partner=association)
    draft = mine.filter(call=open_call, status=ApplicationStatus.DRAFT).order_by("pk").first()
    decided = mine.filter(call=voted_call, status=ApplicationStatus.DECIDED).order_by("pk").first()
    # Un dossier de l'association rendu pour compléments (réponse) : l'instructeur de l'État le
    # demande, par le service, sur un de ses dossiers déposés.
    returned = mine.filter(call=open_call, status=ApplicationStatus.RETURNED).order_by("pk").first()
    if returned is None:
        returned = mine.filter(call=open_call, status=ApplicationStatus.SUBMITTED).order_by("pk").first()
        request_information(
            user=User.objects.get(email=STATE_INSTRUCTOR_EMAIL),
            application=returned,
            funder=open_call.funders.get(partner=state),
            questions="Combien de familles ont participé l'an dernier ? (tests navigateur)",
        )
    # Un dossier déposé d'une autre association, dans le quartier du correspondant, dont la ligne de
    # l'État est encore à instruire : instruction, ligne, avis, notes, demande de compléments.
    instructed = (
        Application.objects.filter(call=open_call, status=ApplicationStatus.SUBMITTED, scope=ProjectScope.QPV)
        .exclude(partner=association)
        .filter(qpvs__code=CORRESPONDENT_QPV, funder_lines__funder__partner=state)
        .exclude(funder_lines__status__in=DECIDED_LINE_STATUSES)
        .order_by("pk")
        .first()
    )
    line = FunderLine.objects.get(application=instructed, funder__partner=state)
    # Après le vote : une ligne de l'État votée, avec son acte, d'un dossier de l'association si
    # possible (acte, versements) ; un compte-rendu transmis que l'État examine.
    from cdv.grants.enums import LineStatus, ReportStatus

    voted_lines = FunderLine.objects.filter(
        application__call=voted_call, status=LineStatus.VOTED, voted_amount__gt=0, funder__partner=state
    ).filter(act__isnull=False)
    followed = (
        voted_lines.filter(application__partner=association).order_by("pk").first()
        or voted_lines.order_by("pk").first()
    )
    reviewed = (
        Application.objects.filter(
            call=voted_call,
            final_report__status=ReportStatus.SUBMITTED,
            funder_lines__funder__partner=state,
            funder_lines__status=LineStatus.VOTED,
        )
        .order_by("pk")
        .first()
    )
    # Un dossier décidé de l'association dont le compte-rendu n'est pas commencé (l'action finit
    # dans deux mois : rien n'est en retard) : les pages du compte-rendu s'ouvrent en saisie.
    reporting = _reporting_application(voted_call, association, state, today)
    return {
        "aap_reporting": reporting.pk,
        "aap_followed": followed.application_id,
        "aap_followed_line": followed.pk,
        "aap_reviewed": reviewed.pk,
        "aap_state_partner": state.slug,
        **accounts,
        "aap_year": open_call.year,
        "aap_voted_year": voted_call.year,
        "aap_draft_year": draft_call.year,
        "aap_partner": association.slug,
        "aap_draft": draft.pk,
        "aap_decided": decided.pk,
        "aap_returned": returned.pk,
        "aap_instructed": instructed.pk,
        "aap_state_line": line.pk,
    }


def _reporting_application(call, association, state, today):
    import datetime
    from decimal import Decimal

    from cdv.grants.enums import ApplicationStatus, LineStatus
    from cdv.grants.models import Application, BudgetLine, FunderLine

    call.last_number += 1
    call.save(update_fields=["last_number"])
    application = Application.objects.create(
        call=call,
        partner=association,
        status=ApplicationStatus.DECIDED,
        number=f"{call.year}-{call.last_number:04d}",
        title="Soutien scolaire du soir (compte-rendu à remplir, tests navigateur)",
        summary="Un soutien scolaire le soir pour les collégiens du quartier.",
        beneficiaries=30,
        qpv_share=Decimal("80"),
        start_date=today - datetime.timedelta(days=120),
        end_date=today + datetime.timedelta(days=60),
        submitted_at=call.committee_held_at - datetime.timedelta(days=60),
    )
    application.qpvs.set(association.applications.filter(qpvs__isnull=False).first().qpvs.all()[:1])
    BudgetLine.objects.create(
        application=application, account="64", label="Animateur", amount=Decimal("3000")
    )
    FunderLine.objects.create(
        application=application,
        funder=call.funders.get(partner=state),
        status=LineStatus.VOTED,
        requested_amount=Decimal("3000"),
        voted_amount=Decimal("3000"),
        decision_date=call.committee_held_at.date(),
        decision_reference=f"CF-{call.year}-NAVIGATEUR",
    )
    return application


def save_database(db_path: str, json_path: str, data: dict) -> None:
    """Ferme la base préparée en un seul fichier (copiable) et écrit ses repères à côté."""
    from django.db import connection

    connection.close()
    with sqlite3.connect(db_path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("PRAGMA journal_mode=DELETE")
    Path(json_path).write_text(json.dumps(data, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
