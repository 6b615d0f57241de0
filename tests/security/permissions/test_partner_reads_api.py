"""Lectures du non-publié d'un partenaire par l'API (un engagement, la liste des engagements, la
fiche du partenaire) : chaque lecture × chaque rôle × chaque cible. Le monde, les secrets et qui voit
quoi : partner_reads.py."""

import pytest

from .matrix_world import ROLES, TARGETS
from .partner_reads import API, check_read

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("read", list(API))
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("role", ROLES)
def test_read_matrix(client, world, read_world, read_responses, role, target, read):
    check_read(client, world, read_world, read_responses, role, target, read)
