"""Données de démonstration : plan d'action et engagements illustratifs, pour voir la plateforme vivre.

Tout ce que crée ce module porte ``is_demo=True`` (ou un nom marqué « démonstration ») et les
pages l'affichent comme tel. Aucun de ces objectifs, actions ou partenaires n'est réel.
"""

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils.text import slugify

from cdv.commitments.enums import CommitmentScope, CommitmentStatus, FundingKind
from cdv.commitments.models import Commitment, CommitmentMeans
from cdv.contracts.models import Contract
from cdv.contracts.nantes import SLUG
from cdv.core.french import de
from cdv.core.upsert import UpsertStats, sync_m2m, upsert
from cdv.indicators.enums import Aggregation, Direction
from cdv.indicators.models import Indicator, IndicatorValue, Target
from cdv.monitoring.enums import DecisionStatus, FeedbackKind, MeetingKind, Moderation
from cdv.monitoring.models import Decision, Feedback, Meeting
from cdv.partners.enums import PartnerKind
from cdv.partners.models import Partner
from cdv.plan.enums import ActionScope, ActionStatus
from cdv.plan.models import Action, Enjeu, Objective, QpvPriority
from cdv.users.enums import Role
from cdv.users.models import Membership, User

DEMO_PARTNERS = [
    ("Association Tremplin Quartiers (démonstration)", PartnerKind.ASSOCIATION),
    ("Association Les Petits Débrouillards du quartier (démonstration)", PartnerKind.ASSOCIATION),
    ("Bailleur Habitat Solidaire (démonstration)", PartnerKind.SOCIAL_LANDLORD),
    ("Conseil citoyen des Dervallières (démonstration)", PartnerKind.CITIZEN_COUNCIL),
]

# enjeu → objectifs (intitulés illustratifs)
DEMO_OBJECTIVES = {
    1: ["Rapprocher les habitants de l'emploi", "Soutenir la création d'activité dans les quartiers"],
    2: ["Favoriser la réussite éducative", "Faciliter l'accès aux droits"],
    3: ["Prévenir les conflits du quotidien", "Renforcer la présence humaine dans l'espace public"],
    4: ["Réduire les dépenses d'énergie des ménages", "Développer la nature en ville au pied des immeubles"],
}

# (enjeu, objectif, titre, résumé, codes QPV ou None pour l'échelle métropolitaine, état, pilote)
DEMO_ACTIONS = [
    (
        1,
        1,
        "Forums emploi de proximité",
        "Des rencontres avec des employeurs organisées au cœur du quartier, plusieurs fois par an.",
        ["QN04405M", "QN04419I"],
        ActionStatus.IN_PROGRESS,
        0,
    ),
    (
        1,
        1,
        "Accompagnement vers le permis de conduire",
        "Une aide pour passer le permis, qui ouvre l'accès à de nombreux emplois.",
        None,
        ActionStatus.PLANNED,
        0,
    ),
    (
        1,
        2,
        "Boutique à l'essai en pied d'immeuble",
        "Un local commercial prêté pour tester une activité avant de se lancer.",
        ["QN04413M", "QN04414M"],
        ActionStatus.PLANNED,
        2,
    ),
    (
        2,
        1,
        "Aide aux devoirs après l'école",
        "Des bénévoles aident les enfants à faire leurs devoirs, près de chez eux.",
        ["QN04406M", "QN04407I", "QN04416I"],
        ActionStatus.IN_PROGRESS,
        1,
    ),
    (
        2,
        2,
        "Permanences d'accès aux droits",
        "Un conseiller reçoit sans rendez-vous pour aider dans les démarches.",
        None,
        ActionStatus.IN_PROGRESS,
        0,
    ),
    (
        3,
        1,
        "Médiation de nuit l'été",
        "Des médiateurs présents le soir en été pour apaiser les tensions.",
        ["QN04406M", "QN04418M"],
        ActionStatus.PLANNED,
        2,
    ),
    (
        3,
        2,
        "Marches exploratoires avec les habitantes",
        "Des habitantes repèrent les lieux où elles ne se sentent pas en sécurité.",
        ["QN04410I", "QN04417I"],
        ActionStatus.DONE,
        3,
    ),
    (
        4,
        1,
        "Ateliers économies d'énergie",
        "Des ateliers pour réduire sa facture d'électricité et de chauffage.",
        ["QN04408M", "QN04409I", "QN04415I"],
        ActionStatus.IN_PROGRESS,
        2,
    ),
    (
        4,
        2,
        "Jardins partagés au pied des immeubles",
        "Des jardins cultivés ensemble par les habitants, entre les immeubles.",
        ["QN04411I", "QN04412M", "QN04413M"],
        ActionStatus.PLANNED,
        1,
    ),
]

# (partenaire, action, titre, résumé, cible, état, portée, codes QPV, moyens [(année, ETP, €, nature)])
DEMO_COMMITMENTS = [
    (
        0,
        "1.1.1",
        "Animer deux forums emploi par an à Bellevue et au Sillon de Bretagne",
        "Nous organisons deux forums par an pour rencontrer des employeurs près de chez vous.",
        "300 participants par an",
        CommitmentStatus.PROPOSED,
        CommitmentScope.QPV,
        ["QN04405M", "QN04419I"],
        [(2025, "0.50", "12000", FundingKind.ORDINARY), (2026, "0.50", "12000", FundingKind.ORDINARY)],
    ),
    (
        0,
        "1.1.2",
        "Financer vingt permis de conduire par an",
        "Nous aidons vingt personnes par an à payer leur permis de conduire.",
        "20 permis par an",
        CommitmentStatus.DRAFT,
        CommitmentScope.METROPOLITAN,
        [],
        [(2025, "0.20", "25000", FundingKind.SPECIFIC)],
    ),
    (
        1,
        "2.1.1",
        "Ouvrir l'aide aux devoirs quatre soirs par semaine",
        "Des bénévoles aident les enfants à faire leurs devoirs quatre soirs par semaine.",
        "60 enfants accompagnés",
        CommitmentStatus.VALIDATED,
        CommitmentScope.QPV,
        ["QN04406M", "QN04407I"],
        [(2025, "1.00", "8000", FundingKind.SPECIFIC)],
    ),
    (
        2,
        "4.1.1",
        "Équiper 200 logements de thermostats programmables",
        "Le bailleur installe des thermostats pour baisser les factures de chauffage.",
        "200 logements équipés",
        CommitmentStatus.IN_PROGRESS,
        CommitmentScope.QPV,
        ["QN04408M", "QN04409I"],
        [(2025, "0.30", "60000", FundingKind.ORDINARY), (2026, "0.30", "60000", FundingKind.ORDINARY)],
    ),
]

# (code, nom, enjeu, unité, sens) — indicateurs de suivi d'engagements, illustratifs
DEMO_INDICATORS = [
    (
        "participants-forums-emploi",
        "Participants aux forums emploi (démonstration)",
        1,
        "personnes",
        Direction.UP_IS_GOOD,
    ),
    (
        "logements-equipes-thermostat",
        "Logements équipés de thermostats (démonstration)",
        4,
        "logements",
        Direction.UP_IS_GOOD,
    ),
]
# titre de l'engagement → codes des indicateurs qui le suivent
DEMO_COMMITMENT_INDICATORS = {
    "Animer deux forums emploi par an à Bellevue et au Sillon de Bretagne": ["participants-forums-emploi"],
    "Équiper 200 logements de thermostats programmables": ["logements-equipes-thermostat"],
}

# Mot de passe commun des comptes de démonstration, donné seulement en développement (DEBUG, c'est-à-dire
# `make run`) ou sur demande explicite (`load_demo_data --demo-passwords`) : voir demo_accounts.
DEMO_PASSWORD = "demonstration-contrat-de-ville"
DEMO_PILOT_EMAIL = "pilote.demonstration@example.org"

DEMO_USERS = [
    (DEMO_PILOT_EMAIL, "Claude", "Pilote", Role.PILOT, None),
    ("referent.tremplin@example.org", "Camille", "Martin", Role.EDITOR, 0),
    ("lecteur.bailleur@example.org", "Sami", "Benali", Role.READER, 2),
    ("conseil.dervallieres@example.org", "Alex", "D.", Role.COUNCIL_MEMBER, 3),
    ("evaluation@example.org", "Inès", "Roux", Role.EVALUATOR, None),
]


# Ordre d'affichage et libellé court de chaque rôle, et la première page à ouvrir une fois connecté.
ROLE_GUIDE = {
    Role.PILOT: ("Pilote", "www:dashboard"),
    Role.EDITOR: ("Référent partenaire", "www:partner_space"),
    Role.READER: ("Partenaire en lecture", "www:partner_space"),
    Role.COUNCIL_MEMBER: ("Membre de conseil citoyen", "www:feedback_create"),
    Role.EVALUATOR: ("Évaluateur", "www:evaluations"),
    # Appel à projets (demo_grants.py) : l'appel 2026 ouvert pour déposer et instruire, le 2025 voté.
    Role.APPLICANT: ("Référent d'association (appel à projets)", "www:partner_applications"),
    Role.INSTRUCTOR: ("Instructeur d'un financeur", "www:call_queue"),
    Role.CORRESPONDENT: ("Correspondant de quartier", "www:call_queue"),
    Role.PREFECT_DELEGATE: ("Délégué du préfet", "www:call_queue"),
    Role.COMMITTEE_MEMBER: ("Membre du comité des financeurs", "www:programmation"),
}


def demo_accounts(contract) -> list[tuple[str, User, str]]:
    """Les comptes de démonstration du contrat : (rôle lisible, compte, chemin de la première page)."""
    from django.db.models import Q
    from django.urls import reverse

    from cdv.seed.demo_evaluation import EVALUATOR_EMAIL
    from cdv.seed.demo_grants import GRANTS_DEMO_EMAILS, OPEN_YEAR, PAST_YEAR

    emails = [DEMO_PILOT_EMAIL, EVALUATOR_EMAIL, *GRANTS_DEMO_EMAILS]
    memberships = (
        Membership.objects.filter(contract=contract)
        .filter(Q(partner__is_demo=True) | Q(user__email__in=emails))
        .select_related("user", "partner", "qpv")
    )
    order = list(ROLE_GUIDE)
    rows = []
    for membership in sorted(memberships, key=lambda m: (order.index(m.role), m.user.email)):
        label, url_name = ROLE_GUIDE[membership.role]
        args = [contract.slug]
        if url_name in ("www:partner_space", "www:partner_applications"):
            args.append(membership.partner.slug)
        elif url_name == "www:call_queue":
            args.append(OPEN_YEAR)
        elif url_name == "www:programmation":
            args.append(PAST_YEAR)
        if membership.partner is not None:
            label = f"{label} ({membership.partner.name})"
        if membership.qpv is not None:
            label = f"{label} ({membership.qpv.name})"
        rows.append((label, membership.user, reverse(url_name, args=args)))
    return rows


@transaction.atomic
def set_demo_passwords(contract) -> list[tuple[str, User, str]]:
    """Donne le mot de passe de démonstration aux comptes de démonstration qui n'en ont pas (un mot de
    passe choisi depuis n'est pas remplacé) ; renvoie ces comptes (voir ``demo_accounts``)."""
    accounts = demo_accounts(contract)
    for _, user, _ in accounts:
        if not user.has_usable_password():
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
    return accounts


def load_demo_data() -> UpsertStats:
    """Construit la démonstration par les services métier, sans prévenir personne (ni courriel ni
    notification : ses campagnes et ses bilans ne sont vécus par aucun de ses comptes fictifs)."""
    from cdv.notifications.services import silenced

    with silenced():
        return _load_demo_data()


@transaction.atomic
def _load_demo_data() -> UpsertStats:
    stats = UpsertStats()
    contract = Contract.objects.filter(slug=SLUG).first()
    if contract is None:
        raise ValueError("Le contrat de Nantes Métropole manque : lancez d'abord load_reference_data.")
    qpvs = {q.code: q for q in contract.qpvs.defer("geometry")}

    partners = []
    for name, kind in DEMO_PARTNERS:
        partners.append(
            upsert(
                Partner,
                lookup={"name": name},
                values={"slug": slugify(name)[:80], "kind": kind, "is_demo": True},
                stats=stats,
            )
        )
    sync_m2m(partners[3].qpvs, [qpvs["QN04406M"]], stats, "QPV du conseil citoyen")

    enjeux = {e.number: e for e in Enjeu.objects.filter(contract=contract)}
    objectives = {}
    for enjeu_number, titles in DEMO_OBJECTIVES.items():
        for number, title in enumerate(titles, start=1):
            objectives[(enjeu_number, number)] = upsert(
                Objective,
                lookup={"enjeu": enjeux[enjeu_number], "number": number},
                values={"title": title, "is_demo": True},
                stats=stats,
            )

    counters = {}
    actions = {}
    for enjeu_number, objective_number, title, summary, codes, status, pilot in DEMO_ACTIONS:
        key = (enjeu_number, objective_number)
        counters[key] = counters.get(key, 0) + 1
        objective = objectives[key]
        action = upsert(
            Action,
            lookup={"objective": objective, "code": f"{enjeu_number}.{objective_number}.{counters[key]}"},
            values={
                "title": title,
                "summary_plain": summary,
                "scope": ActionScope.METROPOLITAN if codes is None else ActionScope.QPV,
                "status": status,
                "pilot_partner": partners[pilot],
                "start_on": datetime.date(2025, 1, 1),
                "is_demo": True,
            },
            stats=stats,
        )
        sync_m2m(action.qpvs, [qpvs[c] for c in codes or []], stats, "QPV des actions")
        actions[action.code] = action

    indicators = {}
    for code, name, enjeu_number, unit, direction in DEMO_INDICATORS:
        indicators[code] = upsert(
            Indicator,
            lookup={"contract": contract, "code": code},
            values={
                "name": name,
                "enjeu": enjeux[enjeu_number],
                "unit": unit,
                "direction": direction,
                "aggregation": Aggregation.SUM,
                "source": "Données de démonstration",
                "is_demo": True,
            },
            stats=stats,
        )

    load_demo_employment_rate(contract, enjeux[1], stats)

    for partner_index, action_code, title, summary, target, status, scope, codes, means in DEMO_COMMITMENTS:
        action = actions[action_code]
        commitment = upsert(
            Commitment,
            lookup={"contract": contract, "partner": partners[partner_index], "title": title},
            values={
                "objective": action.objective,
                "action": action,
                "summary_plain": summary,
                "target": target,
                "status": status,
                "scope": scope,
                "deadline": datetime.date(2026, 12, 31),
                "is_demo": True,
            },
            stats=stats,
        )
        sync_m2m(commitment.qpvs, [qpvs[c] for c in codes], stats, "QPV des engagements")
        wanted = [indicators[c] for c in DEMO_COMMITMENT_INDICATORS.get(title, [])]
        sync_m2m(commitment.indicators, wanted, stats, "indicateurs des engagements")
        for year, fte, amount, funding in means:
            upsert(
                CommitmentMeans,
                lookup={"commitment": commitment, "year": year, "funding": funding},
                values={"fte": Decimal(fte), "amount_eur": Decimal(amount)},
                stats=stats,
            )

    for qpv in qpvs.values():
        for enjeu in enjeux.values():
            upsert(
                QpvPriority,
                lookup={"enjeu": enjeu, "qpv": qpv},
                values={
                    "text": f"Exemple de priorités locales {de(qpv.name)} pour l'enjeu "
                    f"« {enjeu.title} » (texte de démonstration).",
                    "is_demo": True,
                },
                stats=stats,
            )

    copil = upsert(
        Meeting,
        lookup={"contract": contract, "kind": MeetingKind.COPIL, "date": datetime.date(2025, 3, 20)},
        values={
            "title": "Comité de pilotage 2025 (démonstration)",
            "agenda": "Bilan 2024 des engagements ; priorités 2025.",
            "minutes": "Compte rendu de démonstration.",
            "is_demo": True,
        },
        stats=stats,
    )
    sync_m2m(copil.participants, partners[:3], stats, "participants des instances")
    for text, owner, status, due in [
        (
            "Étendre les ateliers économies d'énergie à Malakoff (démonstration).",
            2,
            DecisionStatus.IN_PROGRESS,
            datetime.date(2025, 12, 31),
        ),
        (
            "Présenter au prochain COPIL un bilan des forums emploi (démonstration).",
            0,
            DecisionStatus.OPEN,
            datetime.date(2026, 3, 31),
        ),
    ]:
        upsert(
            Decision,
            lookup={"meeting": copil, "text": text},
            values={"owner": partners[owner], "status": status, "due_on": due, "is_demo": True},
            stats=stats,
        )
    dervallieres = qpvs["QN04406M"]
    for text, kind, moderation in [
        (
            "L'aide aux devoirs du mardi est très suivie par les familles (démonstration).",
            FeedbackKind.SUCCESS,
            Moderation.PUBLISHED,
        ),
        (
            "L'éclairage du passage près de l'école manque le soir (démonstration).",
            FeedbackKind.DIFFICULTY,
            Moderation.PENDING,
        ),
    ]:
        feedback = upsert(
            Feedback,
            lookup={"contract": contract, "text": text},
            values={
                "partner": partners[3],
                "kind": kind,
                "moderation": moderation,
                "moderated_at": (
                    datetime.datetime(2025, 4, 1, 9, tzinfo=datetime.UTC)
                    if moderation == Moderation.PUBLISHED
                    else None
                ),
                "enjeu": enjeux[2] if kind == FeedbackKind.SUCCESS else enjeux[3],
                "is_demo": True,
            },
            stats=stats,
        )
        sync_m2m(feedback.qpvs, [dervallieres], stats, "quartiers des retours")

    for email, first, last, role, partner_index in DEMO_USERS:
        user = User.objects.filter(email=email).first()
        # Un pilote a le back-office de son contrat (décision 0006), comme après son invitation.
        staff = role == Role.PILOT
        if user is None:
            user = User.objects.create_user(email=email, first_name=first, last_name=last, is_staff=staff)
            stats.add("User", "created")
        elif staff and not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
            stats.add("User", "updated")
        else:
            stats.add("User", "unchanged")
        partner = partners[partner_index] if partner_index is not None else None
        _, created = Membership.objects.get_or_create(
            user=user, contract=contract, role=role, partner=partner
        )
        stats.add("Membership", "created" if created else "unchanged")

    from cdv.seed.demo_monitoring import load_living_demo  # après les comptes : le pilote fait les bilans

    load_living_demo(
        contract,
        partners=partners,
        actions=actions,
        enjeux=enjeux,
        pilot=User.objects.filter(email=DEMO_PILOT_EMAIL).first(),
        stats=stats,
    )

    from cdv.seed.demo_evaluation import load_demo_evaluation  # après les comptes : évaluatrice, conseils

    load_demo_evaluation(contract, stats)

    from cdv.seed.demo_grants import load_demo_grants  # l'appel à projets, ses dossiers, ses comptes

    load_demo_grants(contract, partners=partners, stats=stats)
    return stats


DEMO_VALUE_SOURCE = "Données de démonstration (valeurs fictives)"


def load_demo_employment_rate(contract, enjeu, stats) -> None:
    """Un indicateur fictif, par QPV et par an, pour montrer le calcul de l'ensemble des QPV
    (rapport des sommes), l'écart, l'évolution depuis l'année de référence et la cible."""
    indicator = upsert(
        Indicator,
        lookup={"contract": contract, "code": "taux-emploi-demo"},
        values={
            "name": "Taux d'emploi des 15-64 ans (démonstration)",
            "definition": "Part des 15-64 ans ayant un emploi. Valeurs fictives, pour la démonstration.",
            "enjeu": enjeu,
            "unit": "%",
            "rate_scale": 100,
            "direction": Direction.UP_IS_GOOD,
            "aggregation": Aggregation.RATIO,
            "source": "Données de démonstration",
            "geography": "2024",
            "levels": ["QPV", "EPCI"],
            "baseline_year": 2022,
            "is_demo": True,
        },
        stats=stats,
    )
    qpvs = list(contract.qpvs.order_by("code").defer("geometry"))
    for year in range(2022, 2026):
        for index, qpv in enumerate(qpvs):
            denominator = Decimal(1500 + 250 * index)
            rate = Decimal(42 + index % 6 + (year - 2022) * (1 + index % 3)) / 100
            numerator = (denominator * rate).quantize(Decimal(1))
            upsert(
                IndicatorValue,
                lookup={
                    "indicator": indicator,
                    "scope": "TERRITOIRE",
                    "territory": qpv,
                    "year": year,
                    "quarter": 0,
                },
                values={
                    "value": (numerator / denominator * 100).quantize(Decimal("0.01")),
                    "numerator": numerator,
                    "denominator": denominator,
                    "is_demo": True,
                    "source": DEMO_VALUE_SOURCE,
                    "vintage": "fictif",
                    "comment": "Valeur fictive (démonstration).",
                },
                stats=stats,
            )
        upsert(
            IndicatorValue,
            lookup={
                "indicator": indicator,
                "scope": "TERRITOIRE",
                "territory": contract.epci,
                "year": year,
                "quarter": 0,
            },
            values={
                "value": Decimal(66 + (year - 2022)),
                "is_demo": True,
                "source": DEMO_VALUE_SOURCE,
                "vintage": "fictif",
                "comment": "Valeur fictive (démonstration).",
            },
            stats=stats,
        )
    upsert(
        Target,
        lookup={"indicator": indicator, "territory": None, "year": 2030},
        values={"value": Decimal(55)},
        stats=stats,
    )
