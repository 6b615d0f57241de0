"""Démonstration vivante du suivi : des engagements publiés dans chaque quartier, dans plusieurs états,
avec l'avancement tiré de bilans acceptés ; le suivi 2024 clos et figé, le suivi 2025 en cours ; un
conseil citoyen par quartier, avec des retours publiés. Tout est marqué « démonstration ».

Le parcours passe par les services (ouverture de campagne, acceptation des bilans, gel de l'année) :
les états et l'historique sont ceux qu'aurait produits la plateforme. Il n'est joué qu'une fois par
contrat (tant qu'aucune campagne 2024 ni 2025 n'existe) ; relancé, le chargement ne change rien.
"""

import datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.text import slugify

from cdv.commitments.enums import CommitmentScope, FundingKind
from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment, CommitmentMeans
from cdv.core.french import a, de
from cdv.core.upsert import sync_m2m, upsert
from cdv.monitoring import services, yearly
from cdv.monitoring.enums import FeedbackKind, Moderation, ReportState
from cdv.monitoring.models import Feedback, ProgressReport, ReviewCampaign
from cdv.partners.enums import PartnerKind
from cdv.partners.models import Partner

# (partenaire : indice dans DEMO_PARTNERS, code de l'action, intitulé, résumé, cible, ETP, euros)
QPV_COMMITMENTS = [
    (
        0,
        "1.1.1",
        "Tenir une permanence emploi chaque semaine",
        "Un conseiller reçoit sans rendez-vous pour aider à trouver un emploi ou une formation.",
        "150 personnes reçues par an",
        "0.40",
        "9000",
    ),
    (
        1,
        "2.1.1",
        "Animer un club de sciences pour les enfants",
        "Chaque mercredi, les enfants font des expériences scientifiques avec des animateurs.",
        "40 enfants par an",
        "0.30",
        "6000",
    ),
    (
        2,
        "4.1.1",
        "Remplacer l'éclairage des halls par des lampes économes",
        "Le bailleur change les lampes des halls et des escaliers pour baisser les charges.",
        "Tous les halls du quartier",
        "0.10",
        "30000",
    ),
    (
        0,
        "3.2.1",
        "Organiser deux marches exploratoires par an",
        "Des habitantes parcourent le quartier et signalent les lieux à améliorer.",
        "2 marches par an",
        "0.20",
        "3000",
    ),
]

# Retours des conseils citoyens : (nature, texte, numéro de l'enjeu)
COUNCIL_FEEDBACK = [
    (FeedbackKind.SUCCESS, "La permanence emploi est bien connue des habitants et très fréquentée.", 1),
    (FeedbackKind.SUCCESS, "Les enfants attendent le club de sciences du mercredi avec impatience.", 2),
    (FeedbackKind.NEED, "Les familles demandent plus de places à l'aide aux devoirs.", 2),
    (
        FeedbackKind.DIFFICULTY,
        "Les halls restent sombres le soir tant que les lampes ne sont pas changées.",
        4,
    ),
    (FeedbackKind.PROPOSAL, "Associer les jeunes du quartier aux prochaines marches exploratoires.", 3),
]

FIRST_YEAR, CURRENT_YEAR = 2024, 2025


def living_demo_commitments(contract):
    """Les engagements de démonstration suivis dans chaque quartier (ceux de ce module)."""
    from django.db.models import Q

    titles = Q()
    for _, _, title, *_ in QPV_COMMITMENTS:
        titles |= Q(title__startswith=title)
    return Commitment.objects.filter(contract=contract, is_demo=True).filter(titles)


def council_name(qpv) -> str:
    return f"Conseil citoyen {de(qpv.name)} (démonstration)"


def _plan(index: int, position: int):
    """Le devenir de l'engagement ``position`` (0, 1, 2) du quartier ``index`` au fil des bilans.

    0 : en cours (bilan 2024 accepté, bilan 2025 transmis ou accepté) ;
    1 : réalisé ou partiellement réalisé (bilan 2025 accepté) ;
    2 : confirmé, pas encore démarré (bilan 2024 accepté, bilan 2025 en brouillon).
    """
    if position == 0:
        return [(S.IN_PROGRESS, 35, True), (S.IN_PROGRESS, 70, index % 2 == 0)]
    if position == 1:
        outcome = S.DONE if index % 3 else S.PARTLY_DONE
        return [(S.IN_PROGRESS, 50, True), (outcome, 100 if outcome == S.DONE else 70, True)]
    return [(S.CONFIRMED, 0, True), (None, None, False)]


def load_living_demo(contract, *, partners, actions, enjeux, pilot, stats) -> None:
    qpvs = list(contract.qpvs.order_by("code").defer("geometry"))
    plans = {}
    for index, qpv in enumerate(qpvs):
        for position in range(3):
            partner_index, action_code, title, summary, target, fte, amount = QPV_COMMITMENTS[
                (index + position) % len(QPV_COMMITMENTS)
            ]
            action = actions[action_code]
            lookup = {
                "contract": contract,
                "partner": partners[partner_index],
                "title": f"{title} {a(qpv.name)}",
            }
            values = {
                "objective": action.objective,
                "action": action,
                "summary_plain": summary,
                "target": target,
                "scope": CommitmentScope.QPV,
                "deadline": datetime.date(2026, 12, 31),
                "is_demo": True,
            }
            if not Commitment.objects.filter(**lookup).exists():
                values |= {
                    "status": S.CONFIRMED,
                    "confirmed_name": "Signataire de démonstration",
                    "confirmed_role": "Direction (démonstration)",
                    "confirmed_at": datetime.datetime(2024, 6, 28, 10, tzinfo=datetime.UTC),
                }
            commitment = upsert(Commitment, lookup=lookup, values=values, stats=stats)
            sync_m2m(commitment.qpvs, [qpv], stats, "QPV des engagements")
            for year in (FIRST_YEAR, CURRENT_YEAR, 2026):
                upsert(
                    CommitmentMeans,
                    lookup={"commitment": commitment, "year": year, "funding": FundingKind.ORDINARY},
                    values={"fte": Decimal(fte), "amount_eur": Decimal(amount)},
                    stats=stats,
                )
            plans[commitment.pk] = _plan(index, position)
        _council(contract, qpv, index, enjeux, pilot, stats)

    # Une seule fois, et jamais par-dessus un suivi 2024 ou 2025 ouvert sur le site.
    if (
        pilot is None
        or ReviewCampaign.objects.filter(contract=contract, year__in=[FIRST_YEAR, CURRENT_YEAR]).exists()
    ):
        return
    today = timezone.localdate()
    first = services.open_campaign(
        user=pilot,
        contract=contract,
        year=FIRST_YEAR,
        opens_on=datetime.date(2025, 1, 6),
        deadline=datetime.date(2025, 2, 28),
    )
    _review(first, plans, 0, pilot)
    services.close_campaign(user=pilot, campaign=first, confirmed=True)
    yearly.freeze_year(user=pilot, campaign=first, confirmed=True)
    stats.add("ReviewCampaign", "created")
    opens_on = min(datetime.date(2026, 1, 5), today)
    current = services.open_campaign(
        user=pilot,
        contract=contract,
        year=CURRENT_YEAR,
        opens_on=opens_on,
        deadline=max(datetime.date(2026, 3, 31), today + datetime.timedelta(days=60)),
    )
    _review(current, plans, 1, pilot)
    stats.add("ReviewCampaign", "created")


def _review(campaign, plans, step, pilot) -> None:
    """Remplit les bilans de la campagne selon le plan ; transmet et fait accepter ceux qui le sont."""
    reports = ProgressReport.objects.filter(campaign=campaign).select_related("commitment", "partner")
    for report in reports:
        plan = plans.get(report.commitment_id)
        if plan is None:  # un engagement de démonstration plus ancien (thermostats) : bilan en cours
            plan = [(S.IN_PROGRESS, 40, True), (S.IN_PROGRESS, 80, False)]
        reported, progress, accepted = plan[step]
        if reported is None:
            report.what_worked = "Bilan en cours de rédaction (démonstration)."
            report.save(update_fields=["what_worked"])
            continue
        report.reported_status = reported
        report.progress_pct = progress
        report.fte_actual = Decimal("0.30")
        report.amount_actual = Decimal(5000 + 500 * (report.commitment_id % 7))
        report.what_worked = (
            "Démarrage prévu l'an prochain, les partenaires sont réunis (démonstration)."
            if reported == S.CONFIRMED
            else "Les habitants sont venus nombreux ; le partenariat fonctionne bien (démonstration)."
        )
        if reported in {S.PARTLY_DONE, S.NOT_DONE, S.ABANDONED}:
            report.difficulties = "Moins de créneaux que prévu, faute d'animateurs (démonstration)."
        report.state = ReportState.SUBMITTED
        report.submitted_at = timezone.now()
        report.save()
        if accepted:
            services.accept_report(user=pilot, report=report)


def _council(contract, qpv, index, enjeux, pilot, stats) -> None:
    """Le conseil citoyen du quartier et ses retours : un publié au moins, parfois un en attente."""
    name = council_name(qpv)
    council = upsert(
        Partner,
        lookup={"name": name},
        values={"slug": slugify(name)[:80], "kind": PartnerKind.CITIZEN_COUNCIL, "is_demo": True},
        stats=stats,
    )
    sync_m2m(council.qpvs, [qpv], stats, "QPV du conseil citoyen")
    wanted = [
        COUNCIL_FEEDBACK[index % len(COUNCIL_FEEDBACK)],
        COUNCIL_FEEDBACK[(index + 2) % len(COUNCIL_FEEDBACK)],
    ]
    for number, (kind, text, enjeu_number) in enumerate(wanted):
        published = number == 0 or index % 2 == 0
        text = f"{qpv.name} : {text[0].lower()}{text[1:]} (démonstration)"
        lookup = {"contract": contract, "partner": council, "text": text}
        values = {"kind": kind, "enjeu": enjeux[enjeu_number], "is_demo": True}
        if not Feedback.objects.filter(**lookup).exists():
            values["moderation"] = Moderation.PUBLISHED if published else Moderation.PENDING
            if published:
                values["moderated_by"] = pilot
                values["moderated_at"] = datetime.datetime(2025, 4, 2 + index, 9, tzinfo=datetime.UTC)
        feedback = upsert(Feedback, lookup=lookup, values=values, stats=stats)
        sync_m2m(feedback.qpvs, [qpv], stats, "quartiers des retours")
