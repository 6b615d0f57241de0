"""Le monde des sondes inter-partenaires et inter-contrats des pages (test_attack_probes.py,
test_attack_roles_*.py) et de l'API (test_attack_api.py), et ce qui sert à les mener.

- Le monde : le contrat de Nantes de la démonstration (son suivi annuel retiré), un autre contrat,
  les partenaires A et B, un objet de chaque sorte de chaque côté, un compte et une session par rôle ;
  bâti une fois par fichier et copié pour chaque test (fixtures ``built_world`` et ``world`` de
  conftest.py).
- « La base n'a pas bougé » : empreinte de toutes les tables des applications (historiques
  django-simple-history compris), avant et après la requête ; un compteur d'écritures par table dit
  d'abord lesquelles ont reçu une écriture, et l'empreinte n'est comparée que pour celles-là (une
  table sans écriture n'a pas changé ; ``sent_and_undone``). Chaque essai est annulé, si bien que
  les rôles d'une même sonde ne se gênent pas.
- Les données des formulaires, et la table 1 (``Probe``, ``P``, ``verdict``, ``check_role_probe``) :
  une requête légitime sur un objet du partenaire A du contrat de Nantes, essayée par chaque rôle.
"""

import functools
import html
import io
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from cdv.commitments.enums import CommitmentStatus as S
from cdv.evaluation import services as evaluation_services
from cdv.evaluation.enums import Criterion, EvaluationKind, ItemKind, QuestionnaireStatus
from cdv.evaluation.models import Evaluation, Questionnaire
from cdv.monitoring import feedback as fb
from cdv.monitoring import meetings as mt
from cdv.monitoring import services as review_services
from cdv.monitoring import yearly
from cdv.monitoring.enums import DecisionStatus, FeedbackKind, MeetingKind, ReportState
from cdv.monitoring.models import Meeting, ProgressReport
from cdv.partners.models import Partner
from cdv.seed.demo_evaluation import BELLEVUE, DERVALLIERES
from cdv.users.enums import Role
from cdv.users.services import create_api_token
from tests import factories
from tests.worlds import built_once, remove_demo_reviews

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
    users = factories.users_by_role(specs)
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


@contextmanager
def probe_world(django_db_blocker, tmp_path_factory):
    """Le monde des sondes sur le contrat de Nantes, bâti dans la transaction du module
    (``built_once``, MEDIA_ROOT à lui) après le retrait du suivi annuel de la démonstration ; le
    compteur d'écritures est posé avant cette transaction et retiré après elle (voir
    ``install_write_counter``). Pour les fixtures ``built_world`` des sondes des pages (conftest.py)
    et de l'API (test_attack_api.py), qui y ajoutent ce qui leur est propre."""
    from cdv.contracts.models import Contract

    with django_db_blocker.unblock():
        install_write_counter()
    try:
        with built_once(django_db_blocker, MEDIA_ROOT=tmp_path_factory.mktemp("media")):
            remove_demo_reviews()
            yield build_world(Contract.objects.get(slug="nantes-metropole-2024-2030"))
    finally:
        with django_db_blocker.unblock():
            remove_write_counter()


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


def check_role_probe(world, probe):
    """Chaque rôle essaie la sonde, chaque essai annulé : qui a le droit réussit (et écrit, pour une
    écriture), les autres reçoivent un refus clair, sans rien d'écrit."""
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
