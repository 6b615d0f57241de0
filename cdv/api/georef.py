"""« Est-ce en QPV ? » : situer des points ou des adresses par rapport aux QPV de toute la France.

Lecture libre (données publiques), sans jeton. ``GET /georef?lon=&lat=`` pour un point ;
``POST /georef`` pour une liste : jusqu'à ``MAX_POINTS`` points ou ``MAX_ADDRESSES`` adresses par
appel, réponses dans le même ordre, chacune avec son statut et sa raison. Les adresses passent par
le géocodeur de la Base Adresse Nationale ; leurs appels sont limités par adresse IP
(``GEOREF_API_ADDRESS_RATE``, 30 par minute par défaut ; au-delà : 429 avec ``Retry-After``).
"""

from typing import Annotated

from django.conf import settings
from django.http import HttpResponse
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import model_validator

from cdv.core.ratelimit import parse_rate, rate_limited
from cdv.territories.enums import Geography

from .auth import api_user, caller
from .fields import Body, rule_error
from .schemas import READ_ERRORS, Error

router = Router(tags=["georef"])

MAX_POINTS = 1_000
MAX_ADDRESSES = 100
STATUSES = "DANS_QPV, HORS_QPV, NON_GEOCODE (adresse introuvable), SCORE_FAIBLE, ENTREE_INVALIDE"


class GeorefQpvOut(Schema):
    code: str = Field(description="code du QPV")
    name: str = Field(description="nom du QPV")


class GeorefResultOut(Schema):
    index: int = Field(description="rang de l'entrée dans la demande (à partir de 0)")
    lon: float | None = Field(description="longitude WGS84 du point situé (donnée ou géocodée)")
    lat: float | None = Field(description="latitude WGS84 du point situé (donnée ou géocodée)")
    status: str = Field(description=f"statut : {STATUSES}")
    reason: str = Field(description="raison du statut, en clair")
    qpv: GeorefQpvOut | None = Field(description="le QPV qui contient le point (statut DANS_QPV)")
    label: str | None = Field(None, description="adresse retenue par le géocodeur (adresses seulement)")
    score: float | None = Field(None, description="score du géocodeur, de 0 à 1 (adresses seulement)")


class GeorefPointResultOut(GeorefResultOut):
    geography: str = Field(description="géographie prioritaire utilisée (2024 ou 2015)")


class GeorefBatchOut(Schema):
    geography: str = Field(description="géographie prioritaire utilisée (2024 ou 2015)")
    count: int = Field(description="nombre d'entrées traitées")
    in_qpv: int = Field(description="nombre d'entrées situées dans un QPV")
    results: list[GeorefResultOut] = Field(description="une réponse par entrée, dans l'ordre de la demande")


class GeorefPointIn(Body):
    lon: float = Field(description="longitude en degrés décimaux (WGS84)", strict=True, allow_inf_nan=False)
    lat: float = Field(description="latitude en degrés décimaux (WGS84)", strict=True, allow_inf_nan=False)


class GeorefAddressIn(Body):
    q: str | None = Field(None, max_length=200, description="adresse en texte libre")
    address: str | None = Field(
        None, max_length=200, description="numéro et voie (si l'adresse est découpée)"
    )
    postcode: str | None = Field(None, pattern=r"^\d{5}$", description="code postal (filtre la recherche)")
    city: str | None = Field(None, max_length=100, description="commune")
    citycode: str | None = Field(
        None, pattern=r"^\d[0-9AB]\d{3}$", description="code INSEE de la commune (filtre la recherche)"
    )


class GeorefIn(Body):
    # Ni null ni les deux : l'un ou l'autre (``oneOf`` ci-dessous, et ``_points_or_addresses``).
    points: list[GeorefPointIn] = Field(
        None, max_length=MAX_POINTS, description=f"points à situer ({MAX_POINTS} au plus) ; ou « addresses »"
    )
    addresses: list[GeorefAddressIn] = Field(
        None,
        max_length=MAX_ADDRESSES,
        description=f"adresses à géocoder puis situer ({MAX_ADDRESSES} au plus) ; ou « points »",
    )
    geography: Geography = Field(Geography.QPV_2024, description="géographie prioritaire : 2024 ou 2015")
    min_score: float = Field(
        0.5,
        strict=True,
        ge=0,
        le=1,
        description="score minimal d'une adresse géocodée (en dessous : SCORE_FAIBLE)",
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {"points": [{"lon": -1.5256, "lat": 47.2064}, {"lon": 2.3522, "lat": 48.8566}]},
                {
                    "addresses": [
                        {"q": "5 rue du Croisic 44100 Nantes"},
                        {"address": "8 bd du Port", "city": "Amiens"},
                    ]
                },
            ],
            "oneOf": [{"required": ["points"]}, {"required": ["addresses"]}],
        }
    }

    @model_validator(mode="after")
    def _points_or_addresses(self):
        if (self.points is None) == (self.addresses is None):
            raise rule_error("donnez soit « points », soit « addresses » (l'un des deux)")
        return self


ERRORS = {**READ_ERRORS, 429: Error}
BATCH_DESCRIPTION = f"""\
Corps : `points` (jusqu'à {MAX_POINTS}) **ou** `addresses` (jusqu'à {MAX_ADDRESSES}). Une réponse par
entrée, dans le même ordre, avec son statut et sa raison : un point hors des limites (longitude de
-180 à 180, latitude de -90 à 90) reçoit ENTREE_INVALIDE sans faire échouer les autres. Les adresses
sont géocodées par la Base Adresse Nationale (score et adresse retenue rendus) ; si ce service ne
répond pas, elles reçoivent NON_GEOCODE avec la raison. Les appels avec adresses sont limités par
adresse IP (429 au-delà, avec `Retry-After`). Sans jeton : données publiques."""


def _result(index, lon, lat, located, *, label=None, score=None):
    code = located.get("code_qp") or ""
    return {
        "index": index,
        "lon": lon,
        "lat": lat,
        "status": located.get("statut_qpv", ""),
        "reason": located.get("raison", ""),
        "qpv": {"code": code, "name": located.get("lib_qp") or ""} if code else None,
        "label": label,
        "score": score,
    }


def _unlocated(index, status, reason, *, lon=None, lat=None, label=None, score=None):
    return {
        "index": index,
        "lon": lon,
        "lat": lat,
        "status": status,
        "reason": reason,
        "qpv": None,
        "label": label,
        "score": score,
    }


def _locate(points, geography):
    """locate_points, ou 404 si les contours de la géographie demandée ne sont pas chargés ici."""
    from cdv.georef.engine import GeorefError
    from cdv.georef.pipeline import locate_points

    try:
        return locate_points(points, geography=geography)
    except GeorefError as error:
        raise HttpError(404, str(error)) from error


@router.get(
    "",
    response={200: GeorefPointResultOut, **ERRORS},
    summary="Situer un point par rapport aux QPV",
    operation_id="georef_point",
)
def georef_point(
    request,
    lon: Annotated[
        float, Query(description="longitude en degrés décimaux (WGS84), de -180 à 180", ge=-180, le=180)
    ],
    lat: Annotated[
        float, Query(description="latitude en degrés décimaux (WGS84), de -90 à 90", ge=-90, le=90)
    ],
    geography: Annotated[Geography, Query(description="géographie prioritaire")] = Geography.QPV_2024,
):
    """Dit si le point (lon, lat) est dans un QPV, et lequel. Un point sur le contour d'un QPV est
    dedans ; un point commun à deux QPV va au plus petit code. Sans jeton ; réponse en cache public
    cinq minutes."""
    api_user(request)
    (located,) = _locate([(lon, lat)], geography.value)
    return {**_result(0, lon, lat, located), "geography": geography.value}


@router.post(
    "",
    response={200: GeorefBatchOut, 400: Error, **ERRORS},  # 400 : corps JSON illisible
    summary="Situer une liste de points ou d'adresses par rapport aux QPV",
    description=BATCH_DESCRIPTION,
    operation_id="georef_batch",
    auth=caller,
)
def georef_batch(request, response: HttpResponse, body: GeorefIn):
    geography = body.geography.value
    if body.points is not None:
        located = _locate([(p.lon, p.lat) for p in body.points], geography) if body.points else []
        results = [
            _result(i, p.lon, p.lat, loc) for i, (p, loc) in enumerate(zip(body.points, located, strict=True))
        ]
    else:
        wait = _rate_limited(request)
        if wait is not None:
            response["Retry-After"] = str(wait)
            return Status(429, {"detail": _rate_message(wait)})
        results = _geocode_and_locate(body.addresses, geography, body.min_score)
    return {
        "geography": geography,
        "count": len(results),
        "in_qpv": sum(1 for r in results if r["status"] == "DANS_QPV"),
        "results": results,
    }


def _geocode_and_locate(addresses, geography, min_score):
    from cdv.georef.ban import BanGeocoder, GeocoderUnavailable

    batch, indexes, results = [], [], [None] * len(addresses)
    for i, item in enumerate(addresses):
        text = " ".join(part for part in (item.q, item.address) if part and part.strip())
        if not text.strip():
            results[i] = _unlocated(i, "ENTREE_INVALIDE", "Adresse vide : donnez « q » ou « address ».")
            continue
        row = {"q": text, "city": item.city or ""}
        if item.postcode:
            row["postcode"] = item.postcode
        if item.citycode:
            row["citycode"] = item.citycode
        batch.append(row)
        indexes.append(i)
    found = []
    if batch:
        try:
            found = BanGeocoder.interactive().geocode(batch)  # l'appelant attend : budget borné
        except GeocoderUnavailable as error:
            for i in indexes:
                results[i] = _unlocated(i, "NON_GEOCODE", str(error))
            return results
    to_locate = []
    for i, hit in zip(indexes, found, strict=True):
        if hit is None:
            results[i] = _unlocated(i, "NON_GEOCODE", "Adresse introuvable dans la Base Adresse Nationale.")
        elif hit.score < min_score:
            results[i] = _unlocated(
                i,
                "SCORE_FAIBLE",
                f"Score du géocodeur {hit.score:.2f} inférieur au minimum demandé ({min_score:.2f}) : "
                "adresse incertaine, non située.",
                lon=hit.lon,
                lat=hit.lat,
                label=hit.label,
                score=hit.score,
            )
        else:
            to_locate.append((i, hit))
    if to_locate:
        located = _locate([(hit.lon, hit.lat) for _, hit in to_locate], geography)
        for (i, hit), loc in zip(to_locate, located, strict=True):
            results[i] = _result(i, hit.lon, hit.lat, loc, label=hit.label, score=hit.score)
    return results


def _rate_limited(request) -> int | None:
    """Par adresse IP du client (cdv.core.clientip) ; secondes à attendre, ou None si l'appel passe."""
    return rate_limited(
        request, scope="georef-api-adresses", rate=getattr(settings, "GEOREF_API_ADDRESS_RATE", None)
    )


def _rate_message(wait):
    count, _, label = parse_rate(settings.GEOREF_API_ADDRESS_RATE)
    return (
        f"Trop d'appels avec adresses : {count} par {label} au plus depuis une même adresse IP. "
        f"Réessayez dans {wait} s, ou envoyez jusqu'à {MAX_ADDRESSES} adresses par appel."
    )
