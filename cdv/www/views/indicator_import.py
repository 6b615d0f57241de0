"""Import des valeurs d'indicateurs à l'écran, pour les pilotes du contrat.

1. ``indicator_import`` : le pilote téléverse un CSV ou un XLSX (et, s'il le veut, la source, le
   millésime, la période et le statut de tout le fichier). Le fichier est rangé côté serveur sous
   l'empreinte de son contenu (``cdv.indicators.import_files``), puis le pilote est envoyé à l'aperçu.
2. ``indicator_import_preview`` (GET) : la disposition reconnue (longue ou large de l'INSEE), les
   colonnes proposées, modifiables, et un aperçu calculé par l'import lui-même en simulation
   (``dry_run``) : valeurs créées, modifiées, inchangées, lignes refusées avec leur raison. Rien n'est
   écrit.
3. La même adresse en POST (« Confirmer l'import ») relance l'import pour de bon, tout ou rien, avec
   exactement les réglages de l'aperçu ; refusé si le fichier a changé depuis l'aperçu.

La commande ``import_indicator_values`` et cet écran appellent la même fonction
(``cdv.indicators.importer.import_indicator_values``).
"""

import os
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from cdv.contracts.abilities import contract_abilities
from cdv.indicators import import_files
from cdv.indicators.importer import import_indicator_values, inspect_file
from cdv.indicators.models import Indicator

from ..forms.indicator_import import (
    LAYOUT_LABELS,
    ImportSettingsForm,
    UploadForm,
)
from .helpers import get_contract, require

SESSION_KEY = "indicator_import_names"  # jeton → nom du fichier téléversé (pour les messages)
KEPT_NAMES = 20


def _pilot_contract(request, slug):
    contract = get_contract(request, slug)
    require(
        contract_abilities(request.user, contract)["import_indicators"],
        "Seul un pilote du contrat importe des valeurs d'indicateurs.",
    )
    return contract


@login_required
@require_http_methods(["GET", "POST"])
def indicator_import(request, slug):
    contract = _pilot_contract(request, slug)
    form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
    if form.is_bound and form.is_valid():
        upload = form.cleaned_data["fichier"]
        token = import_files.store_upload(contract=contract, data=form.content)
        names = dict(request.session.get(SESSION_KEY, {}))
        names.pop(token, None)
        names[token] = os.path.basename(upload.name or "")[:200]
        request.session[SESSION_KEY] = dict(list(names.items())[-KEPT_NAMES:])
        query = {
            key: form.cleaned_data[key]
            for key in ("source", "millesime", "periode")
            if form.cleaned_data[key]
        }
        if form.cleaned_data["definitif"]:
            query["definitif"] = "on"
        url = reverse("www:indicator_import_preview", args=[contract.slug, token])
        return redirect(f"{url}?{urlencode(query)}" if query else url)
    status = 422 if form.is_bound and form.errors else 200
    return render(request, "pilot/indicator_import.html", {"contract": contract, "form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def indicator_import_preview(request, slug, token):
    contract = _pilot_contract(request, slug)
    data = import_files.load_upload(contract=contract, token=token)
    if data is None:
        raise Http404("Ce fichier n'est plus disponible : téléversez-le à nouveau.")
    filename = request.session.get(SESSION_KEY, {}).get(token, "")
    layout = inspect_file(fileobj=data, filename=filename)
    indicators = list(Indicator.objects.for_contract(contract).order_by("code").values_list("code", "name"))
    form = ImportSettingsForm(
        request.POST if request.method == "POST" else request.GET, layout=layout, indicators=indicators
    )
    context = {
        "contract": contract,
        "form": form,
        "layout": layout,
        "layout_label": LAYOUT_LABELS.get(layout.layout, ""),
        "filename": filename,
        "token": token,
        "report": None,
        "changed": False,
    }
    status = 200
    if layout.errors:
        status = 422
    elif import_files.fingerprint(data) != token or (
        request.method == "POST" and form.data.get("empreinte") != token
    ):
        context["changed"] = True
        status = 409
    elif form.is_valid():
        confirmed = request.method == "POST"
        report = import_indicator_values(
            contract=contract, fileobj=data, filename=filename, dry_run=not confirmed, **form.import_kwargs()
        )
        context["report"] = report
        context["hidden_count"] = max(
            report.created + report.updated + report.unchanged - len(report.preview), 0
        )
        if confirmed and report.ok:
            import_files.discard_upload(contract=contract, token=token)
            messages.success(request, f"{filename or 'Fichier'} : {report.summary}")
            return redirect("www:indicator_import", slug=contract.slug)
        if confirmed:
            status = 422
    elif request.method == "POST":
        status = 422
    return render(request, "pilot/indicator_import_preview.html", context, status=status)
