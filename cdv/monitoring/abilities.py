"""Ce qu'une personne peut faire d'une campagne de suivi annuel et d'un bilan : seule source de
vérité pour les vues, les services et les relances. Bâti sur les rôles de
``cdv.commitments.abilities`` (pilote, référent d'un partenaire, membres, évaluateur).

- le pilote ouvre et clôt les campagnes, accepte ou renvoie les bilans transmis ;
- le référent (rôle « rédaction ») du partenaire d'un bilan le remplit, y joint des pièces et le
  transmet, tant que la campagne est ouverte et que le bilan est en brouillon ou renvoyé ;
- un bilan et ses pièces jointes se lisent par son partenaire (référents et lecteurs), les pilotes
  et les évaluateurs ; ni les autres partenaires, ni les membres de conseil citoyen, ni le public ;
- le tableau de complétude, le bilan annuel et l'instantané de l'année (tous partenaires) : pilotes
  et évaluateurs ;
- une campagne figée (année arrêtée en COPIL) est en lecture seule, sauf les bilans renvoyés pour
  complément (le partenaire les complète, le pilote les accepte) : l'instantané, lui, ne change pas.
"""

from cdv.indicators.enums import ValueStatus
from cdv.users.enums import Role
from cdv.users.roles import (
    has_role_in,
    is_editor_for,
    is_member,
    is_pilot,
    partner_ids_with_roles,
    partners_read_by,
    reads_all_partners,
    reads_partner_internals,
)

from .enums import EDITABLE_STATES, PUBLIC_MEETING_KINDS, CampaignStatus, Moderation, ReportState


def can_open_campaign(user, contract) -> bool:
    return is_pilot(user, contract)


def partner_reports_abilities(user, contract, partner_id) -> dict[str, bool]:
    """Les bilans d'un partenaire dans un contrat : les lire (le partenaire, les pilotes, les
    évaluateurs), les remplir (ses référents)."""
    return {
        "view": reads_partner_internals(user, contract, partner_id),
        "edit": is_editor_for(user, contract, partner_id),
    }


def own_report_partner_ids(user, contract) -> set[int]:
    """Partenaires dont ``user`` lit les bilans en leur nom (référent ou lecteur)."""
    return partners_read_by(user, contract)


def campaign_abilities(user, campaign) -> dict[str, bool]:
    contract_id = campaign.contract_id
    pilot = is_pilot(user, contract_id)
    member = is_member(user, contract_id)
    status = campaign.status
    return {
        "view": member,
        # Le tableau de complétude (qui est en retard) : pilote et évaluateur.
        "view_dashboard": reads_all_partners(user, contract_id),
        "close": pilot and status == CampaignStatus.OPEN,
        "review": pilot and status != CampaignStatus.FROZEN,
        "freeze": pilot and status != CampaignStatus.FROZEN,
        # Relancer les référents, ouvrir la page de gel ou de clôture (l'état se vérifie ensuite).
        "manage": pilot,
    }


def report_abilities(user, report) -> dict[str, bool]:
    """Droits sur un bilan ; ``report.campaign`` est lu (le charger avec ``select_related``)."""
    campaign = report.campaign
    contract_id = campaign.contract_id
    pilot = is_pilot(user, contract_id)
    owner = is_editor_for(user, contract_id, report.partner_id)
    is_open = campaign.status == CampaignStatus.OPEN
    # Un bilan renvoyé pour complément se complète encore après la clôture ou le gel de l'année
    # (l'instantané garde ce qui a été figé) ; un brouillon jamais transmis, seulement campagne ouverte.
    editable = owner and (
        (is_open and report.state in EDITABLE_STATES) or report.state == ReportState.RETURNED
    )
    return {
        "view": reads_partner_internals(user, contract_id, report.partner_id),
        "edit": editable,
        "submit": editable,
        "upload": editable,
        "delete_attachment": editable,
        # Un bilan transmis peut encore être accepté après la clôture et après le gel (l'instantané
        # ne change pas) ; le renvoyer n'a de sens que campagne ouverte.
        "accept": pilot and report.state == ReportState.SUBMITTED,
        "return": pilot and is_open and report.state == ReportState.SUBMITTED,
    }


def role_allows(user, report, ability) -> bool:
    """Le rôle suffirait-il, indépendamment des états ? (pour dire « interdit » ou « pas maintenant »)."""
    contract_id = report.campaign.contract_id
    if ability in {"accept", "return"}:
        return is_pilot(user, contract_id)
    if ability == "view":
        return reads_partner_internals(user, contract_id, report.partner_id)
    return is_editor_for(user, contract_id, report.partner_id)


# Signature que ``services.save_indicator_values`` pose sur une valeur d'indicateur saisie dans un bilan.
REPORT_VALUE_COMMENT = "Saisi par {partner} dans le bilan {year}."


def report_value_comment(report) -> str:
    """La signature des valeurs saisies dans ce bilan (``report.partner`` et ``report.campaign`` lus)."""
    return REPORT_VALUE_COMMENT.format(partner=report.partner.name, year=report.campaign.year)


def value_locked_for_report(report, value) -> bool:
    """Un bilan ne remplace pas cette valeur d'indicateur : elle a été saisie ailleurs (bilan d'un autre
    partenaire, pilote, import provisoire). Un partenaire ne modifie que ce qu'il a saisi lui-même ;
    une valeur définitive, elle, est refusée (avec son message) par le service."""
    if value is None or value.status == ValueStatus.FINAL:
        return False
    return value.comment != report_value_comment(report)


# --- Retours d'expérience ----------------------------------------------------------------------
# Tout membre du contrat qui agit au nom d'un partenaire (référent, lecteur, membre d'un conseil
# citoyen) et tout pilote dépose un retour ; son auteur le modifie tant qu'il attend la modération
# d'un pilote ; le public ne voit que les retours publiés.

POSTING_ROLES = {Role.EDITOR, Role.READER, Role.COUNCIL_MEMBER}


def posting_partner_ids(user, contract) -> list[int]:
    """Partenaires au nom desquels ``user`` peut déposer un retour dans ce contrat (ordre stable)."""
    return partner_ids_with_roles(user, contract, POSTING_ROLES | {Role.PILOT})


def can_post_feedback(user, contract) -> bool:
    if not user.is_authenticated:
        return False
    return is_pilot(user, contract) or has_role_in(user, contract, POSTING_ROLES)


def can_moderate(user, contract) -> bool:
    return is_pilot(user, contract)


def feedback_abilities(user, feedback) -> dict[str, bool]:
    contract_id = feedback.contract_id
    pilot = is_pilot(user, contract_id)
    own = user.is_authenticated and feedback.author_id is not None and feedback.author_id == user.pk
    state = feedback.moderation
    return {
        "view": state == Moderation.PUBLISHED or pilot or own,
        "edit": own and state == Moderation.PENDING and can_post_feedback(user, contract_id),
        "publish": pilot and state == Moderation.PENDING,
        "reject": pilot and state in {Moderation.PENDING, Moderation.PUBLISHED},
    }


# --- Instances et décisions --------------------------------------------------------------------
# Le pilote crée et modifie les instances et les décisions ; les membres du contrat lisent tout ;
# le public lit les comités de pilotage (COPIL) et leurs décisions.


def can_manage_meetings(user, contract) -> bool:
    return is_pilot(user, contract)


def meeting_abilities(user, meeting) -> dict[str, bool]:
    contract_id = meeting.contract_id
    pilot = is_pilot(user, contract_id)
    return {
        "view": is_member(user, contract_id) or meeting.kind in PUBLIC_MEETING_KINDS,
        "edit": pilot,
        "add_decision": pilot,
    }


def decision_abilities(user, decision, meeting=None) -> dict[str, bool]:
    meeting = meeting or decision.meeting
    rights = meeting_abilities(user, meeting)
    return {"view": rights["view"], "edit": rights["edit"]}
