"""Une seule pagination pour toutes les listes de l'API : ``limit`` et ``offset``, total dans ``count``.

Chaque liste a un ordre stable (un identifiant unique en dernier critère de tri), si bien qu'en
parcourant les pages avec ``offset`` on voit chaque élément une fois.
"""

from typing import Any

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination, paginate

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
MAX_OFFSET = 1_000_000


class Pagination(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(
            DEFAULT_LIMIT,
            ge=1,
            le=MAX_LIMIT,
            description=f"nombre d'éléments par page ({DEFAULT_LIMIT} par défaut, {MAX_LIMIT} au plus)",
        )
        offset: int = Field(
            0, ge=0, le=MAX_OFFSET, description="nombre d'éléments à sauter (0 pour la première page)"
        )

    class Output(Schema):
        count: int = Field(description="nombre total d'éléments qui répondent à la requête, toutes pages")
        limit: int = Field(description="taille de page appliquée")
        offset: int = Field(description="position du premier élément de la page")
        items: list[Any] = Field(description="les éléments de la page")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_limit=MAX_LIMIT, **kwargs)

    def paginate_queryset(self, queryset, pagination, request, **params):
        result = super().paginate_queryset(queryset, pagination, request, **params)
        result.update(limit=min(pagination.limit, self.max_limit), offset=pagination.offset)
        return result


paginated = paginate(Pagination)
