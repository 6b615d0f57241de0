"""Ce qu'une personne peut faire d'un traitement de géoréférencement.

- un traitement n'est visible que de la personne qui l'a lancé (pour toute autre, il n'existe pas) ;
- son résultat se télécharge quand il est terminé ;
- sa part en QPV s'enregistre comme valeur d'indicateur d'un engagement par les pilotes d'un contrat
  et les référents (rédaction) d'un partenaire, et l'opérateur ; quels engagements :
  ``cdv.commitments.abilities.can_record_indicator_value`` (revérifié par le service).
"""

from cdv.users import roles
from cdv.users.enums import Role

from .models import JobStatus

RECORDING_ROLES = {Role.PILOT, Role.EDITOR}


def georef_abilities(user, job) -> dict[str, bool]:
    own = user.is_authenticated and job.owner_id == user.pk
    done = job.status == JobStatus.DONE
    return {
        "view": own,
        "download": own and done,
        # Le rôle suffirait-il (un engagement qui s'y prête est cherché ensuite) ?
        "record": own and done and records_indicator_values(user, job.contract_id),
    }


def records_indicator_values(user, contract_id=None) -> bool:
    """Pilote ou référent dans ce contrat (dans au moins un contrat si ``contract_id`` est None), ou
    opérateur de l'instance."""
    if roles.is_operator(user):
        return True
    if contract_id is None:
        return roles.has_role_anywhere(user, RECORDING_ROLES)
    return roles.has_role_in(user, contract_id, RECORDING_ROLES)


def recording_contracts(user, queryset, contract_id=None):
    """Contrats où ``user`` peut enregistrer une part en QPV (tous pour l'opérateur)."""
    if not user.is_authenticated:
        return queryset.none()
    if not roles.is_operator(user):
        queryset = queryset.filter(pk__in=roles.contract_ids_with_roles(user, RECORDING_ROLES))
    if contract_id:
        queryset = queryset.filter(pk=contract_id)
    return queryset
