"""D'où vient un chiffre : source, millésime et statut (provisoire) d'une valeur d'indicateur.

Les pages publiques citent la provenance de chaque valeur qu'elles montrent ; une valeur sans source
propre reprend celle de son indicateur.
"""

from dataclasses import dataclass

from .enums import ValueStatus


@dataclass(frozen=True)
class Provenance:
    source: str
    vintage: str = ""
    provisional: bool = False
    url: str = ""

    @property
    def details(self) -> str:
        """Ce qui suit la source : « , millésime 2021, provisoire »."""
        text = f", millésime {self.vintage}" if self.vintage else ""
        return text + (", provisoire" if self.provisional else "")

    def __str__(self) -> str:
        return self.source + self.details


def provenance(value, indicator=None) -> Provenance:
    """La provenance d'une valeur ; ``indicator`` évite une requête quand l'appelant l'a déjà."""
    indicator = indicator or value.indicator
    return Provenance(
        source=value.source or indicator.source or "source non précisée",
        vintage=value.vintage,
        provisional=value.status == ValueStatus.PROVISIONAL,
        url=value.source_url,
    )


def provenances(values, indicator=None) -> list[Provenance]:
    """Les provenances distinctes de ces valeurs, dans l'ordre où elles apparaissent."""
    seen = {}
    for value in values:
        item = provenance(value, indicator)
        seen.setdefault(item, None)
    return list(seen)
