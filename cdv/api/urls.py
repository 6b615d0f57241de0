from ninja import NinjaAPI

from . import errors
from .commitments import router as commitments_router
from .contracts import router as contracts_router
from .indicators import router as indicators_router
from .meetings import router as meetings_router
from .territories import router as territories_router

api = NinjaAPI(
    title="Contrat de ville — API ouverte",
    version="1",
    description=(
        "Données publiques des contrats de ville : quartiers prioritaires (QPV), contrats, "
        "enjeux, signataires, jalons. Lecture libre, sans authentification, pour les données "
        "publiées. Les listes sont paginées (`limit`, `offset`). Les écritures demandent un jeton "
        "(`Authorization: Bearer …`, créé depuis « Mon espace ») ou une session avec jeton CSRF."
    ),
    urls_namespace="api",
)
api.add_router("/qpv", territories_router)
api.add_router("/contracts", contracts_router)
api.add_router("/contracts", commitments_router)
api.add_router("/contracts", indicators_router)
api.add_router("/contracts", meetings_router)
errors.install(api)
