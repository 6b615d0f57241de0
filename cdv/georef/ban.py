"""Client du géocodeur de la Base Adresse Nationale (BAN, API Adresse).

Deux points d'accès du même service, dont l'adresse de base est un réglage (``BAN_BASE_URL``) :

- ``POST {base}/search/csv/`` : géocodage par lots. Le corps est un formulaire multipart dont le
  champ ``data`` porte un fichier CSV ; chaque champ ``columns`` nomme une colonne à concaténer
  pour former la recherche ; ``postcode=<colonne>`` et ``citycode=<colonne>`` nomment les colonnes
  qui filtrent chaque ligne (code postal, code INSEE de la commune). La réponse reprend le CSV et
  ajoute ``latitude``, ``longitude``, ``result_label``, ``result_score``… (vides si rien n'est
  trouvé). On envoie les adresses par paquets (``BAN_BATCH_SIZE``), avec un identifiant de ligne
  pour remettre chaque réponse à sa place.
- ``GET {base}/search/?q=…&limit=1`` : une seule adresse (API de la plateforme).

Les erreurs passagères (429 « trop de requêtes », 5xx, coupure, délai dépassé) sont retentées
``BAN_RETRIES`` fois avec une attente exponentielle (``BAN_BACKOFF`` × 2ⁿ, bornée par
``BAN_MAX_BACKOFF``), en respectant l'en-tête ``Retry-After`` du service. Après le dernier essai,
``GeocoderUnavailable`` porte un message en français : le traitement classe alors les lignes
concernées en « non géocodées » sans s'arrêter ; des coordonnées, elles, se traitent sans réseau.
Un paquet refusé comme trop gros (413) est coupé en deux.

Une recherche faite pendant qu'une personne attend (page ou API : ``BanGeocoder.interactive()``)
a un délai court par requête (``BAN_INTERACTIVE_TIMEOUT``, 3 s) et un budget total, toutes
requêtes, essais et attentes compris (``BAN_INTERACTIVE_BUDGET``, 6 s) : un géocodeur lent ne
bloque pas un processus du serveur plus longtemps. Un ``Retry-After`` qui dépasse le budget fait
abandonner aussitôt.

La BAN limite chaque adresse IP (50 requêtes par seconde à la date d'écriture) ; un gros volume
peut passer par une instance installée chez soi (même API, autre ``BAN_BASE_URL``).
"""

from __future__ import annotations

import csv
import io
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests
from django.conf import settings

from .pipeline import GeocodeResult

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api-adresse.data.gouv.fr"
DEFAULT_TIMEOUT = 60.0  # secondes, pour un paquet entier
DEFAULT_BATCH_SIZE = 2_000
DEFAULT_RETRIES = 4
DEFAULT_BACKOFF = 1.0
DEFAULT_MAX_BACKOFF = 60.0
DEFAULT_INTERACTIVE_TIMEOUT = 3.0  # secondes par requête, quand une personne attend la page
DEFAULT_INTERACTIVE_BUDGET = 6.0  # secondes en tout, essais et attentes compris
RETRY_STATUSES = {429, 500, 502, 503, 504}
ROW_ID = "cdv_ligne"
# Clés d'une adresse structurée qui filtrent la recherche (et ne s'y ajoutent pas) ; toutes les
# autres clés (« q », « adresse », « city »…) sont concaténées, dans l'ordre, pour former la recherche.
FILTER_KEYS = ("postcode", "citycode")
MIN_QUERY_LENGTH = 3
MAX_QUERY_LENGTH = 200  # au-delà, le service refuse la recherche


class GeocoderUnavailable(Exception):
    """Le service de géocodage n'a pas répondu utilement après le dernier essai (message en français)."""


def _setting(name, default):
    value = getattr(settings, name, None)
    return default if value is None or value == "" else value


class BanGeocoder:
    """Géocodeur BAN : ``geocode`` (par lots, CSV) et ``geocode_one`` (une adresse)."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout: float | None = None,
        batch_size: int | None = None,
        retries: int | None = None,
        backoff: float | None = None,
        max_backoff: float | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        budget: float | None = None,
    ):
        self.base_url = str(base_url or _setting("BAN_BASE_URL", DEFAULT_BASE_URL)).rstrip("/")
        self.timeout = float(timeout if timeout is not None else _setting("BAN_TIMEOUT", DEFAULT_TIMEOUT))
        self.batch_size = max(1, int(batch_size or _setting("BAN_BATCH_SIZE", DEFAULT_BATCH_SIZE)))
        self.retries = max(
            0, int(retries if retries is not None else _setting("BAN_RETRIES", DEFAULT_RETRIES))
        )
        self.backoff = float(backoff if backoff is not None else _setting("BAN_BACKOFF", DEFAULT_BACKOFF))
        self.max_backoff = float(
            max_backoff if max_backoff is not None else _setting("BAN_MAX_BACKOFF", DEFAULT_MAX_BACKOFF)
        )
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", "contrat-de-ville (geocodage QPV)")
        self.sleep = sleep
        # Secondes en tout pour ce géocodeur (requêtes, essais et attentes), à compter de sa création :
        # un géocodeur interactif sert à une seule page ou un seul appel d'API. None : sans borne.
        self.budget = budget
        self.deadline = None if budget is None else time.monotonic() + budget

    @classmethod
    def interactive(cls, **kwargs) -> BanGeocoder:
        """Pour une recherche qu'une personne attend : délai court, budget total borné (voir le module)."""
        kwargs.setdefault("timeout", float(_setting("BAN_INTERACTIVE_TIMEOUT", DEFAULT_INTERACTIVE_TIMEOUT)))
        kwargs.setdefault("budget", float(_setting("BAN_INTERACTIVE_BUDGET", DEFAULT_INTERACTIVE_BUDGET)))
        return cls(**kwargs)

    # --- par lots -------------------------------------------------------------------------------

    def geocode(self, batch: list[dict[str, str]]) -> list[GeocodeResult | None]:
        """Une réponse par adresse, dans le même ordre ; ``None`` si l'adresse est vide ou introuvable.

        Chaque adresse est un dictionnaire : ``postcode`` et ``citycode`` filtrent (s'ils sont
        renseignés), les autres valeurs (``address`` et ``city`` venant du pipeline, ``q``…) forment
        la recherche, dans l'ordre. Lève
        ``GeocoderUnavailable`` si le service reste injoignable après le dernier essai.
        """
        results: list[GeocodeResult | None] = [None] * len(batch)
        # Un filtre vide ne doit pas filtrer : les lignes sont groupées selon les filtres qu'elles
        # renseignent, et chaque requête ne déclare que ceux-là.
        groups: dict[tuple[str, ...], list] = {}
        for index, row in enumerate(batch):
            if _query_text(row):
                filters = tuple(k for k in FILTER_KEYS if _clean(row.get(k)))
                clean = {k: v for k, v in row.items() if k not in FILTER_KEYS or k in filters}
                groups.setdefault(filters, []).append((index, clean))
        for pending in groups.values():
            for start in range(0, len(pending), self.batch_size):
                chunk = pending[start : start + self.batch_size]
                for index, result in self._geocode_chunk(chunk):
                    results[index] = result
        return results

    def _geocode_chunk(self, chunk):
        response = self._request("POST", "/search/csv/", chunk_size=len(chunk), **self._csv_payload(chunk))
        if response is None:  # 413 : trop gros, on coupe en deux
            if len(chunk) == 1:
                raise GeocoderUnavailable(
                    "Le service de géocodage refuse une adresse trop longue (413) : raccourcissez-la."
                )
            middle = len(chunk) // 2
            return [*self._geocode_chunk(chunk[:middle]), *self._geocode_chunk(chunk[middle:])]
        return self._parse_csv(response, chunk)

    def _csv_payload(self, chunk):
        keys = []
        for _, row in chunk:
            for key in row:
                if key not in keys and key != ROW_ID:
                    keys.append(key)
        query_keys = [k for k in keys if k not in FILTER_KEYS]
        filter_keys = [k for k in keys if k in FILTER_KEYS]
        buffer = io.StringIO()
        writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow([ROW_ID, *query_keys, *filter_keys])
        for index, row in chunk:
            writer.writerow([index, *(_clean(row.get(k)) for k in query_keys + filter_keys)])
        data = [("columns", key) for key in query_keys]
        data += [(key, key) for key in filter_keys]  # filtre = nom de la colonne qui le porte
        data += [("delimiter", ","), ("encoding", "utf-8")]
        files = {"data": ("adresses.csv", buffer.getvalue().encode("utf-8"), "text/csv; charset=utf-8")}
        return {"data": data, "files": files}

    def _parse_csv(self, response, chunk):
        text = response.content.decode("utf-8-sig", errors="replace")
        reader = csv.DictReader(io.StringIO(text))
        rows = list(reader)
        by_id = {}
        if reader.fieldnames and ROW_ID in reader.fieldnames:
            by_id = {row.get(ROW_ID, ""): row for row in rows}
        elif len(rows) == len(chunk):  # identifiant absent de la réponse : on se fie à l'ordre
            by_id = {str(index): row for (index, _), row in zip(chunk, rows, strict=True)}
        else:
            raise GeocoderUnavailable(
                "Réponse du service de géocodage illisible : "
                f"{len(rows)} ligne(s) reçue(s) pour {len(chunk)} envoyée(s)."
            )
        return [(index, _result_from_csv(by_id.get(str(index)))) for index, _ in chunk]

    # --- une adresse ----------------------------------------------------------------------------

    def geocode_one(self, q: str, *, postcode: str = "", citycode: str = "") -> GeocodeResult | None:
        """La meilleure réponse pour une adresse en texte libre, ou ``None`` (introuvable, trop courte)."""
        q = _clean(q)[:MAX_QUERY_LENGTH]
        if len(q) < MIN_QUERY_LENGTH:
            return None
        params = {"q": q, "limit": 1}
        if _clean(postcode):
            params["postcode"] = _clean(postcode)
        if _clean(citycode):
            params["citycode"] = _clean(citycode)
        response = self._request("GET", "/search/", params=params)
        if response is None:
            return None
        try:
            features = response.json().get("features") or []
            if not features:
                return None
            lon, lat = features[0]["geometry"]["coordinates"][:2]
            props = features[0].get("properties") or {}
            return GeocodeResult(
                lon=float(lon),
                lat=float(lat),
                score=float(props.get("score") or 0),
                label=str(props.get("label") or ""),
            )
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as error:
            raise GeocoderUnavailable("Réponse du service de géocodage illisible.") from error

    # --- transport ------------------------------------------------------------------------------

    def _request(self, method, path, *, chunk_size=None, **kwargs):
        """La réponse 200 ; ``None`` sur 413 (lot trop gros) ; ``GeocoderUnavailable`` sinon."""
        url = f"{self.base_url}{path}"
        attempts = self.retries + 1
        deadline = self.deadline
        last_problem = ""
        tried = 0
        for attempt in range(attempts):
            wait = None
            timeout = self.timeout
            if deadline is not None:
                timeout = max(0.1, min(timeout, deadline - time.monotonic()))
            tried += 1
            try:
                response = self.session.request(method, url, timeout=timeout, **kwargs)
            except requests.Timeout:
                last_problem = f"pas de réponse en {round(timeout, 1):g} s"
            except requests.RequestException:
                last_problem = "service injoignable"
            else:
                if response.status_code == 200:
                    return response
                if response.status_code == 413:
                    return None
                if response.status_code not in RETRY_STATUSES:
                    raise GeocoderUnavailable(
                        f"Le service de géocodage a refusé la demande (erreur {response.status_code})."
                    )
                last_problem = (
                    "trop de requêtes (429)"
                    if response.status_code == 429
                    else f"erreur du service ({response.status_code})"
                )
                wait = _retry_after(response.headers.get("Retry-After"))
            if attempt == attempts - 1:
                break
            delay = self.backoff * (2**attempt) if wait is None else wait
            delay = min(max(delay, 0.0), self.max_backoff)
            if deadline is not None and time.monotonic() + delay + 0.1 >= deadline:
                break  # pas le temps d'un nouvel essai : la personne attend la page
            logger.warning(
                "Géocodeur BAN : %s ; nouvel essai %d/%d dans %.1f s%s",
                last_problem,
                attempt + 1,
                self.retries,
                delay,
                f" (lot de {chunk_size} adresses)" if chunk_size else "",
            )
            self.sleep(delay)
        tries = f"{tried} essai{'s' if tried > 1 else ''}"
        raise GeocoderUnavailable(
            f"Service de géocodage indisponible ({last_problem}, {tries}) : adresses non géocodées. "
            "Réessayez plus tard ; des coordonnées se traitent sans ce service."
        )


def _clean(value) -> str:
    return " ".join(str(value or "").split())


def _query_text(row: dict) -> str:
    return " ".join(_clean(v) for k, v in row.items() if k not in FILTER_KEYS and k != ROW_ID).strip()


def _result_from_csv(row) -> GeocodeResult | None:
    if not row:
        return None
    try:
        lat, lon = row.get("latitude", ""), row.get("longitude", "")
        if not lat or not lon:
            return None
        return GeocodeResult(
            lon=float(lon),
            lat=float(lat),
            score=float(row.get("result_score") or 0),
            label=row.get("result_label") or "",
        )
    except ValueError:
        return None


def _retry_after(value) -> float | None:
    """« Retry-After » en secondes ou en date HTTP ; ``None`` s'il manque ou se lit mal."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
