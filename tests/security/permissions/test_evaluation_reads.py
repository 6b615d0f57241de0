"""Lectures réservées d'une évaluation en cours : sa page, la liste des évaluations, l'API (l'une et
la liste) et les résultats des questionnaires d'un quartier ; chaque lecture × chaque rôle, sur le
monde des lectures du contrat (test_contract_reads.py)."""

import pytest

from .matrix_world import ROLES
from .test_contract_reads import (
    EVALUATION_SECRET,
    MEMBERS,
    PILOTS,
    _contract_api,
    _www,
    check_read,
)
from .test_contract_reads import contract_world as contract_reads_world

pytestmark = [pytest.mark.django_db, pytest.mark.demo]

# Le monde de test_contract_reads.py (sa fixture), bâti une fois pour ce fichier aussi.
contract_world = contract_reads_world

# lecture : (URL, marque attendue ou None pour « la page entière », rôles qui la lisent)
EVALUATION_READS = {
    "evaluation_in_progress": (_www("www:evaluation", "mi-parcours"), None, MEMBERS),
    "evaluation_list": (_www("www:evaluations"), EVALUATION_SECRET, MEMBERS),
    "api_evaluation_in_progress": (_contract_api("/evaluations/MI_PARCOURS"), None, MEMBERS),
    "api_evaluation_list": (_contract_api("/evaluations?limit=500"), EVALUATION_SECRET, MEMBERS),
    # Le conseil citoyen du monde de test ne couvre pas les Dervallières : pilote et évaluateur seuls.
    "council_results_in_progress": (
        _www("www:questionnaire_results", "mi-parcours", "QN04406M"),
        None,
        PILOTS | {"evaluator"},
    ),
}


@pytest.mark.parametrize("read", list(EVALUATION_READS))
@pytest.mark.parametrize("role", ROLES)
def test_contract_read_matrix(client, world, contract_world, role, read):
    check_read(client, world, contract_world, role, EVALUATION_READS[read], read)
