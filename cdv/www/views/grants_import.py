"""Appel à projets : import des dossiers et décisions d'un export de Dauphin (pilote).

Même parcours que l'import des valeurs d'indicateurs (``indicator_import.py``), à une seule adresse :

1. sans fichier : le pilote téléverse l'export (CSV ou XLSX) ; il est rangé côté serveur sous
   l'empreinte de son contenu (``cdv.indicators.import_files``, jamais dans la session) et le pilote
   est envoyé à l'aperçu (``?fichier=<empreinte>``) ;
2. ``GET ?fichier=…`` : la correspondance des colonnes, proposée d'après les intitulés reconnus et
   modifiable, et l'aperçu calculé par l'import lui-même en simulation : dossiers créés ou modifiés,
   lignes de financeur, associations créées, ou chaque erreur avec sa ligne et sa colonne. Rien n'est
   écrit ;
3. ``POST`` (« Je confirme » coché) : l'import pour de bon, tout ou rien, avec exactement les réglages
   de l'aperçu ; refusé si le fichier a changé depuis.

Droits : voir l'appel (``call_abilities``, sinon 404), puis ``follow_up_call_abilities(...)["import"]``
(le pilote, sur un appel non archivé ; sinon 403). Le service revérifie.
"""

import os

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from cdv.core.uploads import plural
from cdv.grants.abilities import call_abilities, follow_up_call_abilities
from cdv.grants.dauphin import COLUMNS, import_dauphin, inspect_file
from cdv.grants.errors import GrantsError
from cdv.grants.models import Call
from cdv.indicators import import_files

from ..forms.grants_import import MappingForm, UploadForm
from .helpers import get_contract, require

SESSION_KEY = "dauphin_import_names"  # empreinte → nom du fichier téléversé (pour les messages)
KEPT_NAMES = 20
PREVIEW_ITEMS = 50  # dossiers listés dans l'aperçu (les suivants sont comptés)


def _call(request, slug, year):
    contract = get_contract(request, slug)
    call = Call.objects.for_contract(contract).filter(year=year).first()
    if call is None or not call_abilities(request.user, call)["view"]:
        raise Http404("Aucun appel à projets de ce contrat pour cette année.")
    require(
        follow_up_call_abilities(request.user, call)["import"],
        "Seul le pilote du contrat importe les dossiers de Dauphin, sur un appel non archivé.",
    )
    call.contract = contract
    return contract, call


@login_required
@require_http_methods(["GET", "POST"])
def call_import(request, slug, year):
    contract, call = _call(request, slug, year)
    token = request.GET.get("fichier") or request.POST.get("fichier")
    if token:
        return _preview(request, contract, call, token)
    form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
    if form.is_bound and form.is_valid():
        upload = form.cleaned_data["fichier"]
        token = import_files.store_upload(contract=contract, data=form.content)
        names = dict(request.session.get(SESSION_KEY, {}))
        names.pop(token, None)
        names[token] = os.path.basename(upload.name or "")[:200]
        request.session[SESSION_KEY] = dict(list(names.items())[-KEPT_NAMES:])
        return redirect(f"{_url(call)}?fichier={token}")
    status = 422 if form.is_bound and form.errors else 200
    return render(
        request,
        "grants/import/upload.html",
        {"contract": contract, "call": call, "form": form, "columns": COLUMNS},
        status=status,
    )


def _url(call) -> str:
    return reverse("www:call_import", kwargs={"slug": call.contract.slug, "year": call.year})


def _preview(request, contract, call, token):
    data = import_files.load_upload(contract=contract, token=token)
    if data is None:
        raise Http404("Ce fichier n'est plus disponible : téléversez-le à nouveau.")
    filename = request.session.get(SESSION_KEY, {}).get(token, "")
    layout = inspect_file(fileobj=data, filename=filename)
    posted = request.method == "POST"
    form = MappingForm(request.POST if posted else request.GET, layout=layout)
    context = {
        "contract": contract,
        "call": call,
        "form": form,
        "layout": layout,
        "filename": filename,
        "token": token,
        "report": None,
        "changed": False,
        "error": "",
    }
    status = 200
    if layout.errors:
        status = 422
    elif import_files.fingerprint(data) != token or (posted and form.data.get("empreinte") != token):
        context["changed"] = True
        status = 409
    elif form.is_valid():
        confirmed = posted and request.POST.get("confirm") == "oui"
        if posted and not confirmed:
            context["error"] = "Cochez « Je confirme l'import » pour continuer : rien n'a été importé."
            status = 400
        try:
            report = import_dauphin(
                user=request.user,
                call=call,
                fileobj=data,
                filename=filename,
                mapping=form.mapping(),
                dry_run=not confirmed,
            )
        except GrantsError as refusal:
            context["error"] = " ".join(refusal.messages)
            return render(request, "grants/import/preview.html", context, status=400)
        if confirmed and report.ok:
            import_files.discard_upload(contract=contract, token=token)
            messages.success(request, f"{filename or 'Export de Dauphin'} : {report.summary}")
            return redirect(reverse("www:call", kwargs={"slug": contract.slug, "year": call.year}))
        context["report"] = report
        context["created_items"] = report.created_items[:PREVIEW_ITEMS]
        context["updated_items"] = report.updated_items[:PREVIEW_ITEMS]
        hidden = max(len(report.created_items) - PREVIEW_ITEMS, 0) + max(
            len(report.updated_items) - PREVIEW_ITEMS, 0
        )
        context["hidden"] = plural(hidden, "autre dossier non affiché", "autres dossiers non affichés")
        context["hidden_count"] = hidden
        if not report.ok:
            status = 422
    elif posted:
        status = 422
    return render(request, "grants/import/preview.html", context, status=status)
