"""Données ouvertes d'un contrat : page, fichiers CSV, JSON, XLSX, GeoJSON et Data Package.

Les fichiers sont les mêmes pour tout le monde : ils sont lus pour un visiteur anonyme (ce qui
est public, et rien d'autre), même si la personne connectée voit davantage sur les pages. Un
contrat en préparation n'a pas de données ouvertes (404, même pour ses membres).

Chaque fichier porte un ``ETag`` (empreinte du contenu ; faible pour le XLSX, dont les octets
changent à chaque écriture : c'est l'empreinte des données) et répond 304 à un ``If-None-Match``
qui correspond ; ``Cache-Control: public, max-age=300`` pour un visiteur anonyme.
"""

import hashlib
import json

from django.contrib.auth.models import AnonymousUser
from django.http import Http404, HttpResponse, HttpResponseNotFound, HttpResponseNotModified
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags

from cdv.contracts.abilities import contract_abilities
from cdv.grants import scdl
from cdv.grants.abilities import contract_call_abilities
from cdv.opendata import writers
from cdv.opendata.datapackage import build_datapackage
from cdv.opendata.resources import BY_NAME, RESOURCES
from cdv.opendata.schema import LICENSE, MEDIA_TYPES

from .helpers import get_contract

PUBLIC = AnonymousUser()
PUBLIC_CACHE = "public, max-age=300"
PRIVATE_CACHE = "private, no-cache"
FORMAT_LABELS = {"csv": "CSV", "json": "JSON", "xlsx": "XLSX", "geojson": "GeoJSON"}


def _public_contract(request, slug):
    contract = get_contract(request, slug)
    if not contract_abilities(PUBLIC, contract)["view"]:
        raise Http404("Ce contrat est en préparation : ses données ne sont pas encore ouvertes.")
    return contract


def _etag(content: bytes, *, weak: bool = False) -> str:
    digest = hashlib.sha256(content).hexdigest()[:40]
    return f'W/"{digest}"' if weak else f'"{digest}"'


def _strip_weak(etag: str) -> str:
    return etag[2:] if etag.startswith("W/") else etag


def _not_modified(request, etag: str) -> bool:
    """Comparaison faible (RFC 9110) de ``If-None-Match`` avec l'ETag du fichier."""
    header = request.headers.get("If-None-Match", "")
    if not header:
        return False
    if header.strip() == "*":
        return True
    return _strip_weak(etag) in {_strip_weak(tag) for tag in parse_etags(header)}


def _send(request, *, etag: str, build, content_type: str, filename: str) -> HttpResponse:
    """La réponse d'un téléchargement ; ``build()`` n'est appelé que si le client n'a pas déjà le fichier."""
    if _not_modified(request, etag):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(build(), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["X-Content-Type-Options"] = "nosniff"
    response["ETag"] = etag
    response["Cache-Control"] = PRIVATE_CACHE if request.user.is_authenticated else PUBLIC_CACHE
    patch_vary_headers(response, ("Cookie",))
    return response


def _file_url(request, contract, name: str, fmt: str) -> str:
    return request.build_absolute_uri(reverse("www:opendata_file", args=[contract.slug, name, fmt]))


def _unknown(resource: str, fmt: str, definition) -> HttpResponse:
    if definition is None:
        names = ", ".join(r.name for r in RESOURCES)
        message = f"Aucun fichier « {resource[:60]} » dans les données ouvertes. Fichiers : {names}."
    else:
        formats = ", ".join(definition.formats)
        message = f"Le fichier « {resource} » n'existe pas au format « {fmt[:20]} ». Formats : {formats}."
    return HttpResponseNotFound(message, content_type="text/plain; charset=utf-8")


def index(request, slug):
    contract = _public_contract(request, slug)
    entries = [
        {
            "resource": resource,
            "count": resource.count(contract, PUBLIC),
            "links": [
                (FORMAT_LABELS[fmt], _file_url(request, contract, resource.name, fmt))
                for fmt in resource.formats
            ],
        }
        for resource in RESOURCES
    ]
    # Au pilote : les subventions votées que le fichier SCDL ne publie pas encore, et pourquoi.
    withheld = (
        scdl.withheld(contract)
        if contract_call_abilities(request.user, contract)["view_withheld_grants"]
        else None
    )
    return render(
        request,
        "www/opendata.html",
        {"contract": contract, "entries": entries, "license": LICENSE, "withheld": withheld},
    )


def datapackage(request, slug):
    contract = _public_contract(request, slug)
    descriptor = build_datapackage(
        contract,
        csv_url=lambda name: _file_url(request, contract, name, "csv"),
        homepage=request.build_absolute_uri(reverse("www:opendata", args=[contract.slug])),
    )
    content = json.dumps(descriptor, ensure_ascii=False, indent=1).encode("utf-8")
    return _send(
        request,
        etag=_etag(content),
        build=lambda: content,
        content_type="application/json",
        filename=f"{contract.slug}-datapackage.json",
    )


def download(request, slug, resource, fmt):
    contract = _public_contract(request, slug)
    definition = BY_NAME.get(resource)
    if definition is None or fmt not in definition.formats:
        return _unknown(resource, fmt, definition)
    filename = f"{contract.slug}-{definition.name}.{fmt}"
    if fmt == "geojson":
        content = writers.geojson_bytes(
            definition, definition.read_features(contract, PUBLIC), contract=contract
        )
        etag, build = _etag(content), lambda: content
    else:
        rows = definition.read(contract, PUBLIC)
        etag, build = _tabular(request, contract, definition, rows, fmt)
    return _send(request, etag=etag, build=build, content_type=MEDIA_TYPES[fmt], filename=filename)


def _xlsx_bytes(definition, rows, *, contract) -> bytes:
    from cdv.opendata.xlsx import xlsx_bytes  # openpyxl chargé au premier classeur demandé

    return xlsx_bytes(definition, rows, contract=contract)


def _tabular(request, contract, definition, rows, fmt):
    """(ETag, fabrique du contenu) d'un fichier tabulaire ; le XLSX n'est écrit que s'il est demandé."""
    if fmt == "xlsx":
        etag = _etag(b"xlsx:" + writers.csv_bytes(definition, rows), weak=True)
        return etag, lambda: _xlsx_bytes(definition, rows, contract=contract)
    if fmt == "csv":
        content = writers.csv_bytes(definition, rows)
    else:
        schema_url = request.build_absolute_uri(reverse("www:datapackage", args=[contract.slug]))
        content = writers.json_bytes(definition, rows, contract=contract, schema_url=schema_url)
    return _etag(content), lambda: content
