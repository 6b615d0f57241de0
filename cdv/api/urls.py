import copy
import json

from django.shortcuts import render
from ninja import NinjaAPI
from ninja.openapi.docs import Swagger

from . import caching, errors
from .commitments import router as commitments_router
from .contracts import router as contracts_router
from .evaluations import router as evaluations_router
from .fields import declare_no_nul
from .georef import router as georef_router
from .grants import router as grants_router
from .indicators import router as indicators_router
from .meetings import router as meetings_router
from .pagination import DEFAULT_LIMIT, MAX_LIMIT
from .partners import router as partners_router
from .plan import router as plan_router
from .schemas import SECURITY_SCHEME
from .territories import router as territories_router

DESCRIPTION = f"""\
Données publiques des contrats de ville : quartiers prioritaires (QPV), contrats, enjeux, objectifs,
actions, partenaires, engagements publiés, indicateurs, instances et décisions, retours
d'expérience publiés. Tout ce qui concerne un contrat se lit sous `/contracts/{{slug}}/…`.

**Lecture libre.** Sans authentification, on lit ce qui est publié : un contrat en préparation,
un engagement qui n'est pas encore confirmé, un retour d'expérience non modéré, une instance
autre qu'un comité de pilotage n'apparaissent pas. Avec un jeton (`Authorization: Bearer …`,
créé depuis « Mon espace ») ou une session, on lit en plus ce que son rôle dans le contrat permet.

**Pagination.** Toutes les listes sont paginées par `limit` ({DEFAULT_LIMIT} par défaut,
{MAX_LIMIT} au plus ; au-delà : 422) et `offset` ; la réponse donne `count` (le total), `limit`,
`offset` et `items`. L'ordre de chaque liste est stable.

**Cache HTTP.** Une réponse 200 à un GET anonyme porte `Cache-Control: public, max-age=300`
(cinq minutes) ; une réponse à un appel authentifié, une écriture ou une erreur porte
`Cache-Control: private, no-store`. Toute réponse 200 à un GET porte un `ETag` fort (empreinte
SHA-256 du corps) : renvoyez-le dans `If-None-Match` pour recevoir `304 Not Modified` sans corps
tant que rien n'a changé. Les réponses portent `Vary: Authorization, Cookie`.

**Erreurs.** En français, dans `detail` (et `errors`, paramètre par paramètre, pour un 422).
Le schéma de chaque corps déclare ce que le serveur vérifie : énumérations, motifs des codes,
chiffres des montants (nombre JSON ou texte décimal, deux décimales), règles entre champs
(`if`/`then`, `oneOf`, `anyOf`), le caractère nul (U+0000) refusé dans tout texte ; ce que le
schéma refuse reçoit 422. Un champ inconnu du schéma est ignoré. Un corps conforme n'est
refusé que pour le sens de ses données, avec **409** et le champ en cause nommé dans `detail` :
code inconnu du contrat (objectif, action, QPV, indicateur, partenaire, financeur), année hors de
sa période, moyens en double pour une année, engagement confirmé modifié sans motif d'avenant,
dossier incomplet ou fenêtre de dépôt close. Une écriture sans jeton valide reçoit 401 avant
toute validation.

**Clients générés.** Les étiquettes et les identifiants d'opération sont en ASCII
(`commitments`, `evaluations`…) ; le nom français est dans `x-displayName`.

**Écritures.** Les engagements se créent et se modifient avec un jeton ou une session et son
jeton CSRF ; de même, le référent d'une association crée, complète et dépose ses dossiers de
l'appel à projets.
"""


def _tag(name, display_name, description):
    """Étiquette ASCII (nom de module des clients générés : ``evaluations``, pas ``é_valuations``),
    nom français affiché (``x-displayName`` pour ReDoc, en tête de la description pour Swagger UI)."""
    return {"name": name, "x-displayName": display_name, "description": f"**{display_name}** — {description}"}


TAGS = [
    _tag("qpv", "QPV", "La géographie prioritaire de toute la France (2024 et 2015)."),
    _tag("contracts", "Contrats", "Contrats de ville : périmètre, signataires, jalons, chiffres clés."),
    _tag("plan", "Plan d'action", "Enjeux, objectifs, actions et priorités par quartier."),
    _tag("partners", "Partenaires", "Les organisations qui ont une place dans un contrat."),
    _tag("commitments", "Engagements", "Ce que chaque partenaire promet, avec quels moyens, et quand."),
    _tag("indicators", "Indicateurs", "Catalogue, valeurs, ensemble des QPV et écart à la référence."),
    _tag(
        "meetings",
        "Instances et retours d'expérience",
        "Comités, décisions et leur suivi ; retours d'expérience publiés.",
    ),
    _tag(
        "evaluations",
        "Évaluations",
        "Mi-parcours et finale : questions, jugements, avis agrégé des conseils citoyens.",
    ),
    _tag(
        "grants",
        "Appels à projets",
        "L'appel annuel, ses dossiers, leur budget et la décision de chaque financeur.",
    ),
    _tag(
        "georef",
        "Géoréférencement",
        "Est-ce en QPV ? Points ou adresses situés par rapport aux QPV de toute la France.",
    ),
]


class LocalSwagger(Swagger):
    """Swagger UI depuis nos fichiers statiques. django-ninja ne le fait que s'il figure dans
    INSTALLED_APPS (sinon il charge Swagger depuis un CDN, que la CSP refuserait) ; ses gabarits et
    fichiers sont déclarés dans les réglages (NINJA_DIR) et la page est rendue ici."""

    def render_page(self, request, api, **kwargs):
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        # add_csrf : faux, comme ninja le calcule pour une API sans authentification globale.
        context = {"swagger_settings": json.dumps(self.settings, indent=1), "api": api, "add_csrf": False}
        return render(request, self.template, context)


class OpenApi(NinjaAPI):
    """Le schéma déclare le jeton d'API (bouton « Authorize » de /api/v1/docs) ; les écritures
    l'exigent (``WRITE_SECURITY``), les lectures s'en passent."""

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        """Bâti une fois par préfixe et par processus (0,2 s de calcul ; les opérations sont
        déclarées à l'import) ; chaque appelant reçoit sa copie, qu'il peut modifier."""
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        cache = self.__dict__.setdefault("_built_schemas", {})
        if path_prefix not in cache:
            cache[path_prefix] = self._build_openapi_schema(path_prefix)
        return copy.deepcopy(cache[path_prefix])

    def _build_openapi_schema(self, path_prefix):
        # Copie : des fragments du schéma (règles des transitions) sont des constantes des modules.
        schema = copy.deepcopy(super().get_openapi_schema(path_prefix=path_prefix))
        declare_no_nul(schema)
        schema["components"].setdefault("securitySchemes", {})[SECURITY_SCHEME] = {
            "type": "http",
            "scheme": "bearer",
            "description": "Jeton d'API créé depuis « Mon espace » : `Authorization: Bearer <jeton>`.",
        }
        return schema


api = OpenApi(
    title="Contrat de ville — API ouverte",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    openapi_extra={"tags": TAGS},
    docs=LocalSwagger(),
)
api.add_router("/qpv", territories_router)
api.add_router("/contracts", contracts_router)
api.add_router("/contracts", plan_router)
api.add_router("/contracts", partners_router)
api.add_router("/contracts", commitments_router)
api.add_router("/contracts", indicators_router)
api.add_router("/contracts", meetings_router)
api.add_router("/contracts", evaluations_router)
api.add_router("/contracts", grants_router)
api.add_router("/georef", georef_router)
errors.install(api)
caching.install(api)
