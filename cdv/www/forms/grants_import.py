"""Formulaires de l'import d'un export de Dauphin : le fichier, puis la correspondance des colonnes."""

import os
from pathlib import PurePath

from django import forms
from django.core.exceptions import ValidationError

from cdv.grants.dauphin import COLUMNS, inspect_file
from cdv.indicators.importer import MAX_UPLOAD_BYTES

from .indicator_import import ALLOWED_SUFFIXES


class UploadForm(forms.Form):
    fichier = forms.FileField(
        label="Export de Dauphin (CSV ou XLSX)",
        help_text="Une ligne par dossier et par financeur, comme Dauphin l'exporte ; "
        f"{MAX_UPLOAD_BYTES // (1024 * 1024)} Mo au plus.",
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


def field_name(key: str) -> str:
    return f"col_{key}"


class MappingForm(forms.Form):
    """La colonne du fichier retenue pour chaque donnée de l'import, proposée d'après les intitulés
    reconnus ; toujours liée (les réglages voyagent dans l'adresse de l'aperçu)."""

    empreinte = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, data, *, layout):
        super().__init__()
        headers = [(text, text) for text in layout.headers]
        initial = {}
        for column in COLUMNS:
            empty = "— à choisir —" if column.required else "Aucune"
            self.fields[field_name(column.key)] = forms.ChoiceField(
                label=f"{column.label}{'' if column.required else ' (facultatif)'}",
                required=column.required,
                choices=[("", empty), *headers],
            )
            initial[field_name(column.key)] = layout.columns.get(column.key, "")
        # Sans réglage dans la requête : les colonnes reconnues ; sinon ce que le pilote a choisi.
        chosen = any(field_name(column.key) in data for column in COLUMNS)
        merged = {**initial, **({key: data.get(key) for key in data if key in self.fields} if chosen else {})}
        if not chosen and "empreinte" in data:
            merged["empreinte"] = data.get("empreinte")
        self.is_bound = True
        self.data = merged
        self.files = {}

    def clean(self):
        data = super().clean()
        values = [data.get(field_name(column.key)) for column in COLUMNS]
        for column in COLUMNS:
            value = data.get(field_name(column.key))
            if value and values.count(value) > 1:
                self.add_error(field_name(column.key), f"la colonne « {value} » est choisie deux fois.")
        return data

    def mapping(self) -> dict[str, str]:
        """``{clé: intitulé}`` pour ``import_dauphin`` ; une clé sans colonne vaut « »."""
        return {column.key: self.cleaned_data.get(field_name(column.key)) or "" for column in COLUMNS}

    def confirm_fields(self) -> list[tuple[str, str]]:
        """Les réglages de l'aperçu, repris tels quels par le formulaire de confirmation."""
        return [
            (field_name(column.key), self.cleaned_data.get(field_name(column.key)) or "")
            for column in COLUMNS
        ]
