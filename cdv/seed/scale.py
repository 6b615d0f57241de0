"""Jeu de données synthétique à l'échelle nationale, pour mesurer les pages publiques sous charge.

``load_scale_data()`` construit, à côté des données réelles, l'équivalent d'une instance
nationale : 449 contrats synthétiques (avec celui de Nantes, 450) qui se partagent les 1 569 QPV
2024 hors Nantes, 20 000 partenaires, 200 000 engagements et 2 000 000 de valeurs d'indicateurs,
avec leur plan (enjeux, objectifs, actions, priorités de quartier), et l'appel à projets 2025 des
plus grands contrats : 450 dossiers × 6 financeurs par appel, 50 000 dossiers en tout. ``factor``
réduit tout en proportion (0,01 pour les tests) ; chaque nombre peut aussi être donné explicitement.

Rien de tout cela n'est réel, et tout est reconnaissable :

- contrats : identifiant d'URL qui commence par ``synthetique-`` et EPCI porteur synthétique ;
- EPCI porteurs (un par contrat synthétique, référence des écarts) : code ``SYN…`` et source
  « Données synthétiques » ;
- partenaires : identifiant d'URL ``synthetique-partenaire-…`` et ``is_demo`` ;
- objectifs, actions, priorités, engagements, indicateurs et valeurs : ``is_demo`` ;
- appels à projets et dossiers : ``is_demo`` (ils appartiennent aux contrats synthétiques).

Idempotent : chaque exécution supprime d'abord tout ce qui est synthétique, puis reconstruit, dans
une seule transaction. Les données réelles ne sont jamais modifiées : le contrat de Nantes, ses
QPV et tout contrat non synthétique restent tels quels ; les QPV réels sont seulement rattachés
(table de liaison) aux contrats synthétiques.

Écriture par lots : ``bulk_create`` pour les objets dont on a besoin de l'identifiant (EPCI,
contrats, partenaires, plan, indicateurs), ``INSERT`` préparé exécuté par lots (``executemany``)
pour tout le reste ; les engagements sont relus dans l'ordre d'insertion pour leurs identifiants.
Environ 75 s pour le jeu national sous SQLite sur 2 cœurs, 45 s de plus pour supprimer l'ancien.
Aucune entrée d'historique n'est créée pour ces données (elles ne sont l'œuvre de personne), et la
suppression passe par des ``DELETE`` directs : passer par l'ORM, qui historise chaque suppression,
prendrait des heures.
"""

import datetime
import random
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connections, router, transaction
from django.utils import timezone
from django.utils.text import slugify
from tqdm import tqdm

from cdv.commitments.enums import CommitmentScope, CommitmentStatus, FundingKind
from cdv.commitments.models import Commitment, CommitmentAmendment, CommitmentMeans
from cdv.contracts.enums import ContractStatus, MilestoneKind, SignatoryKind
from cdv.contracts.models import Contract, KeyFigure, Milestone, Signatory
from cdv.grants.enums import (
    INSTRUCTION_LINE_STATUSES,
    Account,
    ApplicationStatus,
    CallStatus,
    EventKind,
    FunderKind,
    LineStatus,
    ProjectScope,
    Simulation,
)
from cdv.grants.models import (
    Application,
    ApplicationEvent,
    BudgetLine,
    Call,
    CallDocument,
    CallFunder,
    FunderLine,
    InfoRequest,
    PartnerDocument,
    QuartierOpinion,
    Score,
    ScoringCriterion,
)
from cdv.indicators.enums import Aggregation, Direction, Scope, ValueStatus
from cdv.indicators.models import Indicator, IndicatorValue, Target
from cdv.monitoring.models import Decision, Feedback, Meeting, ProgressReport, ReviewCampaign, Snapshot
from cdv.partners.enums import PartnerKind
from cdv.partners.models import Partner
from cdv.plan.enums import ActionScope, ActionStatus
from cdv.plan.models import Action, Enjeu, Objective, QpvPriority
from cdv.territories.enums import Geography, TerritoryKind
from cdv.territories.models import Territory
from cdv.users.models import Invitation, Membership

PREFIX = "synthetique-"
EPCI_CODE_PREFIX = "SYN"
SOURCE = "Données synthétiques (banc d'essai de charge) : rien de réel"
BATCH_SIZE = 5_000
LAST_YEAR = 2025
FIRST_YEAR = 1990
SEED = 2024

NATIONAL = {
    "contracts": 449,
    "partners": 20_000,
    "commitments": 200_000,
    "values": 2_000_000,
    "applications": 50_000,
}
APPLICATIONS_PER_CALL = 450  # l'appel d'un grand contrat (Nantes : environ 450 projets par an)
FUNDERS_PER_CALL = 6  # État (programme 147), EPCI, ville, CAF, département, région
CALL_YEAR = 2025
INDICATORS_PER_CONTRACT = 24  # un sur trois annuel, les autres trimestriels

ENJEUX = [
    "Emploi et développement économique",
    "Éducation, santé et accès aux droits",
    "Tranquillité publique et prévention",
    "Cadre de vie, habitat et transition écologique",
]
OBJECTIVES = [
    ["Rapprocher les habitants de l'emploi", "Soutenir la création d'activité"],
    ["Favoriser la réussite éducative", "Faciliter l'accès aux droits et aux soins"],
    ["Prévenir la délinquance des jeunes", "Renforcer la médiation dans l'espace public"],
    ["Améliorer l'habitat et réduire les charges", "Développer la nature en ville"],
]
ACTIONS = [
    ["Forums emploi de proximité", "Accompagnement vers le permis de conduire"],
    ["Boutiques à l'essai en pied d'immeuble", "Couveuse d'entreprises du quartier"],
    ["Aide aux devoirs après l'école", "Programme de réussite éducative"],
    ["Permanences d'accès aux droits", "Médiation santé"],
    ["Chantiers éducatifs pour les 16-25 ans", "Prévention spécialisée"],
    ["Médiation de nuit l'été", "Marches exploratoires"],
    ["Ateliers économies d'énergie", "Réhabilitation thermique des logements"],
    ["Jardins partagés au pied des immeubles", "Végétalisation des cours d'école"],
]
COMMITMENT_TITLES = [
    "Accompagner vers l'emploi {n} habitants du quartier",
    "Soutenir la création de {n} entreprises",
    "Ouvrir l'aide aux devoirs {n} soirs par semaine",
    "Tenir {n} permanences d'accès aux droits par mois",
    "Organiser {n} chantiers éducatifs par an",
    "Former {n} médiateurs de nuit",
    "Réhabiliter {n} logements",
    "Aménager {n} jardins partagés",
]
# (nom, unité, règle d'agrégation, sens)
INDICATOR_MODELS = [
    ("Taux de pauvreté", "%", Aggregation.RATIO, Direction.DOWN_IS_GOOD),
    ("Demandeurs d'emploi inscrits", "personnes", Aggregation.SUM, Direction.DOWN_IS_GOOD),
    ("Taux d'emploi des 15-64 ans", "%", Aggregation.RATIO, Direction.UP_IS_GOOD),
    ("Part des familles monoparentales", "%", Aggregation.RATIO, Direction.DOWN_IS_GOOD),
    ("Jeunes accompagnés par la mission locale", "personnes", Aggregation.SUM, Direction.UP_IS_GOOD),
    ("Part des jeunes sans diplôme", "%", Aggregation.RATIO, Direction.DOWN_IS_GOOD),
    ("Allocataires du RSA", "foyers", Aggregation.SUM, Direction.DOWN_IS_GOOD),
    ("Taux de réussite au brevet", "%", Aggregation.RATIO, Direction.UP_IS_GOOD),
]
PARTNER_KINDS = [
    PartnerKind.ASSOCIATION,
    PartnerKind.ASSOCIATION,
    PartnerKind.ASSOCIATION,
    PartnerKind.SOCIAL_LANDLORD,
    PartnerKind.COMMUNE,
    PartnerKind.ASSOCIATION,
    PartnerKind.OPERATOR,
    PartnerKind.COMPANY,
    PartnerKind.ASSOCIATION,
    PartnerKind.STATE,
]
SIGNATORIES_PER_CONTRACT = 6
# (type, intitulé, année, date de réalisation selon le contrat)
MILESTONES = [
    (MilestoneKind.SIGNATURE, "Signature du contrat", 2024, lambda sc: sc.contract.signed_on),
    (MilestoneKind.COMMITMENTS, "Cahiers d'engagements", 2025, lambda sc: None),
    (MilestoneKind.MID_TERM_EVALUATION, "Évaluation à mi-parcours", 2027, lambda sc: None),
    (MilestoneKind.END, "Fin du contrat", 2030, lambda sc: None),
]
# Un engagement sur vingt dans chaque état : la plupart sont publics (confirmés et suivants).
STATUS_CYCLE = [
    CommitmentStatus.DRAFT,
    CommitmentStatus.PROPOSED,
    CommitmentStatus.VALIDATED,
    CommitmentStatus.RETURNED,
    *[CommitmentStatus.CONFIRMED] * 8,
    *[CommitmentStatus.IN_PROGRESS] * 5,
    CommitmentStatus.DONE,
    CommitmentStatus.PARTLY_DONE,
    CommitmentStatus.ABANDONED,
]


@dataclass
class ScaleCounts:
    contracts: int
    partners: int
    commitments: int
    values: int
    indicators_per_contract: int = INDICATORS_PER_CONTRACT
    applications: int = 0

    @classmethod
    def scaled(cls, factor: float = 1.0, **explicit) -> "ScaleCounts":
        """Les volumes nationaux multipliés par ``factor`` ; un nombre donné explicitement l'emporte."""
        if factor <= 0:
            raise ValueError("Le facteur d'échelle doit être strictement positif.")
        counts = {name: max(1, round(total * factor)) for name, total in NATIONAL.items()}
        counts.update({name: value for name, value in explicit.items() if value is not None})
        return cls(**counts)


@dataclass
class ScaleReport:
    deleted: dict = field(default_factory=dict)
    created: dict = field(default_factory=dict)
    seconds: float = 0.0

    def count(self, label: str, n: int) -> None:
        self.created[label] = self.created.get(label, 0) + n


@dataclass
class _Contract:
    contract: Contract
    index: int
    qpvs: list  # (pk, code, name)
    epci_id: int
    partners: list = field(default_factory=list)  # pk
    objectives: list = field(default_factory=list)  # (objective pk, enjeu index)
    actions: dict = field(default_factory=dict)  # objective pk → [action pk]
    enjeux: list = field(default_factory=list)  # pk
    indicators: list = field(default_factory=list)  # (pk, annual, aggregation, enjeu index)


# --- Écriture et suppression par lots ---------------------------------------------------------


def _connection(model):
    return connections[router.db_for_write(model)]


def _chunks(rows, size):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _insert(model, fields: list[str], rows, bar=None) -> int:
    """INSERT préparé, exécuté par lots, pour des lignes données en tuples (dans l'ordre de ``fields``).

    Les champs omis reçoivent leur valeur par défaut (l'heure courante pour ``auto_now``), si bien
    qu'un champ ajouté plus tard au modèle avec une valeur par défaut ne casse rien.
    """
    connection = _connection(model)
    quote = connection.ops.quote_name
    given = [model._meta.get_field(name) for name in fields]
    omitted = [f for f in model._meta.concrete_fields if not f.primary_key and f not in given]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    defaults = tuple(
        now
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        else f.get_db_prep_save(f.get_default(), connection)
        for f in omitted
    )
    columns = ", ".join(quote(f.column) for f in [*given, *omitted])
    placeholders = ", ".join(["%s"] * (len(given) + len(omitted)))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"
    written = 0
    with connection.cursor() as cursor:
        for chunk in _chunks(rows, BATCH_SIZE):
            cursor.executemany(sql, [(*row, *defaults) for row in chunk] if defaults else chunk)
            written += len(chunk)
            if bar is not None:
                bar.update(len(chunk))
    return written


def _bulk(model, objects: list, bar=None) -> list:
    for chunk in _chunks(objects, BATCH_SIZE):
        model.objects.bulk_create(chunk, batch_size=BATCH_SIZE)
        if bar is not None:
            bar.update(len(chunk))
    return objects


def synthetic_contracts():
    return Contract.objects.filter(slug__startswith=PREFIX, epci__in=synthetic_epcis())


def synthetic_partners():
    return Partner.objects.filter(slug__startswith=PREFIX, is_demo=True)


def synthetic_epcis():
    return Territory.objects.filter(kind=TerritoryKind.EPCI, code__startswith=EPCI_CODE_PREFIX, source=SOURCE)


def delete_synthetic_data() -> dict[str, int]:
    """Supprime tout ce qui est synthétique (et seulement cela). Renvoie le nombre de lignes par table."""
    contracts = synthetic_contracts().values("pk")
    partners = synthetic_partners().values("pk")
    enjeux = Enjeu.objects.filter(contract__in=contracts).values("pk")
    objectives = Objective.objects.filter(enjeu__in=enjeux).values("pk")
    actions = Action.objects.filter(objective__in=objectives).values("pk")
    commitments = Commitment.objects.filter(contract__in=contracts).values("pk")
    indicators = Indicator.objects.filter(contract__in=contracts).values("pk")
    calls = Call.objects.filter(contract__in=contracts).values("pk")
    applications = Application.objects.filter(call__in=calls).values("pk")

    # Ce qu'une personne aurait ajouté à la main sur un contrat ou un partenaire synthétique : peu
    # de lignes, suppression ordinaire (avec ses cascades et son historique).
    Snapshot.objects.filter(campaign__contract__in=contracts).delete()
    for model in (ReviewCampaign, Feedback, Meeting, Membership, Invitation):
        model.objects.filter(contract__in=contracts).delete()
    for model in (ProgressReport, Membership, Invitation):
        model.objects.filter(partner__in=partners).delete()
    Feedback.objects.filter(partner__in=partners).update(partner=None)
    Decision.objects.filter(owner__in=partners).update(owner=None)
    Meeting.participants.through.objects.filter(partner__in=partners).delete()

    PartnerDocument.objects.filter(partner__in=partners).delete()  # et leurs fichiers

    plan = [
        ("événements des dossiers", ApplicationEvent.objects.filter(application__in=applications)),
        ("demandes de compléments", InfoRequest.objects.filter(application__in=applications)),
        ("notes", Score.objects.filter(application__in=applications)),
        ("avis de quartier", QuartierOpinion.objects.filter(application__in=applications)),
        ("lignes de financeur", FunderLine.objects.filter(application__in=applications)),
        ("lignes de budget", BudgetLine.objects.filter(application__in=applications)),
        ("QPV des dossiers", Application.qpvs.through.objects.filter(application__in=applications)),
        ("pièces des dossiers", Application.documents.through.objects.filter(application__in=applications)),
        ("dossiers", Application.objects.filter(call__in=calls)),
        ("critères de notation", ScoringCriterion.objects.filter(call__in=calls)),
        ("pièces demandées", CallDocument.objects.filter(call__in=calls)),
        ("financeurs des appels", CallFunder.objects.filter(call__in=calls)),
        ("enjeux des appels", Call.eligible_enjeux.through.objects.filter(call__in=calls)),
        ("objectifs des appels", Call.eligible_objectives.through.objects.filter(call__in=calls)),
        ("QPV des appels", Call.eligible_qpvs.through.objects.filter(call__in=calls)),
        ("appels à projets", Call.objects.filter(contract__in=contracts)),
        ("valeurs d'indicateurs", IndicatorValue.objects.filter(indicator__in=indicators)),
        ("cibles", Target.objects.filter(indicator__in=indicators)),
        (
            "indicateurs d'engagements",
            Commitment.indicators.through.objects.filter(commitment__in=commitments),
        ),
        ("QPV d'engagements", Commitment.qpvs.through.objects.filter(commitment__in=commitments)),
        ("moyens", CommitmentMeans.objects.filter(commitment__in=commitments)),
        ("avenants", CommitmentAmendment.objects.filter(commitment__in=commitments)),
        ("engagements", Commitment.objects.filter(contract__in=contracts)),
        ("indicateurs", Indicator.objects.filter(contract__in=contracts)),
        ("priorités de quartier", QpvPriority.objects.filter(enjeu__in=enjeux)),
        ("QPV d'actions", Action.qpvs.through.objects.filter(action__in=actions)),
        ("contributeurs d'actions", Action.contributors.through.objects.filter(action__in=actions)),
        ("actions", Action.objects.filter(objective__in=objectives)),
        ("objectifs", Objective.objects.filter(enjeu__in=enjeux)),
        ("enjeux", Enjeu.objects.filter(contract__in=contracts)),
        ("signataires", Signatory.objects.filter(contract__in=contracts)),
        ("jalons", Milestone.objects.filter(contract__in=contracts)),
        ("chiffres clés", KeyFigure.objects.filter(contract__in=contracts)),
        ("QPV des contrats", Contract.qpvs.through.objects.filter(contract__in=contracts)),
        ("contrats", synthetic_contracts()),
        ("QPV des partenaires", Partner.qpvs.through.objects.filter(partner__in=partners)),
        ("collectifs", Partner.member_of.through.objects.filter(from_partner__in=partners)),
        ("membres de collectifs", Partner.member_of.through.objects.filter(to_partner__in=partners)),
        ("partenaires", synthetic_partners()),
        ("EPCI synthétiques", synthetic_epcis()),
    ]
    deleted = {}
    for label, queryset in plan:
        count = queryset._raw_delete(queryset.db)
        if count:
            deleted[label] = count
    return deleted


# --- Construction -----------------------------------------------------------------------------


def _is_annual(k: int) -> bool:
    """Un indicateur sur trois est annuel, les autres trimestriels."""
    return k % 3 == 0


def _split_sizes(total: int, parts: int, rng: random.Random) -> list[int]:
    """``total`` réparti en ``parts`` tailles ≥ 1, inégales (loi log-normale) comme les vrais contrats."""
    weights = [rng.lognormvariate(0, 0.9) for _ in range(parts)]
    scale = (total - parts) / sum(weights)
    raw = [w * scale for w in weights]
    sizes = [1 + int(r) for r in raw]
    by_remainder = sorted(range(parts), key=lambda i: raw[i] - int(raw[i]), reverse=True)
    for i in by_remainder[: total - sum(sizes)]:
        sizes[i] += 1
    return sizes


def _even(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def _available_qpvs() -> list[tuple]:
    """Les QPV 2024 qui ne relèvent d'aucun contrat réel, par code (donc par département)."""
    real = Contract.qpvs.through.objects.exclude(contract__in=synthetic_contracts()).values("territory_id")
    return list(
        Territory.objects.qpvs(Geography.QPV_2024)
        .exclude(pk__in=real)
        .order_by("code")
        .values_list("pk", "code", "name", "population")
    )


def load_scale_data(
    counts: ScaleCounts | None = None, *, progress: bool = False, seed: int = SEED
) -> ScaleReport:
    counts = counts or ScaleCounts.scaled(1.0)
    started = time.monotonic()
    report = ScaleReport()
    with transaction.atomic():
        report.deleted = delete_synthetic_data()
        builder = _Builder(counts, report, progress=progress, rng=random.Random(seed))
        builder.run()
    _analyze()
    report.seconds = time.monotonic() - started
    return report


def _analyze() -> None:
    """PostgreSQL : statistiques à jour tout de suite. Juste après le chargement, avant le passage de
    l'autovacuum, la page des indicateurs de Nantes mettait 250 ms au lieu de 8 (mauvais plan).
    SQLite n'a pas de statistiques tant qu'on ne lance pas ANALYZE, et s'en passe très bien ici."""
    models = [Territory, Contract, Contract.qpvs.through, Partner, Signatory, Enjeu, Objective, Action]
    models += [QpvPriority, Indicator, IndicatorValue, Commitment, Commitment.qpvs.through, CommitmentMeans]
    models += [
        Call,
        CallFunder,
        Application,
        Application.qpvs.through,
        BudgetLine,
        FunderLine,
        ApplicationEvent,
    ]
    for model in models:
        connection = _connection(model)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


# --- Appel à projets --------------------------------------------------------------------------

APPLICATION_FIELDS = ["call", "partner", "number", "status", "title", "summary", "scope", "qpv_share"]
APPLICATION_FIELDS += ["beneficiaries", "enjeu", "objective", "years", "sworn_name", "sworn_statement"]
APPLICATION_FIELDS += ["republican_contract", "submitted_at", "is_demo", "created_at"]
LINE_FIELDS = ["application", "funder", "status", "requested_amount", "proposed_amount", "simulation"]
LINE_FIELDS += ["simulated_amount"]


def _application_plan(k: int) -> str:
    """L'état du dossier ``k`` d'un appel : surtout déposés, quelques brouillons, rendus, retirés."""
    if k % 20 == 19:
        return ApplicationStatus.DRAFT.value
    if k % 20 == 18:
        return ApplicationStatus.RETURNED.value
    if k % 50 == 17:
        return ApplicationStatus.WITHDRAWN.value
    return ApplicationStatus.SUBMITTED.value


class _ApplicationsMixin:
    """L'appel à projets 2025 des plus grands contrats synthétiques (dépôt clos, instruction en
    cours, comité à venir) : ``APPLICATIONS_PER_CALL`` dossiers par appel, chacun avec une ligne par
    financeur, un budget équilibré et son historique."""

    def build_applications(self) -> None:
        total = self.counts.applications
        if not total:
            return
        n_calls = min(len(self.contracts), -(-total // APPLICATIONS_PER_CALL))
        largest = sorted(self.contracts, key=lambda sc: (-len(sc.qpvs), sc.index))[:n_calls]
        largest.sort(key=lambda sc: sc.index)
        per_call = _even(total, n_calls)
        bar = self.bar("appel à projets", total * (2 + FUNDERS_PER_CALL))  # précisé plus bas
        calls = [
            Call(
                contract=sc.contract,
                year=CALL_YEAR,
                title=f"Appel à projets {CALL_YEAR} (synthétique, données de charge)",
                summary="Appel fictif, créé pour mesurer les performances. Rien n'y est réel.",
                status=CallStatus.PUBLISHED,
                publication_date=datetime.date(2024, 9, 16),
                filing_opens=datetime.date(2024, 10, 15),
                filing_closes=datetime.date(2024, 11, 15),
                instruction_ends=datetime.date(2025, 1, 10),
                committee_date=datetime.date(2025, 2, 6),
                notification_date=datetime.date(2025, 2, 17),
                last_number=0,
                is_demo=True,
            )
            for sc in largest
        ]
        _bulk(Call, calls)
        funders, call_funders = [], {}
        for sc, call in zip(largest, calls, strict=True):
            # Les signataires du contrat (rangs 1 à 6) financent ; les autres partenaires déposent.
            partners = sc.partners[1 : 1 + FUNDERS_PER_CALL] or sc.partners[:1]
            call_funders[call.pk] = []
            for order, partner_pk in enumerate(partners):
                kind = FunderKind.PRIVILEGED if order < 2 else FunderKind.PARTNER
                funder = CallFunder(
                    call=call,
                    partner_id=partner_pk,
                    kind=kind,
                    envelope=Decimal(100_000 * (FUNDERS_PER_CALL - order)),
                    order=order,
                )
                funders.append(funder)
                call_funders[call.pk].append(funder)
        _bulk(CallFunder, funders)
        submitted_on = _connection(Application).ops.adapt_datetimefield_value(
            datetime.datetime(2024, 11, 10, 10, tzinfo=datetime.UTC)
        )
        created_on = _connection(Application).ops.adapt_datetimefield_value(
            datetime.datetime(2024, 10, 20, 10, tzinfo=datetime.UTC)
        )
        rows, owners = [], []
        for sc, call, n in zip(largest, calls, per_call, strict=True):
            applicants = sc.partners[1 + FUNDERS_PER_CALL :] or sc.partners
            number = 0
            for k in range(n):
                status = _application_plan(k)
                submitted = status != ApplicationStatus.DRAFT.value
                if submitted:
                    number += 1
                objective_pk, e_index = sc.objectives[k % len(sc.objectives)]
                title = ACTIONS[k % len(ACTIONS)][k % 2]
                rows.append(
                    (
                        call.pk,
                        applicants[k % len(applicants)],
                        f"{CALL_YEAR}-{number:04d}" if submitted else "",
                        status,
                        f"{title} (projet fictif n° {k + 1})",
                        "Projet fictif (données de charge).",
                        ProjectScope.WHOLE.value if k % 10 == 0 else ProjectScope.QPV.value,
                        Decimal(50 + k % 50),
                        20 + k % 180,
                        sc.enjeux[e_index],
                        objective_pk,
                        1,
                        "Représentant fictif" if submitted else "",
                        submitted,
                        submitted,
                        submitted_on if submitted else None,
                        True,
                        created_on,
                    )
                )
                owners.append((sc, call, k, submitted))
            call.last_number = number
        Call.objects.bulk_update(calls, ["last_number"])
        self.report.count("appels à projets", len(calls))
        self.report.count("financeurs des appels", len(funders))
        self.report.count("dossiers", _insert(Application, APPLICATION_FIELDS, rows, bar))
        del rows
        pks = list(Application.objects.filter(call__in=calls).order_by("pk").values_list("pk", flat=True))
        qpvs, lines, budget, events = [], [], [], []
        for pk, (sc, call, k, submitted) in zip(pks, owners, strict=True):
            if k % 10:
                qpvs.append((pk, sc.qpvs[k % len(sc.qpvs)][0]))
            requested_total = 0
            for position, funder in enumerate(call_funders[call.pk]):
                requested = 1000 + 250 * ((k * 7 + position * 3) % 40)
                requested_total += requested
                if not submitted:
                    status, proposed = LineStatus.DRAFT.value, None
                else:
                    status = INSTRUCTION_LINE_STATUSES[(k + position) % len(INSTRUCTION_LINE_STATUSES)].value
                    proposed = (
                        Decimal(requested * 9 // 10)
                        if status in (LineStatus.ADMISSIBLE, LineStatus.INSTRUCTING)
                        else None
                    )
                simulated = proposed is not None and (k + position) % 3 == 0
                lines.append(
                    (
                        pk,
                        funder.pk,
                        status,
                        Decimal(requested),
                        proposed,
                        Simulation.YES.value if simulated else "",
                        proposed if simulated else None,
                    )
                )
            # Budget équilibré : charges = autres produits (compte 70) + demandes aux financeurs.
            own = requested_total * 3 // 10
            personnel = (requested_total + own) * 7 // 10
            budget += [
                (pk, Account.A64.value, "Salaires et charges", Decimal(personnel), 0),
                (pk, Account.A60.value, "Achats", Decimal(requested_total + own - personnel), 1),
                (pk, Account.A70.value, "Participations", Decimal(own), 2),
            ]
            events.append((pk, EventKind.CREATED.value, "", created_on))
            if submitted:
                events.append((pk, EventKind.SUBMITTED.value, "Dossier déposé (fictif).", submitted_on))
        del owners
        bar.total = total * (1 + FUNDERS_PER_CALL) + len(events)
        bar.refresh()
        self.report.count(
            "QPV des dossiers", _insert(Application.qpvs.through, ["application", "territory"], qpvs)
        )
        self.report.count("lignes de financeur", _insert(FunderLine, LINE_FIELDS, lines, bar))
        fields = ["application", "account", "label", "amount", "order"]
        self.report.count("lignes de budget", _insert(BudgetLine, fields, budget))
        fields = ["application", "kind", "message", "at"]
        self.report.count("événements des dossiers", _insert(ApplicationEvent, fields, events, bar))


class _Builder(_ApplicationsMixin):
    def __init__(self, counts: ScaleCounts, report: ScaleReport, *, progress: bool, rng: random.Random):
        self.counts = counts
        self.report = report
        self.progress = progress
        self.rng = rng
        self.contracts: list[_Contract] = []

    def bar(self, label: str, total: int):
        return tqdm(total=total, desc=label, unit=" lignes", disable=not self.progress, leave=True)

    def run(self) -> None:
        c = self.counts
        if c.contracts < 1 or c.partners < c.contracts:
            raise ValueError("Il faut au moins un contrat, et au moins un partenaire par contrat.")
        if c.indicators_per_contract < 1 and c.values:
            raise ValueError("Des valeurs d'indicateurs demandent au moins un indicateur par contrat.")
        qpvs = _available_qpvs()
        wanted = max(c.contracts, round(len(qpvs) * min(1.0, c.contracts / NATIONAL["contracts"])))
        if wanted > len(qpvs):
            raise ValueError(
                f"{c.contracts} contrats synthétiques demandent au moins autant de QPV ; "
                f"{len(qpvs)} QPV sont libres (hors contrats réels)."
            )
        sizes = _split_sizes(wanted, c.contracts, self.rng)
        self.plan_values(sizes)
        self.build_contracts(qpvs[:wanted], sizes)
        self.build_partners()
        self.build_plan()
        self.build_indicators()
        self.build_commitments()
        self.build_values()
        self.build_applications()

    # Contrats, EPCI porteurs, QPV, jalons.
    def plan_values(self, sizes: list[int]) -> None:
        """Longueur commune des séries de valeurs ; refuse ce qui remonterait avant 1990.

        Une série par (indicateur, territoire) : chaque QPV du contrat et son EPCI. Poids d'une série :
        1 par an (annuelle) ou 4 (trimestrielle) ; toutes couvrent le même nombre d'années, et le
        reste se répartit une période par série.
        """
        n = self.counts.indicators_per_contract
        annual = len([k for k in range(n) if _is_annual(k)])
        territories = sum(size + 1 for size in sizes)
        weight = territories * (annual + 4 * (n - annual))
        self.series_count = territories * n
        if not self.counts.values or not weight:
            self.years = self.extra = self.first_extra = 0
            return
        self.years, remainder = divmod(self.counts.values, weight)
        self.extra, self.first_extra = divmod(remainder, self.series_count)
        longest = self.extra + (1 if self.first_extra else 0)
        if (annual and self.years + longest > LAST_YEAR - FIRST_YEAR + 1) or (
            4 * self.years + longest > 4 * (LAST_YEAR - FIRST_YEAR + 1)
        ):
            raise ValueError(
                f"{self.counts.values} valeurs pour {self.series_count} séries remonteraient avant "
                f"{FIRST_YEAR} : demandez plus de contrats ou d'indicateurs par contrat."
            )

    def build_contracts(self, qpvs: list[tuple], sizes: list[int]) -> None:
        bar = self.bar("contrats", self.counts.contracts * 2)
        epcis, groups, start = [], [], 0
        for index, size in enumerate(sizes, start=1):
            group = qpvs[start : start + size]
            start += size
            groups.append(group)
            population = sum(q[3] or 0 for q in group)
            epcis.append(
                Territory(
                    kind=TerritoryKind.EPCI,
                    code=f"{EPCI_CODE_PREFIX}{index:06d}",
                    name=f"Agglomération synthétique n° {index}",
                    population=max(population * 5, 40_000 + 500 * index),
                    population_source=SOURCE,
                    source=SOURCE,
                )
            )
        _bulk(Territory, epcis, bar)
        contracts = [
            Contract(
                slug=f"{PREFIX}{index:03d}",
                title=f"Contrat de ville synthétique n° {index} (données de charge)",
                epci=epci,
                start_year=2024,
                end_year=2030,
                signed_on=datetime.date(2024, 1 + index % 12, 1 + index % 28),
                status=ContractStatus.ACTIVE,
                summary_plain=(
                    "Contrat fictif, créé pour mesurer les performances de la plateforme à "
                    "l'échelle nationale. Rien de ce qu'il contient n'est réel."
                ),
            )
            for index, epci in enumerate(epcis, start=1)
        ]
        _bulk(Contract, contracts, bar)
        for index, (contract, group, epci) in enumerate(zip(contracts, groups, epcis, strict=True), start=1):
            self.contracts.append(
                _Contract(contract=contract, index=index, qpvs=[q[:3] for q in group], epci_id=epci.pk)
            )
        self.report.count("EPCI synthétiques", len(epcis))
        self.report.count("contrats", len(contracts))
        rows = ((sc.contract.pk, q[0]) for sc in self.contracts for q in sc.qpvs)
        self.report.count("QPV des contrats", _insert(Contract.qpvs.through, ["contract", "territory"], rows))
        milestones = [
            (sc.contract.pk, kind.value, title, year, done(sc))
            for sc in self.contracts
            for kind, title, year, done in MILESTONES
        ]
        fields = ["contract", "kind", "title", "year", "done_on"]
        self.report.count("jalons", _insert(Milestone, fields, milestones))

    # Partenaires, signataires ; le premier partenaire de chaque contrat est un conseil citoyen.
    def build_partners(self) -> None:
        per_contract = _even(self.counts.partners, self.counts.contracts)
        bar = self.bar("partenaires", self.counts.partners)
        partners, owners, number = [], [], 0
        for sc, n in zip(self.contracts, per_contract, strict=True):
            for rank in range(n):
                number += 1
                kind = (
                    PartnerKind.CITIZEN_COUNCIL if rank == 0 else PARTNER_KINDS[number % len(PARTNER_KINDS)]
                )
                label = kind.label.split(" (")[0]
                partners.append(
                    Partner(
                        name=f"Partenaire synthétique n° {number} — {label}",
                        slug=f"{PREFIX}partenaire-{number:05d}",
                        kind=kind,
                        description="Partenaire fictif (données de charge).",
                        is_demo=True,
                    )
                )
                owners.append(sc)
        _bulk(Partner, partners, bar)
        signatories, councils = [], []
        for partner, sc in zip(partners, owners, strict=True):
            rank = len(sc.partners)
            sc.partners.append(partner.pk)
            signs = 0 < rank <= SIGNATORIES_PER_CONTRACT
            kind = SignatoryKind.SIGNATORY if signs else SignatoryKind.PARTICIPANT
            signed_on = sc.contract.signed_on if signs else None
            signatories.append((sc.contract.pk, partner.pk, kind.value, signed_on, rank))
            if rank == 0:
                councils += [(partner.pk, q[0]) for q in sc.qpvs]
        fields = ["contract", "partner", "kind", "signed_on", "order"]
        self.report.count("partenaires", len(partners))
        self.report.count("signataires", _insert(Signatory, fields, signatories))
        self.report.count(
            "QPV des partenaires", _insert(Partner.qpvs.through, ["partner", "territory"], councils)
        )

    # Plan : 4 enjeux, 2 objectifs par enjeu, 2 actions par objectif (une métropolitaine, une de
    # quartier), priorités de chaque QPV pour chaque enjeu.
    def build_plan(self) -> None:
        bar = self.bar("plan", len(self.contracts) * len(ENJEUX) * 7)
        enjeux = []
        for sc in self.contracts:
            for number, title in enumerate(ENJEUX, start=1):
                enjeux.append(
                    Enjeu(
                        contract=sc.contract,
                        number=number,
                        title=title,
                        slug=slugify(title)[:80],
                        summary_plain=f"{title} : enjeu fictif (données de charge).",
                        is_demo=True,
                    )
                )
        _bulk(Enjeu, enjeux, bar)
        objectives = []
        for sc, start in zip(self.contracts, range(0, len(enjeux), len(ENJEUX)), strict=True):
            sc.enjeux = [e.pk for e in enjeux[start : start + len(ENJEUX)]]
            for e_index, enjeu in enumerate(enjeux[start : start + len(ENJEUX)]):
                for number, title in enumerate(OBJECTIVES[e_index], start=1):
                    objectives.append(
                        (sc, e_index, Objective(enjeu=enjeu, number=number, title=title, is_demo=True))
                    )
        _bulk(Objective, [o for _, _, o in objectives], bar)
        actions, action_owner = [], []
        for o_index, (sc, e_index, objective) in enumerate(objectives):
            sc.objectives.append((objective.pk, e_index))
            titles = ACTIONS[(e_index * 2 + objective.number - 1) % len(ACTIONS)]
            for a_number, title in enumerate(titles, start=1):
                metropolitan = a_number == 1
                actions.append(
                    Action(
                        objective=objective,
                        code=f"{e_index + 1}.{objective.number}.{a_number}",
                        title=title,
                        summary_plain=f"{title} : action fictive (données de charge).",
                        scope=ActionScope.METROPOLITAN if metropolitan else ActionScope.QPV,
                        pilot_partner_id=sc.partners[(o_index + a_number) % len(sc.partners)],
                        status=ActionStatus.IN_PROGRESS if o_index % 2 else ActionStatus.PLANNED,
                        start_on=datetime.date(2025, 1, 1),
                        is_demo=True,
                    )
                )
                action_owner.append(sc)
        _bulk(Action, actions, bar)
        action_qpvs = []
        for position, (action, sc) in enumerate(zip(actions, action_owner, strict=True)):
            sc.actions.setdefault(action.objective_id, []).append(action.pk)
            if action.scope == ActionScope.QPV:
                action_qpvs.append((action.pk, sc.qpvs[position % len(sc.qpvs)][0]))
        priorities = (
            (enjeu_pk, q[0], f"Priorités locales de {q[2]} (texte fictif, données de charge).", True)
            for sc in self.contracts
            for enjeu_pk in sc.enjeux
            for q in sc.qpvs
        )
        self.report.count("enjeux", len(enjeux))
        self.report.count("objectifs", len(objectives))
        self.report.count("actions", len(actions))
        self.report.count("QPV d'actions", _insert(Action.qpvs.through, ["action", "territory"], action_qpvs))
        self.report.count(
            "priorités de quartier", _insert(QpvPriority, ["enjeu", "qpv", "text", "is_demo"], priorities)
        )

    def build_indicators(self) -> None:
        n = self.counts.indicators_per_contract
        bar = self.bar("indicateurs", len(self.contracts) * n)
        indicators = []
        for sc in self.contracts:
            for k in range(n):
                name, unit, aggregation, direction = INDICATOR_MODELS[k % len(INDICATOR_MODELS)]
                annual = _is_annual(k)
                series = k // len(INDICATOR_MODELS)
                full_name = f"{name}{f' (série {series + 1})' if series else ''} (synthétique)"
                indicators.append(
                    Indicator(
                        contract=sc.contract,
                        code=f"synthetique-{k + 1:02d}",
                        name=full_name,
                        definition="Indicateur fictif, valeurs inventées (données de charge).",
                        enjeu_id=sc.enjeux[k % len(sc.enjeux)],
                        unit=unit,
                        rate_scale=100 if unit == "%" else None,
                        direction=direction,
                        aggregation=aggregation,
                        source=SOURCE,
                        frequency="annuelle" if annual else "trimestrielle",
                        geography=Geography.QPV_2024,
                        levels=["QPV", "EPCI"],
                        baseline_year=2022,
                        is_demo=True,
                    )
                )
        _bulk(Indicator, indicators, bar)
        for position, indicator in enumerate(indicators):
            sc = self.contracts[position // n]
            k = position % n
            sc.indicators.append((indicator.pk, _is_annual(k), indicator.aggregation, k % len(ENJEUX)))
        self.report.count("indicateurs", len(indicators))

    # Engagements, leurs QPV, leurs indicateurs de suivi et leurs moyens 2025. Écrits par INSERT
    # direct (bulk_create, limité à 999 paramètres par requête sous SQLite, est vingt fois plus lent),
    # puis relus dans l'ordre d'insertion pour connaître leurs identifiants.
    def build_commitments(self) -> None:
        per_contract = _even(self.counts.commitments, self.counts.contracts)
        bar = self.bar("engagements", self.counts.commitments * 2)
        rows, owners, number = [], [], 0
        for sc, n in zip(self.contracts, per_contract, strict=True):
            for k in range(n):
                number += 1
                objective_pk, e_index = sc.objectives[k % len(sc.objectives)]
                actions = sc.actions.get(objective_pk, [])
                status = STATUS_CYCLE[number % len(STATUS_CYCLE)]
                scope = (
                    CommitmentScope.METROPOLITAN
                    if k % 10 < 3
                    else CommitmentScope.CONTRACT
                    if k % 10 == 3
                    else CommitmentScope.QPV
                )
                title = COMMITMENT_TITLES[(e_index * 2 + k) % len(COMMITMENT_TITLES)].format(n=5 + k % 40)
                rows.append(
                    (
                        sc.contract.pk,
                        sc.partners[k % len(sc.partners)],
                        objective_pk,
                        actions[k % len(actions)] if actions and k % 5 else None,
                        scope.value,
                        f"{title} (n° {number})",
                        "Engagement fictif (données de charge).",
                        f"{10 + k % 90} personnes par an",
                        datetime.date(2026 + k % 5, 12, 31),
                        status.value,
                        "Abandon fictif." if status == CommitmentStatus.ABANDONED else "",
                        True,
                    )
                )
                owners.append((sc, scope == CommitmentScope.QPV))
        fields = ["contract", "partner", "objective", "action", "scope", "title", "summary_plain", "target"]
        fields += ["deadline", "status", "status_comment", "is_demo"]
        self.report.count("engagements", _insert(Commitment, fields, rows, bar))
        del rows
        pks = list(
            Commitment.objects.filter(contract__in=synthetic_contracts())
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        qpvs, indicators, means = [], [], []
        for k, (pk, (sc, by_qpv)) in enumerate(zip(pks, owners, strict=True)):
            if by_qpv:
                first = k % len(sc.qpvs)
                qpvs.append((pk, sc.qpvs[first][0]))
                if len(sc.qpvs) > 1 and k % 3 == 0:
                    qpvs.append((pk, sc.qpvs[(first + 1) % len(sc.qpvs)][0]))
            if sc.indicators and k % 4 == 0:
                indicators.append((pk, sc.indicators[k % len(sc.indicators)][0]))
            funding = FundingKind.ORDINARY if k % 3 else FundingKind.SPECIFIC
            means.append(
                (pk, 2025, Decimal(10 + k % 190).scaleb(-2), Decimal(1000 + 250 * (k % 400)), funding.value)
            )
        self.report.count(
            "QPV d'engagements", _insert(Commitment.qpvs.through, ["commitment", "territory"], qpvs)
        )
        self.report.count(
            "indicateurs d'engagements",
            _insert(Commitment.indicators.through, ["commitment", "indicator"], indicators),
        )
        fields = ["commitment", "year", "fte", "amount_eur", "funding"]
        self.report.count("moyens", _insert(CommitmentMeans, fields, means, bar))

    # Valeurs : une série par (indicateur, territoire) — chaque QPV du contrat et son EPCI — qui
    # remonte dans le temps depuis 2025 (annuelle) ou 2025-T4 (trimestrielle).
    def build_values(self) -> None:
        total = self.counts.values
        if not total:
            return
        series = [
            (sc, indicator, territory)
            for sc in self.contracts
            for indicator in sc.indicators
            for territory in [*(q[0] for q in sc.qpvs), sc.epci_id]
        ]
        assert len(series) == self.series_count
        lengths = (
            (self.years if indicator[1] else 4 * self.years) + self.extra + (position < self.first_extra)
            for position, (_, indicator, _) in enumerate(series)
        )
        bar = self.bar("valeurs d'indicateurs", total)
        rows = (
            row
            for (sc, indicator, territory), length in zip(series, lengths, strict=True)
            for row in _series_rows(indicator, territory, territory == sc.epci_id, length)
        )
        self.report.count("valeurs d'indicateurs", _insert(IndicatorValue, VALUE_FIELDS, rows, bar))


VALUE_FIELDS = "indicator scope territory year quarter value numerator denominator is_secret status".split()
VALUE_FIELDS += ["vintage", "source_url", "comment", "is_demo"]
TERRITORY = Scope.TERRITORY.value  # valeurs brutes : l'INSERT direct ne convertit pas les énumérations
FINAL = ValueStatus.FINAL.value


def _series_rows(indicator: tuple, territory_pk: int, is_reference: bool, length: int):
    """Les valeurs d'une série, de la plus ancienne à 2025 : taux (numérateur / dénominateur) ou effectif."""
    indicator_pk, annual, aggregation, _ = indicator
    seed = (indicator_pk * 7919 + territory_pk * 104_729) % 1_000_003
    base = 1500 + seed % 2500  # taux de départ en centièmes de point (15 % à 40 %)
    if is_reference:
        base //= 2
    denominator = (40_000 + seed % 200_000) if is_reference else (800 + seed % 4_000)
    last = LAST_YEAR * 4 + 3
    for step in range(length):
        if annual:
            year, quarter = LAST_YEAR - (length - 1 - step), 0
        else:
            index = last - (length - 1 - step)
            year, quarter = index // 4, index % 4 + 1
        drift = ((seed + step * 37) % 200) - 100 - step * 3  # fluctuation et lente amélioration
        rate = max(100, base + drift)  # centièmes de point
        if aggregation == Aggregation.RATIO:
            numerator = denominator * rate // 10_000
            value = Decimal(numerator * 1_000_000 // denominator).scaleb(-4)
            numbers = (value, Decimal(numerator), Decimal(denominator))
        else:
            numbers = (Decimal(denominator * rate // 100_000), None, None)
        yield (indicator_pk, TERRITORY, territory_pk, year, quarter, *numbers, False, FINAL, "", "", "", True)
