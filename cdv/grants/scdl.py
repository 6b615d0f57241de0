"""Les subventions votées d'un contrat au format de l'État : SCDL « subventions » 2.1.1
(schema.data.gouv.fr), colonnes de cofinancement de Data.Subvention, et l'appel décrit avec les
champs du schéma ``etalab/schema-dispositif-aide``.

Ce qui est publié (voir docs/aap/donnees-ouvertes.md) :

- une ligne par financeur × bénéficiaire : chaque ligne de financeur **votée** (état « Voté »,
  montant voté > 0, comité tenu, appel publié ou archivé) dont l'acte attributif (arrêté ou
  convention) est **signé** : ``dateConvention`` est la date de signature de l'acte, une donnée
  obligatoire du SCDL qu'on n'invente pas ; tant que l'acte n'est pas signé, la subvention attend ;
- seulement si le financeur a un SIRET valide (14 chiffres, clé de contrôle) : ``idAttribuant``
  est obligatoire ; une ligne sans lui serait invalide, elle n'est pas publiée et le pilote voit, sur
  la page des données ouvertes, quel financeur n'a pas son SIRET (``withheld``).

Les lignes sont lues en une requête (``values()`` et sous-requêtes pour les dates de versement),
plus une pour les financeurs : 50 000 subventions s'exportent en quelques secondes.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Count, DecimalField, IntegerField, Max, Min, OuterRef, Prefetch, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from cdv.core.validators import validate_siret

from .enums import CallStatus, LineStatus, PaymentTerms
from .models import MONEY, Call, CallFunder, FunderLine, Payment, PaymentInstalment

NATURE = "aide en numéraire"
SINGLE, STAGED = "unique", "échelonné"
TERMS = {PaymentTerms.SINGLE: SINGLE, PaymentTerms.STAGED: STAGED}
OBJECT_MAX = 255  # « moins de 256 caractères »
RNA_SCDL = r"^W\d{9}$"
SIRET_SCDL = r"^\d{14}$"
# Les colonnes du SCDL subventions 2.1.1, dans l'ordre du schéma.
SCDL_COLUMNS = (
    "nomAttribuant",
    "idAttribuant",
    "dateConvention",
    "referenceDecision",
    "nomBeneficiaire",
    "idBeneficiaire",
    "rnaBeneficiaire",
    "objet",
    "montant",
    "nature",
    "conditionsVersement",
    "datesPeriodeVersement",
    "idRAE",
    "notificationUE",
    "pourcentageSubvention",
    "dispositifAide",
)


def call_identifier(contract_slug: str, year: int) -> str:
    """L'identifiant stable de l'appel d'une année : ``dispositifAide`` des subventions et
    ``id_aide`` du fichier des dispositifs d'aide, ex. ``nantes-metropole-2024-2030-aap-2025``."""
    return f"{contract_slug}-aap-{year}"


def application_identifier(contract_slug: str, year: int, number: str, pk: int) -> str:
    """``identifiantSubvention`` : relie les lignes (une par financeur) d'un même dossier."""
    return f"{call_identifier(contract_slug, year)}-{number or pk}"


def valid_siret(value: str) -> bool:
    try:
        validate_siret(value)
    except ValidationError:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# Quelles lignes


def voted_lines(contract):
    """Les subventions votées du contrat : ligne « Voté », montant voté > 0, comité tenu, appel
    publié ou archivé (jamais un appel en préparation)."""
    return FunderLine.objects.filter(
        application__call__contract=contract,
        application__call__committee_held_at__isnull=False,
        status=LineStatus.VOTED,
        voted_amount__gt=0,
    ).exclude(application__call__status=CallStatus.DRAFT)


def _funders(contract):
    return (
        CallFunder.objects.filter(call__contract=contract)
        .select_related("partner")
        .only("id", "partner__id", "partner__name", "partner__siret")
    )


def publishable_funder_ids(contract) -> list[int]:
    return [f.pk for f in _funders(contract) if valid_siret(f.partner.siret)]


def published_lines(contract):
    """Ce que publie ``subventions.csv`` : les subventions votées dont l'acte est signé et dont le
    financeur a un SIRET valide."""
    return voted_lines(contract).filter(
        act__signed_on__isnull=False, funder_id__in=publishable_funder_ids(contract)
    )


@dataclass
class Withheld:
    """Ce qui n'est pas (encore) publié, pour le pilote : les financeurs sans SIRET valide (nom,
    SIRET enregistré, nombre de subventions retenues) et les subventions dont l'acte n'est pas signé."""

    funders: list[tuple[str, str, int]] = field(default_factory=list)
    awaiting_act: int = 0

    def __bool__(self):
        return bool(self.funders or self.awaiting_act)


def withheld(contract) -> Withheld:
    """Deux requêtes : les financeurs, puis le décompte des lignes votées par financeur."""
    funders = {f.pk: f.partner for f in _funders(contract)}
    counts = (
        voted_lines(contract)
        .order_by()
        .values("funder_id")
        .annotate(total=Count("pk"), unsigned=Count("pk", filter=Q(act__signed_on__isnull=True)))
    )
    result = Withheld()
    invalid: dict[int, list] = {}
    for row in counts:
        partner = funders[row["funder_id"]]
        if valid_siret(partner.siret):
            result.awaiting_act += row["unsigned"]
        else:
            entry = invalid.setdefault(partner.pk, [partner.name, partner.siret, 0])
            entry[2] += row["total"]
    result.funders = sorted((tuple(v) for v in invalid.values()), key=lambda v: v[0])
    return result


# ---------------------------------------------------------------------------------------------
# Les lignes SCDL


def _aggregate(model, column: str, function):
    return Subquery(
        model.objects.filter(line=OuterRef("pk"))
        .order_by()
        .values("line")
        .annotate(value=function(column))
        .values("value")
    )


def _voted_on_application():
    """Nombre de lignes votées (> 0) et montant voté total du dossier de la ligne."""
    lines = FunderLine.objects.filter(
        application=OuterRef("application_id"), status=LineStatus.VOTED, voted_amount__gt=0
    ).order_by()
    count = lines.values("application").annotate(n=Count("pk")).values("n")
    total = lines.values("application").annotate(s=Sum("voted_amount")).values("s")
    return {
        "funders_count": Coalesce(Subquery(count), 0, output_field=IntegerField()),
        "total_voted": Subquery(total, output_field=DecimalField(**MONEY)),
    }


VALUES = (
    "pk",
    "voted_amount",
    "decision_date",
    "decision_reference",
    "funder__partner__name",
    "funder__partner__siret",
    "act__signed_on",
    "act__reference",
    "act__amount",
    "act__payment_terms",
    "application_id",
    "application__number",
    "application__title",
    "application__submitted_at",
    "application__end_date",
    "application__is_demo",
    "application__partner__name",
    "application__partner__siret",
    "application__partner__rna",
    "application__call__year",
)


def line_values(queryset, *, cofinancing: bool = False):
    """Les valeurs de chaque ligne publiée, en une requête (pas de requête par ligne)."""
    annotations = {
        "paid_first": _aggregate(Payment, "paid_on", Min),
        "paid_last": _aggregate(Payment, "paid_on", Max),
        "due_first": _aggregate(PaymentInstalment, "due_date", Min),
        "due_last": _aggregate(PaymentInstalment, "due_date", Max),
        "instalment_count": Coalesce(
            _aggregate(PaymentInstalment, "pk", Count), 0, output_field=IntegerField()
        ),
    }
    if cofinancing:
        annotations.update(_voted_on_application())
    return (
        queryset.annotate(**annotations)
        .order_by("application__call__year", "act__signed_on", "act__reference", "pk")
        .values(*VALUES, *annotations)
        .iterator(chunk_size=5000)
    )


def _object(title: str) -> str:
    title = " ".join(title.split())
    return title if len(title) <= OBJECT_MAX else title[: OBJECT_MAX - 1].rstrip() + "…"


def _terms(row) -> str:
    if row["instalment_count"] > 1:
        return STAGED
    if row["instalment_count"] == 1:
        return SINGLE
    return TERMS.get(row["act__payment_terms"], SINGLE)


def _period(row, terms: str) -> str:
    """``datesPeriodeVersement`` : la date, ou la période, des versements faits et prévus
    (échéances) ; sans aucune date connue, la période qui va de la signature de l'acte à la fin
    de l'action (à défaut, au 31 décembre de l'année de l'appel)."""
    dates = [row[k] for k in ("paid_first", "paid_last", "due_first", "due_last") if row[k]]
    dates = [d if isinstance(d, datetime.date) else datetime.date.fromisoformat(str(d)) for d in dates]
    if dates:
        first, last = min(dates), max(dates)
    else:
        signed = row["act__signed_on"]
        end = row["application__end_date"] or datetime.date(row["application__call__year"], 12, 31)
        first, last = signed, max(signed, end)
    if first == last and terms == SINGLE:
        return first.isoformat()
    return f"{first.isoformat()}/{last.isoformat()}"


def scdl_row(row, contract_slug: str) -> dict:
    siret = row["application__partner__siret"] or ""
    rna = row["application__partner__rna"] or ""
    terms = _terms(row)
    amount = row["act__amount"] if row["act__amount"] is not None else row["voted_amount"]
    return {
        "nomAttribuant": row["funder__partner__name"],
        "idAttribuant": row["funder__partner__siret"],
        "dateConvention": row["act__signed_on"],
        "referenceDecision": row["act__reference"] or row["decision_reference"],
        "nomBeneficiaire": row["application__partner__name"],
        "idBeneficiaire": siret if valid_siret(siret) else "",
        "rnaBeneficiaire": rna if rna[:1] == "W" and rna[1:].isdigit() and len(rna) == 10 else "",
        "objet": _object(row["application__title"]),
        "montant": Decimal(amount),
        "nature": NATURE,
        "conditionsVersement": terms,
        "datesPeriodeVersement": _period(row, terms),
        "idRAE": "",
        "notificationUE": "non",
        "pourcentageSubvention": "1.00",
        "dispositifAide": call_identifier(contract_slug, row["application__call__year"]),
    }


def scdl_rows(queryset, contract):
    for row in line_values(queryset):
        yield scdl_row(row, contract.slug)


def cofinancing_rows(queryset, contract):
    for row in line_values(queryset, cofinancing=True):
        base = scdl_row(row, contract.slug)
        submitted = row["application__submitted_at"]
        if submitted is not None and not isinstance(submitted, datetime.datetime):
            submitted = datetime.datetime.fromisoformat(str(submitted))
        yield {
            "identifiantSubvention": application_identifier(
                contract.slug,
                row["application__call__year"],
                row["application__number"],
                row["application_id"],
            ),
            "multiFinanceur": row["funders_count"] > 1,
            "nombreFinanceurs": row["funders_count"],
            "nomAttribuant": base["nomAttribuant"],
            "idAttribuant": base["idAttribuant"],
            "referenceDecision": base["referenceDecision"],
            "dateDecision": row["decision_date"],
            "dateConvention": base["dateConvention"],
            "dateDepot": timezone.localtime(submitted).date() if submitted else None,
            "nomBeneficiaire": base["nomBeneficiaire"],
            "idBeneficiaire": base["idBeneficiaire"],
            "rnaBeneficiaire": base["rnaBeneficiaire"],
            "montantTotal": Decimal(row["total_voted"] or 0),
            "montantAttribuant": Decimal(row["voted_amount"]),
            "dispositifAide": base["dispositifAide"],
            "est_demonstration": row["application__is_demo"],
        }


# ---------------------------------------------------------------------------------------------
# L'appel : schéma des dispositifs d'aide


def published_calls(contract):
    """Les appels décrits dans ``dispositifs-aide`` : publiés ou archivés (une subvention d'un appel
    archivé renvoie toujours à son appel)."""
    return Call.objects.filter(contract=contract).exclude(status=CallStatus.DRAFT).order_by("year", "pk")


def _list(values) -> str:
    """Une liste à virgules (sans espace) du schéma des dispositifs d'aide."""
    return ",".join(" ".join(v.replace(",", " ").split()) for v in values if v)


def _siren(partner) -> str:
    if partner.siren and len(partner.siren) == 9 and partner.siren.isdigit():
        return partner.siren
    if valid_siret(partner.siret):
        return partner.siret[:9]
    return ""


def _eligibility(call) -> str:
    rules = [f"Part minimale de bénéficiaires habitant un quartier prioritaire : {call.min_qpv_share:n} %"]
    if call.min_amount is not None:
        rules.append(f"montant minimal demandé : {call.min_amount:n} €")
    if call.max_amount is not None:
        rules.append(f"montant maximal demandé : {call.max_amount:n} €")
    rules.append(f"part maximale du budget demandée aux financeurs de l'appel : {call.max_call_share:n} %")
    rules.append(f"nombre minimal de financeurs sollicités : {call.min_funders}")
    return " ; ".join(rules) + "."


def dispositif_rows(queryset, contract):
    from cdv.notifications.services import link

    calls = queryset.prefetch_related(
        Prefetch("funders", queryset=CallFunder.objects.select_related("partner").order_by("order", "pk"))
    )
    for call in calls:
        partners = [f.partner for f in call.funders.all()]
        url = (
            link(reverse("www:call", args=[contract.slug, call.year]))
            if call.status == CallStatus.PUBLISHED
            else ""
        )
        sirens = [s for s in (_siren(p) for p in partners) if s]
        yield {
            "id_aide": call_identifier(contract.slug, call.year),
            "nom_aide": call.title,
            "nom_aide_normalise": _object(
                f"Soutenir les projets des associations dans les quartiers prioritaires ({call.title})"
            )[:179],
            "programme_aides": _list([f"Contrat de ville {contract.title}"]),
            "porteur_aide": _list(p.name for p in partners),
            "porteur_siren": ",".join(sirens),
            "instructeurs_aide": _list(p.name for p in partners),
            "beneficiaires_aide": "Associations",
            "types_aides": "Subvention",
            "aap_ami": True,
            "description": " ".join((call.summary or call.title).split())[:5000],
            "thematique_aide": "Politique de la ville",
            "recurrence_aide": "Récurrente",
            "date_ouverture": call.filing_opens,
            "date_pre_depot": None,
            "date_cloture": call.filing_closes,
            "condition_eligibilite": _eligibility(call),
            "zone_geographique": f"Quartiers prioritaires du contrat de ville « {contract.title} »",
            "url_descriptif": url,
            "url_demarche": url,
            "contact": " ".join(call.contacts.split())
            or (f"Page de l'appel : {url}" if url else contract.title),
            "date_mise_a_jour": timezone.localdate(call.updated_at),
            "annee": call.year,
            "est_demonstration": call.is_demo,
        }
