"""Formulaires de l'import de valeurs d'indicateurs (fichier, provenance, correspondance des colonnes)."""

import os
from pathlib import PurePath

from django import forms
from django.core.exceptions import ValidationError

from cdv.indicators.importer import MAX_UPLOAD_BYTES, inspect_file
from cdv.indicators.mapper import LONG, PERIOD_KEY, SOURCE_MAX, VINTAGE_MAX

ALLOWED_SUFFIXES = {".csv", ".xlsx"}


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
