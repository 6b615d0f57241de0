"""Le contrat de ville de Nantes Métropole 2024-2030 : faits publics et leurs sources.

Rien ici n'est inventé : chaque fait cite sa source (voir aussi data/SOURCES.md). Ce que les
sources ne disent pas (qualité des signataires, date de réalisation des cahiers…) reste vide.
"""

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils.text import slugify

from cdv.core.upsert import UpsertStats, sync_m2m, upsert
from cdv.partners.enums import PartnerKind
from cdv.partners.models import Partner
from cdv.plan.models import Enjeu
from cdv.territories.enums import Geography, TerritoryKind
from cdv.territories.loaders import NANTES_METROPOLE_SIREN, read_csv
from cdv.territories.models import Territory

from .enums import ContractStatus, MilestoneKind, SignatoryKind
from .models import Contract, KeyFigure, Milestone, Signatory

SLUG = "nantes-metropole-2024-2030"
ACTU44 = "https://www.actu44.fr/la-politique-de-la-ville-un-nouveau-contrat-2024-2030/"
SIGNED_ON = datetime.date(2023, 12, 7)


# (nom, sigle, type, SIREN, place dans le contrat, précision)
PARTNERS = [
    ("État — Préfecture de la Loire-Atlantique", "État", PartnerKind.STATE, "", SignatoryKind.SIGNATORY, ""),
    ("Nantes Métropole", "", PartnerKind.EPCI, NANTES_METROPOLE_SIREN, SignatoryKind.SIGNATORY, ""),
    ("Ville de Nantes", "", PartnerKind.COMMUNE, "214401093", SignatoryKind.SIGNATORY, ""),
    ("Ville de Saint-Herblain", "", PartnerKind.COMMUNE, "214401622", SignatoryKind.SIGNATORY, ""),
    ("Ville d'Orvault", "", PartnerKind.COMMUNE, "214401143", SignatoryKind.SIGNATORY, ""),
    ("Ville de Rezé", "", PartnerKind.COMMUNE, "214401432", SignatoryKind.SIGNATORY, ""),
    ("Département de Loire-Atlantique", "", PartnerKind.DEPARTMENT, "", SignatoryKind.SIGNATORY, ""),
    ("Région Pays de la Loire", "", PartnerKind.REGION, "", SignatoryKind.SIGNATORY, ""),
    (
        "Caisse d'allocations familiales de Loire-Atlantique",
        "CAF",
        PartnerKind.CAF,
        "",
        SignatoryKind.SIGNATORY,
        "",
    ),
    (
        "Les 9 conseils citoyens de Nantes Métropole",
        "Conseils citoyens",
        PartnerKind.CITIZEN_COUNCIL,
        "",
        SignatoryKind.PARTICIPANT,
        "Les 9 conseils citoyens, représentés ici comme un groupe ; ils participent au pilotage, "
        "à la mise en œuvre et à l'évaluation.",
    ),
    (
        "Inter-associatif des quartiers populaires",
        "Inter-associatif",
        PartnerKind.COLLECTIVE,
        "",
        SignatoryKind.PARTICIPANT,
        "Collectif d'associations agissant dans les quartiers populaires.",
    ),
    (
        "Inter-bailleurs",
        "",
        PartnerKind.COLLECTIVE,
        "",
        SignatoryKind.PARTICIPANT,
        "Collectif des bailleurs sociaux (8 bailleurs prennent part au contrat selon la presse).",
    ),
]

# (numéro, intitulé, résumé en langage clair)
ENJEUX = [
    (
        1,
        "Emploi et activité économique",
        "Aider les habitants des quartiers à trouver un emploi ou une formation, "
        "et faire vivre l'activité économique dans les quartiers.",
    ),
    (
        2,
        "Émancipation : éducation, jeunesse, accès aux droits",
        "Donner à chacun, enfants, jeunes et adultes, les moyens de réussir et de faire valoir ses droits.",
    ),
    (
        3,
        "Tranquillité publique",
        "Permettre à chacun de vivre en sécurité et en paix dans son quartier.",
    ),
    (
        4,
        "Transition écologique juste",
        "Rendre les quartiers plus agréables à vivre et moins coûteux en énergie, pour tous.",
    ),
]

SEED_SOURCE = "Page « Qu'est-ce qu'un contrat de ville ? » de Nantes Métropole"


def milestones():
    rows = [
        (
            MilestoneKind.SIGNATURE,
            2023,
            "Signature du contrat de ville",
            SIGNED_ON,
            "7 décembre 2023",
            SIGNED_ON,
            ACTU44,
        ),
        (
            MilestoneKind.COMMITMENTS,
            2024,
            "Cahiers d'engagements : chaque partenaire confirme ses engagements",
            datetime.date(2024, 3, 31),
            "1er trimestre 2024",
            None,
            "",
        ),
    ]
    for year in range(2024, 2030):
        rows.append(
            (
                MilestoneKind.YEARLY_REVIEW,
                year,
                f"Suivi annuel {year} : comité de pilotage sur indicateurs et retours d'expérience",
                None,
                str(year),
                None,
                "",
            )
        )
    rows += [
        (MilestoneKind.MID_TERM_EVALUATION, 2027, "Évaluation à mi-parcours", None, "2027", None, ""),
        (MilestoneKind.FINAL_EVALUATION, 2030, "Évaluation finale", None, "2030", None, ""),
        (MilestoneKind.END, 2030, "Fin du contrat", datetime.date(2030, 12, 31), "fin 2030", None, ""),
    ]
    return rows


START_YEAR, END_YEAR = 2024, 2030


@transaction.atomic
def load_nantes_contract() -> UpsertStats:
    stats = UpsertStats()
    epci = Territory.objects.get(kind=TerritoryKind.EPCI, code=NANTES_METROPOLE_SIREN)
    contract = upsert(
        Contract,
        lookup={"slug": SLUG},
        values={
            "title": "Contrat de ville de Nantes Métropole 2024-2030",
            "epci": epci,
            "reference_territory": epci,
            "start_year": START_YEAR,
            "end_year": END_YEAR,
            "signed_on": SIGNED_ON,
            "status": ContractStatus.ACTIVE,
            # La durée se lit dans les dates du contrat (de début 2024 à fin 2030 : sept années).
            "summary_plain": (
                f"De {START_YEAR} à fin {END_YEAR}, l'État, Nantes Métropole, les villes, le Département, "
                "la Région, "
                "la CAF et les acteurs des quartiers s'engagent à réduire l'écart entre les 15 "
                "quartiers prioritaires et le reste de la métropole."
            ),
            "source_url": ACTU44,
        },
        stats=stats,
    )
    codes = [row["code_qp"] for row in read_csv("qpv2024_nantes_metropole.csv")]
    qpvs = list(
        Territory.objects.filter(kind=TerritoryKind.QPV, geography=Geography.QPV_2024, code__in=codes).defer(
            "geometry"
        )
    )
    if len(qpvs) != len(codes):
        raise RuntimeError("Les QPV de Nantes Métropole manquent : chargez d'abord les territoires.")
    sync_m2m(contract.qpvs, qpvs, stats, "QPV du contrat")

    for order, (name, short, kind, siren, place, note) in enumerate(PARTNERS):
        partner = upsert(
            Partner,
            lookup={"name": name},
            values={"short_name": short, "slug": slugify(name)[:80], "kind": kind, "siren": siren},
            stats=stats,
        )
        upsert(
            Signatory,
            lookup={"contract": contract, "partner": partner},
            values={
                "kind": place,
                "signed_on": SIGNED_ON if place == SignatoryKind.SIGNATORY else None,
                "order": order,
                "note": note,
            },
            stats=stats,
        )

    for number, title, summary in ENJEUX:
        upsert(
            Enjeu,
            lookup={"contract": contract, "number": number},
            values={"title": title, "slug": slugify(title)[:80], "summary_plain": summary},
            stats=stats,
        )

    for kind, year, title, due_on, when, done_on, source in milestones():
        upsert(
            Milestone,
            lookup={"contract": contract, "kind": kind, "year": year},
            values={
                "title": title,
                "due_on": due_on,
                "when_label": when,
                "done_on": done_on,
                "source_url": source,
                "description": f"Calendrier publié : {SEED_SOURCE}." if not source else "",
            },
            stats=stats,
        )

    load_key_figures(contract, stats)
    return stats


HEADLINE = {
    "population-des-qpv",
    "part-des-habitants-sous-le-seuil-de-pauvrete",
    "part-de-familles-monoparentales",
}


def load_key_figures(contract, stats) -> None:
    """Chiffres publiés sur les QPV du contrat (géographie 2024), avec leur source."""
    rows = [
        r
        for r in read_csv("indicateurs_qpv_nantes_sources_textuelles.csv")
        if r["perimetre"].startswith("15 QPV de Nantes Métropole")
    ]
    for order, row in enumerate(rows):
        code = slugify(row["indicateur"])[:60]
        comparison = row["valeur_comparaison"]
        upsert(
            KeyFigure,
            lookup={"contract": contract, "code": code},
            values={
                "label": row["indicateur"][:1].upper() + row["indicateur"][1:],
                "perimeter": row["perimetre"],
                "geography": row["geographie_qpv"],
                "value": Decimal(row["valeur"]).quantize(Decimal("0.01")),
                "unit": row["unite"],
                "comparison_value": Decimal(comparison).quantize(Decimal("0.01")) if comparison else None,
                "comparison_perimeter": row["perimetre_comparaison"],
                "published_on": row["date_publication"],
                "source_label": "actu44.fr, « La politique de la ville : un nouveau contrat 2024-2030 »",
                "source_url": row["source_url"],
                "note": row["note"],
                "is_headline": code in HEADLINE,
                "order": order,
            },
            stats=stats,
        )
