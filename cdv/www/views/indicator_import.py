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
from pathlib import PurePath
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from cdv.commitments import abilities
from cdv.indicators import import_files
from cdv.indicators.importer import MAX_UPLOAD_BYTES, import_indicator_values, inspect_file
from cdv.indicators.mapper import LONG, PERIOD_KEY, SOURCE_MAX, VINTAGE_MAX
from cdv.indicators.models import Indicator

from .helpers import get_contract, require

ALLOWED_SUFFIXES = {".csv", ".xlsx"}
SESSION_KEY = "indicator_import_names"  # jeton → nom du fichier téléversé (pour les messages)
KEPT_NAMES = 20
LONG_COLUMNS = [
    ("col_indicateur", "indicator", "Colonne du code de l'indicateur"),
    ("col_territoire", "territory", "Colonne du code du territoire"),
    ("col_periode", "period", "Colonne de la période (année)"),
    ("col_valeur", "value", "Colonne de la valeur"),
]
LAYOUT_LABELS = {
    LONG: "longue (une valeur par ligne : indicateur, territoire, période, valeur)",
    "large": "large (fichier de l'INSEE : un territoire par ligne, une colonne par indicateur)",
}


class ProvenanceFields(forms.Form):
    source = forms.CharField(
        label="Source des valeurs",
        required=False,
        max_length=SOURCE_MAX,
        help_text="Ex. : INSEE, Filosofi 2021. Une colonne « source » du fichier l'emporte, ligne par ligne.",
    )
    millesime = forms.CharField(
        label="Millésime",
        required=False,
        max_length=VINTAGE_MAX,
        help_text="Ex. : 2021. Une colonne « millesime » du fichier l'emporte, ligne par ligne.",
    )
    periode = forms.CharField(
        label="Période de toutes les valeurs",
        required=False,
        max_length=10,
        help_text="Pour un fichier sans colonne de période (fichier de l'INSEE) : une année (2025) "
        "ou un trimestre (2025-T3).",
    )
    definitif = forms.BooleanField(
        label="Ces valeurs sont définitives (sinon, elles sont enregistrées comme provisoires)",
        required=False,
    )


class UploadForm(ProvenanceFields):
    field_order = ["fichier"]

    fichier = forms.FileField(
        label="Fichier CSV ou XLSX",
        help_text="Format long (indicateur, territoire, periode, valeur) ou fichier de l'INSEE "
        f"(CODGEO, LIBGEO puis une colonne par indicateur) ; {MAX_UPLOAD_BYTES // (1024 * 1024)} Mo au plus.",
    )

    def clean_fichier(self):
        upload = self.cleaned_data["fichier"]
        if PurePath(upload.name or "").suffix.lower() not in ALLOWED_SUFFIXES:
            raise ValidationError("Format non pris en charge : déposez un fichier .csv ou .xlsx.")
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(
                f"Fichier trop volumineux : {MAX_UPLOAD_BYTES // (1024 * 1024)} Mo au plus."
            )
        if upload.size == 0:
            raise ValidationError("Le fichier est vide.")
        # Le contenu fait foi : un fichier que l'import refuserait d'emblée n'est pas gardé.
        self.content = b"".join(upload.chunks())
        refused = inspect_file(fileobj=self.content, filename=os.path.basename(upload.name or "")).errors
        if refused:
            raise ValidationError(refused)
        return upload


class ImportSettingsForm(ProvenanceFields):
    """Les réglages de l'import d'un fichier : provenance, période, colonnes (selon la disposition)."""

    empreinte = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, data, *, layout, indicators):
        super().__init__()
        self.layout = layout
        # La disposition reconnue, que le pilote peut corriger (les colonnes proposées en dépendent).
        self.kind = data.get("disposition") if data.get("disposition") in LAYOUT_LABELS else layout.layout
        self.fields["disposition"] = forms.ChoiceField(
            label="Disposition du fichier",
            choices=[(key, label.capitalize()) for key, label in LAYOUT_LABELS.items()],
        )
        self.candidates = []  # (nom du champ, intitulé de la colonne) d'un fichier large
        headers = [(text, text) for text in layout.headers]
        detected = layout.columns
        initial = {"disposition": self.kind}
        if self.kind == LONG:
            for name, key, label in LONG_COLUMNS:
                empty = "Aucune : période donnée ci-dessus" if key == "period" else "— à choisir —"
                self.fields[name] = forms.ChoiceField(
                    label=label, required=key != "period", choices=[("", empty), *headers]
                )
                initial[name] = detected.get(key, "")
        else:
            self.fields["col_territoire"] = forms.ChoiceField(
                label="Colonne du code du territoire (CODGEO)", choices=[("", "— à choisir —"), *headers]
            )
            initial["col_territoire"] = detected.get("territory", "")
            choices = [
                ("", "Ignorer cette colonne"),
                *((code, f"{name} ({code})") for code, name in indicators),
            ]
            by_code = {code.lower(): code for code, _ in indicators}
            for index, text in enumerate(layout.candidates):
                name = f"colonne_{index}"
                self.fields[name] = forms.ChoiceField(
                    label=f"Colonne « {text} »", required=False, choices=choices
                )
                initial[name] = by_code.get(text.strip().lower(), "")
                self.candidates.append((name, text))
        merged = {**initial, **{key: data.get(key) for key in data if key in self.fields}}
        self.is_bound = True
        self.data = merged
        self.files = {}

    def clean(self):
        data = super().clean()
        columns = self.layout.columns
        if not data.get("source") and "source" not in columns:
            self.add_error(
                "source",
                "Indiquez la source des valeurs (ex. « INSEE, Filosofi 2021 ») : "
                "le fichier n'a pas de colonne « source ».",
            )
        if not data.get("millesime") and "vintage" not in columns:
            self.add_error(
                "millesime",
                "Indiquez le millésime des valeurs (ex. « 2021 ») : "
                "le fichier n'a pas de colonne « millesime ».",
            )
        if self.kind == LONG:
            has_period = bool(data.get("col_periode"))
            chosen = [data.get(name) for name, _, _ in LONG_COLUMNS if data.get(name)]
            for name, _, _ in LONG_COLUMNS:
                value = data.get(name)
                if value and chosen.count(value) > 1:
                    self.add_error(name, f"la colonne « {value} » est choisie deux fois.")
        else:
            has_period = "period" in columns
            if not any(data.get(name) for name, _ in self.candidates):
                self.add_error(None, "Associez au moins une colonne du fichier à un indicateur du contrat.")
        if not has_period and not data.get("periode"):
            self.add_error(
                "periode",
                "Indiquez la période des valeurs (ex. 2025) : le fichier n'a pas de colonne de période.",
            )
        return data

    def import_kwargs(self) -> dict:
        data = self.cleaned_data
        mapping = {text: data[name] for name, text in self.candidates if data.get(name)}
        if data.get("periode"):
            mapping[PERIOD_KEY] = data["periode"]
        if self.kind == LONG:
            columns = {key: data.get(name, "") for name, key, _ in LONG_COLUMNS}
        else:
            columns = {"territory": data.get("col_territoire", "")}
        return {
            "source": data.get("source", ""),
            "vintage": data.get("millesime", ""),
            "final": bool(data.get("definitif")),
            "mapping": mapping or None,
            "columns": columns,
        }

    def confirm_fields(self) -> list[tuple[str, str]]:
        """Les réglages de l'aperçu, repris tels quels par le formulaire de confirmation."""
        fields = []
        for name in self.fields:
            value = self.cleaned_data.get(name)
            if name == "empreinte":
                continue
            if name == "definitif":
                if value:
                    fields.append((name, "on"))
            elif value:
                fields.append((name, str(value)))
        return fields


def _pilot_contract(request, slug):
    contract = get_contract(request, slug)
    require(
        abilities.is_pilot(request.user, contract),
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
    indicators = list(
        Indicator.objects.filter(contract=contract).order_by("code").values_list("code", "name")
    )
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
