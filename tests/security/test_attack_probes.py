"""Sondes inter-partenaires et inter-contrats des pages (hors engagements, que sonde
tests/security/permissions/) : chaque vue d'écriture, et chaque page qui montre par son
identifiant une donnée non publique, essayée par chaque rôle, puis avec des identifiants devinés,
forgés ou pris dans un autre contrat (dans l'URL, sous le nom d'un autre contrat, ou dans un champ
caché du formulaire).

Deux tables :

- ``ROLE_PROBES`` : une requête légitime sur un objet du partenaire A du contrat de Nantes, essayée
  par chaque rôle (anonyme, lecteur A, référent A, référent B, conseil citoyen, évaluateur, pilote
  d'un autre contrat, pilote). Qui a le droit réussit (le cas positif : la sonde ne passe pas à
  vide) ; les autres reçoivent un refus clair (403 « Action non autorisée », 404 « Page
  introuvable », ou la page de connexion pour l'anonyme), et la base n'a pas bougé ;
- ``FORGED_PROBES`` : une personne qui a des droits essaie un identifiant qui n'est pas le sien :
  objet d'un autre contrat sous l'URL de Nantes, objet de Nantes sous l'URL d'un autre contrat,
  objet du partenaire B, champ caché portant un partenaire, un engagement, un indicateur, un
  quartier, une instance d'ailleurs. Attendu : 404, 403, une erreur de formulaire sans aucune
  écriture, ou (pour un champ que le formulaire n'a pas) un champ ignoré.

« La base n'a pas bougé » : empreinte de toutes les tables des applications (historiques
django-simple-history compris), avant et après la requête ; un compteur d'écritures par table dit
d'abord lesquelles ont reçu une écriture, et l'empreinte n'est comparée que pour celles-là (une
table sans écriture n'a pas changé ; ``sent_and_undone``). Chaque essai est annulé, si bien que
les rôles d'une même sonde ne se gênent pas.
"""

import functools
import html
import io
import pickle
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from cdv.commitments.enums import CommitmentScope
from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from cdv.evaluation import services as evaluation_services
from cdv.evaluation.enums import Criterion, EvaluationKind, ItemKind, QuestionnaireStatus
from cdv.evaluation.models import Evaluation, Questionnaire
from cdv.monitoring import feedback as fb
from cdv.monitoring import meetings as mt
from cdv.monitoring import services as review_services
from cdv.monitoring import yearly
from cdv.monitoring.enums import DecisionStatus, FeedbackKind, MeetingKind, ReportState
from cdv.monitoring.models import Feedback, Meeting, ProgressReport
from cdv.partners.models import Partner
from cdv.seed.demo_evaluation import BELLEVUE, DERVALLIERES
from cdv.users.enums import Role
from cdv.users.services import create_api_token
from tests import factories
from tests.worlds import built_once, remove_demo_reviews

# Ces tests ouvrent leurs propres campagnes de suivi sur le contrat de Nantes : leur monde (plus bas)
# retire d'abord celles de la démonstration.
pytestmark = [pytest.mark.django_db, pytest.mark.demo]

ROLES = ["anonymous", "reader_a", "editor_a", "editor_b", "council", "evaluator", "pilot_other", "pilot"]
MEMBERS = frozenset({"reader_a", "editor_a", "editor_b", "council", "evaluator", "pilot"})
# Le non-publié du partenaire A (bilans, pièces jointes) : A (référent, lecteur), pilote, évaluateur.
PARTNER_A_READERS = frozenset({"reader_a", "editor_a", "evaluator", "pilot"})
# Tous partenaires confondus (pilotage, instantané de l'année) : pilote et évaluateur.
STEERING = frozenset({"evaluator", "pilot"})
YEAR = 2025
KIND = "mi-parcours"
PDF = b"%PDF-1.4\n% piece jointe de test\n"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- Le monde : deux contrats, deux partenaires, un objet de chaque sorte de chaque côté ----------


def build_world(nantes):
    """Nantes (données de démonstration) et un autre contrat, avec dans chacun ce que les sondes
    visent : engagements, campagne de bilans et pièces jointes, retours, instances et décisions,
    évaluation et questionnaires, traitements de géoréférencement, jetons d'API.

    Les lignes sont posées par les fabriques ; campagne, bilans, retours, instances et évaluation passent
    par les services, comme sur le site."""
    other = factories.ContractFactory(slug="autre-contrat-sondes", title="Autre contrat (sondes)")
    other_qpv = factories.QpvFactory(name="Quartier d'un autre contrat")
    other.qpvs.add(other_qpv)
    other_enjeu = factories.EnjeuFactory(contract=other, number=9)
    other_objective = factories.ObjectiveFactory(enjeu=other_enjeu, number=9)
    other_action = factories.ActionFactory(
        objective=other_objective, code="9.9.9", title="Action d'un autre contrat"
    )
    other_indicator = factories.IndicatorFactory(
        contract=other, code="indicateur-autre-contrat", name="Indicateur d'un autre contrat", unit="%"
    )
    a = factories.PartnerFactory(name="Partenaire A (sondes)")
    b = factories.PartnerFactory(name="Partenaire B (sondes)")
    outsider = factories.PartnerFactory(name="Partenaire hors contrat (sondes)")
    for contract in (nantes, other):
        for partner in (a, b):
            factories.SignatoryFactory(contract=contract, partner=partner)
    council = Partner.objects.get(name="Conseil citoyen des Dervallières (démonstration)")
    specs = {
        "pilot": (nantes, None, Role.PILOT),
        "editor_a": (nantes, a, Role.EDITOR),
        "editor_b": (nantes, b, Role.EDITOR),
        "reader_a": (nantes, a, Role.READER),
        "council": (nantes, council, Role.COUNCIL_MEMBER),
        "evaluator": (nantes, None, Role.EVALUATOR),
        "pilot_other": (other, None, Role.PILOT),
    }
    users = {"anonymous": None}
    for name, (contract, partner, role) in specs.items():
        users[name] = factories.MembershipFactory(contract=contract, partner=partner, role=role).user
    pilot, pilot_other = users["pilot"], users["pilot_other"]

    qpv = nantes.qpvs.order_by("code").first()
    share = factories.IndicatorFactory(
        contract=nantes, code="part-beneficiaires-sondes", name="Part des bénéficiaires en QPV", unit="%"
    )
    commitments = {
        "a_confirmed": factories.CommitmentFactory(
            contract=nantes,
            partner=a,
            status=S.CONFIRMED,
            title="Ateliers de A",
            qpvs=[qpv],
            indicators=[share],
        ),
        "a_draft": factories.CommitmentFactory(
            contract=nantes, partner=a, status=S.DRAFT, title="Brouillon de A"
        ),
        "b_confirmed": factories.CommitmentFactory(
            contract=nantes,
            partner=b,
            status=S.CONFIRMED,
            title="Chantiers de B",
            qpvs=[qpv],
            indicators=[share],
        ),
        "b_draft": factories.CommitmentFactory(
            contract=nantes, partner=b, status=S.DRAFT, title="Brouillon de B"
        ),
    }
    other_enjeu_1 = factories.EnjeuFactory(contract=other, number=1)
    assert other.enjeux.order_by("number").first() == other_enjeu_1
    commitments["other_a"] = factories.CommitmentFactory(
        contract=other, partner=a, status=S.CONFIRMED, title="Engagement de A ailleurs", qpvs=[other_qpv]
    )
    commitments["other_draft"] = factories.CommitmentFactory(
        contract=other, partner=a, status=S.DRAFT, title="Brouillon de A ailleurs"
    )

    deadline = timezone.localdate() + timezone.timedelta(days=30)
    campaign = review_services.open_campaign(user=pilot, contract=nantes, year=YEAR, deadline=deadline)
    other_campaign = review_services.open_campaign(
        user=pilot_other, contract=other, year=YEAR, deadline=deadline
    )
    reports = {
        "a": ProgressReport.objects.get(campaign=campaign, commitment=commitments["a_confirmed"]),
        "b": ProgressReport.objects.get(campaign=campaign, commitment=commitments["b_confirmed"]),
        "other": ProgressReport.objects.get(campaign=other_campaign, commitment=commitments["other_a"]),
    }
    attachments = {
        key: factories.ReportAttachmentFactory(
            report=report, original_name=f"preuve-{key}.pdf", uploaded_by=None
        )
        for key, report in reports.items()
    }

    feedback = {
        "a": fb.post_feedback(
            user=users["editor_a"], contract=nantes, kind=FeedbackKind.NEED, text="Retour en attente de A"
        ),
        "b": fb.post_feedback(
            user=users["editor_b"], contract=nantes, kind=FeedbackKind.NEED, text="Retour en attente de B"
        ),
        "other": fb.post_feedback(
            user=pilot_other, contract=other, kind=FeedbackKind.NEED, text="Retour d'un autre contrat"
        ),
    }
    day = timezone.localdate()
    cotech = mt.create_meeting(
        user=pilot,
        contract=nantes,
        data={"kind": MeetingKind.COTECH, "title": "Comité technique", "date": day},
    )
    other_cotech = mt.create_meeting(
        user=pilot_other, contract=other, data={"kind": MeetingKind.COTECH, "title": "Ailleurs", "date": day}
    )
    other_copil = mt.create_meeting(
        user=pilot_other,
        contract=other,
        data={"kind": MeetingKind.COPIL, "title": "COPIL d'ailleurs", "date": day},
    )
    decision = mt.create_decision(user=pilot, meeting=cotech, data={"text": "Décision à suivre", "owner": a})
    other_decision = mt.create_decision(
        user=pilot_other, meeting=other_cotech, data={"text": "Décision d'ailleurs"}
    )

    evaluation = Evaluation.objects.get(contract=nantes, kind=EvaluationKind.MID_TERM)
    other_evaluation = evaluation_services.create_evaluation(
        user=pilot_other,
        contract=other,
        kind=EvaluationKind.MID_TERM,
        title="Évaluation d'un autre contrat",
        period_start=2024,
        period_end=2026,
    )
    evaluation_services.add_question(
        user=pilot_other,
        evaluation=other_evaluation,
        text="Question d'ailleurs",
        criterion=Criterion.RELEVANCE,
    )
    other_questionnaire = evaluation_services.create_questionnaire(
        user=pilot_other,
        evaluation=other_evaluation,
        qpv=other_qpv,
        title="Questionnaire d'ailleurs",
        items=[("Note", ItemKind.SCALE, None)],
    )
    evaluation_services.set_questionnaire_status(
        user=pilot_other, questionnaire=other_questionnaire, status=QuestionnaireStatus.OPEN
    )

    return {
        "nantes": nantes,
        "other": other,
        "users": users,
        "a": a,
        "b": b,
        "outsider": outsider,
        "qpv": qpv,
        "share": share,
        "other_qpv": other_qpv,
        "other_enjeu": other_enjeu,
        "other_objective": other_objective,
        "other_action": other_action,
        "other_indicator": other_indicator,
        "commitments": commitments,
        "campaign": campaign,
        "reports": reports,
        "attachments": attachments,
        "feedback": feedback,
        "cotech": cotech,
        "copil": Meeting.objects.filter(contract=nantes, kind=MeetingKind.COPIL).first(),
        "decision": decision,
        "other_cotech": other_cotech,
        "other_copil": other_copil,
        "other_decision": other_decision,
        "evaluation": evaluation,
        "derv": Questionnaire.objects.get(evaluation=evaluation, qpv__code=DERVALLIERES),
        "bell": Questionnaire.objects.get(evaluation=evaluation, qpv__code=BELLEVUE),
        "other_questionnaire": other_questionnaire,
        "jobs": {
            "a": factories.GeorefJobFactory(owner=users["editor_a"], contract=nantes, done=True),
            "b": factories.GeorefJobFactory(owner=users["editor_b"], contract=nantes, done=True),
        },
        "token_b": create_api_token(user=users["editor_b"], name="jeton de B")[0],
    }


@pytest.fixture(scope="module")
def built_world(demo_data, django_db_blocker, tmp_path_factory):
    """Bâti une fois pour le fichier (tests/worlds.py), après le retrait du suivi annuel de la
    démonstration ; chaque test annule ce qu'il écrit. Rendu picklé : chaque test en reçoit une
    copie neuve (``world``).

    Le compteur d'écritures est posé avant la transaction du monde et retiré après elle (voir
    ``install_write_counter``)."""
    from cdv.contracts.models import Contract

    with django_db_blocker.unblock():
        install_write_counter()
    try:
        with built_once(django_db_blocker, MEDIA_ROOT=tmp_path_factory.mktemp("media")):
            remove_demo_reviews()
            world = build_world(Contract.objects.get(slug="nantes-metropole-2024-2030"))
            world["sessions"] = log_in_once(world["users"])
            yield pickle.dumps(world, pickle.HIGHEST_PROTOCOL)
    finally:
        with django_db_blocker.unblock():
            remove_write_counter()


@pytest.fixture
def world(built_world):
    """Les objets du monde, copiés pour le test : ce qu'il y change en mémoire reste à lui.

    La copie est celle de ``fresh_copy`` (tests/worlds.py), faite en relisant le monde picklé une
    fois pour le fichier : les mêmes objets, mêmes valeurs et mêmes relations déjà lues, dix fois
    plus vite qu'une copie profonde à chaque test."""
    _CAHIERS.clear()
    return pickle.loads(built_world)


# --- Empreinte de la base, essais annulés ------------------------------------------------------

WATCHED_APPS = {
    "commitments",
    "contracts",
    "evaluation",
    "georef",
    "grants",
    "indicators",
    "monitoring",
    "notifications",
    "partners",
    "plan",
    "users",
}
VOLATILE = {"last_login", "last_used_at"}  # connexion, dernier usage d'un jeton : pas des écritures


@functools.cache
def _watched() -> tuple:
    """(modèle, table, requête SQL, colonnes lues) de chaque table surveillée : lues telles quelles,
    triées par clé.

    Les tables de liens plusieurs-à-plusieurs comprises (``include_auto_created``) : une requête
    refusée qui n'écrirait qu'un lien serait vue."""
    watched = []
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.app_label not in WATCHED_APPS or not meta.managed:
            continue
        columns = ", ".join(
            connection.ops.quote_name(f.column) for f in meta.concrete_fields if f.attname not in VOLATILE
        )
        table, pk = connection.ops.quote_name(meta.db_table), connection.ops.quote_name(meta.pk.column)
        watched.append((meta.label, meta.db_table, f"SELECT {columns} FROM {table} ORDER BY {pk}", columns))
    return tuple(watched)


def fingerprint(tables=None) -> dict:
    """Toutes les lignes (valeurs comprises) de chaque table des applications, historiques compris
    (ou des seules ``tables`` nommées, noms SQL).

    Gardées telles quelles et comparées valeur à valeur : aussi exact qu'une empreinte de leur
    ``repr``, sans le coût de l'écrire (des milliers de fois par fichier)."""
    state = {}
    with connection.cursor() as cursor:
        for label, table, sql, _columns in _watched():
            if tables is None or table in tables:
                cursor.execute(sql)
                state[label] = cursor.fetchall()
    return state


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(label for label in after if before.get(label) != after[label])


# Compteur d'écritures de chaque table surveillée : chaque ligne insérée, modifiée (même à
# l'identique) ou effacée avance celui de sa table. Une table dont le compteur n'a pas bougé n'a
# rien d'écrit : son empreinte n'a pas à être relue ; seules les tables dont le compteur a bougé
# (une écriture réelle, ou seulement ``last_login``) sont relues et comparées ligne à ligne.
# PostgreSQL les tient lui-même pour la transaction en cours (pg_stat_xact_user_tables) ; sous
# SQLite, des déclencheurs temporaires comptent dans une table temporaire. Ils sont posés avant
# la transaction du monde et retirés après elle : un changement de schéma dans une transaction
# (même d'objets temporaires) fait relire à SQLite tout le schéma de la base à chaque retour à un
# point de sauvegarde, soit à chaque essai. Les écritures ailleurs (la session, gardée à chaque
# requête) n'y entrent pas. Sous SQLite, une modification ne compte que si elle touche une colonne
# que l'empreinte lit (``UPDATE OF``) : celle qui ne pose que ``last_login`` ou ``last_used_at``
# (le dernier usage d'un jeton d'API, posé à chaque appel), que l'empreinte ne lit pas, ne la fait
# pas relire.
WRITES = "cdv_probe_writes"


def install_write_counter():
    """Appelée avant ``built_once`` : sous SQLite, les déclencheurs ; sous PostgreSQL, rien à poser."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW track_counts")
            assert cursor.fetchone()[0] == "on", "le compteur d'écritures de PostgreSQL est coupé"
            return
        cursor.execute(f"CREATE TEMP TABLE {WRITES} (tbl TEXT PRIMARY KEY, n INTEGER NOT NULL)")
        for _label, table, _sql, columns in _watched():
            cursor.execute(f"INSERT INTO {WRITES} (tbl, n) VALUES (%s, 0)", [table])
            for event in ("INSERT", f"UPDATE OF {columns}", "DELETE"):
                cursor.execute(
                    f'CREATE TEMP TRIGGER "{WRITES}_{table}_{event.split()[0].lower()}" AFTER {event} '
                    f'ON main."{table}" FOR EACH ROW '
                    f"BEGIN UPDATE {WRITES} SET n = n + 1 WHERE tbl = '{table}'; END"
                )


def remove_write_counter():
    """Appelée après ``built_once`` : sous SQLite, retire déclencheurs et table temporaires."""
    if connection.vendor == "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_temp_master WHERE type = 'trigger'")
        for (name,) in cursor.fetchall():
            if name.startswith(f"{WRITES}_"):
                cursor.execute(f'DROP TRIGGER temp."{name}"')
        cursor.execute(f"DROP TABLE IF EXISTS temp.{WRITES}")


def write_counts() -> dict:
    """Table surveillée (nom SQL) → lignes écrites depuis le début du monde."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT relname, SUM(n_tup_ins + n_tup_upd + n_tup_del) "
                "FROM pg_stat_xact_user_tables WHERE relname = ANY(%s) GROUP BY relname",
                [[table for _label, table, _sql, _columns in _watched()]],
            )
        else:
            cursor.execute(f"SELECT tbl, n FROM {WRITES}")
        return {table: n for table, n in cursor.fetchall() if n}


def write_count() -> int:
    """Lignes écrites dans les tables surveillées depuis le début du monde."""
    return sum(write_counts().values())


def sent_and_undone(request: Callable):
    """Lance ``request()`` et annule ce qu'elle a écrit ; rend sa réponse et les tables surveillées
    qu'elle a changées (comme ``changed_tables(avant, après)`` sur toutes les tables).

    L'empreinte n'est lue que pour les tables dont le compteur a bougé (les autres n'ont rien
    d'écrit, donc rien de changé) : « après », puis, l'écriture annulée (retour au point de
    sauvegarde, la base telle qu'avant la requête), « avant »."""
    start = write_counts()
    savepoint = transaction.savepoint()
    try:
        response = request()
        written = {table for table, n in write_counts().items() if n != start.get(table, 0)}
        after = fingerprint(written) if written else None
    finally:
        transaction.savepoint_rollback(savepoint)
    return response, ([] if after is None else changed_tables(fingerprint(written), after))


class _Rollback(Exception):
    pass


@contextmanager
def rolled_back():
    """Ce qui s'écrit dans le bloc est annulé à sa sortie."""
    try:
        with transaction.atomic():
            yield
            raise _Rollback
    except _Rollback:
        pass


def test_the_fingerprint_sees_a_write_and_its_history_row(world):
    before = fingerprint()
    with rolled_back():
        draft = world["commitments"]["a_draft"]
        draft.title = "Changé"
        draft.save()
        changed = changed_tables(before, fingerprint())
    assert changed == ["commitments.Commitment", "commitments.HistoricalCommitment"]
    assert changed_tables(before, fingerprint()) == []  # et l'essai est bien annulé
    # Le compteur voit une écriture, même d'une ligne à l'identique ; une page lue (la session, elle,
    # est gardée) ne le fait pas bouger. L'essai qui écrit rend les tables changées, celui qui n'écrit
    # rien, aucune ; tous deux sont annulés.
    client = client_for(world, "editor_a")
    with rolled_back():
        start = write_count()
        Commitment.objects.filter(pk=draft.pk).update(title=F("title"))
        assert write_count() == start + 1
        start = write_count()
        response, changed = sent_and_undone(lambda: client.get(u("my_space")))
        assert (response.status_code, changed, write_count()) == (200, [], start)
        _, changed = sent_and_undone(draft.save)
        assert changed == ["commitments.Commitment", "commitments.HistoricalCommitment"]
    assert changed_tables(before, fingerprint()) == []


def log_in_once(users) -> dict:
    """La session de chaque rôle, ouverte une fois pour le fichier (dans la transaction du monde) :
    rôle → cookie de session."""
    sessions = {}
    for role, user in users.items():
        if user is not None:
            client = Client()
            client.force_login(user)
            sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return sessions


def client_for(world, role) -> Client:
    """Un navigateur neuf, connecté sous ``role`` (sa session ouverte une fois ; ce qu'un essai y
    écrit est annulé avec lui)."""
    client = Client()
    if world["users"][role] is not None:
        client.cookies[settings.SESSION_COOKIE_NAME] = world["sessions"][role]
    return client


def send(client, method, url, data=None):
    return getattr(client, method)(url, data or {})


def body(response) -> str:
    return html.unescape(response.content.decode(errors="replace"))


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and reverse("www:login") in response["Location"]


def clear_refusal(response) -> bool:
    """403 ou 404 avec la page d'erreur en français (le motif est dit pour un 403)."""
    if response.status_code == 403:
        return "Action non autorisée" in body(response)
    if response.status_code == 404:
        return "Page introuvable" in body(response)
    return False


def u(name, *args):
    return reverse(f"www:{name}", args=args)


def n(world):
    return world["nantes"].slug


def o(world):
    return world["other"].slug


# --- Données des formulaires -------------------------------------------------------------------


def answers(questionnaire):
    return {
        f"item_{item.number}": "4" if item.kind == ItemKind.SCALE else "Plus de bancs, moins de voitures."
        for item in questionnaire.items.all()
    }


def report_post(report, **extra):
    report.refresh_from_db()
    return {
        "action": "save",
        "version": report.version,
        "reported_status": S.IN_PROGRESS,
        "progress_pct": 40,
        "what_worked": "Les ateliers ont trouvé leur public.",
        **extra,
    }


def meeting_post(**extra):
    return {"kind": MeetingKind.COTECH, "title": "Comité technique", "date": "2025-03-01", **extra}


def decision_post(**extra):
    return {"text": "Relancer le bailleur", "status": DecisionStatus.OPEN, **extra}


def feedback_post(**extra):
    return {"kind": FeedbackKind.SUCCESS, "text": "Les ateliers ont bien marché.", **extra}


def recommendation_post(**extra):
    return {"text": "Renforcer la présence.", **extra}


def foreign_field(view, post, name, key, *args):
    """Requête sur la vue ``view`` de Nantes dont le champ ``name`` porte l'objet ``world[key]``."""
    return lambda w: (u(view, n(w), *args), post(**{name: w[key].pk}))


# Octets des cahiers déjà fabriqués pendant le test en cours (vidé par la fixture ``world``) : les
# essais d'une sonde partent tous de la même base (chacun est annulé), le fichier est donc le même ;
# chaque essai reçoit un fichier neuf.
_CAHIERS: dict = {}


def cahier_file(contract, partner, retitle=None):
    """Le modèle XLSX du cahier de ``partner`` ; ``retitle`` : un engagement dont changer l'intitulé."""
    from cdv.commitments.xlsx_template import SHEET, build_template_xlsx

    key = (contract.pk, partner.pk, retitle and retitle.pk)
    if key not in _CAHIERS:
        workbook = load_workbook(io.BytesIO(build_template_xlsx(contract=contract, partner=partner)))
        if retitle is not None:
            sheet = workbook[SHEET]
            header = [cell.value for cell in sheet[1]]
            id_col, title_col = header.index("Identifiant"), header.index("Intitulé")
            for row in sheet.iter_rows(min_row=2):
                if row[id_col].value == retitle.pk:
                    row[title_col].value = "Intitulé changé par téléversement"
        buffer = io.BytesIO()
        workbook.save(buffer)
        _CAHIERS[key] = buffer.getvalue()
    return SimpleUploadedFile("cahier.xlsx", _CAHIERS[key], content_type=XLSX)


def points_csv():
    return SimpleUploadedFile("points.csv", b"lon;lat\n-1.5536;47.2184\n", content_type="text/csv")


def georef_upload(**extra):
    return {"fichier": points_csv(), "mode": "auto", "geographie": "2024", "score_min": "0.5", **extra}


def submitted(key):
    """Préparation : le bilan ``key`` est transmis au pilote."""

    def setup(world):
        ProgressReport.objects.filter(pk=world["reports"][key].pk).update(state=ReportState.SUBMITTED)

    return setup


def frozen_version(world):
    evaluation_services.freeze_report(user=world["users"]["pilot"], evaluation=world["evaluation"])


def frozen_year(world):
    yearly.freeze_year(user=world["users"]["pilot"], campaign=world["campaign"], confirmed=True)


# --- Table 1 : chaque rôle sur chaque vue ------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    name: str
    method: str  # "post" (écriture) ou "get" (lecture d'une donnée non publique)
    request: Callable  # world -> (url, data), appelée à chaque essai (fichiers neufs)
    allowed: frozenset  # rôles qui réussissent
    ok: int = 302  # statut d'une réussite
    setup: Callable | None = None  # world -> None, avant les essais


def proposed_of_a(world):
    """Un engagement proposé de A (validation groupée), créé avant les essais (``setup``)."""
    commitments = world["commitments"]
    if "a_proposed" not in commitments:
        commitments["a_proposed"] = factories.CommitmentFactory(
            contract=world["nantes"], partner=world["a"], status=S.PROPOSED, title="Proposé de A"
        )
    return commitments["a_proposed"]


INDICATOR_IMPORT = {"source": "INSEE", "millesime": "2031"}


def indicator_csv(world) -> bytes:
    code = world["nantes"].qpvs.order_by("code").values_list("code", flat=True).first()
    return f"indicateur;territoire;periode;valeur\npopulation;{code};2031;1234\n".encode()


def stored_indicator_csv(world) -> str:
    """Un fichier déposé pour l'import à l'écran, rangé à neuf à chaque essai ; rend son jeton."""
    from cdv.indicators.import_files import store_upload

    return store_upload(contract=world["nantes"], data=indicator_csv(world))


def P(name, method, request, allowed, ok=None, setup=None):
    return Probe(name, method, request, frozenset(allowed), ok or (302 if method == "post" else 200), setup)


ROLE_PROBES = [
    # Retours d'expérience
    P(
        "feedback_create",
        "post",
        lambda w: (u("feedback_create", n(w)), feedback_post()),
        {"pilot", "editor_a", "editor_b", "reader_a", "council"},
    ),
    P(
        "feedback_edit",
        "post",
        lambda w: (u("feedback_edit", n(w), w["feedback"]["a"].pk), feedback_post(text="Retour corrigé")),
        {"editor_a"},
    ),
    P(
        "feedback_edit_page",
        "get",
        lambda w: (u("feedback_edit", n(w), w["feedback"]["a"].pk), {}),
        {"editor_a"},
    ),
    P(
        "feedback_moderate",
        "post",
        lambda w: (u("feedback_moderate", n(w), w["feedback"]["a"].pk), {"decision": "publier"}),
        {"pilot"},
    ),
    P("moderation_page", "get", lambda w: (u("moderation", n(w)), {}), {"pilot"}),
    # Instances et décisions
    P("meeting_create", "post", lambda w: (u("meeting_create", n(w)), meeting_post()), {"pilot"}),
    P(
        "meeting_edit",
        "post",
        lambda w: (u("meeting_edit", n(w), w["cotech"].pk), meeting_post(title="Titre changé")),
        {"pilot"},
    ),
    P("meeting_cotech_page", "get", lambda w: (u("meeting", n(w), w["cotech"].pk), {}), MEMBERS),
    P(
        "decision_create",
        "post",
        lambda w: (u("decision_create", n(w), w["cotech"].pk), decision_post()),
        {"pilot"},
    ),
    P(
        "decision_edit",
        "post",
        lambda w: (u("decision_edit", n(w), w["decision"].pk), decision_post(status=DecisionStatus.DONE)),
        {"pilot"},
    ),
    # Évaluation en cours
    P("evaluation_page", "get", lambda w: (u("evaluation", n(w), KIND), {}), MEMBERS),
    P(
        "evaluation_judgement",
        "post",
        lambda w: (
            u("evaluation_judgement", n(w), KIND, 1),
            {"q1-scale": 3, "q1-text": "Largement atteint."},
        ),
        {"pilot", "evaluator"},
    ),
    P(
        "evaluation_recommendation",
        "post",
        lambda w: (u("evaluation_recommendation", n(w), KIND), recommendation_post()),
        {"pilot", "evaluator"},
    ),
    P("evaluation_freeze", "post", lambda w: (u("evaluation_freeze", n(w), KIND), {}), {"pilot"}),
    P(
        "evaluation_adopt",
        "post",
        lambda w: (u("evaluation_adopt", n(w), KIND), {"meeting": w["copil"].pk, "confirm": "oui"}),
        {"pilot"},
    ),
    P(
        "evaluation_version_json",
        "get",
        lambda w: (u("evaluation_version_json", n(w), KIND, 1), {}),
        MEMBERS,
        setup=frozen_version,
    ),
    # Questionnaires des conseils citoyens
    P(
        "questionnaire_answer",
        "post",
        lambda w: (u("questionnaire", n(w), KIND, DERVALLIERES), answers(w["derv"])),
        {"council"},
    ),
    P(
        "questionnaire_page",
        "get",
        lambda w: (u("questionnaire", n(w), KIND, DERVALLIERES), {}),
        {"pilot", "evaluator", "council"},
    ),
    P(
        "questionnaire_paper",
        "post",
        lambda w: (u("questionnaire_paper", n(w), KIND, DERVALLIERES), answers(w["derv"])),
        {"pilot"},
    ),
    P(
        "questionnaire_status",
        "post",
        lambda w: (
            u("questionnaire_status", n(w), KIND, DERVALLIERES),
            {"status": QuestionnaireStatus.CLOSED},
        ),
        {"pilot"},
    ),
    P(
        "questionnaire_results",
        "get",
        lambda w: (u("questionnaire_results", n(w), KIND, DERVALLIERES), {}),
        {"pilot", "evaluator", "council"},
    ),
    # Suivi annuel : campagnes, bilans, pièces jointes, gel de l'année
    P(
        "review_open_campaign",
        "post",
        lambda w: (u("review_campaigns", n(w)), {"year": 2026, "deadline": "2027-03-31"}),
        {"pilot"},
    ),
    P("review_campaigns_page", "get", lambda w: (u("review_campaigns", n(w)), {}), MEMBERS),
    P("review_dashboard", "get", lambda w: (u("review_campaign", n(w), YEAR), {}), {"pilot", "evaluator"}),
    P("review_close", "post", lambda w: (u("review_close", n(w), YEAR), {"confirm": "oui"}), {"pilot"}),
    P("review_remind_preview", "get", lambda w: (u("review_remind", n(w), YEAR), {}), {"pilot"}),
    P("review_remind", "post", lambda w: (u("review_remind", n(w), YEAR), {}), {"pilot"}),
    P("review_freeze", "post", lambda w: (u("review_freeze", n(w), YEAR), {"confirm": "oui"}), {"pilot"}),
    P(
        "review_snapshot",
        "get",
        lambda w: (u("review_snapshot", n(w), YEAR), {}),
        STEERING,
        setup=frozen_year,
    ),
    P(
        "review_partner_page",
        "get",
        lambda w: (u("review_partner", n(w), YEAR, w["a"].slug), {}),
        PARTNER_A_READERS,
    ),
    P(
        "review_report_save",
        "post",
        lambda w: (u("review_report", n(w), YEAR, w["reports"]["a"].pk), report_post(w["reports"]["a"])),
        {"editor_a"},
    ),
    P(
        "review_report_submit",
        "post",
        lambda w: (
            u("review_report", n(w), YEAR, w["reports"]["a"].pk),
            report_post(w["reports"]["a"], action="submit"),
        ),
        {"editor_a"},
    ),
    P(
        "review_report_indicator_value",
        "post",
        lambda w: (
            u("review_report", n(w), YEAR, w["reports"]["a"].pk),
            report_post(w["reports"]["a"], indval_0="42,5"),
        ),
        {"editor_a"},
    ),
    P(
        "review_report_attachment_upload",
        "post",
        lambda w: (
            u("review_report", n(w), YEAR, w["reports"]["a"].pk),
            report_post(w["reports"]["a"], attachment=SimpleUploadedFile("compte-rendu.pdf", PDF)),
        ),
        {"editor_a"},
    ),
    P(
        "review_report_page",
        "get",
        lambda w: (u("review_report", n(w), YEAR, w["reports"]["a"].pk), {}),
        PARTNER_A_READERS,
    ),
    P(
        "review_accept",
        "post",
        lambda w: (u("review_accept", n(w), YEAR, w["reports"]["a"].pk), {}),
        {"pilot"},
        setup=submitted("a"),
    ),
    P(
        "review_return",
        "post",
        lambda w: (
            u("review_return", n(w), YEAR, w["reports"]["a"].pk),
            {"comment": "Ajoutez les chiffres."},
        ),
        {"pilot"},
        setup=submitted("a"),
    ),
    P(
        "review_attachment_download",
        "get",
        lambda w: (u("review_attachment", n(w), YEAR, w["reports"]["a"].pk, w["attachments"]["a"].pk), {}),
        PARTNER_A_READERS,
    ),
    P(
        "review_attachment_delete",
        "post",
        lambda w: (
            u("review_attachment_delete", n(w), YEAR, w["reports"]["a"].pk, w["attachments"]["a"].pk),
            {},
        ),
        {"editor_a"},
    ),
    # Cahiers d'engagements : documents, modèle, téléversement
    P(
        "cahier_upload",
        "post",
        lambda w: (
            u("cahier_upload", n(w), w["a"].slug),
            {"fichier": cahier_file(w["nantes"], w["a"], retitle=w["commitments"]["a_draft"])},
        ),
        {"pilot", "editor_a"},
        ok=200,
    ),
    P("cahier_xlsx", "get", lambda w: (u("cahier", n(w), w["a"].slug, "xlsx"), {}), MEMBERS),
    P(
        "cahier_template",
        "get",
        lambda w: (u("cahier_template", n(w), w["a"].slug), {}),
        {"pilot", "editor_a"},
    ),
    P("compilation_xlsx", "get", lambda w: (u("compilation", n(w), "xlsx"), {}), MEMBERS),
    P("partner_space", "get", lambda w: (u("partner_space", n(w), w["a"].slug), {}), MEMBERS),
    P(
        "action_options",
        "get",
        lambda w: (u("action_options", n(w)), {"objective": w["commitments"]["a_draft"].objective_id}),
        MEMBERS,
    ),
    # Pilotage et journal
    P("dashboard", "get", lambda w: (u("dashboard", n(w)), {}), STEERING),
    P("audit", "get", lambda w: (u("audit", n(w)), {}), {"pilot"}),
    P(
        "invitation",
        "post",
        lambda w: (
            u("invitations", n(w)),
            {"email": "invitee@example.org", "role": Role.READER, "partner": w["a"].pk},
        ),
        {"pilot"},
    ),
    P("invitations_page", "get", lambda w: (u("invitations", n(w)), {}), {"pilot"}),
    # Import des valeurs d'indicateurs à l'écran : pilotes du contrat seulement
    # Éditeur du plan d'action : pilotes du contrat seulement
    P("plan_outline", "get", lambda w: (u("plan", n(w)), {}), {"pilot"}),
    P("plan_export", "get", lambda w: (u("plan_export", n(w)), {}), {"pilot"}),
    P("plan_import_page", "get", lambda w: (u("plan_import", n(w)), {}), {"pilot"}),
    P(
        "plan_enjeu_create",
        "post",
        lambda w: (u("plan_enjeu_create", n(w)), {"title": "Enjeu ajouté par la sonde"}),
        {"pilot"},
    ),
    P(
        "plan_objective_create",
        "post",
        lambda w: (
            u("plan_objective_create", n(w), w["commitments"]["a_draft"].objective.enjeu_id),
            {"title": "Objectif ajouté par la sonde"},
        ),
        {"pilot"},
    ),
    P(
        "plan_objective_edit",
        "post",
        lambda w: (
            u("plan_objective_edit", n(w), w["commitments"]["a_draft"].objective_id),
            {"title": "Objectif renommé par la sonde"},
        ),
        {"pilot"},
    ),
    P(
        "plan_move",
        "post",
        lambda w: (
            u("plan_move", n(w), "objectif", w["commitments"]["a_draft"].objective_id, "descendre"),
            {},
        ),
        {"pilot"},
    ),
    P(
        "plan_archive",
        "post",
        lambda w: (u("plan_archive", n(w), "objectif", w["commitments"]["a_draft"].objective_id), {}),
        {"pilot"},
    ),
    P(
        "plan_history",
        "get",
        lambda w: (u("plan_history", n(w), "objectif", w["commitments"]["a_draft"].objective_id), {}),
        {"pilot"},
    ),
    P("indicator_import_page", "get", lambda w: (u("indicator_import", n(w)), {}), {"pilot"}),
    # (le dépôt n'écrit qu'un fichier, pas la base : refus des autres rôles testé dans
    # tests/indicators/test_indicator_import_screen.py)
    P(
        "indicator_import_preview",
        "get",
        lambda w: (u("indicator_import_preview", n(w), stored_indicator_csv(w)), INDICATOR_IMPORT),
        {"pilot"},
    ),
    P(
        "indicator_import_confirm",
        "post",
        lambda w: (
            u("indicator_import_preview", n(w), stored_indicator_csv(w)),
            {**INDICATOR_IMPORT, "empreinte": stored_indicator_csv(w)},
        ),
        {"pilot"},
    ),
    P(
        "bulk_validation",
        "post",
        lambda w: (u("dashboard", n(w)), {"engagements": [proposed_of_a(w).pk], "action": "valider"}),
        {"pilot"},
        setup=proposed_of_a,
    ),
    # Géoréférencement : dépôt, traitements d'une personne, part en QPV → valeur d'indicateur
    P("georef_upload", "post", lambda w: (u("georef"), georef_upload()), set(ROLES) - {"anonymous"}),
    P("georef_job", "get", lambda w: (u("georef_job", w["jobs"]["a"].pk), {}), {"editor_a"}),
    P("georef_job_status", "get", lambda w: (u("georef_job_status", w["jobs"]["a"].pk), {}), {"editor_a"}),
    P("georef_download", "get", lambda w: (u("georef_download", w["jobs"]["a"].pk), {}), {"editor_a"}),
    P(
        "georef_record",
        "post",
        lambda w: (
            u("georef_record", w["jobs"]["a"].pk),
            {"cible": f"{w['commitments']['a_confirmed'].pk}-{w['share'].pk}", "annee": YEAR},
        ),
        {"editor_a"},
    ),
    # Jetons d'API : on ne révoque que les siens
    P(
        "api_token_revoke",
        "post",
        lambda w: (u("my_space"), {"token_action": "revoke", "token": w["token_b"].pk}),
        {"editor_b"},
    ),
]


def verdict(probe, role, response, changed) -> str | None:
    """None si l'essai s'est passé comme attendu, sinon ce qui ne va pas."""
    status = response.status_code
    if role in probe.allowed:
        if status != probe.ok:
            return f"réussite attendue ({probe.ok}), reçu {status}"
        if probe.method == "post" and not changed:
            return "réussite sans aucune écriture : la sonde passe à vide"
        if probe.method == "get" and changed:
            return f"une lecture a écrit : {changed}"
        return None
    if changed:
        return f"refus attendu, mais écrit dans {changed} (statut {status})"
    if role == "anonymous" and is_login_redirect(response):
        return None
    if not clear_refusal(response):
        return f"refus clair attendu (403/404), reçu {status}"
    return None


@pytest.mark.parametrize("probe", ROLE_PROBES, ids=lambda p: p.name)
def test_each_role_on_each_view(world, probe):
    if probe.setup:
        probe.setup(world)
    failures = {}
    for role in ROLES:
        with rolled_back():
            client = client_for(world, role)
            url, data = probe.request(world)
            response, changed = sent_and_undone(functools.partial(send, client, probe.method, url, data))
            problem = verdict(probe, role, response, changed)
            if response.streaming:  # un téléchargement lu jusqu'au bout referme son fichier
                b"".join(response.streaming_content)
            if problem:
                failures[role] = problem
    assert failures == {}


# --- Table 2 : identifiants devinés, forgés, pris ailleurs ---------------------------------------


@dataclass(frozen=True)
class Forged:
    name: str
    role: str  # qui essaie : quelqu'un qui a des droits, mais pas sur cet objet-là
    request: Callable  # world -> (url, data)
    expect: str  # "404", "403", "form" (erreur de formulaire, rien d'écrit) ou "ignored"
    message: str = ""  # ce que la réponse dit (en français)
    check: Callable | None = None  # pour "ignored" : world -> la valeur forgée n'a servi à rien
    method: str = "post"
    setup: Callable | None = None
    absent: str = ""  # ce que la réponse ne doit pas montrer


CHOICE = "Sélectionnez un choix valide"  # ModelChoiceField : l'identifiant n'est pas dans la liste


def new_feedback(world, role):
    author = world["users"][role]
    return Feedback.objects.filter(author=author).exclude(pk__in=[f.pk for f in world["feedback"].values()])


def report_untouched_but_saved(world):
    a, b = (ProgressReport.objects.get(pk=world["reports"][k].pk) for k in ("a", "b"))
    return (
        a.partner == world["a"]
        and a.commitment == world["commitments"]["a_confirmed"]
        and a.campaign == world["campaign"]
        and a.state == ReportState.DRAFT
        and a.reviewer_comment == ""
        and a.progress_pct == 40  # le reste du formulaire, lui, est enregistré
        and b.version == world["reports"]["b"].version
    )


def only_the_slot_value_is_written(world):
    from cdv.indicators.models import IndicatorValue

    values = IndicatorValue.objects.filter(indicator__in=[world["share"], world["other_indicator"]])
    return [(v.indicator_id, v.territory_id) for v in values] == [(world["share"].pk, world["qpv"].pk)]


def value_entered_by_b(world):
    """Préparation : le référent B a saisi dans son bilan la valeur 2025 de l'indicateur partagé."""
    review_services.save_indicator_values(
        user=world["users"]["editor_b"],
        report=world["reports"]["b"],
        values=[(world["share"], world["qpv"], 30)],
    )


def value_of_b_is_kept(world):
    from cdv.indicators.models import IndicatorValue

    value = IndicatorValue.objects.get(indicator=world["share"], territory=world["qpv"], year=YEAR)
    return value.value == 30 and value.comment == "Saisi par Partenaire B (sondes) dans le bilan 2025."


def commitment_form(world, **extra):
    objective = world["commitments"]["a_draft"].objective
    return {
        "objective": objective.pk,
        "title": "Engagement forgé",
        "scope": CommitmentScope.CONTRACT,
        **extra,
    }


def forged_commitment_is_a_nantes_draft_of_a(world):
    created = Commitment.objects.get(title="Engagement forgé")
    return created.partner == world["a"] and created.contract == world["nantes"] and created.status == S.DRAFT


FORGED_PROBES = [
    Forged(
        "bulk_validation: engagement d'un autre contrat",
        "pilot",
        lambda w: (
            u("dashboard", n(w)),
            {"engagements": [w["commitments"]["other_a"].pk], "action": "valider"},
        ),
        "form",
        "ne font pas partie du contrat",
        absent="Engagement de A ailleurs",
    ),
    # Retours d'expérience : l'identifiant est cherché dans le contrat de l'URL
    Forged(
        "feedback_edit: id d'un autre contrat sous Nantes",
        "pilot_other",
        lambda w: (u("feedback_edit", n(w), w["feedback"]["other"].pk), feedback_post()),
        "404",
    ),
    Forged(
        "feedback_edit: id de Nantes sous un autre contrat",
        "editor_a",
        lambda w: (u("feedback_edit", o(w), w["feedback"]["a"].pk), feedback_post()),
        "404",
    ),
    Forged(
        "feedback_edit: le retour du partenaire B",
        "editor_a",
        lambda w: (u("feedback_edit", n(w), w["feedback"]["b"].pk), feedback_post()),
        "404",
    ),
    Forged(
        "feedback_moderate: id d'un autre contrat sous Nantes",
        "pilot",
        lambda w: (u("feedback_moderate", n(w), w["feedback"]["other"].pk), {"decision": "publier"}),
        "404",
    ),
    Forged(
        "feedback_moderate: id de Nantes sous un autre contrat",
        "pilot_other",
        lambda w: (u("feedback_moderate", o(w), w["feedback"]["a"].pk), {"decision": "publier"}),
        "404",
    ),
    Forged(
        "feedback_create: champ caché partenaire = B",
        "editor_a",
        lambda w: (u("feedback_create", n(w)), feedback_post(partner=w["b"].pk)),
        "ignored",
        check=lambda w: [f.partner for f in new_feedback(w, "editor_a")] == [w["a"]],
    ),
    Forged(
        "feedback_create: pilote, partenaire hors contrat",
        "pilot",
        lambda w: (u("feedback_create", n(w)), feedback_post(partner=w["outsider"].pk)),
        "ignored",
        check=lambda w: [f.partner for f in new_feedback(w, "pilot")] == [None],
    ),
    *[
        Forged(
            f"feedback_create: {name} d'un autre contrat",
            "editor_a",
            foreign_field("feedback_create", feedback_post, name, key),
            "form",
            CHOICE,
        )
        for name, key in [
            ("qpvs", "other_qpv"),
            ("enjeu", "other_enjeu"),
            ("actions", "other_action"),
            ("indicators", "other_indicator"),
        ]
    ],
    Forged(
        "feedback_create: engagement d'un autre contrat",
        "editor_a",
        lambda w: (u("feedback_create", n(w)), feedback_post(commitments=w["commitments"]["other_a"].pk)),
        "form",
        CHOICE,
    ),
    Forged(
        "feedback_edit: engagement d'un autre contrat",
        "editor_a",
        lambda w: (
            u("feedback_edit", n(w), w["feedback"]["a"].pk),
            feedback_post(commitments=w["commitments"]["other_a"].pk),
        ),
        "form",
        CHOICE,
    ),
    # Instances et décisions
    Forged(
        "meeting_edit: instance d'un autre contrat sous Nantes",
        "pilot",
        lambda w: (u("meeting_edit", n(w), w["other_cotech"].pk), meeting_post()),
        "404",
    ),
    Forged(
        "meeting_edit: instance de Nantes sous un autre contrat",
        "pilot_other",
        lambda w: (u("meeting_edit", o(w), w["cotech"].pk), meeting_post()),
        "404",
    ),
    Forged(
        "meeting_create: quartier d'un autre contrat",
        "pilot",
        lambda w: (
            u("meeting_create", n(w)),
            meeting_post(kind=MeetingKind.NEIGHBOURHOOD, qpv=w["other_qpv"].pk),
        ),
        "form",
        CHOICE,
    ),
    Forged(
        "meeting_create: participant hors contrat",
        "pilot",
        lambda w: (u("meeting_create", n(w)), meeting_post(participants=w["outsider"].pk)),
        "form",
        CHOICE,
    ),
    Forged(
        "meeting_edit: participant hors contrat",
        "pilot",
        lambda w: (u("meeting_edit", n(w), w["cotech"].pk), meeting_post(participants=w["outsider"].pk)),
        "form",
        CHOICE,
    ),
    Forged(
        "decision_create: instance d'un autre contrat sous Nantes",
        "pilot",
        lambda w: (u("decision_create", n(w), w["other_cotech"].pk), decision_post()),
        "404",
    ),
    Forged(
        "decision_edit: décision d'un autre contrat sous Nantes",
        "pilot",
        lambda w: (u("decision_edit", n(w), w["other_decision"].pk), decision_post()),
        "404",
    ),
    Forged(
        "decision_edit: décision de Nantes sous un autre contrat",
        "pilot_other",
        lambda w: (u("decision_edit", o(w), w["decision"].pk), decision_post()),
        "404",
    ),
    Forged(
        "decision_create: porteur hors contrat",
        "pilot",
        lambda w: (u("decision_create", n(w), w["cotech"].pk), decision_post(owner=w["outsider"].pk)),
        "form",
        CHOICE,
    ),
    Forged(
        "decision_create: action d'un autre contrat",
        "pilot",
        lambda w: (u("decision_create", n(w), w["cotech"].pk), decision_post(actions=w["other_action"].pk)),
        "form",
        CHOICE,
    ),
    Forged(
        "decision_edit: engagement d'un autre contrat",
        "pilot",
        lambda w: (
            u("decision_edit", n(w), w["decision"].pk),
            decision_post(commitments=w["commitments"]["other_a"].pk),
        ),
        "form",
        CHOICE,
    ),
    # Évaluation : l'évaluation en cours d'un autre contrat n'existe pas pour qui n'en est pas membre
    Forged(
        "judgement: évaluation d'un autre contrat",
        "pilot",
        lambda w: (u("evaluation_judgement", o(w), KIND, 1), {"q1-scale": 1, "q1-text": "Forgé"}),
        "404",
    ),
    Forged(
        "recommendation: évaluation d'un autre contrat",
        "evaluator",
        lambda w: (u("evaluation_recommendation", o(w), KIND), {"text": "Forgée"}),
        "404",
    ),
    Forged(
        "freeze: évaluation d'un autre contrat",
        "pilot",
        lambda w: (u("evaluation_freeze", o(w), KIND), {}),
        "404",
    ),
    Forged(
        "adopt: évaluation d'un autre contrat",
        "pilot",
        lambda w: (
            u("evaluation_adopt", o(w), KIND),
            {"meeting": w["other_copil"].pk, "confirm": "oui"},
        ),
        "404",
    ),
    Forged(
        "version_json: version d'un autre contrat",
        "pilot",
        lambda w: (u("evaluation_version_json", o(w), KIND, 1), {}),
        "404",
        method="get",
        setup=lambda w: evaluation_services.freeze_report(
            user=w["users"]["pilot_other"], evaluation=w["other_questionnaire"].evaluation
        ),
    ),
    *[
        Forged(
            f"recommendation: {name} d'un autre contrat",
            "evaluator",
            foreign_field("evaluation_recommendation", recommendation_post, name, key, KIND),
            "form",
            CHOICE,
        )
        for name, key in [("enjeux", "other_enjeu"), ("objectives", "other_objective")]
    ],
    Forged(
        "recommendation: engagement d'un autre contrat",
        "evaluator",
        lambda w: (
            u("evaluation_recommendation", n(w), KIND),
            recommendation_post(commitments=w["commitments"]["other_a"].pk),
        ),
        "form",
        CHOICE,
    ),
    Forged(
        "adopt: COPIL d'un autre contrat",
        "pilot",
        lambda w: (
            u("evaluation_adopt", n(w), KIND),
            {"meeting": w["other_copil"].pk, "confirm": "oui"},
        ),
        "form",
        CHOICE,
    ),
    # Questionnaires : le code du quartier est cherché dans l'évaluation de l'URL
    Forged(
        "questionnaire: quartier d'un autre contrat sous Nantes",
        "council",
        lambda w: (u("questionnaire", n(w), KIND, w["other_qpv"].code), {"item_1": "1"}),
        "404",
    ),
    Forged(
        "questionnaire: le conseil des Dervallières répond pour Bellevue",
        "council",
        lambda w: (u("questionnaire", n(w), KIND, BELLEVUE), answers(w["bell"])),
        "404",
    ),
    Forged(
        "questionnaire_results: le conseil des Dervallières lit Bellevue",
        "council",
        lambda w: (u("questionnaire_results", n(w), KIND, BELLEVUE), {}),
        "404",
        method="get",
    ),
    Forged(
        "questionnaire_paper: quartier d'un autre contrat sous Nantes",
        "pilot",
        lambda w: (u("questionnaire_paper", n(w), KIND, w["other_qpv"].code), {"item_1": "1"}),
        "404",
    ),
    Forged(
        "questionnaire_status: questionnaire d'un autre contrat",
        "pilot",
        lambda w: (
            u("questionnaire_status", o(w), KIND, w["other_qpv"].code),
            {"status": QuestionnaireStatus.CLOSED},
        ),
        "404",
    ),
    # Suivi annuel : contrat, puis campagne, puis bilan, puis pièce jointe
    Forged(
        "review_report: bilan d'un autre contrat sous Nantes (pilote)",
        "pilot",
        lambda w: (
            u("review_report", n(w), YEAR, w["reports"]["other"].pk),
            report_post(w["reports"]["other"]),
        ),
        "404",
    ),
    Forged(
        "review_report: bilan d'un autre contrat sous Nantes (référent A)",
        "editor_a",
        lambda w: (
            u("review_report", n(w), YEAR, w["reports"]["other"].pk),
            report_post(w["reports"]["other"]),
        ),
        "404",
    ),
    Forged(
        "review_report: bilan de Nantes sous un autre contrat",
        "pilot_other",
        lambda w: (u("review_report", o(w), YEAR, w["reports"]["a"].pk), report_post(w["reports"]["a"])),
        "404",
    ),
    Forged(
        "review_report: le bilan du partenaire B",
        "editor_a",
        lambda w: (u("review_report", n(w), YEAR, w["reports"]["b"].pk), report_post(w["reports"]["b"])),
        "404",  # le bilan de B est invisible pour le partenaire A (docs/security.md, « Qui voit quoi »)
    ),
    Forged(
        "review_report: champs cachés partenaire, engagement, campagne, état",
        "editor_a",
        lambda w: (
            u("review_report", n(w), YEAR, w["reports"]["a"].pk),
            report_post(
                w["reports"]["a"],
                partner=w["b"].pk,
                commitment=w["commitments"]["b_confirmed"].pk,
                campaign=w["reports"]["other"].campaign_id,
                state=ReportState.ACCEPTED,
                reviewer_comment="Accepté par moi-même",
            ),
        ),
        "ignored",
        check=report_untouched_but_saved,
    ),
    Forged(
        "review_report: valeur d'indicateur hors des cases du bilan",
        "editor_a",
        lambda w: (
            u("review_report", n(w), YEAR, w["reports"]["a"].pk),
            report_post(
                w["reports"]["a"],
                indval_0="12",
                indval_1="99",
                indicator=w["other_indicator"].pk,
                territory=w["other_qpv"].pk,
            ),
        ),
        "ignored",
        check=only_the_slot_value_is_written,
    ),
    Forged(
        "review_report: écraser la valeur d'indicateur saisie par le partenaire B",
        "editor_a",
        lambda w: (
            u("review_report", n(w), YEAR, w["reports"]["a"].pk),
            report_post(w["reports"]["a"], indval_0="40"),
        ),
        "ignored",
        check=lambda w: value_of_b_is_kept(w) and report_untouched_but_saved(w),
        setup=value_entered_by_b,
    ),
    Forged(
        "review_accept: bilan d'un autre contrat sous Nantes",
        "pilot",
        lambda w: (u("review_accept", n(w), YEAR, w["reports"]["other"].pk), {}),
        "404",
        setup=submitted("other"),
    ),
    Forged(
        "review_attachment_delete: pièce du bilan B sous le bilan A",
        "editor_a",
        lambda w: (
            u("review_attachment_delete", n(w), YEAR, w["reports"]["a"].pk, w["attachments"]["b"].pk),
            {},
        ),
        "404",
    ),
    Forged(
        "review_attachment_delete: pièce du bilan B",
        "editor_a",
        lambda w: (
            u("review_attachment_delete", n(w), YEAR, w["reports"]["b"].pk, w["attachments"]["b"].pk),
            {},
        ),
        "404",  # le bilan de B est invisible pour le partenaire A
    ),
    Forged(
        "review_attachment: pièce d'un autre contrat sous un bilan de Nantes",
        "pilot",
        lambda w: (
            u("review_attachment", n(w), YEAR, w["reports"]["a"].pk, w["attachments"]["other"].pk),
            {},
        ),
        "404",
        method="get",
    ),
    Forged(
        "review_attachment: pièce d'un autre contrat, sous son contrat",
        "editor_a",
        lambda w: (
            u("review_attachment", o(w), YEAR, w["reports"]["other"].pk, w["attachments"]["other"].pk),
            {},
        ),
        "403",
        method="get",
    ),
    Forged(
        "review_close: campagne d'un autre contrat",
        "pilot",
        lambda w: (u("review_close", o(w), YEAR), {"confirm": "oui"}),
        "403",
    ),
    Forged(
        "review_freeze: année d'un autre contrat",
        "pilot",
        lambda w: (u("review_freeze", o(w), YEAR), {"confirm": "oui"}),
        "403",
    ),
    Forged(
        "review_open_campaign: dans un autre contrat",
        "pilot",
        lambda w: (u("review_campaigns", o(w)), {"year": 2026, "deadline": "2027-03-31"}),
        "403",
    ),
    # Créer dans un contrat dont on n'est pas membre (ou sous une instance, une évaluation d'ailleurs)
    Forged(
        "feedback_create: dans un autre contrat",
        "editor_a",
        lambda w: (u("feedback_create", o(w)), feedback_post()),
        "403",
    ),
    Forged(
        "meeting_create: dans un autre contrat",
        "pilot",
        lambda w: (u("meeting_create", o(w)), meeting_post()),
        "403",
    ),
    Forged(
        "decision_create: sous l'instance d'un autre contrat, à son adresse",
        "pilot",
        lambda w: (u("decision_create", o(w), w["other_cotech"].pk), decision_post()),
        "404",
    ),
    Forged(
        "questionnaire_paper: questionnaire d'un autre contrat, à son adresse",
        "pilot",
        lambda w: (u("questionnaire_paper", o(w), KIND, w["other_qpv"].code), {"item_1": "1"}),
        "404",
    ),
    Forged(
        "review_return: bilan de Nantes sous un autre contrat",
        "pilot_other",
        lambda w: (u("review_return", o(w), YEAR, w["reports"]["a"].pk), {"comment": "Forgé"}),
        "404",
        setup=submitted("a"),
    ),
    Forged(
        "review_attachment_delete: pièce d'un autre contrat sous Nantes",
        "pilot",
        lambda w: (
            u("review_attachment_delete", n(w), YEAR, w["reports"]["other"].pk, w["attachments"]["other"].pk),
            {},
        ),
        "404",
    ),
    # Engagements : champs cachés des formulaires (les droits sont sondés par permissions/)
    Forged(
        "commitment_create: objectif d'un autre contrat",
        "editor_a",
        lambda w: (
            u("commitment_create", n(w), w["a"].slug),
            commitment_form(w, objective=w["other_objective"].pk),
        ),
        "form",
        CHOICE,
    ),
    Forged(
        "commitment_create: action d'un autre contrat",
        "editor_a",
        lambda w: (
            u("commitment_create", n(w), w["a"].slug),
            commitment_form(w, action=w["other_action"].pk),
        ),
        "form",
        CHOICE,
    ),
    Forged(
        "commitment_create: quartier d'un autre contrat",
        "editor_a",
        lambda w: (
            u("commitment_create", n(w), w["a"].slug),
            commitment_form(w, scope=CommitmentScope.QPV, qpvs=w["other_qpv"].pk),
        ),
        "form",
        CHOICE,
    ),
    Forged(
        "commitment_create: indicateur d'un autre contrat",
        "editor_a",
        lambda w: (
            u("commitment_create", n(w), w["a"].slug),
            commitment_form(w, indicators=w["other_indicator"].pk),
        ),
        "form",
        CHOICE,
    ),
    Forged(
        "commitment_create: champs cachés partenaire B et autre contrat",
        "editor_a",
        lambda w: (
            u("commitment_create", n(w), w["a"].slug),
            commitment_form(w, partner=w["b"].pk, contract=w["other"].pk, status=S.CONFIRMED),
        ),
        "ignored",
        check=forged_commitment_is_a_nantes_draft_of_a,
    ),
    Forged(
        "commitment_create: partenaire hors contrat dans l'URL",
        "pilot",
        lambda w: (u("commitment_create", n(w), w["outsider"].slug), commitment_form(w)),
        "404",
    ),
    Forged(
        "commitment_edit: objectif d'un autre contrat",
        "editor_a",
        lambda w: (
            u("commitment_edit", n(w), w["commitments"]["a_draft"].pk),
            commitment_form(
                w, objective=w["other_objective"].pk, version=w["commitments"]["a_draft"].version
            ),
        ),
        "form",
        CHOICE,
    ),
    Forged(
        "action_options: objectif d'un autre contrat",
        "editor_a",
        lambda w: (u("action_options", n(w)), {"objective": w["other_objective"].pk}),
        "ignored",
        method="get",
        absent="Action d'un autre contrat",
    ),
    Forged(
        "action_options: objectif qui n'est pas un nombre",
        "editor_a",
        lambda w: (u("action_options", n(w)), {"objective": "1 OR 1=1"}),
        "ignored",
        method="get",
    ),
    # Cahier XLSX : les identifiants du fichier sont cherchés dans le contrat et le partenaire de l'URL
    Forged(
        "cahier_upload: le modèle de B téléversé chez A",
        "editor_a",
        lambda w: (u("cahier_upload", n(w), w["a"].slug), {"fichier": cahier_file(w["nantes"], w["b"])}),
        "form",
        "appartient à un autre partenaire",
    ),
    Forged(
        "cahier_upload: le modèle de A d'un autre contrat",
        "editor_a",
        lambda w: (u("cahier_upload", n(w), w["a"].slug), {"fichier": cahier_file(w["other"], w["a"])}),
        "form",
        "ne désigne aucun engagement de ce contrat",
    ),
    Forged(
        "cahier_upload: partenaire hors contrat",
        "pilot",
        lambda w: (
            u("cahier_upload", n(w), w["outsider"].slug),
            {"fichier": cahier_file(w["nantes"], w["a"])},
        ),
        "404",
    ),
    Forged(
        "cahier_upload: A dans un contrat où l'on n'est pas référent",
        "editor_a",
        lambda w: (u("cahier_upload", o(w), w["a"].slug), {"fichier": cahier_file(w["other"], w["a"])}),
        "403",
    ),
    # Pilotage
    Forged(
        "invitation: dans un autre contrat",
        "pilot",
        lambda w: (u("invitations", o(w)), {"email": "x@example.org", "role": Role.PILOT}),
        "403",
    ),
    Forged(
        "invitation: au nom d'un partenaire hors contrat",
        "pilot",
        lambda w: (
            u("invitations", n(w)),
            {"email": "x@example.org", "role": Role.EDITOR, "partner": w["outsider"].pk},
        ),
        "form",
        CHOICE,
    ),
    Forged(
        "invitation: ajouter un partenaire à un autre contrat",
        "pilot",
        lambda w: (
            u("invitations", o(w)),
            {"action": "add_partner", "ajout-partner": w["outsider"].pk, "ajout-confirm": "on"},
        ),
        "403",
    ),
    # Géoréférencement : un traitement n'existe que pour qui l'a lancé
    Forged(
        "georef_record: le traitement de B",
        "editor_a",
        lambda w: (
            u("georef_record", w["jobs"]["b"].pk),
            {"cible": f"{w['commitments']['a_confirmed'].pk}-{w['share'].pk}", "annee": YEAR},
        ),
        "404",
    ),
    Forged(
        "georef_record: engagement du partenaire B",
        "editor_a",
        lambda w: (
            u("georef_record", w["jobs"]["a"].pk),
            {"cible": f"{w['commitments']['b_confirmed'].pk}-{w['share'].pk}", "annee": YEAR},
        ),
        "form",
        CHOICE,
    ),
    Forged(
        "georef_record: engagement et indicateur d'un autre contrat",
        "editor_a",
        lambda w: (
            u("georef_record", w["jobs"]["a"].pk),
            {"cible": f"{w['commitments']['other_a'].pk}-{w['other_indicator'].pk}", "annee": YEAR},
        ),
        "form",
        CHOICE,
    ),
    Forged(
        "georef_download: le traitement de B",
        "editor_a",
        lambda w: (u("georef_download", w["jobs"]["b"].pk), {}),
        "404",
        method="get",
    ),
    # Éditeur du plan : un objectif ou une action d'un autre contrat sous l'URL de Nantes
    Forged(
        "plan_objective_edit: objectif d'un autre contrat",
        "pilot",
        lambda w: (u("plan_objective_edit", n(w), w["other_objective"].pk), {"title": "Détourné"}),
        "404",
    ),
    Forged(
        "plan_archive: action d'un autre contrat",
        "pilot",
        lambda w: (u("plan_archive", n(w), "action", w["other_action"].pk), {}),
        "404",
    ),
    Forged(
        "plan_action_create: sous un objectif d'un autre contrat",
        "pilot",
        lambda w: (
            u("plan_action_create", n(w), w["other_objective"].pk),
            {"title": "Détournée", "summary_plain": "Une action ailleurs.", "all_qpvs": "on"},
        ),
        "404",
    ),
    # Jetons d'API
    Forged(
        "api_token_revoke: le jeton de B",
        "editor_a",
        lambda w: (u("my_space"), {"token_action": "revoke", "token": w["token_b"].pk}),
        "404",
    ),
    Forged(
        "api_token_revoke: identifiant qui n'est pas un nombre",
        "editor_b",
        lambda w: (u("my_space"), {"token_action": "revoke", "token": "1 OR 1=1"}),
        "404",
    ),
]


@pytest.mark.parametrize("probe", FORGED_PROBES, ids=lambda p: p.name)
def test_forged_ids_get_nowhere(world, probe):
    if probe.setup:
        probe.setup(world)
    client = client_for(world, probe.role)
    url, data = probe.request(world)
    if probe.expect == "ignored":  # ce qu'elle écrit reste, pour ``check``
        response, changed = send(client, probe.method, url, data), None
    else:
        response, changed = sent_and_undone(functools.partial(send, client, probe.method, url, data))
    text = body(response)
    if probe.expect == "ignored":
        assert response.status_code in {200, 302}, (response.status_code, text[:500])
        assert probe.check is None or probe.check(world), "la valeur forgée a servi"
    elif probe.expect == "form":
        assert response.status_code in {200, 409, 422}, (response.status_code, text[:500])
        assert changed == []
    else:
        assert response.status_code == int(probe.expect), (response.status_code, text[:500])
        assert clear_refusal(response)
        assert changed == []
    if probe.message:
        assert probe.message in text, text[:2000]
    if probe.absent:
        assert probe.absent not in text


def test_ignored_probes_do_write_something(world):
    """Les sondes « ignored » ne passent pas à vide : la requête réussit et écrit, sans la valeur forgée."""
    for probe in (p for p in FORGED_PROBES if p.expect == "ignored" and p.method == "post"):
        with rolled_back():
            client = client_for(world, probe.role)
            url, data = probe.request(world)
            response, changed = sent_and_undone(functools.partial(send, client, probe.method, url, data))
            assert response.status_code == 302, probe.name
            assert changed, probe.name


def test_a_value_entered_by_another_partner_is_shown_but_locked(world):
    value_entered_by_b(world)
    client = client_for(world, "editor_a")
    page = body(client.get(u("review_report", n(world), YEAR, world["reports"]["a"].pk)))
    assert 'name="indval_0"' in page and "disabled" in page.split('name="indval_0"')[1].split(">")[0]
    assert "Valeur déjà saisie (Saisi par Partenaire B (sondes) dans le bilan 2025)" in page
    # Son propre chiffre, le référent B le corrige toujours.
    client = client_for(world, "editor_b")
    response = client.post(
        u("review_report", n(world), YEAR, world["reports"]["b"].pk),
        report_post(world["reports"]["b"], indval_0="35"),
    )
    assert response.status_code == 302
    from cdv.indicators.models import IndicatorValue

    assert IndicatorValue.objects.get(indicator=world["share"], territory=world["qpv"], year=YEAR).value == 35


def test_the_service_itself_refuses_to_overwrite_another_partners_value(world):
    """Même appelé sans passer par la page (API, commande), le service ne remplace pas la valeur
    saisie par un autre partenaire : refus en français, rien d'écrit."""
    from cdv.indicators.models import IndicatorValue
    from cdv.monitoring.services import ReviewError

    value_entered_by_b(world)
    with pytest.raises(ReviewError, match="saisie ailleurs .Saisi par Partenaire B"):
        review_services.save_indicator_values(
            user=world["users"]["editor_a"],
            report=world["reports"]["a"],
            values=[(world["share"], world["qpv"], 99)],
        )
    assert value_of_b_is_kept(world)
    assert IndicatorValue.objects.filter(indicator=world["share"]).count() == 1


# --- Couverture : chaque URL des pages est sondée, ou l'on dit pourquoi elle ne l'est pas ici ------

NOT_PROBED_HERE = {
    # vue de l'État (lecture inter-contrats) : chaque rôle refusé, lecteur limité à ses contrats signés,
    # octroi par l'opérateur seul, dans tests/contracts/test_state_view.py et la matrice des droits
    "state_dashboard": "vue de l'État : tests/contracts/test_state_view.py, permissions/",
    "state_dashboard_xlsx": "vue de l'État : tests/contracts/test_state_view.py, permissions/",
    "cross_contract_readers": "vue de l'État : tests/contracts/test_state_view.py, permissions/",
    # appel à projets : chaque rôle × chaque page et écriture dans sa propre matrice
    "call_list": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "call_create": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "call": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "call_edit": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "call_funders": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "call_settings": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "call_publish": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "call_archive": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "call_copy": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "call_drafts": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "partner_applications": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "partner_identity": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "partner_documents": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "application_create": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "application": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "application_project": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "application_budget": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "application_documents": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "application_submit": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "application_withdraw": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "application_delete": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "application_answer": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "application_receipt": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "call_queue": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "application_instruction": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "funder_line_edit": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "quartier_opinion": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "scores_edit": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "request_info": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "application_pdf": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "programmation": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "programmation_xlsx": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "simulate_line": "appel à projets : tests/grants/test_grants_permissions_*.py",
    "committee_vote": "appel à projets : tests/grants/test_grants_permissions_*.py",
    # versements (partie 2) : rôle par rôle dans tests/grants/test_payments_pages.py
    **dict.fromkeys(
        ["line_payments", "payment_cancel", "call_payments", "call_payments_xlsx"],
        "appel à projets : tests/grants/test_payments_pages.py",
    ),
    # actes attributifs (AAP, partie 2) : rôle par rôle dans tests/grants/test_acts_pages.py
    **dict.fromkeys(
        [
            "act_templates",
            "act_template_edit",
            "call_acts",
            "line_act",
            "act_docx",
            "act_pdf",
            "act_sign",
            "act_signed_file",
        ],
        "actes : tests/grants/test_acts_pages.py",
    ),
    "call_import": "import de Dauphin : tests/grants/test_import_pages.py",
    **dict.fromkeys(
        ["report", "report_budget", "report_beneficiaries", "report_submit", "report_pdf"],
        "compte-rendu financier (association) : tests/grants/test_reports_pages.py",
    ),
    **dict.fromkeys(
        ["report_review", "call_reports", "call_blocks", "call_block_lift"],
        "examen des comptes-rendus, blocages : tests/grants/test_review_pages.py",
    ),
    "call_results": "projets financés (public) : tests/grants/test_public_results.py",
    # engagements : tests/security/permissions/ (rôle × action × cible) ;
    # ici, leurs champs cachés
    "commitment_create": "matrice",
    "commitment_edit": "matrice",
    "commitment_transition": "matrice",
    "confirm_cahier": "matrice",
    "commitment": "matrice",
    # mêmes recherches que des pages sondées ici, mais qui fabriquent un PDF ou un DOCX
    "evaluation_document": "même recherche que evaluation_page",
    "evaluation_version_document": "même recherche que evaluation_version_json",
    "questionnaire_pdf": "même recherche que questionnaire_page",
    "annual_report": "même contrôle que review_snapshot",
    # éditeur du plan : mêmes contrôles que les sondes plan_* ci-dessus (refus par rôle et par
    # contrat : tests/plan/test_plan_editor.py)
    **dict.fromkeys(
        ["plan_enjeu_edit", "plan_action_create", "plan_action_edit", "plan_restore", "plan_delete"],
        "même contrôle que les sondes plan_*",
    ),
    # opérateur de l'instance (superutilisateur) seul : tests/contracts/test_new_contract.py
    "new_contract": "opérateur",
    # agenda et fil d'un contrat : lectures seules, par les fonctions de droits de chaque objet
    **dict.fromkeys(["agenda_ics", "news_atom"], "public, filtré par visible_to : tests/www/test_feeds.py"),
    # la personne connectée, et elle seule : aucun identifiant d'autrui dans la requête
    **dict.fromkeys(
        [
            "login",
            "logout",
            "password_reset",
            "password_reset_done",
            "password_reset_confirm",
            "password_reset_complete",
            "invitation",
            "proconnect_login",
            "login_code",
            "two_factor",
            "my_data",
            "delete_account",
            "my_feedback",
            "notifications",
        ],
        "soi",
    ),
    # pages publiques, sans écriture (les données ouvertes : test ci-dessous)
    **dict.fromkeys(
        [
            "home",
            "contracts",
            "contract",
            "indicators",
            "indicator",
            "qpv",
            "enjeu",
            "action",
            "partners",
            "partner",
            "search",
            "map",
            "map_geojson",
            "accessibility",
            "readability",
            "opendata",
            "datapackage",
            "opendata_file",
            "feedback_list",
            "meetings",
            "decisions",
            "evaluations",
            "amendments",
            "questionnaires",
        ],
        "public",
    ),
}


def test_every_page_url_is_probed_or_said_why_not(world):
    """Une nouvelle URL fait échouer ce test tant qu'on ne l'a pas sondée (ROLE_PROBES) ou classée."""
    from django.urls import URLPattern, resolve

    from cdv.www import urls as www_urls

    names = {p.name for p in www_urls.urlpatterns if isinstance(p, URLPattern)}
    probed = {resolve(probe.request(world)[0]).url_name for probe in ROLE_PROBES}
    assert sorted(names - probed - set(NOT_PROBED_HERE)) == []
    assert sorted(probed & set(NOT_PROBED_HERE)) == []
    assert sorted(set(NOT_PROBED_HERE) - names) == []


def test_open_data_never_carries_what_is_not_public(world):
    """Les données ouvertes se lisent comme un anonyme, même pour un pilote connecté."""
    client = client_for(world, "pilot")
    secrets = ["Brouillon de A", "Brouillon de B", "Retour en attente de A", "Comité technique"]
    for resource in ("engagements", "partenaires"):
        response = client.get(u("opendata_file", n(world), resource, "csv"))
        assert response.status_code == 200
        text = response.content.decode("utf-8-sig")
        assert "Ateliers de A" in text or resource != "engagements"
        assert [s for s in secrets if s in text] == []


def test_a_report_never_writes_into_an_official_series(world):
    """Un indicateur de la série officielle (import, pilote) attaché à l'engagement ne reçoit pas de
    valeur d'un bilan : sinon un partenaire publierait le chiffre officiel de la métropole."""
    from cdv.indicators.enums import Scope, ValueStatus
    from cdv.indicators.models import IndicatorValue
    from cdv.monitoring.services import ReviewError

    IndicatorValue.objects.create(
        indicator=world["share"],
        scope=Scope.TERRITORY,
        territory=world["qpv"],
        year=YEAR - 2,
        value=12,
        status=ValueStatus.FINAL,
        comment="Import INSEE",
    )
    with pytest.raises(ReviewError, match="série officielle"):
        review_services.save_indicator_values(
            user=world["users"]["editor_a"],
            report=world["reports"]["a"],
            values=[(world["share"], world["qpv"], 100)],
        )
    assert not IndicatorValue.objects.filter(indicator=world["share"], year=YEAR).exists()


def test_a_value_entered_in_a_report_keeps_its_commitment_of_origin(world):
    from cdv.indicators.models import IndicatorValue

    value_entered_by_b(world)
    value = IndicatorValue.objects.get(indicator=world["share"], territory=world["qpv"], year=YEAR)
    assert value.commitment == world["reports"]["b"].commitment
