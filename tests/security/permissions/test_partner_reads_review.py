"""Lectures du non-publié d'un partenaire par le suivi annuel (un bilan, les bilans du partenaire, la
pièce jointe d'un bilan, le tableau de complétude, le bilan annuel en PDF, l'instantané de l'année) :
chaque lecture × chaque rôle × chaque cible. Le monde, les secrets et qui voit quoi : partner_reads.py."""

import pytest

from .matrix_world import ROLES, TARGETS
from .partner_reads import REVIEW, check_read

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("read", list(REVIEW))
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("role", ROLES)
def test_read_matrix(client, world, read_world, read_responses, role, target, read):
    check_read(client, world, read_world, read_responses, role, target, read)
