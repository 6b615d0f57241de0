"""Écritures du géoréférencement qui touchent d'autres applications.

``record_share_as_indicator_value`` : la part des bénéficiaires d'un partenaire qui habitent un
QPV du contrat, tirée d'un traitement terminé, devient la valeur d'un indicateur de suivi de l'un
de ses engagements.

Choix (voir docs/georef-web.md) :
- numérateur : lignes situées dans un QPV **du contrat** (un QPV d'ailleurs ne compte pas) ;
  dénominateur : lignes localisées (en QPV ou hors QPV) ; les adresses non géocodées, de score
  trop faible ou invalides sont écartées et le commentaire le dit ;
- la valeur porte sur le territoire du contrat (portée « un territoire » = l'EPCI du contrat) :
  c'est une part calculée sur tout le public du partenaire, pas une statistique de l'ensemble des
  QPV (portée « QPV du contrat ») ;
- l'indicateur doit s'exprimer en % ; la valeur est provisoire ; une valeur définitive n'est
  jamais remplacée ; une valeur provisoire de la même année est mise à jour ;
- moins de 11 lignes localisées : rien n'est enregistré (secret statistique usuel) ;
- droits : la personne qui a lancé le traitement, et seulement si elle est référente du partenaire
  de l'engagement (ou pilote du contrat), pour un engagement validé, confirmé ou en cours ;
- la valeur est celle **de l'engagement** (``IndicatorValue.commitment``) : seulement pour un
  indicateur dont toutes les valeurs viennent de cet engagement. Une série qui a une valeur venue
  d'ailleurs (série officielle importée ou saisie par le pilote, valeur d'un autre partenaire) ne
  reçoit rien : attacher le taux de pauvreté à son engagement ne permet pas de publier le chiffre
  de la métropole ni de remplacer celui d'un autre.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from cdv.commitments import abilities
from cdv.core.french import de
from cdv.indicators.enums import Scope, ValueStatus
from cdv.indicators.models import IndicatorValue
from cdv.indicators.origins import indicators_seen_at_validation, is_own_series

from .models import GeorefJob, JobStatus

if TYPE_CHECKING:
    from cdv.commitments.models import Commitment
    from cdv.contracts.models import Contract
    from cdv.indicators.models import Indicator
    from cdv.users.models import User

MIN_LOCATED = 11
IN_QPV = "DANS_QPV"
OUT_OF_QPV = "HORS_QPV"


def is_percentage(indicator: Indicator) -> bool:
    return "%" in (indicator.unit or "") or "pourcent" in (indicator.unit or "").lower()


def share_for_contract(job: GeorefJob, contract: Contract) -> dict:
    """Compte des lignes du traitement : en QPV du contrat, localisées, écartées ; et la part (0-100)."""
    summary = job.summary or {}
    by_status = summary.get("by_status") or {}
    by_qpv = summary.get("by_qpv") or {}
    contract_codes = set(contract.qpvs.values_list("code", flat=True))
    in_contract = sum(_count(v) for code, v in by_qpv.items() if code in contract_codes)
    located = int(by_status.get(IN_QPV, 0)) + int(by_status.get(OUT_OF_QPV, 0))
    rows = int(summary.get("rows") or 0)
    share = None
    if located:
        share = (Decimal(in_contract) * 100 / Decimal(located)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return {
        "in_contract_qpvs": in_contract,
        "located": located,
        "rows": rows,
        "excluded": rows - located,
        "share": share,
    }


def _count(value: list | tuple | int | None) -> int:
    """Une entrée de ``by_qpv`` : [nom, nombre] (JSON) ou un nombre."""
    if isinstance(value, list | tuple):
        return int(value[-1])
    return int(value or 0)


def year_choices(contract: Contract) -> range:
    """L'année précédant le contrat (situation de départ) puis chaque année du contrat."""
    return range(contract.start_year - 1, contract.end_year + 1)


@transaction.atomic
def record_share_as_indicator_value(
    *, user: User, job: GeorefJob, commitment: Commitment, indicator: Indicator, year: int
) -> IndicatorValue:
    contract = commitment.contract
    if job.owner_id != getattr(user, "pk", None):
        raise PermissionDenied("Seule la personne qui a lancé ce traitement peut en utiliser le résultat.")
    if not abilities.can_create_commitment(user, contract, commitment.partner):
        raise PermissionDenied(
            "Seuls les référents du partenaire et les pilotes du contrat enregistrent ses indicateurs."
        )
    if not abilities.can_record_indicator_value(user, commitment):
        raise PermissionDenied(
            f"L'engagement « {commitment.title} » est {commitment.get_status_display().lower()} : "
            "une valeur d'indicateur ne s'enregistre que pour un engagement validé par le pilote, "
            "confirmé ou en cours."
        )
    if job.contract_id and job.contract_id != contract.pk:
        raise ValidationError("Ce traitement a été lancé pour un autre contrat.")
    if job.status != JobStatus.DONE or not job.summary:
        raise ValidationError("Le traitement n'est pas terminé : aucune part à enregistrer.")
    geography = str((job.options or {}).get("geography") or "2024")
    if geography != "2024":
        raise ValidationError(
            "Le traitement utilise la géographie prioritaire 2015 ; le contrat suit celle de 2024. "
            "Relancez-le avec la géographie 2024."
        )
    if not commitment.indicators.filter(pk=indicator.pk).exists():
        raise ValidationError({"indicator": "Cet indicateur ne suit pas cet engagement."})
    validated = indicators_seen_at_validation(commitment)
    if validated is not None and indicator.pk not in validated:
        raise ValidationError(
            {
                "indicator": f"L'indicateur « {indicator.name} » a été attaché à l'engagement après la "
                "validation par le pilote : il ne reçoit pas de valeur tant que le pilote ne l'a pas "
                "validé avec l'engagement."
            }
        )
    if not is_percentage(indicator):
        raise ValidationError(
            {"indicator": f"L'indicateur « {indicator.name} » ne s'exprime pas en % ({indicator.unit})."}
        )
    if year not in year_choices(contract):
        years = year_choices(contract)
        raise ValidationError({"year": f"Année attendue entre {years.start} et {years.stop - 1}."})
    if contract.epci_id is None:
        raise ValidationError("Le contrat n'a pas d'EPCI : la valeur n'aurait pas de territoire.")
    counts = share_for_contract(job, contract)
    if counts["located"] < MIN_LOCATED:
        raise ValidationError(
            f"Trop peu d'adresses localisées ({counts['located']}) : il en faut au moins {MIN_LOCATED} "
            "pour publier une part sans dévoiler de personne (secret statistique)."
        )
    existing = (
        IndicatorValue.objects.select_for_update()
        .filter(
            indicator=indicator,
            scope=Scope.TERRITORY,
            territory_id=contract.epci_id,
            year=year,
            quarter=0,
        )
        .first()
    )
    if existing is not None and existing.status == ValueStatus.FINAL:
        raise ValidationError(
            f"Une valeur définitive existe déjà pour {year} ({existing.display} {indicator.unit}) : "
            "elle n'est pas remplacée."
        )
    if not is_own_series(indicator, commitment):
        raise ValidationError(
            {
                "indicator": f"L'indicateur « {indicator.name} » a des valeurs qui ne viennent pas de cet "
                "engagement (série officielle, ou valeurs d'un autre partenaire ou d'un autre engagement) : "
                "la part en QPV ne s'y enregistre pas. Demandez au pilote un indicateur propre à "
                "l'engagement (« Part des bénéficiaires résidant en QPV »)."
            }
        )
    finished = timezone.localtime(job.finished_at or timezone.now())
    comment = (
        f"Part des bénéficiaires {de(commitment.partner.name)} résidant dans un QPV du contrat "
        f"(engagement « {commitment.title} ») : {counts['in_contract_qpvs']} sur {counts['located']} "
        f"adresses localisées ; {counts['excluded']} ligne(s) écartée(s) (non géocodées, score trop "
        f"faible ou invalides). Géoréférencement n° {job.pk} du {finished:%d/%m/%Y}, "
        "géographie prioritaire 2024."
    )
    value = existing or IndicatorValue(
        indicator=indicator, scope=Scope.TERRITORY, territory_id=contract.epci_id, year=year, quarter=0
    )
    value.value = counts["share"]
    value.numerator = Decimal(counts["in_contract_qpvs"])
    value.denominator = Decimal(counts["located"])
    value.is_secret = False
    value.status = ValueStatus.PROVISIONAL
    value.source = f"{commitment.partner.name}, adresses des bénéficiaires géoréférencées sur la plateforme"
    value.vintage = f"Géoréférencement du {finished:%d/%m/%Y}"
    value.comment = comment
    value.commitment = commitment
    value.full_clean()
    value.save()
    return value
