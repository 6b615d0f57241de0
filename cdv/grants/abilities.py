"""Ce qu'une personne peut faire d'un appel à projets, d'un dossier et d'une ligne de financeur :
seule source de vérité pour les vues, l'API, les exports et les services (qui revérifient).

Qui fait quoi (voir aussi docs/security.md) :
- le pilote monte l'appel, voit tous les dossiers déposés et les brouillons (qui en a), mène le
  comité (simulation, vote) ; il n'écrit pas dans la ligne d'un financeur ;
- le référent d'une association (rôle ``REFERENT_ASSO``) ne voit et n'écrit que ses dossiers ;
- l'instructeur d'un financeur voit les dossiers déposés qui sollicitent ce financeur et écrit
  seulement la ligne de ce financeur ;
- le correspondant de quartier et le délégué du préfet voient les dossiers déposés de leur
  quartier (et ceux de tout le territoire) et y donnent leur avis ; le délégué du préfet écrit
  aussi la ligne de l'État pour son quartier ;
- le membre du comité lit la programmation et les dossiers déposés ;
- qui prend part à l'instruction d'un dossier (tous ceux ci-dessus sauf l'association) lit
  l'instruction de toutes ses lignes : l'instruction est conjointe ;
- un anonyme voit les appels publiés et, après le vote, les seules lignes votées.

Un refus se traduit par 404 si l'objet n'est pas même visible, 403 sinon.
"""

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q
from django.utils import timezone

from cdv.users.enums import Role
from cdv.users.roles import (
    applicant_partner_ids,
    instructed_partner_ids,
    is_committee_member,
    is_pilot,
    prefect_delegate_lines,
    qpv_ids_with_role,
    takes_part_in_instruction,
)

from .enums import (
    DECIDED_LINE_STATUSES,
    EDITABLE_APPLICATION_STATUSES,
    ApplicationStatus,
    CallStatus,
    LineStatus,
    OpinionKind,
    ProjectScope,
    ReportStatus,
)
from .followup import granted_lines


def _today():
    return timezone.localdate()


def opinion_qpv_ids(user, contract) -> set[int]:
    """Quartiers dont ``user`` donne l'avis (correspondant ou délégué du préfet)."""
    return qpv_ids_with_role(user, contract, Role.CORRESPONDENT) | qpv_ids_with_role(
        user, contract, Role.PREFECT_DELEGATE
    )


def opinion_kinds(user, contract, qpv_id: int) -> set[str]:
    """Les avis (``OpinionKind``) que ``user`` donne pour ce quartier : correspondant de quartier,
    délégué du préfet, ou les deux."""
    kinds = set()
    if qpv_id in qpv_ids_with_role(user, contract, Role.CORRESPONDENT):
        kinds.add(OpinionKind.CORRESPONDENT)
    if qpv_id in qpv_ids_with_role(user, contract, Role.PREFECT_DELEGATE):
        kinds.add(OpinionKind.PREFECT_DELEGATE)
    return kinds


def call_abilities(user, call, *, today=None) -> dict[str, bool]:
    contract_id = call.contract_id
    today = today or _today()
    pilot = is_pilot(user, contract_id)
    published = call.status == CallStatus.PUBLISHED
    instruction = takes_part_in_instruction(user, contract_id)
    committee = is_committee_member(user, contract_id)
    applicant = bool(applicant_partner_ids(user, contract_id))
    voted = call.committee_held_at is not None
    return {
        "view": published or pilot,
        "edit": pilot and call.status != CallStatus.ARCHIVED,
        "publish": pilot and call.status == CallStatus.DRAFT,
        "archive": pilot and call.status == CallStatus.PUBLISHED,
        "copy": pilot,
        # Déposer un dossier : référent d'une association, appel publié, fenêtre de dépôt ouverte.
        "apply": applicant and published and call.filing_opens <= today <= call.filing_closes,
        # Voir ses propres dossiers (même hors fenêtre : les brouillons sont gardés).
        "view_own_applications": applicant and (published or voted),
        "view_drafts": pilot,  # qui a un brouillon en cours
        "view_queue": pilot or instruction or committee,
        "view_programmation": pilot or committee or bool(instructed_partner_ids(user, contract_id)),
        "simulate": pilot and published and not voted,
        "vote": pilot and published and not voted,
        "export": pilot or committee or bool(instructed_partner_ids(user, contract_id)),
        "view_voted": published and voted,
    }


def contract_call_abilities(user, contract) -> dict[str, bool]:
    """Droits sur les appels d'un contrat, avant d'en ouvrir un : le pilote en crée et voit tous
    les appels (en préparation, archivés) ; les autres voient les appels publiés."""
    pilot = is_pilot(user, contract.pk)
    # ``view_withheld_grants`` : ce que les données ouvertes (SCDL) ne publient pas encore et pourquoi.
    return {"create": pilot, "view_all": pilot, "view_withheld_grants": pilot}


def applicant_partners_of(user, contract) -> set[int]:
    """Associations au nom desquelles ``user`` dépose des dossiers dans ce contrat."""
    return applicant_partner_ids(user, contract)


def partner_space_abilities(user, contract, partner) -> dict[str, bool]:
    """L'espace « appel à projets » d'une association (dossiers, identité, pièces) : seul son
    référent y entre ; pour tout autre, même le pilote, il n'existe pas (404)."""
    own = partner.pk in applicant_partner_ids(user, contract)
    return {"view": own, "edit_identity": own, "manage_documents": own, "apply": own}


def _instructs(user, application, funder_partner_id: int, qpv_ids: set[int]) -> bool:
    """``user`` instruit la ligne de ce financeur pour ce dossier."""
    contract_id = application.call.contract_id
    if funder_partner_id in instructed_partner_ids(user, contract_id):
        return True
    return any(
        pid == funder_partner_id and qpv in qpv_ids for pid, qpv in prefect_delegate_lines(user, contract_id)
    )


def application_qpv_ids(application) -> set[int]:
    """Quartiers du dossier (lus par le préchargement ``qpvs`` s'il a été fait)."""
    return {qpv.pk for qpv in application.qpvs.all()}


def application_abilities(user, application, *, today=None) -> dict[str, bool]:
    """Droits sur un dossier. ``application.call`` et ``application.funder_lines`` (avec
    ``funder``) sont lus : préchargez-les pour une liste."""
    call = application.call
    contract_id = call.contract_id
    today = today or _today()
    pilot = is_pilot(user, contract_id)
    owner = application.partner_id in applicant_partner_ids(user, contract_id)
    status = application.status
    submitted = status not in (ApplicationStatus.DRAFT, ApplicationStatus.WITHDRAWN)
    qpv_ids = application_qpv_ids(application)
    whole = application.scope == ProjectScope.WHOLE
    line_partner_ids = {line.funder.partner_id for line in application.funder_lines.all()}
    instructor = any(_instructs(user, application, pid, qpv_ids) for pid in line_partner_ids)
    opinion_qpvs = opinion_qpv_ids(user, contract_id)
    quartier = bool(opinion_qpvs & qpv_ids) or (whole and bool(opinion_qpvs))
    committee = is_committee_member(user, contract_id)
    reader = pilot or instructor or quartier or committee
    open_instruction = status in (ApplicationStatus.SUBMITTED, ApplicationStatus.RETURNED)
    filing_open = call.status == CallStatus.PUBLISHED and call.filing_opens <= today <= call.filing_closes
    editable = owner and status in EDITABLE_APPLICATION_STATUSES
    return {
        "own": owner,  # le dossier de son association
        "view": owner or (submitted and reader),
        # L'instruction de TOUTES les lignes (état, montant proposé, avis, commentaire, simulation),
        # les avis de quartier et les notes : règle unique des pages et de l'API. L'instruction est
        # conjointe (quartier par quartier, puis entre financeurs) : qui instruit le dossier lit
        # l'avis de chaque financeur, et n'écrit que sa ligne (``funder_line_abilities``).
        # Jamais l'association, ni sur un brouillon.
        "view_instruction": submitted and reader,
        "view_history": owner or (submitted and reader),
        "edit": editable,
        "delete": owner and status == ApplicationStatus.DRAFT,
        # Un brouillon se dépose pendant la fenêtre ; un dossier rendu pour compléments se
        # redépose même après (la question vient des financeurs).
        "submit": owner
        and ((status == ApplicationStatus.DRAFT and filing_open) or status == ApplicationStatus.RETURNED),
        # Répondre aux questions d'un instructeur (et redéposer) : le dossier lui a été rendu.
        "answer": owner and status == ApplicationStatus.RETURNED,
        "withdraw": owner
        and status in (ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED, ApplicationStatus.RETURNED),
        "request_info": (instructor or pilot) and status == ApplicationStatus.SUBMITTED,
        "give_opinion": quartier and open_instruction,
        "score": (instructor or pilot) and open_instruction and submitted,
        "download_pdf": owner or (submitted and reader),
        # Les décisions de chaque financeur, une fois le comité tenu.
        "view_decisions": (owner or reader) and call.committee_held_at is not None,
    }


def funder_line_abilities(user, line) -> dict[str, bool]:
    """Droits sur la ligne d'un financeur : seuls ses instructeurs l'écrivent, le pilote la simule
    et enregistre le vote."""
    application = line.application
    call = application.call
    contract_id = call.contract_id
    pilot = is_pilot(user, contract_id)
    submitted = application.status in (ApplicationStatus.SUBMITTED, ApplicationStatus.RETURNED)
    instructs = _instructs(user, application, line.funder.partner_id, application_qpv_ids(application))
    open_line = line.status not in DECIDED_LINE_STATUSES
    not_voted = call.committee_held_at is None
    return {
        "instruct": instructs and submitted and open_line and not_voted,
        "simulate": pilot and submitted and not_voted,
        "vote": pilot and submitted and not_voted,
    }


def visible_applications(user, queryset, call):
    """Dossiers d'un appel que ``user`` peut ouvrir (même règle que ``application_abilities``)."""
    contract_id = call.contract_id
    queryset = queryset.filter(call=call)
    if not user.is_authenticated:
        return queryset.none()
    own = Q(partner_id__in=applicant_partner_ids(user, contract_id))
    submitted = ~Q(status__in=[ApplicationStatus.DRAFT, ApplicationStatus.WITHDRAWN])
    if is_pilot(user, contract_id) or is_committee_member(user, contract_id):
        return queryset.filter(own | submitted)
    readers = Q(pk__in=[])
    funders = instructed_partner_ids(user, contract_id)
    if funders:
        readers |= Q(funder_lines__funder__partner_id__in=funders)
    for partner_id, qpv_id in prefect_delegate_lines(user, contract_id):
        readers |= Q(funder_lines__funder__partner_id=partner_id, qpvs=qpv_id)
    qpvs = opinion_qpv_ids(user, contract_id)
    if qpvs:
        readers |= Q(qpvs__in=qpvs) | Q(scope=ProjectScope.WHOLE)
    return queryset.filter(own | (submitted & readers)).distinct()


def visible_calls(user, queryset, contract):
    """Appels du contrat que ``user`` peut ouvrir (même règle que ``call_abilities()["view"]``)."""
    queryset = queryset.filter(contract=contract)
    return queryset if is_pilot(user, contract.pk) else queryset.filter(status=CallStatus.PUBLISHED)


# ---------------------------------------------------------------------------------------------
# Partie 2 : après le vote (actes, versements, compte-rendu financier, blocage)


def funder_manager(user, contract_id, funder_partner_id: int) -> bool:
    """``user`` agit au nom de ce financeur après le vote (instructeur du financeur : il prépare
    et dépose ses actes, tient ses versements, examine les comptes-rendus). Le délégué du préfet
    instruit l'avis de son quartier, pas les actes de l'État."""
    return funder_partner_id in instructed_partner_ids(user, contract_id)


def follow_up_abilities(user, line) -> dict[str, bool]:
    """Droits sur la suite d'une ligne (acte, échéancier, versements). ``line.application``
    (avec ``call``, ``qpvs``, ``funder_lines__funder``) et ``line.funder`` sont lus."""
    application = line.application
    contract_id = application.call.contract_id
    granted = line.status == LineStatus.VOTED and bool(line.voted_amount)
    manager = funder_manager(user, contract_id, line.funder.partner_id)
    act = act_of(line)
    seen = application_abilities(user, application)
    return {
        # L'association voit l'acte, l'échéancier et les versements de son dossier ; qui prend
        # part à l'instruction les voit pour toutes les lignes.
        "view": granted and (seen["own"] or seen["view_instruction"]),
        "prepare_act": granted and manager and (act is None or act.signed_on is None),
        "sign_act": granted and manager and act is not None,
        "download_act": granted and act is not None and (seen["own"] or seen["view_instruction"]),
        "schedule": granted and manager,
        "record_payment": granted and manager and act is not None and act.signed_on is not None,
    }


def act_of(line):
    """L'acte de la ligne, ou None (lu par ``select_related("act")`` s'il a été fait)."""
    try:
        return line.act
    except ObjectDoesNotExist:
        return None


def report_abilities(user, application, report=None) -> dict[str, bool]:
    """Droits sur le compte-rendu financier d'un dossier (``report`` : le compte-rendu s'il
    existe). L'association le saisit et le transmet ; l'instructeur de chaque financeur qui a voté
    un montant l'examine ; qui prend part à l'instruction le lit."""
    contract_id = application.call.contract_id
    seen = application_abilities(user, application)
    granted_partner_ids = {line.funder.partner_id for line in granted_lines(application)}
    funded = bool(granted_partner_ids)
    status = report.status if report is not None else None
    editable = status in (None, ReportStatus.DRAFT, ReportStatus.CHANGES_REQUESTED)
    reviewer = any(funder_manager(user, contract_id, pid) for pid in granted_partner_ids)
    return {
        "view": funded and (seen["own"] or seen["view_instruction"]),
        "edit": funded and seen["own"] and editable,
        "submit": funded and seen["own"] and report is not None and editable,
        "review": funded and reviewer and status == ReportStatus.SUBMITTED,
        # La page d'examen (le compte-rendu transmis, l'examen de chaque financeur et son
        # historique) : le pilote et les instructeurs des financeurs du dossier ; ni l'association
        # (elle lit les commentaires sur son compte-rendu), ni le quartier, ni le comité.
        "view_review": funded
        and seen["view_instruction"]
        and (is_pilot(user, contract_id) or bool(instructed_partner_ids(user, contract_id))),
        "download_pdf": funded and report is not None and (seen["own"] or seen["view_instruction"]),
    }


def follow_up_call_abilities(user, call) -> dict[str, bool]:
    """Droits sur la suite d'un appel : tableau des actes et versements (retards), comptes-rendus,
    levée des blocages, import de Dauphin."""
    contract_id = call.contract_id
    pilot = is_pilot(user, contract_id)
    funder = bool(instructed_partner_ids(user, contract_id))
    voted = call.committee_held_at is not None
    return {
        "view_follow_up": (pilot or funder) and voted,
        # Le tableau des actes : le pilote lit ceux de tous les financeurs, l'instructeur les siens.
        "view_all_funders": pilot and voted,
        "view_reports": pilot or funder,
        "lift_blocks": pilot and call.status == CallStatus.PUBLISHED,
        "import": pilot and call.status != CallStatus.ARCHIVED,
    }


def follow_up_funder_ids(user, call) -> set[int] | None:
    """Financeurs (``Partner``) dont ``user`` suit les lignes votées sur les tableaux de l'appel
    (versements, retards) : None pour tous (le pilote), sinon ceux dont il est instructeur."""
    contract_id = call.contract_id
    return None if is_pilot(user, contract_id) else instructed_partner_ids(user, contract_id)


def act_template_abilities(user, contract, partner) -> dict[str, bool]:
    """Le modèle d'acte d'un financeur : ses instructeurs l'écrivent, le pilote aussi (mise en
    place) ; les autres ne le voient pas."""
    allowed = is_pilot(user, contract.pk) or partner.pk in instructed_partner_ids(user, contract.pk)
    return {"view": allowed, "edit": allowed}
