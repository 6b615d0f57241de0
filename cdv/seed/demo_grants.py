"""Démonstration de l'appel à projets (AAP) du contrat de Nantes : l'appel 2025, dont le comité des
financeurs a voté, avec une soixantaine de dossiers dans tous les états, et l'appel 2026, ouvert au
dépôt le jour du chargement, pour parcourir tout le chemin d'un dossier. Tout est marqué
« démonstration » (titres, ``is_demo``).

Les objets sont construits directement (par lots) dans des états cohérents avec les règles de
``cdv/grants/abilities.py`` : numéro donné au dépôt (« 2025-0001 »), lignes de financeur
« transmis » après le dépôt, historique du dossier, budget équilibré (charges = produits du budget
+ montants demandés aux financeurs de l'appel). Les dossiers d'un appel ne sont construits qu'une
fois (tant que l'appel n'en a aucun) : relancé le même jour, le chargement ne change rien.
"""

import datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.text import slugify

from cdv.core.upsert import UpsertStats, upsert
from cdv.core.validators import luhn_ok
from cdv.grants.enums import (
    Account,
    ApplicationStatus,
    CallStatus,
    DocumentKind,
    EventKind,
    FunderKind,
    LineStatus,
    Opinion,
    OpinionKind,
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
    QuartierOpinion,
    Score,
    ScoringCriterion,
)
from cdv.partners.enums import PartnerKind
from cdv.partners.models import Partner
from cdv.plan.models import Action
from cdv.users.enums import Role
from cdv.users.models import Membership, User

from .demo_grants_followup import load_demo_follow_up

PAST_YEAR, OPEN_YEAR = 2025, 2026
APPLICANT_EMAIL = "referent.asso@example.org"
STATE_INSTRUCTOR_EMAIL = "instructeur.etat@example.org"
METROPOLE_INSTRUCTOR_EMAIL = "instructeur.metropole@example.org"
CORRESPONDENT_EMAIL = "correspondant.quartier@example.org"
PREFECT_DELEGATE_EMAIL = "delegue.prefet@example.org"
COMMITTEE_EMAIL = "comite@example.org"
CORRESPONDENT_QPV = "QN04406M"  # Les Dervallières
PREFECT_DELEGATE_QPV = "QN04405M"  # Bellevue
# (courriel, prénom, nom, rôle, financeur : nom du partenaire de référence, quartier)
GRANTS_DEMO_USERS = [
    (APPLICANT_EMAIL, "Nadia", "Référente", Role.APPLICANT, None, None),
    (STATE_INSTRUCTOR_EMAIL, "Paul", "Instructeur", Role.INSTRUCTOR, "État", None),
    (METROPOLE_INSTRUCTOR_EMAIL, "Léa", "Instructrice", Role.INSTRUCTOR, "Nantes Métropole", None),
    (CORRESPONDENT_EMAIL, "Yanis", "Correspondant", Role.CORRESPONDENT, None, CORRESPONDENT_QPV),
    (PREFECT_DELEGATE_EMAIL, "Marie", "Déléguée", Role.PREFECT_DELEGATE, "État", PREFECT_DELEGATE_QPV),
    (COMMITTEE_EMAIL, "Jean", "Comité", Role.COMMITTEE_MEMBER, None, None),
]
GRANTS_DEMO_EMAILS = [row[0] for row in GRANTS_DEMO_USERS]

# Les financeurs de l'appel, pris dans les partenaires de référence du contrat :
# (début du nom, place, ligne budgétaire, enveloppe de démonstration)
FUNDERS = [
    ("État", FunderKind.PRIVILEGED, "Programme 147 « Politique de la ville »", "300000"),
    ("Nantes Métropole", FunderKind.PRIVILEGED, "Crédits spécifiques politique de la ville", "250000"),
    ("Ville de Nantes", FunderKind.PARTNER, "Soutien aux associations de quartier", "150000"),
    ("Caisse d'allocations familiales", FunderKind.PARTNER, "Fonds d'action sociale", "120000"),
    ("Département de Loire-Atlantique", FunderKind.PARTNER, "Solidarités et insertion", "100000"),
    ("Région Pays de la Loire", FunderKind.OTHER, "Politique régionale de la ville", "80000"),
]
FUNDER_KINDS = [
    PartnerKind.STATE,
    PartnerKind.EPCI,
    PartnerKind.COMMUNE,
    PartnerKind.CAF,
    PartnerKind.DEPARTMENT,
    PartnerKind.REGION,
]
DOCUMENTS = [
    (DocumentKind.STATUTES, "Statuts à jour, signés", True),
    (DocumentKind.BANK_DETAILS, "Au nom de l'association", True),
    (DocumentKind.ACCOUNTS, "Comptes du dernier exercice clos, approuvés", True),
    (DocumentKind.ACTIVITY_REPORT, "Rapport d'activité de l'année précédente", True),
    (DocumentKind.MEMBERS, "Composition du bureau", False),
]
CRITERIA = [
    ("Réponse aux besoins du quartier", "Le projet répond-il à un besoin constaté par les habitants ?"),
    (
        "Place des habitants des QPV",
        "Part des bénéficiaires habitant un quartier prioritaire, participation.",
    ),
    ("Solidité du projet", "Moyens humains, budget réaliste, partenariats, évaluation prévue."),
]

# Les associations de la démonstration, en plus des deux du plan d'action (demo.DEMO_PARTNERS)
ASSOCIATIONS = [
    "Maison des jeunes des Dervallières",
    "Accueil et accès aux droits Bellevue",
    "Sport pour toutes et tous Malakoff",
    "Compagnie théâtrale du Breil",
    "Atelier vélo solidaire",
    "Coup de pouce numérique",
    "Femmes relais de Bottière",
    "Jardins partagés du Clos Toreau",
    "Réussite éducative Nantes Nord",
    "Radio des quartiers",
    "Épicerie solidaire de la Boissière",
    "Médiation et voisinage",
    "Insertion par le réemploi",
    "Musiques urbaines du Sillon",
    "Lire et écrire ensemble",
    "Prévention santé jeunes",
    "Citoyenneté et mémoire des quartiers",
    "Ateliers cuisine du monde",
    "Mobilité emploi",
    "Aide aux devoirs de Port-Boyer",
    "Les ateliers du Ranzay",
    "Accompagnement au permis",
    "Sciences en bas des tours",
]

PROJECTS = [
    ("Aide aux devoirs quatre soirs par semaine", "Des bénévoles aident les enfants à faire leurs devoirs."),
    ("Permanence d'accès aux droits sans rendez-vous", "Une aide pour les démarches, au cœur du quartier."),
    ("Forum emploi de quartier", "Des employeurs rencontrent les habitants en recherche d'emploi."),
    ("Ateliers économies d'énergie", "Apprendre à réduire ses factures d'électricité et de chauffage."),
    ("Médiation de soirée l'été", "Des médiateurs présents le soir pour apaiser les tensions."),
    (
        "Chantier éducatif pour les 16-25 ans",
        "Des jeunes rénovent un local avec un encadrant, et sont payés.",
    ),
    ("Jardin partagé au pied des immeubles", "Un jardin cultivé ensemble par les habitants."),
    ("Sorties culturelles en famille", "Des sorties au théâtre et au musée, préparées avec les familles."),
    ("Atelier numérique pour les seniors", "Apprendre à se servir d'un téléphone et d'internet."),
    ("Club de sport féminin", "Des séances de sport pour les femmes du quartier, avec garde d'enfants."),
]

DEMO_NOTE = " (démonstration)"
COMMITTEE_DAY = datetime.date(2025, 2, 6)


def _siret(index: int) -> str:
    """Un SIRET fictif mais valide (clé de Luhn), propre à l'association ``index``."""
    base = f"9{index:04d}00000000"
    for digit in range(10):
        if luhn_ok(base + str(digit)):
            return base + str(digit)
    raise AssertionError("clé de Luhn introuvable")


def _at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=datetime.UTC)


def demo_calls(contract):
    return Call.objects.filter(contract=contract, is_demo=True)


def load_demo_grants(contract, *, partners, stats: UpsertStats, today=None) -> None:
    """Les appels 2025 (voté) et 2026 (ouvert aujourd'hui) du contrat, leurs dossiers et les comptes
    de démonstration de l'appel à projets."""
    today = today or timezone.localdate()
    qpvs = {q.code: q for q in contract.qpvs.order_by("code").defer("geometry")}
    funder_partners = _funder_partners(contract)
    associations = [p for p in partners if p.kind == PartnerKind.ASSOCIATION]
    for name in ASSOCIATIONS:
        full = f"Association {name}{DEMO_NOTE}"
        associations.append(
            upsert(
                Partner,
                lookup={"name": full},
                values={"slug": slugify(full)[:80], "kind": PartnerKind.ASSOCIATION, "is_demo": True},
                stats=stats,
            )
        )
    for index, association in enumerate(associations):
        associations[index] = upsert(
            Partner,
            lookup={"pk": association.pk},
            values={
                "siret": _siret(index + 1),
                "rna": f"W44{index + 1:07d}",
                "address": f"{index + 1} rue de la Démonstration",
                "postal_code": "44000",
                "city": "Nantes",
                "legal_representative": f"Présidente {index + 1} (fictive)",
                "legal_representative_title": "Présidente",
                "employees": index % 6,
                "volunteers": 5 + 3 * (index % 7),
                "fte": Decimal(index % 6) / 2,
            },
            stats=stats,
        )
    users = _load_users(contract, associations[0], funder_partners, qpvs, stats)
    actions = list(
        Action.objects.filter(objective__enjeu__contract=contract, is_demo=True)
        .select_related("objective__enjeu")
        .order_by("code")
    )
    past = _load_call(
        contract,
        year=PAST_YEAR,
        dates={
            "publication_date": datetime.date(2024, 9, 16),
            "filing_opens": datetime.date(2024, 10, 15),
            "filing_closes": datetime.date(2024, 11, 15),
            "instruction_ends": datetime.date(2025, 1, 10),
            "committee_date": COMMITTEE_DAY,
            "notification_date": datetime.date(2025, 2, 17),
            "reporting_date": datetime.date(2026, 2, 27),
            "committee_held_at": _at(COMMITTEE_DAY, 17),
        },
        funder_partners=funder_partners,
        stats=stats,
    )
    opens = today - datetime.timedelta(days=20)
    closes = today + datetime.timedelta(days=25)
    current = _load_call(
        contract,
        year=OPEN_YEAR,
        dates={
            "publication_date": opens - datetime.timedelta(days=30),
            "filing_opens": opens,
            "filing_closes": closes,
            "instruction_ends": closes + datetime.timedelta(days=50),
            "committee_date": closes + datetime.timedelta(days=80),
            "notification_date": closes + datetime.timedelta(days=90),
            "reporting_date": closes + datetime.timedelta(days=100),
            "committee_held_at": None,
        },
        funder_partners=funder_partners,
        stats=stats,
    )
    builder = _Builder(contract, qpvs=qpvs, associations=associations, actions=actions, users=users)
    if not past.applications.exists():
        builder.build(past, PAST_PLAN, stats)
    load_demo_follow_up(
        past,
        owner_partner_id=associations[0].pk,
        users={0: users[STATE_INSTRUCTOR_EMAIL], 1: users[METROPOLE_INSTRUCTOR_EMAIL]},
        stats=stats,
    )
    if not current.applications.exists():
        builder.build(current, OPEN_PLAN, stats, filed_from=opens)


def _funder_partners(contract) -> list[Partner]:
    """Les six financeurs parmi les signataires du contrat (créés comme partenaires de
    démonstration s'ils manquent)."""
    found = []
    signatories = list(Partner.objects.filter(signatures__contract=contract))
    for (prefix, *_), kind in zip(FUNDERS, FUNDER_KINDS, strict=True):
        partner = next((p for p in signatories if p.kind == kind and p.name.startswith(prefix)), None)
        partner = partner or next((p for p in signatories if p.kind == kind), None)
        if partner is None:
            name = f"{prefix}{DEMO_NOTE}"
            partner = upsert(
                Partner,
                lookup={"name": name},
                values={"slug": slugify(name)[:80], "kind": kind, "is_demo": True},
            )
        found.append(partner)
    return found


def _load_users(contract, association, funder_partners, qpvs, stats) -> dict[str, User]:
    by_prefix = {FUNDERS[i][0]: p for i, p in enumerate(funder_partners)}
    users = {}
    for email, first, last, role, funder, qpv_code in GRANTS_DEMO_USERS:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email=email, first_name=first, last_name=last)
            stats.add("User", "created")
        else:
            stats.add("User", "unchanged")
        partner = association if role == Role.APPLICANT else by_prefix.get(funder)
        _, created = Membership.objects.get_or_create(
            user=user,
            contract=contract,
            role=role,
            partner=partner,
            qpv=qpvs.get(qpv_code) if qpv_code else None,
        )
        stats.add("Membership", "created" if created else "unchanged")
        users[email] = user
    return users


def _load_call(contract, *, year, dates, funder_partners, stats) -> Call:
    call = upsert(
        Call,
        lookup={"contract": contract, "year": year},
        values={
            "title": f"Appel à projets {year} — contrat de ville{DEMO_NOTE}",
            "summary": (
                "Données de démonstration : cet appel et ses dossiers sont fictifs. "
                f"Les associations proposent leurs projets {year} pour les habitants des quartiers "
                "prioritaires ; un seul dossier pour tous les financeurs, qui décident ensemble en "
                "comité des financeurs."
            ),
            "status": CallStatus.PUBLISHED,
            "info_meetings": (
                "Réunion d'information aux Dervallières, maison de quartier (démonstration)\n"
                "Réunion d'information à Bellevue, centre socioculturel (démonstration)"
            ),
            "min_qpv_share": Decimal("50"),
            "min_amount": Decimal("1000"),
            "max_amount": Decimal("60000"),
            "max_call_share": Decimal("80"),
            "min_funders": 1,
            "contacts": "Équipe politique de la ville de Nantes Métropole (adresse fictive : "
            "aap.demonstration@example.org).",
            "is_demo": True,
            **dates,
        },
        stats=stats,
    )
    for order, (partner, (_, kind, label, envelope)) in enumerate(zip(funder_partners, FUNDERS, strict=True)):
        upsert(
            CallFunder,
            lookup={"call": call, "partner": partner},
            values={"kind": kind, "label": label, "envelope": Decimal(envelope), "order": order},
            stats=stats,
        )
    for kind, label, required in DOCUMENTS:
        upsert(
            CallDocument,
            lookup={"call": call, "kind": kind},
            values={"label": label, "required": required},
            stats=stats,
        )
    for order, (label, description) in enumerate(CRITERIA):
        upsert(
            ScoringCriterion,
            lookup={"call": call, "order": order},
            values={"label": label, "description": description, "scale_max": 5},
            stats=stats,
        )
    return call


# Le devenir des dossiers : (nombre, état du dossier, états des lignes (cycle), particularité)
PAST_PLAN = [
    (5, ApplicationStatus.DRAFT, [LineStatus.DRAFT], ""),
    (1, ApplicationStatus.WITHDRAWN, [LineStatus.DRAFT], ""),
    (2, ApplicationStatus.WITHDRAWN, [LineStatus.CLOSED], "submitted"),
    (5, ApplicationStatus.SUBMITTED, [LineStatus.TRANSMITTED], ""),
    (3, ApplicationStatus.SUBMITTED, [LineStatus.TAKEN, LineStatus.TRANSMITTED], ""),
    (3, ApplicationStatus.SUBMITTED, [LineStatus.ADMISSIBLE, LineStatus.INSTRUCTING], "opinions"),
    (3, ApplicationStatus.SUBMITTED, [LineStatus.INSTRUCTING, LineStatus.INADMISSIBLE], "opinions"),
    (4, ApplicationStatus.RETURNED, [LineStatus.TAKEN, LineStatus.TRANSMITTED], "question"),
    (2, ApplicationStatus.SUBMITTED, [LineStatus.INSTRUCTING], "answered"),
    (20, ApplicationStatus.DECIDED, [LineStatus.VOTED, LineStatus.VOTED, LineStatus.REJECTED], "voted"),
    (12, ApplicationStatus.DECIDED, [LineStatus.VOTED], "voted"),
]
OPEN_PLAN = [
    (4, ApplicationStatus.DRAFT, [LineStatus.DRAFT], ""),
    (4, ApplicationStatus.SUBMITTED, [LineStatus.TRANSMITTED], ""),
    (2, ApplicationStatus.SUBMITTED, [LineStatus.TAKEN, LineStatus.INSTRUCTING], "opinions"),
    (1, ApplicationStatus.RETURNED, [LineStatus.TAKEN], "question"),
]
QUESTION = (
    "Pouvez-vous préciser le nombre d'enfants accueillis chaque soir et joindre le budget "
    "de l'an dernier ? (démonstration)"
)


class _Builder:
    def __init__(self, contract, *, qpvs, associations, actions, users):
        self.contract = contract
        self.qpvs = list(qpvs.values())
        self.qpv_by_code = qpvs
        self.associations = associations
        self.actions = actions
        self.users = users
        self.applicant = users[APPLICANT_EMAIL]

    def build(self, call, plan, stats, *, filed_from=None) -> None:
        funders = list(call.funders.order_by("order"))
        criteria = list(call.criteria.order_by("order"))
        filed_from = filed_from or call.filing_opens
        applications, specs = [], []
        number = 0
        index = 0
        for count, status, line_cycle, special in plan:
            for _ in range(count):
                # L'association du référent de démonstration a des brouillons et des dossiers décidés.
                partner = (
                    self.associations[0]
                    if index % 9 == 0
                    else self.associations[index % len(self.associations)]
                )
                title, summary = PROJECTS[index % len(PROJECTS)]
                action = self.actions[index % len(self.actions)] if self.actions else None
                submitted = status != ApplicationStatus.DRAFT and (
                    status != ApplicationStatus.WITHDRAWN or special == "submitted"
                )
                if submitted:
                    number += 1
                created = _at(filed_from + datetime.timedelta(days=index % 15), 9)
                submitted_at = created + datetime.timedelta(days=2) if submitted else None
                whole = index % 7 == 3
                years = 1 + (index % 11 == 4) + (index % 13 == 5) * 2
                owner = partner == self.associations[0]
                application = Application(
                    call=call,
                    partner=partner,
                    number=f"{call.year}-{number:04d}" if submitted else "",
                    status=status,
                    title=f"{title}{DEMO_NOTE}",
                    summary=summary,
                    objectives="Objectifs fictifs du projet de démonstration.",
                    public="Enfants, jeunes et familles du quartier.",
                    beneficiaries=30 + 10 * (index % 12),
                    qpv_share=Decimal(60 + 5 * (index % 8)),
                    scope=ProjectScope.WHOLE if whole else ProjectScope.QPV,
                    places="Maison de quartier, locaux de l'association (démonstration).",
                    start_date=datetime.date(call.year, 1 + index % 6, 1),
                    end_date=datetime.date(call.year, 12, 31),
                    enjeu=action.objective.enjeu if action else None,
                    objective=action.objective if action else None,
                    action=action,
                    evaluation_indicators="Nombre de participants, assiduité, satisfaction.",
                    human_means="Un salarié à mi-temps et des bénévoles.",
                    years=years,
                    sworn_name=partner.legal_representative if submitted else "",
                    sworn_statement=submitted,
                    republican_contract=submitted,
                    submitted_at=submitted_at,
                    submitted_by=self.applicant if submitted and owner else None,
                    is_demo=True,
                    created_by=self.applicant if owner else None,
                )
                applications.append(application)
                specs.append(
                    {
                        "index": index,
                        "status": status,
                        "cycle": line_cycle,
                        "special": special,
                        "created": created,
                        "submitted_at": submitted_at,
                        "whole": whole,
                        "owner": owner,
                    }
                )
                index += 1
        Application.objects.bulk_create(applications)
        for application, spec in zip(applications, specs, strict=True):
            application.created_at = spec["created"]
        Application.objects.bulk_update(applications, ["created_at"])
        stats.add("Application", "created")

        qpv_links, budget, lines, events, requests, opinions, scores = [], [], [], [], [], [], []
        through = Application.qpvs.through
        for application, spec in zip(applications, specs, strict=True):
            i = spec["index"]
            app_qpvs = []
            if not spec["whole"]:
                app_qpvs = [self.qpvs[i % len(self.qpvs)]]
                if i % 3 == 0:
                    app_qpvs.append(self.qpv_by_code.get(CORRESPONDENT_QPV) or self.qpvs[0])
                if i % 4 == 1:
                    app_qpvs.append(self.qpv_by_code.get(PREFECT_DELEGATE_QPV) or self.qpvs[-1])
                app_qpvs = list({q.pk: q for q in app_qpvs}.values())
            qpv_links += [through(application_id=application.pk, territory_id=q.pk) for q in app_qpvs]
            # Les financeurs sollicités : l'État et la Métropole, plus un à trois autres.
            others = funders[2:]
            chosen = [funders[0], funders[1]] + [others[(i + k) % len(others)] for k in range(i % 4)]
            requested_total = Decimal(0)
            for position, funder in enumerate(chosen):
                requested = Decimal(2000 + 500 * ((i * 7 + position * 3) % 17))
                requested_total += requested
                line_status = spec["cycle"][(i + position) % len(spec["cycle"])]
                line = FunderLine(
                    application=application,
                    funder=funder,
                    status=line_status,
                    requested_amount=requested,
                    later_amounts=[str(requested) for _ in range(application.years - 1)],
                )
                if line_status in (LineStatus.ADMISSIBLE, LineStatus.INSTRUCTING, LineStatus.VOTED):
                    line.proposed_amount = (requested * Decimal("0.9")).quantize(Decimal(1))
                    line.opinion = Opinion.FAVORABLE if position % 2 == 0 else Opinion.RESERVED
                    line.comment = "Projet utile, déjà soutenu l'an dernier (démonstration)."
                if line_status in (LineStatus.INADMISSIBLE, LineStatus.REJECTED):
                    line.proposed_amount = Decimal(0)
                    line.opinion = Opinion.UNFAVORABLE
                    line.comment = "Hors des priorités de ce financeur cette année (démonstration)."
                if line_status in (LineStatus.VOTED, LineStatus.REJECTED):
                    voted = line_status == LineStatus.VOTED
                    line.simulation = Simulation.YES if voted else Simulation.NO
                    line.simulated_amount = line.proposed_amount if voted else None
                    line.voted_amount = line.proposed_amount if voted else None
                    line.decision_date = COMMITTEE_DAY
                    line.decision_reference = f"CF-{call.year}-{application.number}"
                lines.append(line)
            # Le budget : des produits propres, puis les charges qui équilibrent le tout.
            own = {
                Account.A70: Decimal(500 + 100 * (i % 5)),
                Account.A74: (requested_total * Decimal("0.3")).quantize(Decimal(1)),
                Account.A75: Decimal(300),
                Account.A87: Decimal(800),
            }
            income = requested_total + sum(own.values())
            personnel = (income * Decimal("0.6")).quantize(Decimal(1))
            purchases = (income * Decimal("0.15")).quantize(Decimal(1))
            charges = {
                Account.A64: personnel,
                Account.A60: purchases,
                Account.A86: own[Account.A87],
                Account.A61: income - personnel - purchases - own[Account.A87],
            }
            labels = {
                Account.A70: "Participation des familles",
                Account.A74: "Fondation (autre subvention)",
                Account.A75: "Cotisations des adhérents",
                Account.A87: "Bénévolat valorisé",
                Account.A64: "Salaires et charges",
                Account.A60: "Fournitures et petit matériel",
                Account.A86: "Bénévolat",
                Account.A61: "Location de salle, assurance",
            }
            for account, amount in {**charges, **own}.items():
                budget.append(
                    BudgetLine(application=application, account=account, label=labels[account], amount=amount)
                )
            # L'historique
            actor = self.applicant if spec["owner"] else None
            events.append(
                (
                    ApplicationEvent(application=application, kind=EventKind.CREATED, actor=actor),
                    spec["created"],
                )
            )
            submitted_at = spec["submitted_at"]
            if submitted_at is None:
                if spec["status"] == ApplicationStatus.WITHDRAWN:
                    events.append(
                        (
                            ApplicationEvent(application=application, kind=EventKind.WITHDRAWN, actor=actor),
                            spec["created"] + datetime.timedelta(days=5),
                        )
                    )
                continue
            events.append(
                (
                    ApplicationEvent(
                        application=application,
                        kind=EventKind.SUBMITTED,
                        actor=actor,
                        message=f"Dossier {application.number} déposé.",
                    ),
                    submitted_at,
                )
            )
            later = submitted_at + datetime.timedelta(days=10)
            for line in lines[-len(chosen) :]:
                if line.status not in (LineStatus.TRANSMITTED, LineStatus.CLOSED, LineStatus.DRAFT):
                    instructor = self._instructor_of(line.funder)
                    events.append(
                        (
                            ApplicationEvent(
                                application=application,
                                kind=EventKind.LINE_UPDATED,
                                actor=instructor,
                                funder=line.funder,
                                message=f"Ligne {line.funder.partner} : {LineStatus(line.status).label}.",
                            ),
                            later,
                        )
                    )
            if spec["special"] in ("question", "answered"):
                asked = submitted_at + datetime.timedelta(days=12)
                request = InfoRequest(
                    application=application,
                    funder=chosen[0],
                    questions=QUESTION,
                    asked_by=self.users[STATE_INSTRUCTOR_EMAIL],
                )
                events.append(
                    (
                        ApplicationEvent(
                            application=application,
                            kind=EventKind.INFO_REQUESTED,
                            actor=self.users[STATE_INSTRUCTOR_EMAIL],
                            funder=chosen[0],
                            message=QUESTION,
                        ),
                        asked,
                    )
                )
                if spec["special"] == "answered":
                    request.answer = "Quinze enfants chaque soir ; le budget est joint (démonstration)."
                    request.answered_by = actor
                    request.answered_at = asked + datetime.timedelta(days=4)
                    events.append(
                        (
                            ApplicationEvent(
                                application=application,
                                kind=EventKind.INFO_ANSWERED,
                                actor=actor,
                                message=request.answer,
                            ),
                            request.answered_at,
                        )
                    )
                requests.append((request, asked))
            if spec["special"] in ("opinions", "voted") and app_qpvs:
                for qpv in app_qpvs[:2]:
                    for kind, email in (
                        (OpinionKind.CORRESPONDENT, CORRESPONDENT_EMAIL),
                        (OpinionKind.PREFECT_DELEGATE, PREFECT_DELEGATE_EMAIL),
                    ):
                        mine = qpv.code == (
                            CORRESPONDENT_QPV if kind == OpinionKind.CORRESPONDENT else PREFECT_DELEGATE_QPV
                        )
                        opinions.append(
                            QuartierOpinion(
                                application=application,
                                qpv=qpv,
                                kind=kind,
                                opinion=Opinion.UNFAVORABLE if i % 10 == 7 else Opinion.FAVORABLE,
                                comment="Projet connu des habitants du quartier (démonstration).",
                                author=self.users[email] if mine else None,
                            )
                        )
                    events.append(
                        (
                            ApplicationEvent(
                                application=application,
                                kind=EventKind.OPINION,
                                message=f"Avis de quartier donné ({qpv.name}).",
                            ),
                            later + datetime.timedelta(days=3),
                        )
                    )
                for email in (STATE_INSTRUCTOR_EMAIL, METROPOLE_INSTRUCTOR_EMAIL):
                    for position, criterion in enumerate(criteria):
                        scores.append(
                            Score(
                                application=application,
                                criterion=criterion,
                                author=self.users[email],
                                value=2 + (i + position + len(email)) % 4,
                            )
                        )
            if spec["status"] == ApplicationStatus.DECIDED:
                events.append(
                    (
                        ApplicationEvent(
                            application=application,
                            kind=EventKind.DECIDED,
                            message="Décisions du comité des financeurs du 6 février 2025.",
                        ),
                        _at(COMMITTEE_DAY, 17),
                    )
                )
            if spec["status"] == ApplicationStatus.WITHDRAWN:
                events.append(
                    (
                        ApplicationEvent(application=application, kind=EventKind.WITHDRAWN, actor=actor),
                        later,
                    )
                )
        through.objects.bulk_create(qpv_links)
        BudgetLine.objects.bulk_create(budget)
        FunderLine.objects.bulk_create(lines)
        QuartierOpinion.objects.bulk_create(opinions)
        Score.objects.bulk_create(scores)
        self._bulk_dated(InfoRequest, requests, "asked_at")
        self._bulk_dated(ApplicationEvent, events, "at")
        for model, objects in [
            ("BudgetLine", budget),
            ("FunderLine", lines),
            ("QuartierOpinion", opinions),
            ("Score", scores),
            ("InfoRequest", requests),
            ("ApplicationEvent", events),
        ]:
            if objects:
                stats.add(model, "created")
        call.last_number = number
        call.save(update_fields=["last_number"])

    def _instructor_of(self, funder):
        if funder.order == 0:
            return self.users[STATE_INSTRUCTOR_EMAIL]
        if funder.order == 1:
            return self.users[METROPOLE_INSTRUCTOR_EMAIL]
        return None

    @staticmethod
    def _bulk_dated(model, pairs, field) -> None:
        """``bulk_create`` puis la vraie date (un champ ``auto_now_add`` prend l'heure du
        chargement)."""
        objects = [obj for obj, _ in pairs]
        model.objects.bulk_create(objects)
        for obj, when in pairs:
            setattr(obj, field, when)
        model.objects.bulk_update(objects, [field])
