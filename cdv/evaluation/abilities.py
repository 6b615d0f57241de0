"""Ce qu'une personne peut faire d'une évaluation, de ses questionnaires et de ses avenants.

- le pilote organise : ouvre l'évaluation, pose les questions, bâtit et ouvre les questionnaires,
  saisit les formulaires papier, fige et fait adopter le rapport, enregistre les avenants ;
- l'évaluateur lit tout, écrit les jugements et les recommandations — et ne change aucun engagement ;
- un membre de conseil citoyen lit l'évaluation et répond au questionnaire de son quartier, et de
  lui seul, tant qu'il est ouvert ;
- les autres membres du contrat lisent ; le public voit l'évaluation adoptée et l'avis agrégé des
  conseils citoyens, jamais une réponse individuelle.
Une évaluation adoptée est figée : plus personne ne l'écrit.
"""

from cdv.users.roles import council_partner_ids, is_evaluator, is_member, is_pilot

from .enums import QuestionnaireStatus


def council_qpv_ids(user, contract) -> set[int]:
    """Les QPV couverts par les conseils citoyens dont la personne est membre dans ce contrat."""
    partner_ids = council_partner_ids(user, contract)
    if not partner_ids:
        return set()
    from cdv.partners.models import Partner

    return set(
        Partner.objects.filter(pk__in=partner_ids, qpvs__in=contract.qpvs.all()).values_list(
            "qpvs", flat=True
        )
    )


def evaluation_abilities(user, evaluation) -> dict[str, bool]:
    contract = evaluation.contract
    pilot = is_pilot(user, contract)
    evaluator = is_evaluator(user, contract)
    open_ = not evaluation.is_adopted
    internal = is_member(user, contract)
    return {
        "view": evaluation.is_adopted or internal,
        # Adoptée, l'évaluation est publique avec ses éléments de preuve (agrégés, issus de données
        # publiées) ; en cours, seuls les membres du contrat les voient.
        "view_evidence": internal or evaluation.is_adopted,
        "manage": pilot and open_,
        "judge": (evaluator or pilot) and open_,
        "recommend": (evaluator or pilot) and open_,
        "freeze": pilot and open_,
        "adopt": pilot and open_,
    }


def visible_evaluations(user, queryset, contract):
    """Les évaluations de ``contract`` que ``user`` lit : toutes pour un membre du contrat, les
    adoptées pour les autres (même règle que ``evaluation_abilities``)."""
    queryset = queryset.filter(contract=contract)
    if is_member(user, contract):
        return queryset
    return queryset.adopted()


def questionnaire_abilities(user, questionnaire, council_qpvs: set[int] | None = None) -> dict[str, bool]:
    evaluation = questionnaire.evaluation
    contract = evaluation.contract
    pilot = is_pilot(user, contract)
    if council_qpvs is None:
        council_qpvs = council_qpv_ids(user, contract)
    mine = questionnaire.qpv_id in council_qpvs
    is_open = questionnaire.status == QuestionnaireStatus.OPEN and not evaluation.is_adopted
    return {
        "view": pilot or is_evaluator(user, contract) or mine,
        "edit": pilot and questionnaire.status == QuestionnaireStatus.DRAFT and not evaluation.is_adopted,
        "answer": mine and is_open,
        "enter_paper": pilot and is_open,
        "open": pilot and questionnaire.status == QuestionnaireStatus.DRAFT and not evaluation.is_adopted,
        "close": pilot and questionnaire.status == QuestionnaireStatus.OPEN,
        "view_results": pilot or is_evaluator(user, contract) or mine,
    }


def questionnaire_abilities_in(user, contract):
    """questionnaire → ses droits, pour les questionnaires d'un contrat (les conseils citoyens de la
    personne ne sont lus qu'une fois)."""
    council_qpvs = council_qpv_ids(user, contract)
    return lambda questionnaire: questionnaire_abilities(user, questionnaire, council_qpvs)


def can_amend(user, contract) -> bool:
    return is_pilot(user, contract)


def can_open_evaluation(user, contract) -> bool:
    return is_pilot(user, contract)


def council_results_qpvs(user, evaluation) -> set[str] | None:
    """Les quartiers (codes) dont la personne lit l'avis du conseil citoyen, textes libres compris :
    None pour tous (pilote, évaluateur, ou évaluation adoptée, dont l'avis agrégé est public) ;
    sinon ceux des conseils citoyens dont elle est membre (aucun pour un partenaire ou un lecteur)."""
    contract = evaluation.contract
    if evaluation.is_adopted or is_pilot(user, contract) or is_evaluator(user, contract):
        return None
    qpv_ids = council_qpv_ids(user, contract)
    if not qpv_ids:
        return set()
    from cdv.territories.models import Territory

    return set(Territory.objects.filter(pk__in=qpv_ids).values_list("code", flat=True))
