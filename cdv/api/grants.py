"""Appels à projets dans l'API : l'appel, ses dossiers, leur budget et leurs lignes de financeur.

Ce que chacun lit vient de ``cdv.grants.abilities`` (les mêmes règles que les pages) :
- un anonyme lit les appels publiés et, une fois le comité tenu, les seuls dossiers qui ont une
  ligne votée, réduits à ces lignes (ni budget, ni instruction, ni brouillon) ;
- le référent d'une association lit ses dossiers en entier, sans les avis ni notes des financeurs ;
- l'instructeur d'un financeur lit l'instruction des lignes de son financeur ; le pilote et les
  membres du comité, celle de toutes les lignes.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q
from ninja import Field, Path, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import field_validator, model_validator

from cdv.grants.abilities import (
    act_of,
    application_abilities,
    call_abilities,
    follow_up_abilities,
    report_abilities,
    visible_applications,
    visible_calls,
)
from cdv.grants.enums import Account, FollowUpStage, ProjectScope
from cdv.grants.errors import ConflictError
from cdv.grants.followup import PUBLIC_STAGE_WORDS, paid_amount, public_stage, stage_of
from cdv.grants.models import (
    Application,
    Call,
    CallFunder,
    FinalReport,
    FunderLine,
    Payment,
    PaymentInstalment,
)
from cdv.grants.selectors_instruction import qpvs_lookup
from cdv.grants.services import applications as services
from cdv.partners.models import Partner
from cdv.plan.models import Action, Enjeu

from .auth import visible_contract, writer
from .errors import refused
from .fields import ACTION_CODE_PATTERN, NON_BLANK, Body, Day, decimal, integer, rule_error
from .lookups import objective_by_code
from .pagination import paginated
from .params import MAX_SMALL, OBJECTIVE_CODE_PATTERN, QPV_CODE_PATTERN, SLUG_PATTERN, ContractSlug
from .schemas import READ_ERRORS, WRITE_ERRORS, WRITE_SECURITY

router = Router(tags=["grants"])

Percent = decimal(5, maximum=Decimal(100), text=r"^(100(\.0{1,2})?|[0-9]{1,2}(\.[0-9]{1,2})?)$")
DRAFT_PREFIX = "brouillon-"
CENTS = Decimal("0.01")
CallYear = Annotated[int, Path(description="année de l'appel", ge=2000, le=2100, example=2025)]
ApplicationRef = Annotated[
    str,
    Path(
        description=(
            "numéro du dossier, donné au dépôt (ex. 2025-0042) ; un brouillon, qui n'a pas encore de "
            f"numéro, se désigne par « {DRAFT_PREFIX}<id> » (champ « ref »)"
        ),
        pattern=r"^[-A-Za-z0-9_]{1,40}$",
        example="2025-0001",
    ),
]


# ---------------------------------------------------------------------------------------------
# Schémas


class CallFunderOut(Schema):
    partner: str = Field(description="nom du financeur")
    partner_slug: str = Field(description="identifiant (slug) du financeur")
    kind: str = Field(description="place dans le cofinancement : PRIVILEGIE, PARTENAIRE ou AUTRE")
    label: str = Field(description="précision (programme, dispositif)")
    envelope: Decimal = Field(description="enveloppe en euros")


class CallDocumentOut(Schema):
    kind: str = Field(description="pièce demandée")
    kind_label: str = Field(description="pièce en clair")
    label: str = Field(description="précision")
    required: bool = Field(description="obligatoire")


class CriterionOut(Schema):
    label: str = Field(description="critère de la grille de notation")
    description: str = Field(description="ce qu'on regarde")
    scale_max: int = Field(description="note maximale")


class CallOut(Schema):
    year: int = Field(description="année des projets (identifie l'appel dans le contrat)")
    title: str = Field(description="titre")
    summary: str = Field(description="présentation en langage clair")
    status: str = Field(description="BROUILLON (pilote seulement), PUBLIE ou ARCHIVE (pilote seulement)")
    status_label: str = Field(description="état en clair")
    publication_date: date | None = Field(description="publication")
    filing_opens: date = Field(description="ouverture du dépôt")
    filing_closes: date = Field(description="clôture du dépôt (inclus)")
    instruction_ends: date | None = Field(description="fin de l'instruction")
    committee_date: date | None = Field(description="date prévue du comité des financeurs")
    notification_date: date | None = Field(description="notification des décisions")
    reporting_date: date | None = Field(description="compte-rendu des projets de l'année précédente")
    voted: bool = Field(description="le comité des financeurs a voté")
    funders: list[CallFunderOut] = Field(description="financeurs de l'appel et leur enveloppe")
    is_demo: bool = Field(description="donnée de démonstration")


class CallDetailOut(CallOut):
    info_meetings: str = Field(description="réunions d'information")
    contacts: str = Field(description="qui joindre")
    eligible_enjeux: list[int] = Field(description="numéros des enjeux éligibles (vide : tous)")
    eligible_objectives: list[str] = Field(description="codes des objectifs éligibles (vide : tous)")
    eligible_qpvs: list[str] = Field(description="codes des QPV éligibles (vide : tous ceux du contrat)")
    allow_whole_territory: bool = Field(description="un projet peut concerner tout le territoire")
    min_qpv_share: Decimal | None = Field(description="part minimale de bénéficiaires habitant un QPV (%)")
    min_amount: Decimal | None = Field(description="montant minimal demandé (€)")
    max_amount: Decimal | None = Field(description="montant maximal demandé (€)")
    max_call_share: Decimal | None = Field(description="part maximale du budget demandée à l'appel (%)")
    min_funders: int = Field(description="nombre minimal de financeurs sollicités")
    documents: list[CallDocumentOut] = Field(description="pièces demandées")
    criteria: list[CriterionOut] = Field(description="grille de notation")


class ActOut(Schema):
    kind: str = Field(description="ARRETE (décision attributive), CONVENTION ou CPO (pluriannuelle)")
    kind_label: str = Field(description="type d'acte en clair")
    reference: str = Field(description="référence de l'acte (numérotation du financeur)")
    signed_on: date | None = Field(description="date de signature (vide : acte préparé, pas encore signé)")
    amount: Decimal | None = Field(description="montant attribué par l'acte (€) ; suivi seulement")
    payment_terms: str | None = Field(description="UNIQUE ou ECHELONNE (avance puis solde) ; suivi seulement")


class InstalmentOut(Schema):
    kind: str = Field(description="UNIQUE, AVANCE ou SOLDE")
    kind_label: str = Field(description="échéance en clair")
    amount: Decimal = Field(description="montant prévu (€)")
    due_date: date | None = Field(description="date prévue")


class PaymentOut(Schema):
    paid_on: date = Field(description="date du versement")
    amount: Decimal = Field(description="montant versé (€)")


class FinalReportOut(Schema):
    status: str = Field(description="BROUILLON, TRANSMIS, A_MODIFIER ou ACCEPTE")
    status_label: str = Field(description="état en clair")
    path: str = Field(description="REALISEE, NON_REALISEE ou REPORT (nouvelles dates)")
    path_label: str = Field(description="chemin en clair")
    due_date: date = Field(description="à rendre avant le")
    submitted_at: datetime | None = Field(description="transmis le")


class FunderLineOut(Schema):
    funder: str = Field(description="nom du financeur")
    funder_slug: str = Field(description="identifiant (slug) du financeur")
    status: str = Field(description="état de la ligne (libellés de Dauphin)")
    status_label: str = Field(description="état en clair")
    requested_amount: Decimal | None = Field(description="montant demandé pour la première année (€)")
    later_amounts: list[Decimal] | None = Field(description="montants demandés pour les années suivantes")
    voted_amount: Decimal | None = Field(description="montant voté (après le comité)")
    decision_date: date | None = Field(description="date de la décision (après le comité)")
    decision_reference: str | None = Field(description="référence de la décision (après le comité)")
    proposed_amount: Decimal | None = Field(
        description="montant proposé par l'instructeur (pilote, comité, instructeurs de ce financeur)"
    )
    opinion: str | None = Field(description="avis du financeur (mêmes lecteurs)")
    comment: str | None = Field(description="commentaire de l'instructeur (mêmes lecteurs)")
    simulation: str | None = Field(description="choix provisoire du comité (mêmes lecteurs)")
    simulated_amount: Decimal | None = Field(description="montant simulé (mêmes lecteurs)")
    version: int | None = Field(description="version de la ligne (mêmes lecteurs)")
    stage: str | None = Field(
        description="suivi après le vote (VOTE, ACTE_PREPARE, ACTE_SIGNE, AVANCE_PAYEE, A_JUSTIFIER, "
        "JUSTIFICATION_EN_COURS, JUSTIFIE, JUSTIFICATION_A_MODIFIER, PAYE) ; ligne votée seulement"
    )
    stage_label: str | None = Field(description="suivi en clair")
    act: ActOut | None = Field(
        description="acte attributif ; public une fois signé (type, référence, date), en entier pour le suivi"
    )
    paid_amount: Decimal | None = Field(
        description="montant versé (€) ; association et instruction seulement"
    )
    instalments: list[InstalmentOut] | None = Field(
        description="échéancier de versement ; association et instruction seulement"
    )
    payments: list[PaymentOut] | None = Field(
        description="versements faits (date, montant) ; association et instruction seulement"
    )


class BudgetLineOut(Schema):
    account: str = Field(
        description="compte du CERFA 12156 (60 à 68 et 86 : charges ; 70 à 75 et 87 : produits)"
    )
    account_label: str = Field(description="compte en clair")
    label: str = Field(description="détail")
    amount: Decimal = Field(description="montant (€)")


class ApplicationOut(Schema):
    ref: str = Field(description="numéro du dossier, ou « brouillon-<id> » pour un brouillon")
    number: str = Field(description="numéro donné au dépôt (vide pour un brouillon)")
    complete: bool = Field(
        description="vrai : le dossier est lu en entier ; faux : vue publique après le vote"
    )
    status: str = Field(description="état du dossier")
    status_label: str = Field(description="état en clair (« Brouillon (non déposé) » pour un brouillon)")
    partner: str = Field(description="nom de l'association")
    partner_slug: str = Field(description="identifiant (slug) de l'association")
    title: str = Field(description="intitulé du projet")
    summary: str = Field(description="résumé en langage clair")
    scope: str = Field(description="QPV (quartiers choisis) ou TERRITOIRE (tout le contrat)")
    qpvs: list[str] = Field(description="codes des QPV concernés")
    enjeu: int | None = Field(description="numéro de l'enjeu servi")
    objective: str | None = Field(description="code de l'objectif servi")
    action: str | None = Field(description="code de l'action servie")
    years: int = Field(description="durée en années (1 à 4)")
    submitted_at: datetime | None = Field(description="déposé le")
    funder_lines: list[FunderLineOut] = Field(
        description="lignes de financeur (vue publique : les seules lignes votées)"
    )
    final_report: FinalReportOut | None = Field(
        description="compte-rendu financier (état, chemin, échéance) ; association et instruction seulement"
    )
    is_demo: bool = Field(description="donnée de démonstration")


class ApplicationDetailOut(ApplicationOut):
    objectives: str | None = Field(description="objectifs (lecture complète seulement)")
    public: str | None = Field(description="public visé")
    beneficiaries: int | None = Field(description="nombre de bénéficiaires prévus")
    qpv_share: Decimal | None = Field(description="part des bénéficiaires habitant un QPV (%)")
    places: str | None = Field(description="lieux de l'action")
    start_date: date | None = Field(description="début")
    end_date: date | None = Field(description="fin")
    evaluation_indicators: str | None = Field(description="indicateurs d'évaluation")
    human_means: str | None = Field(description="moyens humains")
    sworn_name: str | None = Field(description="signataire de la déclaration sur l'honneur")
    version: int | None = Field(description="version, à renvoyer pour modifier (verrou optimiste)")
    budget: list[BudgetLineOut] | None = Field(description="budget du projet (lecture complète seulement)")


# ---------------------------------------------------------------------------------------------
# Lectures


class Mapped:
    """Une liste paginée dont on ne calcule que la page : ``fn`` appliquée aux objets de la tranche
    demandée du QuerySet (la sortie dépend de l'appelant, pas seulement de l'objet)."""

    def __init__(self, queryset, fn):
        self.queryset, self.fn = queryset, fn

    def __len__(self) -> int:
        return self.queryset.count()

    def __getitem__(self, index: slice) -> list:
        return [self.fn(obj) for obj in self.queryset[index]]


def _visible_calls(user, contract):
    return (
        visible_calls(user, Call.objects.all(), contract)
        .prefetch_related(
            Prefetch("funders", queryset=CallFunder.objects.select_related("partner").order_by("order", "id"))
        )
        .order_by("-year", "id")
    )


def get_call(request, slug, year):
    """(appelant, contrat, appel) si l'appel est visible ; sinon 404."""
    user, contract = visible_contract(request, slug)
    call = _visible_calls(user, contract).filter(year=year).first()
    if call is None or not call_abilities(user, call)["view"]:
        raise HttpError(404, f"Aucun appel à projets {year} accessible dans ce contrat.")
    return user, contract, call


def _call_out(call) -> dict:
    return {
        **{f: getattr(call, f) for f in CallOut.model_fields if hasattr(call, f)},
        "status_label": call.get_status_display(),
        "voted": call.committee_held_at is not None,
        "funders": [
            {
                "partner": f.partner.name,
                "partner_slug": f.partner.slug,
                "kind": f.kind,
                "label": f.label,
                "envelope": f.envelope,
            }
            for f in call.funders.all()
        ],
    }


def visible_application_queryset(user, call):
    """Dossiers de l'appel que ``user`` lit : ceux que ``visible_applications`` lui ouvre, et, après
    le vote, ceux qui ont une ligne votée (vue publique)."""
    applications = Application.objects.filter(call=call)
    allowed = Q(pk__in=visible_applications(user, applications, call).values("pk"))
    if call_abilities(user, call)["view_voted"]:
        voted = FunderLine.objects.for_call(call).public()
        allowed |= Q(pk__in=voted.values("application_id"))
    return (
        applications.filter(allowed)
        .select_related("call", "partner", "enjeu", "objective__enjeu", "action", "final_report")
        .prefetch_related(
            qpvs_lookup(),
            Prefetch(
                "funder_lines",
                queryset=FunderLine.objects.select_related("funder__partner", "act")
                .with_follow_up()
                .prefetch_related(
                    Prefetch("instalments", queryset=PaymentInstalment.objects.order_by("order", "id")),
                    Prefetch("payments", queryset=Payment.objects.order_by("paid_on", "id")),
                )
                .order_by("funder__order", "id"),
            ),
        )
        .order_by("number", "id")
    )


def application_ref(application) -> str:
    return application.number or f"{DRAFT_PREFIX}{application.pk}"


def _line_out(user, line, *, complete: bool, decisions: bool, instruction: bool) -> dict:
    out = {
        "funder": line.funder.partner.name,
        "funder_slug": line.funder.partner.slug,
        "status": line.status,
        "status_label": line.get_status_display(),
        "requested_amount": line.requested_amount if complete else None,
        "later_amounts": [Decimal(a) for a in line.later_amounts or []] if complete else None,
    }
    decided = decisions or line.is_public
    out.update(
        voted_amount=line.voted_amount if decided else None,
        decision_date=line.decision_date if decided else None,
        decision_reference=line.decision_reference if decided else None,
    )
    # Même règle que la page d'instruction : ``application_abilities()["view_instruction"]``.
    instruction = complete and instruction
    for field in ("proposed_amount", "opinion", "comment", "simulation", "simulated_amount", "version"):
        out[field] = getattr(line, field) if instruction else None
    out.update(_follow_up_out(user, line, decided=decided))
    return out


def _follow_up_out(user, line, *, decided: bool) -> dict:
    """La suite d'une ligne votée (acte, échéancier, versements, état de suivi), selon
    ``follow_up_abilities`` : en entier pour l'association et qui prend part à l'instruction ;
    pour le public, l'état de suivi et l'acte signé (type, référence, date : ce que publie aussi le
    fichier SCDL), jamais l'échéancier ni les versements."""
    empty = {"stage": None, "stage_label": None, "act": None, "paid_amount": None}
    empty.update(instalments=None, payments=None)
    granted = decided and line.is_public and bool(line.voted_amount)
    if not granted:
        return empty
    act = act_of(line)
    if follow_up_abilities(user, line)["view"]:
        stage = stage_of(line)
        out = {**empty, "stage": stage, "stage_label": FollowUpStage(stage).label}
        out["act"] = (
            {
                "kind": act.kind,
                "kind_label": act.get_kind_display(),
                "reference": act.reference,
                "signed_on": act.signed_on,
                "amount": act.amount,
                "payment_terms": act.payment_terms,
            }
            if act is not None
            else None
        )
        out["paid_amount"] = paid_amount(line).quantize(CENTS)
        out["instalments"] = [
            {"kind": i.kind, "kind_label": i.get_kind_display(), "amount": i.amount, "due_date": i.due_date}
            for i in line.instalments.all()
        ]
        out["payments"] = [{"paid_on": p.paid_on, "amount": p.amount} for p in line.payments.all()]
        return out
    # Le public : l'état de suivi en mots publics (le compte-rendu ne se publie pas) et l'acte signé.
    stage = public_stage(line)
    out = {**empty, "stage": stage, "stage_label": PUBLIC_STAGE_WORDS[stage]}
    if act is not None and act.signed_on is not None:
        out["act"] = {
            "kind": act.kind,
            "kind_label": act.get_kind_display(),
            "reference": act.reference,
            "signed_on": act.signed_on,
            "amount": None,
            "payment_terms": None,
        }
    return out


def _report_out(user, application) -> dict | None:
    """Le compte-rendu financier (état, chemin, échéance), selon ``report_abilities``."""
    try:
        report = application.final_report
    except FinalReport.DoesNotExist:
        return None
    if not report_abilities(user, application, report)["view"]:
        return None
    return {
        "status": report.status,
        "status_label": report.get_status_display(),
        "path": report.path,
        "path_label": report.get_path_display(),
        "due_date": report.due_date,
        "submitted_at": report.submitted_at,
    }


def application_out(user, application, *, detail: bool = False) -> dict:
    abilities = application_abilities(user, application)
    complete = abilities["view"]
    lines = list(application.funder_lines.all())
    if not complete:
        lines = [line for line in lines if line.is_public]
    out = {
        "ref": application_ref(application),
        "number": application.number,
        "complete": complete,
        "status": application.status,
        "status_label": application.get_status_display(),
        "partner": application.partner.name,
        "partner_slug": application.partner.slug,
        "title": application.title,
        "summary": application.summary,
        "scope": application.scope,
        "qpvs": sorted(q.code for q in application.qpvs.all()),
        "enjeu": application.enjeu.number if application.enjeu_id else None,
        "objective": application.objective.code if application.objective_id else None,
        "action": application.action.code if application.action_id else None,
        "years": application.years,
        "submitted_at": application.submitted_at,
        "is_demo": application.is_demo,
        "funder_lines": [
            _line_out(
                user,
                line,
                complete=complete,
                decisions=abilities["view_decisions"],
                instruction=abilities["view_instruction"],
            )
            for line in lines
        ],
        "final_report": _report_out(user, application),
    }
    if detail:
        private = (
            "objectives",
            "public",
            "beneficiaries",
            "qpv_share",
            "places",
            "start_date",
            "end_date",
            "evaluation_indicators",
            "human_means",
            "sworn_name",
            "version",
        )
        out.update({f: getattr(application, f) if complete else None for f in private})
        out["budget"] = (
            [
                {
                    "account": b.account,
                    "account_label": b.get_account_display(),
                    "label": b.label,
                    "amount": b.amount,
                }
                for b in application.budget_lines.order_by("order", "id")
            ]
            if complete
            else None
        )
    return out


def find_application(user, call, ref: str):
    """Le dossier ``ref`` de l'appel s'il est visible de ``user`` ; sinon 404 (le dossier d'une
    autre association n'existe pas pour l'appelant)."""
    applications = visible_application_queryset(user, call)
    if ref.startswith(DRAFT_PREFIX):
        pk = ref.removeprefix(DRAFT_PREFIX)
        found = applications.filter(pk=int(pk), number="").first() if pk.isdigit() and len(pk) < 18 else None
    else:
        found = applications.filter(number=ref).first()
    if found is None:
        raise HttpError(404, f"Aucun dossier « {ref} » accessible dans cet appel.")
    return found


@router.get(
    "/{slug}/calls",
    response={200: list[CallOut], **READ_ERRORS},
    summary="Appels à projets d'un contrat",
    operation_id="list_calls",
)
@paginated
def list_calls(request, slug: ContractSlug):
    """Les appels publiés (le pilote voit aussi ceux en préparation et archivés), du plus récent au
    plus ancien."""
    user, contract = visible_contract(request, slug)
    return Mapped(_visible_calls(user, contract), _call_out)


@router.get(
    "/{slug}/calls/{year}",
    response={200: CallDetailOut, **READ_ERRORS},
    summary="Un appel à projets",
    operation_id="get_call",
)
def get_call_detail(request, slug: ContractSlug, year: CallYear):
    """Calendrier, financeurs et enveloppes, règles d'éligibilité, pièces demandées, grille."""
    _, _, call = get_call(request, slug, year)
    out = _call_out(call)
    out.update(
        info_meetings=call.info_meetings,
        contacts=call.contacts,
        allow_whole_territory=call.allow_whole_territory,
        min_qpv_share=call.min_qpv_share,
        min_amount=call.min_amount,
        max_amount=call.max_amount,
        max_call_share=call.max_call_share,
        min_funders=call.min_funders,
        eligible_enjeux=sorted(e.number for e in call.eligible_enjeux.all()),
        eligible_objectives=sorted(o.code for o in call.eligible_objectives.select_related("enjeu")),
        eligible_qpvs=sorted(q.code for q in call.eligible_qpvs.all()),
        documents=[
            {"kind": d.kind, "kind_label": d.get_kind_display(), "label": d.label, "required": d.required}
            for d in call.required_documents.order_by("id")
        ],
        criteria=[
            {"label": c.label, "description": c.description, "scale_max": c.scale_max}
            for c in call.criteria.order_by("order", "id")
        ],
    )
    return Status(200, out)


@router.get(
    "/{slug}/calls/{year}/applications",
    response={200: list[ApplicationOut], **READ_ERRORS},
    summary="Dossiers d'un appel à projets",
    operation_id="list_applications",
)
@paginated
def list_applications(request, slug: ContractSlug, year: CallYear):
    """Les dossiers que l'appelant peut lire, par numéro (les brouillons, sans numéro, en tête).
    Anonyme : après le vote, les dossiers qui ont une ligne votée, réduits à ces lignes."""
    user, _, call = get_call(request, slug, year)
    return Mapped(visible_application_queryset(user, call), lambda a: application_out(user, a))


@router.get(
    "/{slug}/calls/{year}/applications/{number}",
    response={200: ApplicationDetailOut, **READ_ERRORS},
    summary="Un dossier, avec son budget et ses lignes de financeur",
    operation_id="get_application",
)
def get_application(request, slug: ContractSlug, year: CallYear, number: ApplicationRef):
    """Un dossier lisible par l'appelant (sinon 404) : en entier pour son association et les
    financeurs ; pour le public, après le vote, ses seules lignes votées, sans budget."""
    user, _, call = get_call(request, slug, year)
    application = find_application(user, call, number)
    return Status(200, application_out(user, application, detail=True))


# ---------------------------------------------------------------------------------------------
# Écritures : le dossier de sa propre association, par les services des pages


class ApplicationCreateIn(Body):
    model_config = {"json_schema_extra": {"examples": [{"partner": "mon-association", "title": "Ateliers"}]}}

    partner: str = Field(
        ..., pattern=SLUG_PATTERN, description="slug de l'association (dont on est référent)"
    )
    title: str = Field("", max_length=300, description="intitulé du projet")


class ApplicationPatch(Body):
    """Une étape du projet : seuls les champs envoyés changent (``null`` vide un champ facultatif)."""

    model_config = {
        "json_schema_extra": {"examples": [{"version": 1, "summary": "Des ateliers d'écriture", "years": 2}]}
    }

    version: integer(1, 2**31 - 1) = Field(..., description="version lue (verrou optimiste)")
    title: str = Field(
        None, max_length=300, pattern=NON_BLANK, description="intitulé du projet (jamais vide ni null)"
    )
    summary: str | None = Field(None, max_length=5000, description="résumé en langage clair")
    objectives: str | None = Field(None, max_length=20000, description="objectifs")
    public: str | None = Field(None, max_length=20000, description="public visé")
    beneficiaries: integer(0, 10_000_000) | None = Field(None, description="bénéficiaires prévus")
    qpv_share: Percent | None = Field(None, description="part habitant un QPV (%), de 0 à 100")
    scope: ProjectScope = Field(None, description="QPV ou TERRITOIRE (pas null)")
    qpvs: list[Annotated[str, Field(pattern=QPV_CODE_PATTERN)]] | None = Field(
        None, max_length=200, description="codes des QPV concernés (du contrat)"
    )
    places: str | None = Field(None, max_length=20000, description="lieux de l'action")
    start_date: Day | None = Field(None, description="début")
    end_date: Day | None = Field(None, description="fin")
    enjeu: integer(1, MAX_SMALL) | None = Field(None, description="numéro de l'enjeu servi")
    objective: str | None = Field(
        None, pattern=OBJECTIVE_CODE_PATTERN, description="code de l'objectif, ex. 1.2"
    )
    action: str | None = Field(None, pattern=ACTION_CODE_PATTERN, description="code de l'action, ex. 1.2.3")
    evaluation_indicators: str | None = Field(None, max_length=20000, description="indicateurs d'évaluation")
    human_means: str | None = Field(None, max_length=20000, description="moyens humains")
    years: integer(1, 4) = Field(None, description="durée en années (1 à 4, pas null)")


class BudgetLineIn(Body):
    account: Account = Field(..., description="compte du CERFA 12156 (60 à 68, 86, 70 à 75, 87)")
    label: str = Field("", max_length=200, description="détail")
    amount: decimal(12) = Field(..., description="montant (€), 10 chiffres et 2 décimales au plus")


class FunderRequestIn(Body):
    funder: str = Field(..., pattern=SLUG_PATTERN, description="slug du financeur de l'appel")
    amount: decimal(12) = Field(..., description="montant demandé, première année (€)")
    later_amounts: list[decimal(12)] = Field(
        [], max_length=3, description="montants des années suivantes (projet pluriannuel)"
    )


class BudgetIn(Body):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "version": 1,
                    "lines": [
                        {"account": "64", "label": "Animatrice", "amount": "6000"},
                        {"account": "70", "label": "Participations", "amount": "1000"},
                    ],
                    "requests": [{"funder": "nantes-metropole", "amount": "5000"}],
                }
            ],
            "anyOf": [{"required": ["lines"]}, {"required": ["requests"]}],
        }
    }

    version: integer(1, 2**31 - 1) = Field(..., description="version lue (verrou optimiste)")
    # L'un, l'autre ou les deux, jamais null (``anyOf`` ci-dessus, et ``_lines_or_requests``).
    lines: list[BudgetLineIn] = Field(
        None, max_length=200, description="lignes du budget (remplacent les précédentes)"
    )
    requests: list[FunderRequestIn] = Field(
        None, max_length=50, description="demandes aux financeurs de l'appel (compte 74 de l'appel)"
    )

    @model_validator(mode="after")
    def _lines_or_requests(self):
        if self.lines is None and self.requests is None:
            raise rule_error("envoyez « lines », « requests » ou les deux")
        return self


class SubmitIn(Body):
    sworn_name: str = Field(
        ..., max_length=200, pattern=NON_BLANK, description="nom du représentant légal ou de son délégataire"
    )
    sworn_statement: bool = Field(
        ...,
        strict=True,
        description="déclaration sur l'honneur cochée (true, sinon 422)",
        json_schema_extra={"const": True},
    )
    republican_contract: bool = Field(
        ...,
        strict=True,
        description="contrat d'engagement républicain accepté (true, sinon 422)",
        json_schema_extra={"const": True},
    )

    @field_validator("sworn_statement", "republican_contract")
    @classmethod
    def _checked(cls, value: bool) -> bool:
        """``const: true`` dans le schéma : false est refusé ici (422), comme le schéma le dit."""
        if value is not True:
            raise rule_error("cochez la case (true attendu)")
        return value


class GrantsConflictOut(Schema):
    detail: str = Field(description="message en français")
    changes: list[list] = Field(
        [],
        description="[champ, libellé, valeur enregistrée entre-temps, valeur envoyée] : un conflit de "
        "version ; absent pour un refus sur le sens des données",
    )


def _french(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return " ; ".join(f"{field} : {' '.join(msgs)}" for field, msgs in error.message_dict.items())
    return " ".join(error.messages)


def _run(act):
    """Appelle un service ; ses refus deviennent 403 ou 409 (message français)."""
    try:
        return act()
    except ConflictError as error:
        changes = [[field, label, str(current), str(mine)] for field, label, current, mine in error.changes]
        return Status(409, {"detail": str(error), "changes": changes})
    except PermissionDenied as error:
        raise HttpError(403, str(error)) from error
    except ValidationError as error:
        raise refused(_french(error)) from error


def _written(user, call, application):
    return Status(
        200, application_out(user, find_application(user, call, application_ref(application)), detail=True)
    )


def _resolve_project(contract, payload: ApplicationPatch) -> tuple[dict, list | None]:
    data = payload.dict(exclude_unset=True, exclude={"version", "qpvs"})
    for field in (
        "title",
        "summary",
        "objectives",
        "public",
        "places",
        "evaluation_indicators",
        "human_means",
    ):
        if field in data and data[field] is None:
            data[field] = ""
    if data.get("enjeu") is not None:
        enjeu = Enjeu.objects.filter(contract=contract, number=data["enjeu"]).first()
        if enjeu is None:
            raise refused(f"enjeu : aucun enjeu n° {data['enjeu']} dans ce contrat.")
        data["enjeu"] = enjeu
    if data.get("objective") is not None:
        objective = objective_by_code(contract, data["objective"])
        if objective is None:
            raise refused(f"objective : aucun objectif « {data['objective']} » dans ce contrat.")
        data["objective"] = objective
    if data.get("action") is not None:
        action = Action.objects.for_contract(contract).filter(code=data["action"]).first()
        if action is None:
            raise refused(f"action : aucune action « {data['action']} » dans ce contrat.")
        data["action"] = action
    qpvs = None
    if payload.qpvs is not None:
        found = {q.code: q for q in contract.qpvs.filter(code__in=[c.upper() for c in payload.qpvs])}
        unknown = [code for code in payload.qpvs if code.upper() not in found]
        if unknown:
            raise refused(f"qpvs : pas des quartiers prioritaires du contrat : {', '.join(unknown)}.")
        qpvs = [found[code.upper()] for code in payload.qpvs]
    return data, qpvs


@router.post(
    "/{slug}/calls/{year}/applications",
    response={201: ApplicationDetailOut, **WRITE_ERRORS},
    summary="Créer un dossier (brouillon) pour son association",
    operation_id="create_application",
    openapi_extra=WRITE_SECURITY,
    auth=writer,
)
def create_application(request, slug: ContractSlug, year: CallYear, payload: ApplicationCreateIn):
    """Référent de l'association, pendant la fenêtre de dépôt. Le brouillon n'a pas encore de
    numéro : il se désigne par son champ « ref » (« brouillon-<id> »)."""
    user = request.auth
    _, contract, call = get_call(request, slug, year)
    partner = Partner.objects.filter(slug=payload.partner).first()
    if partner is None:
        raise refused(f"partner : aucune association « {payload.partner} ».")
    result = _run(
        lambda: services.create_application(user=user, call=call, partner=partner, title=payload.title)
    )
    if isinstance(result, Status):
        return result
    return Status(
        201, application_out(user, find_application(user, call, application_ref(result)), detail=True)
    )


@router.patch(
    "/{slug}/calls/{year}/applications/{number}",
    response={200: ApplicationDetailOut, **WRITE_ERRORS, 409: GrantsConflictOut},
    summary="Modifier le projet d'un dossier (verrou optimiste)",
    operation_id="update_application",
    openapi_extra=WRITE_SECURITY,
    auth=writer,
)
def update_application(
    request, slug: ContractSlug, year: CallYear, number: ApplicationRef, payload: ApplicationPatch
):
    """Un brouillon, ou un dossier rendu pour compléments, de sa propre association. Renvoyer la
    `version` lue : si quelqu'un a enregistré entre-temps un champ envoyé, 409 avec les écarts."""
    user = request.auth
    _, contract, call = get_call(request, slug, year)
    application = find_application(user, call, number)
    data, qpvs = _resolve_project(contract, payload)
    result = _run(
        lambda: services.update_project(
            user=user, application=application, version=payload.version, data=data, qpvs=qpvs
        )
    )
    return result if isinstance(result, Status) else _written(user, call, application)


@router.put(
    "/{slug}/calls/{year}/applications/{number}/budget",
    response={200: ApplicationDetailOut, **WRITE_ERRORS, 409: GrantsConflictOut},
    summary="Budget du projet et demandes aux financeurs",
    operation_id="set_application_budget",
    openapi_extra=WRITE_SECURITY,
    auth=writer,
)
def set_application_budget(
    request, slug: ContractSlug, year: CallYear, number: ApplicationRef, payload: BudgetIn
):
    """`lines` remplace les lignes du budget CERFA ; `requests` fixe le montant demandé à chaque
    financeur de l'appel (0 : pas sollicité). L'un, l'autre ou les deux."""
    user = request.auth
    _, _, call = get_call(request, slug, year)
    application = find_application(user, call, number)
    lines = [(b.account, b.label, b.amount) for b in payload.lines or []]
    requests = None
    if payload.requests is not None:
        funders = {f.partner.slug: f for f in call.funders.select_related("partner")}
        unknown = [r.funder for r in payload.requests if r.funder not in funders]
        if unknown:
            raise refused(f"requests : pas des financeurs de cet appel : {', '.join(unknown)}.")
        requests = {
            funders[r.funder]: (r.amount, [str(a) for a in r.later_amounts]) for r in payload.requests
        }
    version = payload.version
    if payload.lines is not None and requests is not None:
        act = lambda: services.save_budget(  # noqa: E731
            user=user, application=application, version=version, lines=lines, requests=requests
        )
    elif requests is not None:
        act = lambda: services.set_funder_requests(  # noqa: E731
            user=user, application=application, version=version, requests=requests
        )
    else:
        act = lambda: services.set_budget(user=user, application=application, version=version, lines=lines)  # noqa: E731
    result = _run(act)
    return result if isinstance(result, Status) else _written(user, call, application)


@router.post(
    "/{slug}/calls/{year}/applications/{number}/submit",
    response={200: ApplicationDetailOut, **WRITE_ERRORS},
    summary="Déposer un dossier",
    operation_id="submit_application",
    openapi_extra=WRITE_SECURITY,
    auth=writer,
)
def submit_application(
    request, slug: ContractSlug, year: CallYear, number: ApplicationRef, payload: SubmitIn
):
    """Acte explicite d'une personne nommée : fige le dossier, lui donne son numéro, transmet
    chaque ligne aux financeurs et envoie le récépissé. Refusé (409, rien ne change) si quelque
    chose manque, si la fenêtre de dépôt est close ou si une case n'est pas cochée."""
    user = request.auth
    _, _, call = get_call(request, slug, year)
    application = find_application(user, call, number)
    result = _run(
        lambda: services.submit_application(
            user=user,
            application=application,
            sworn_name=payload.sworn_name,
            sworn_statement=payload.sworn_statement,
            republican_contract=payload.republican_contract,
        )
    )
    return result if isinstance(result, Status) else _written(user, call, result)
