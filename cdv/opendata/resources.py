"""Les ressources ouvertes d'un contrat : une définition par fichier (colonnes, clés, lignes).

Chaque ressource lit ses objets par des QuerySet, en un nombre de requêtes qui ne dépend pas du
volume. Ce qui est publié :

- ``quartiers`` : les QPV du contrat ;
- ``partenaires`` : signataires et participants, pilotes et contributeurs d'actions, partenaires
  qui ont au moins un engagement public (jamais les seules adhésions de personnes) ;
- ``enjeux``, ``objectifs``, ``actions`` : le plan d'action, public par nature ;
- ``engagements`` : ceux que voit ``user`` selon ``visible_commitments`` (pour un anonyme : les
  états publics, ``PUBLIC_STATUSES``) ;
- ``valeurs-indicateurs`` : les valeurs des indicateurs du contrat, celles que montre la page
  publique des indicateurs ; une valeur sous secret statistique reste « s », jamais 0 ;
- ``subventions``, ``subventions-cofinancement``, ``dispositifs-aide`` : l'appel à projets au format
  de l'État (``subventions.py``).
"""

from django.db.models import Count, Prefetch, Q, Sum
from django.utils import timezone

from cdv.commitments.abilities import visible_commitments
from cdv.commitments.enums import PUBLIC_STATUSES, CommitmentScope, CommitmentStatus, FundingKind
from cdv.commitments.models import Commitment, CommitmentMeans
from cdv.contracts.enums import SignatoryKind
from cdv.contracts.models import Signatory
from cdv.indicators.enums import Scope, ValueStatus
from cdv.indicators.models import Indicator, IndicatorValue
from cdv.indicators.provenance import provenance
from cdv.partners.enums import PartnerKind
from cdv.partners.models import Partner
from cdv.plan.enums import ActionScope, ActionStatus
from cdv.plan.models import Action, Enjeu, Objective
from cdv.territories.enums import Geography, QpvStatus, TerritoryKind
from cdv.territories.models import Territory

from .schema import LIST_SEPARATOR, SECRET, Column, ForeignKey, Resource
from .subventions import GRANT_RESOURCES

QPV_CODE = r"(QN(\d{3}|02[AB])\d{2}[NMIC]|QP(\d{3}|02[AB])\d{3})"
QPV_LIST = rf"^{QPV_CODE}(;{QPV_CODE})*$"
INSEE_CODE = r"(\d{5}|2[AB]\d{3})"
ID_LIST = r"^\d+(;\d+)*$"
SLUG_LIST = r"^[-a-zA-Z0-9_]+(;[-a-zA-Z0-9_]+)*$"


def _codes(choices) -> tuple[str, ...]:
    return tuple(choices.values)


def _joined(values) -> str:
    return LIST_SEPARATOR.join(str(v) for v in values)


def _id(title: str, description: str, example: str = "42") -> Column:
    return Column("id", "integer", title, description, required=True, unique=True, minimum=1, example=example)


def _ref(name: str, title: str, description: str, required: bool = True, example: str = "7") -> Column:
    return Column(name, "integer", title, description, required=required, minimum=1, example=example)


def _text(name: str, title: str, description: str, **options) -> Column:
    return Column(name, "string", title, description, **options)


def _demo() -> Column:
    return Column(
        "est_demonstration",
        "boolean",
        "Donnée de démonstration",
        "true si la ligne est une donnée fictive de démonstration : à écarter pour toute réutilisation.",
        required=True,
        example="false",
    )


def _archived(kind: str) -> Column:
    return Column(
        "archive_le",
        "date",
        "Archivé le",
        f"Date à laquelle le pilote a archivé {kind} (vide : en vigueur). Un élément archivé "
        "n'est plus sur les pages publiques mais reste ici : des engagements peuvent y renvoyer.",
        example="2025-06-30",
    )


def _archive_date(item):
    return timezone.localdate(item.archived_at) if item.archived_at else None


def _count(name: str, title: str, description: str, example: str = "3") -> Column:
    return Column(name, "integer", title, description, required=True, minimum=0, example=example)


def _choice(name: str, title: str, choices, required: bool = True, example=None) -> tuple[Column, Column]:
    """Une colonne de code (liste fermée) et la colonne de son libellé en français ; l'exemple est
    ``example`` (un membre de ``choices``), à défaut le premier code."""
    codes = ", ".join(f"{value} ({label})" for value, label in choices.choices)
    example = example or next(iter(choices))
    return (
        Column(
            name,
            "string",
            title,
            f"Code : {codes}.",
            required=required,
            enum=_codes(choices),
            example=str(example.value),
        ),
        Column(
            f"{name}_libelle",
            "string",
            f"{title} (libellé)",
            f"Libellé en clair de « {name} ».",
            example=str(example.label),
        ),
    )


# ---------------------------------------------------------------------------------------------
# Quartiers prioritaires


def _qpvs(contract, user):
    return contract.qpvs.order_by("code")


QPV_FIELDS = (
    "code",
    "name",
    "geography",
    "status",
    "commune_codes",
    "population",
    "population_source",
    "population_year",
    "geometry_repaired",
    "predecessor__code",
)


def _qpv_queryset(queryset, *, geometry: bool):
    communes = Prefetch(
        "parents", queryset=Territory.objects.communes().only("code", "name"), to_attr="commune_list"
    )
    fields = (*QPV_FIELDS, "geometry") if geometry else QPV_FIELDS
    return queryset.select_related("predecessor").only(*fields).prefetch_related(communes)


def _qpv_row(qpv) -> dict:
    communes = sorted(qpv.commune_list, key=lambda c: c.code)
    return {
        "code": qpv.code,
        "nom": qpv.name,
        "geographie": qpv.geography,
        "statut_2024": qpv.status,
        "statut_2024_libelle": qpv.get_status_display(),
        "communes_insee": _joined(qpv.commune_codes),
        "communes_noms": _joined(c.name for c in communes),
        "population": qpv.population,
        "source_population": qpv.population_source
        + (f", millésime {qpv.population_year}" if qpv.population_year else ""),
        "qpv_2015_remplace": qpv.predecessor.code if qpv.predecessor_id else "",
        "contour_repare": qpv.geometry_repaired,
    }


def _qpv_rows(queryset, contract, user):
    return (_qpv_row(qpv) for qpv in _qpv_queryset(queryset, geometry=False))


def _qpv_features(queryset, contract, user):
    return ((_qpv_row(qpv), qpv.geometry) for qpv in _qpv_queryset(queryset, geometry=True))


QUARTIERS = Resource(
    name="quartiers",
    title="Quartiers prioritaires du contrat",
    description=(
        "Les quartiers prioritaires de la politique de la ville (QPV) couverts par le contrat, avec "
        "leurs communes, leur population et leur statut dans la géographie prioritaire 2024. "
        "Contours (GeoJSON, WGS84) : ANCT, réparés s'ils étaient invalides."
    ),
    columns=(
        _text(
            "code",
            "Code du QPV",
            "Code officiel attribué par l'ANCT (QN… pour la géographie 2024, QP… pour 2015).",
            required=True,
            unique=True,
            pattern=f"^{QPV_CODE}$",
            example="QN04404M",
        ),
        _text(
            "nom",
            "Nom du quartier",
            "Nom officiel du quartier prioritaire.",
            required=True,
            example="Bellevue",
        ),
        _text(
            "geographie",
            "Géographie prioritaire",
            "Géographie à laquelle appartient le quartier : 2024 (décret du 28 décembre 2023) ou 2015.",
            required=True,
            enum=_codes(Geography),
            example="2024",
        ),
        *_choice("statut_2024", "Statut 2024", QpvStatus, required=False),
        _text(
            "communes_insee",
            "Communes (codes INSEE)",
            "Codes INSEE des communes du quartier, séparés par « ; » (source ANCT).",
            pattern=rf"^{INSEE_CODE}(;{INSEE_CODE})*$",
            example="44109;44162",
        ),
        _text(
            "communes_noms",
            "Communes (noms)",
            "Noms des communes du quartier, séparés par « ; ».",
            example="Nantes;Saint-Herblain",
        ),
        Column(
            "population",
            "integer",
            "Population",
            "Population du quartier, si elle est connue.",
            minimum=0,
            example="8520",
        ),
        _text(
            "source_population",
            "Source de la population",
            "Source et millésime de la population.",
            example="INSEE, recensement de la population 2020 (ANCT)",
        ),
        _text(
            "qpv_2015_remplace",
            "QPV 2015 remplacé",
            "Code du quartier de la géographie 2015 que ce quartier remplace, le cas échéant.",
            pattern=f"^{QPV_CODE}$",
            example="QP044007",
        ),
        Column(
            "contour_repare",
            "boolean",
            "Contour réparé",
            "true si le contour source était invalide (arrondi des coordonnées) et a été réparé.",
            required=True,
            example="false",
        ),
    ),
    queryset=_qpvs,
    rows=_qpv_rows,
    primary_key=("code",),
    features=_qpv_features,
)


# ---------------------------------------------------------------------------------------------
# Partenaires


def _partners(contract, user):
    """Les partenaires qui ont une place visible dans le contrat : les mêmes que l'API et la page."""
    return Partner.objects.with_place_in(user, contract).order_by("name")


def _counts_by(queryset, key: str) -> dict[int, int]:
    return dict(queryset.order_by().values(key).annotate(n=Count("pk")).values_list(key, "n"))


def _partner_rows(queryset, contract, user):
    signatures = {s.partner_id: s for s in Signatory.objects.filter(contract=contract)}
    piloted = _counts_by(
        Action.objects.for_contract(contract).exclude(pilot_partner=None), "pilot_partner_id"
    )
    committed = _counts_by(visible_commitments(user, Commitment.objects.all(), contract), "partner_id")
    for partner in queryset:
        signature = signatures.get(partner.pk)
        yield {
            "id": partner.pk,
            "nom": partner.name,
            "nom_court": partner.short_name,
            "identifiant": partner.slug,
            "type": partner.kind,
            "type_libelle": partner.get_kind_display(),
            "siren": partner.siren,
            "siret": partner.siret,
            "rna": partner.rna,
            "site_web": partner.website,
            "place_dans_le_contrat": signature.kind if signature else "",
            "place_dans_le_contrat_libelle": signature.get_kind_display() if signature else "",
            "date_signature": signature.signed_on if signature else None,
            "nombre_actions_pilotees": piloted.get(partner.pk, 0),
            "nombre_engagements_publics": committed.get(partner.pk, 0),
            "est_demonstration": partner.is_demo,
        }


PARTENAIRES = Resource(
    name="partenaires",
    title="Partenaires du contrat",
    description=(
        "Les organisations qui prennent part au contrat : signataires et participants au pilotage, "
        "pilotes et contributeurs des actions, partenaires ayant au moins un engagement public."
    ),
    columns=(
        _id("Identifiant", "Identifiant du partenaire sur la plateforme (stable)."),
        _text("nom", "Nom", "Nom de l'organisation.", required=True, example="Nantes Métropole"),
        _text("nom_court", "Nom court ou sigle", "Sigle ou nom d'usage.", example="NM"),
        _text(
            "identifiant",
            "Identifiant d'URL",
            "Identifiant lisible (slug), unique.",
            required=True,
            unique=True,
            example="nantes-metropole",
        ),
        *_choice("type", "Type d'organisation", PartnerKind),
        _text(
            "siren",
            "SIREN",
            "Numéro SIREN de l'organisation (9 chiffres).",
            pattern=r"^\d{9}$",
            example="244400404",
        ),
        _text(
            "siret",
            "SIRET",
            "Numéro SIRET de l'établissement (14 chiffres).",
            pattern=r"^\d{14}$",
            example="24440040400129",
        ),
        _text(
            "rna",
            "Numéro RNA",
            "Répertoire national des associations (W suivi de 9 caractères).",
            pattern=r"^W[0-9][0-9AB][0-9]{7}$",
            example="W442001234",
        ),
        _text(
            "site_web",
            "Site web",
            "Adresse du site de l'organisation.",
            format="uri",
            example="https://metropole.nantes.fr",
        ),
        *_choice("place_dans_le_contrat", "Place dans le contrat", SignatoryKind, required=False),
        Column(
            "date_signature",
            "date",
            "Date de signature",
            "Date de signature du contrat, si elle est connue.",
            example="2024-06-28",
        ),
        _count(
            "nombre_actions_pilotees",
            "Actions pilotées",
            "Nombre d'actions du contrat que pilote ce partenaire.",
        ),
        _count(
            "nombre_engagements_publics",
            "Engagements publics",
            "Nombre d'engagements publics (confirmés et suivants) du partenaire dans ce contrat.",
        ),
        _demo(),
    ),
    queryset=_partners,
    rows=_partner_rows,
)


# ---------------------------------------------------------------------------------------------
# Plan d'action : enjeux, objectifs, actions


def _enjeux(contract, user):
    return Enjeu.objects.filter(contract=contract).order_by("number")


def _enjeu_rows(queryset, contract, user):
    for enjeu in queryset:
        yield {
            "id": enjeu.pk,
            "numero": enjeu.number,
            "intitule": enjeu.title,
            "identifiant": enjeu.slug,
            "resume": enjeu.summary_plain,
            "description": enjeu.description,
            "est_demonstration": enjeu.is_demo,
        }


ENJEUX = Resource(
    name="enjeux",
    title="Enjeux du contrat",
    description="Les grands enjeux du contrat, que déclinent les objectifs puis les actions.",
    columns=(
        _id("Identifiant", "Identifiant de l'enjeu sur la plateforme (stable)."),
        Column(
            "numero",
            "integer",
            "Numéro",
            "Numéro de l'enjeu dans le contrat.",
            required=True,
            unique=True,
            example="1",
        ),
        _text(
            "intitule",
            "Intitulé",
            "Intitulé de l'enjeu.",
            required=True,
            example="Favoriser l'emploi et l'insertion professionnelle",
        ),
        _text(
            "identifiant",
            "Identifiant d'URL",
            "Identifiant lisible (slug) de l'enjeu.",
            required=True,
            example="emploi-insertion",
        ),
        _text(
            "resume",
            "Résumé en langage clair",
            "Résumé pour le public.",
            example="Aider les habitants des quartiers à trouver un emploi ou une formation.",
        ),
        _text(
            "description",
            "Description",
            "Description de l'enjeu.",
            example="Rapprocher les habitants des quartiers de l'emploi et de la formation.",
        ),
        _demo(),
    ),
    queryset=_enjeux,
    rows=_enjeu_rows,
)


def _objectives(contract, user):
    return Objective.objects.filter(enjeu__contract=contract).order_by("enjeu__number", "number")


def _objective_rows(queryset, contract, user):
    for objective in queryset.select_related("enjeu"):
        yield {
            "id": objective.pk,
            "enjeu": objective.enjeu_id,
            "code": objective.code,
            "numero": objective.number,
            "intitule": objective.title,
            "description": objective.description,
            "archive_le": _archive_date(objective),
            "est_demonstration": objective.is_demo,
        }


OBJECTIFS = Resource(
    name="objectifs",
    title="Objectifs du contrat",
    description="Les objectifs opérationnels, chacun rattaché à un enjeu.",
    columns=(
        _id("Identifiant", "Identifiant de l'objectif sur la plateforme (stable)."),
        _ref("enjeu", "Enjeu", "Identifiant de l'enjeu (colonne « id » du fichier enjeux)."),
        _text(
            "code",
            "Code",
            "Numéro de l'enjeu et de l'objectif, ex. 1.2.",
            required=True,
            unique=True,
            example="1.10",
        ),
        Column(
            "numero",
            "integer",
            "Numéro dans l'enjeu",
            "Numéro de l'objectif dans son enjeu.",
            required=True,
            example="10",
        ),
        _text(
            "intitule",
            "Intitulé",
            "Intitulé de l'objectif.",
            required=True,
            example="Lever les freins à l'emploi des jeunes",
        ),
        _text(
            "description",
            "Description",
            "Description de l'objectif.",
            example="Mobilité, garde d'enfants, maîtrise du français : lever ces freins.",
        ),
        _archived("l'objectif"),
        _demo(),
    ),
    queryset=_objectives,
    rows=_objective_rows,
    foreign_keys=(ForeignKey("enjeu", "enjeux"),),
)


def _actions(contract, user):
    return Action.objects.for_contract(contract).order_by(
        "objective__enjeu__number", "objective__number", "code"
    )


def _action_rows(queryset, contract, user):
    queryset = queryset.select_related("objective__enjeu").prefetch_related(
        Prefetch("qpvs", queryset=Territory.objects.only("code").order_by("code")),
        Prefetch("contributors", queryset=Partner.objects.only("id").order_by("id")),
    )
    for action in queryset:
        yield {
            "id": action.pk,
            "objectif": action.objective_id,
            "objectif_code": action.objective.code,
            "code": action.code,
            "intitule": action.title,
            "resume": action.summary_plain,
            "description": action.description,
            "echelle": action.scope,
            "echelle_libelle": action.get_scope_display(),
            "qpv": _joined(q.code for q in action.qpvs.all()),
            "etat": action.status,
            "etat_libelle": action.get_status_display(),
            "date_debut": action.start_on,
            "date_fin": action.end_on,
            "partenaire_pilote": action.pilot_partner_id,
            "partenaires_contributeurs": _joined(p.pk for p in action.contributors.all()),
            "archive_le": _archive_date(action),
            "est_demonstration": action.is_demo,
        }


ACTIONS = Resource(
    name="actions",
    title="Actions du contrat",
    description=(
        "Les actions, chacune rattachée à un objectif, avec leur échelle (métropolitaine : tous les "
        "QPV du contrat ; de quartier : les QPV cités), leur état et leur partenaire pilote."
    ),
    columns=(
        _id("Identifiant", "Identifiant de l'action sur la plateforme (stable)."),
        _ref("objectif", "Objectif", "Identifiant de l'objectif (colonne « id » du fichier objectifs)."),
        _text(
            "objectif_code",
            "Code de l'objectif",
            "Code de l'objectif, ex. 1.2.",
            required=True,
            example="1.10",
        ),
        _text("code", "Référence", "Référence de l'action, ex. 1.2.3.", required=True, example="1.10.2"),
        _text(
            "intitule",
            "Intitulé",
            "Intitulé de l'action.",
            required=True,
            example="Permanences emploi dans les maisons de quartier",
        ),
        _text(
            "resume",
            "Résumé en langage clair",
            "Résumé pour le public (300 caractères au plus).",
            example="Un conseiller reçoit sans rendez-vous chaque semaine.",
        ),
        _text(
            "description",
            "Description",
            "Description détaillée.",
            example="Permanences de France Travail dans quatre maisons de quartier.",
        ),
        *_choice("echelle", "Échelle", ActionScope),
        _text(
            "qpv",
            "QPV concernés",
            "Codes des QPV cités, séparés par « ; » ; vide pour une action métropolitaine, "
            "qui s'applique à tous les QPV du contrat.",
            pattern=QPV_LIST,
            example="QN04404M;QN04406M",
        ),
        *_choice("etat", "État", ActionStatus),
        Column("date_debut", "date", "Début", "Date de début de l'action.", example="2025-01-01"),
        Column("date_fin", "date", "Fin", "Date de fin de l'action.", example="2027-12-31"),
        _ref(
            "partenaire_pilote",
            "Partenaire pilote",
            "Identifiant du partenaire pilote (colonne « id » du fichier partenaires).",
            required=False,
        ),
        _text(
            "partenaires_contributeurs",
            "Partenaires contributeurs",
            "Identifiants des partenaires contributeurs (fichier partenaires), séparés par « ; ».",
            pattern=ID_LIST,
            example="12;15",
        ),
        _archived("l'action"),
        _demo(),
    ),
    queryset=_actions,
    rows=_action_rows,
    foreign_keys=(ForeignKey("objectif", "objectifs"), ForeignKey("partenaire_pilote", "partenaires")),
)


# ---------------------------------------------------------------------------------------------
# Engagements


def _commitments(contract, user):
    return visible_commitments(user, Commitment.objects.all(), contract).order_by(
        "partner__name", "objective__enjeu__number", "objective__number", "id"
    )


def _means_totals(queryset) -> dict[int, dict]:
    totals = (
        CommitmentMeans.objects.filter(commitment__in=queryset.values("pk"))
        .order_by()
        .values("commitment_id")
        .annotate(
            fte=Sum("fte"),
            ordinary=Sum("amount_eur", filter=Q(funding=FundingKind.ORDINARY)),
            specific=Sum("amount_eur", filter=Q(funding=FundingKind.SPECIFIC)),
        )
    )
    return {row["commitment_id"]: row for row in totals}


def _commitment_rows(queryset, contract, user):
    means = _means_totals(queryset)
    queryset = queryset.select_related("partner", "objective__enjeu").prefetch_related(
        Prefetch("qpvs", queryset=Territory.objects.only("code").order_by("code")),
        Prefetch("indicators", queryset=Indicator.objects.only("code").order_by("code")),
    )
    for commitment in queryset:
        totals = means.get(commitment.pk, {})
        yield {
            "id": commitment.pk,
            "partenaire": commitment.partner_id,
            "partenaire_nom": commitment.partner.name,
            "objectif": commitment.objective_id,
            "objectif_code": commitment.objective.code,
            "action": commitment.action_id,
            "intitule": commitment.title,
            "resume": commitment.summary_plain,
            "description": commitment.description,
            "portee": commitment.scope,
            "portee_libelle": commitment.get_scope_display(),
            "qpv": _joined(q.code for q in commitment.qpvs.all()),
            "cible": commitment.target,
            "echeance": commitment.deadline,
            "etat": commitment.status,
            "etat_libelle": commitment.get_status_display(),
            "confirme_le": timezone.localdate(commitment.confirmed_at) if commitment.confirmed_at else None,
            "indicateurs_suivi": _joined(i.code for i in commitment.indicators.all()),
            "moyens_etp_cumules": totals.get("fte"),
            "moyens_droit_commun_euros": totals.get("ordinary"),
            "moyens_credits_specifiques_euros": totals.get("specific"),
            "est_demonstration": commitment.is_demo,
        }


PUBLIC_STATUS_CODES = tuple(s.value for s in CommitmentStatus if s in PUBLIC_STATUSES)

ENGAGEMENTS = Resource(
    name="engagements",
    title="Engagements des partenaires",
    description=(
        "Ce que chaque partenaire s'engage à faire, par objectif : portée, quartiers, cible, échéance, "
        "état et moyens. Seuls les engagements publics (confirmés dans un cahier signé, puis en cours "
        "ou clos) sont publiés ; les brouillons et propositions en cours d'examen ne le sont jamais."
    ),
    columns=(
        _id("Identifiant", "Identifiant de l'engagement sur la plateforme (stable)."),
        _ref("partenaire", "Partenaire", "Identifiant du partenaire engagé (fichier partenaires)."),
        _text(
            "partenaire_nom",
            "Nom du partenaire",
            "Nom du partenaire engagé.",
            required=True,
            example="France Travail",
        ),
        _ref("objectif", "Objectif", "Identifiant de l'objectif (fichier objectifs)."),
        _text(
            "objectif_code",
            "Code de l'objectif",
            "Code de l'objectif, ex. 1.2.",
            required=True,
            example="1.10",
        ),
        _ref(
            "action",
            "Action",
            "Identifiant de l'action (fichier actions), si l'engagement en relève.",
            required=False,
        ),
        _text(
            "intitule",
            "Intitulé",
            "Intitulé de l'engagement.",
            required=True,
            example="Accompagner 120 jeunes des quartiers vers l'emploi",
        ),
        _text(
            "resume",
            "Résumé en langage clair",
            "Résumé pour le public.",
            example="120 jeunes des quartiers accompagnés vers l'emploi chaque année.",
        ),
        _text(
            "description",
            "Description",
            "Description de l'engagement.",
            example="Accompagnement intensif des jeunes de 16 à 25 ans, en lien avec la mission locale.",
        ),
        *_choice("portee", "Portée", CommitmentScope),
        _text(
            "qpv",
            "QPV concernés",
            "Codes des QPV cités, séparés par « ; » ; vide si l'engagement porte sur tout le contrat "
            "ou l'échelle métropolitaine.",
            pattern=QPV_LIST,
            example="QN04404M",
        ),
        _text(
            "cible",
            "Cible",
            "Ce que l'engagement vise, ex. 120 jeunes accompagnés par an.",
            example="120 jeunes accompagnés par an",
        ),
        Column(
            "echeance",
            "date",
            "Échéance",
            "Date à laquelle l'engagement doit être tenu.",
            example="2026-12-31",
        ),
        Column(
            "etat",
            "string",
            "État",
            "Code de l'état : "
            + ", ".join(f"{s.value} ({s.label})" for s in CommitmentStatus if s in PUBLIC_STATUSES)
            + ".",
            required=True,
            enum=PUBLIC_STATUS_CODES,
            example=CommitmentStatus.IN_PROGRESS.value,
        ),
        _text("etat_libelle", "État (libellé)", "Libellé en clair de « etat ».", example="En cours"),
        Column(
            "confirme_le",
            "date",
            "Confirmé le",
            "Date de confirmation du cahier d'engagements.",
            example="2025-03-14",
        ),
        _text(
            "indicateurs_suivi",
            "Indicateurs de suivi",
            "Codes des indicateurs du contrat qui suivent l'engagement, séparés par « ; ».",
            pattern=SLUG_LIST,
            example="taux-emploi;jeunes-accompagnes",
        ),
        Column(
            "moyens_etp_cumules",
            "number",
            "Moyens : ETP cumulés",
            "Équivalents temps plein engagés, additionnés sur toutes les années.",
            minimum=0,
            example="1.5",
        ),
        Column(
            "moyens_droit_commun_euros",
            "number",
            "Moyens de droit commun (€)",
            "Montant des moyens de droit commun, toutes années confondues, en euros.",
            minimum=0,
            example="45000",
        ),
        Column(
            "moyens_credits_specifiques_euros",
            "number",
            "Crédits spécifiques (€)",
            "Montant des crédits spécifiques de la politique de la ville, toutes années, en euros.",
            minimum=0,
            example="12000",
        ),
        _demo(),
    ),
    queryset=_commitments,
    rows=_commitment_rows,
    foreign_keys=(
        ForeignKey("partenaire", "partenaires"),
        ForeignKey("objectif", "objectifs"),
        ForeignKey("action", "actions"),
    ),
)


# ---------------------------------------------------------------------------------------------
# Valeurs des indicateurs


def _values(contract, user):
    return IndicatorValue.objects.filter(indicator__contract=contract).order_by(
        "indicator__code", "year", "quarter", "scope", "territory__kind", "territory__code", "id"
    )


def _value_row(value) -> dict:
    indicator, territory = value.indicator, value.territory
    return {
        "id": value.pk,
        "indicateur_code": indicator.code,
        "indicateur_nom": indicator.name,
        "unite": indicator.unit,
        "enjeu": indicator.enjeu_id,
        "portee": value.scope,
        "portee_libelle": value.get_scope_display(),
        "territoire_niveau": territory.kind if territory else "",
        "territoire_code": territory.code if territory else "",
        "territoire_nom": value.territory_label,
        "annee": value.year,
        "trimestre": value.quarter,
        "periode": value.period_label,
        "valeur": SECRET if value.is_secret else value.value,
        "secret_statistique": value.is_secret,
        "numerateur": value.numerator,
        "denominateur": value.denominator,
        "statut": value.status,
        "statut_libelle": value.get_status_display(),
        "millesime": value.vintage,
        "source_libelle": provenance(value, indicator).source,
        "source": value.source_url,
        "commentaire": value.comment,
        "est_demonstration": value.is_demo or indicator.is_demo,
    }


def _value_rows(queryset, contract, user):
    queryset = queryset.select_related("indicator", "territory").defer(
        "territory__geometry", "territory__bbox", "territory__commune_codes"
    )
    return (_value_row(value) for value in queryset)


VALEURS_INDICATEURS = Resource(
    name="valeurs-indicateurs",
    title="Valeurs des indicateurs",
    description=(
        "Les valeurs des indicateurs du contrat par territoire (QPV, commune, EPCI, zone d'emploi, "
        "France) ou pour l'ensemble des QPV du contrat tel que publié, par année ou trimestre. "
        "Une valeur couverte par le secret statistique vaut « s » (jamais 0)."
    ),
    columns=(
        _id("Identifiant", "Identifiant de la valeur sur la plateforme."),
        _text(
            "indicateur_code",
            "Code de l'indicateur",
            "Code de l'indicateur dans le contrat.",
            required=True,
            example="taux-pauvrete",
        ),
        _text(
            "indicateur_nom", "Indicateur", "Nom de l'indicateur.", required=True, example="Taux de pauvreté"
        ),
        _text("unite", "Unité", "Unité de la valeur (%, personnes, euros…).", required=True, example="%"),
        _ref(
            "enjeu",
            "Enjeu",
            "Identifiant de l'enjeu de l'indicateur (fichier enjeux), s'il en a un.",
            required=False,
        ),
        *_choice("portee", "Portée", Scope),
        Column(
            "territoire_niveau",
            "string",
            "Niveau du territoire",
            "Niveau géographique : "
            + ", ".join(TerritoryKind.values)
            + " ; vide pour l'ensemble des QPV du contrat.",
            enum=_codes(TerritoryKind),
            example="QPV",
        ),
        _text(
            "territoire_code",
            "Code du territoire",
            "Code QPV, INSEE, SIREN, zone d'emploi ou FR.",
            example="QN04404M",
        ),
        _text("territoire_nom", "Territoire", "Nom du territoire.", required=True, example="Bellevue"),
        Column(
            "annee",
            "integer",
            "Année",
            "Année de la valeur.",
            required=True,
            minimum=1990,
            maximum=2100,
            example="2021",
        ),
        Column(
            "trimestre",
            "integer",
            "Trimestre",
            "Trimestre (1 à 4) ; 0 pour une valeur annuelle.",
            required=True,
            minimum=0,
            maximum=4,
            example="0",
        ),
        _text("periode", "Période", "Année (2024) ou trimestre (2024-T3).", required=True, example="2021"),
        Column(
            "valeur",
            "number",
            "Valeur",
            "Valeur de l'indicateur, point décimal ; « s » si elle est couverte par le secret statistique.",
            example="38.5",
        ),
        Column(
            "secret_statistique",
            "boolean",
            "Secret statistique",
            "true si la valeur est masquée par le secret statistique.",
            required=True,
            example="false",
        ),
        Column(
            "numerateur", "number", "Numérateur", "Numérateur d'un taux, s'il est publié.", example="1520"
        ),
        Column(
            "denominateur",
            "number",
            "Dénominateur",
            "Dénominateur d'un taux, s'il est publié.",
            example="3948",
        ),
        *_choice("statut", "Statut", ValueStatus),
        _text("millesime", "Millésime", "Millésime de la source.", example="2021"),
        _text(
            "source_libelle",
            "Source (libellé)",
            "Source de la valeur (celle de l'indicateur si la valeur n'en a pas en propre).",
            required=True,
            example="INSEE, Filosofi 2021",
        ),
        _text(
            "source",
            "Source",
            "Adresse de la source de la valeur.",
            format="uri",
            example="https://www.insee.fr/fr/statistiques/8229323",
        ),
        _text(
            "commentaire",
            "Commentaire",
            "Précisions sur la valeur.",
            example="Valeur calculée sur le périmètre 2024 du quartier.",
        ),
        _demo(),
    ),
    queryset=_values,
    rows=_value_rows,
    foreign_keys=(ForeignKey("enjeu", "enjeux"),),
    missing_values=("", "s"),
)


RESOURCES = (
    QUARTIERS,
    PARTENAIRES,
    ENJEUX,
    OBJECTIFS,
    ACTIONS,
    ENGAGEMENTS,
    VALEURS_INDICATEURS,
    *GRANT_RESOURCES,  # appel à projets : SCDL subventions, cofinancement, dispositifs d'aide
)
BY_NAME = {resource.name: resource for resource in RESOURCES}
