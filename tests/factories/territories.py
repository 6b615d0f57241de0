import factory

from cdv.core.validators import luhn_ok
from cdv.territories.enums import Geography, TerritoryKind
from cdv.territories.models import Territory

from .base import ModelFactory

__all__ = ["SQUARE", "CommuneFactory", "EpciFactory", "QpvFactory", "qpv_code", "siren_for"]

SQUARE = {
    "type": "MultiPolygon",
    "coordinates": [[[[0.0, 45.0], [0.01, 45.0], [0.01, 45.01], [0.0, 45.01], [0.0, 45.0]]]],
}


def siren_for(n: int) -> str:
    """Un SIREN fictif mais bien formé (clé de Luhn correcte), préfixe 29 inutilisé ici."""
    stem = f"29{n:06d}"
    for check in range(10):
        candidate = f"{stem}{check}"
        if luhn_ok(candidate):
            return candidate
    raise AssertionError("unreachable")


class EpciFactory(ModelFactory):
    class Meta:
        model = Territory

    kind = TerritoryKind.EPCI
    code = factory.Sequence(siren_for)
    name = factory.Sequence(lambda n: f"EPCI de test {n}")


class CommuneFactory(ModelFactory):
    class Meta:
        model = Territory

    kind = TerritoryKind.COMMUNE
    code = factory.Sequence(lambda n: f"{99000 + n:05d}")
    name = factory.Sequence(lambda n: f"Commune de test {n}")


def qpv_code(n: int) -> str:
    """Un code de QPV 2024 bien formé qu'aucun QPV réel ne porte : départements 096 et 097 (qui
    n'existent pas), deux chiffres, puis N, M, I ou C — 800 codes avant de revenir au premier, bien
    plus que les QPV qu'un monde de test tient à la fois. Les départements 098 et 099 restent aux
    codes fixes des tests (``QN09800M``, ``QN09901M``…), que la fabrique ne donne donc jamais."""
    department = 96 + (n // 100) % 2
    return f"QN0{department}{n % 100:02d}{'MNIC'[(n // 200) % 4]}"


class QpvFactory(ModelFactory):
    class Meta:
        model = Territory

    kind = TerritoryKind.QPV
    geography = Geography.QPV_2024
    code = factory.Sequence(qpv_code)
    name = factory.Sequence(lambda n: f"Quartier de test {n}")
    geometry = SQUARE

    class Params:
        # Un QPV de la géographie 2015 (code QP0xxxxx), que remplace un QPV 2024.
        qpv_2015 = factory.Trait(
            geography=Geography.QPV_2015, code=factory.Sequence(lambda n: f"QP099{n % 1000:03d}")
        )
