"""Formulaires du géoréférencement (point, fichier d'adresses, enregistrement en indicateur)."""

import tempfile
from decimal import Decimal
from pathlib import PurePath

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from cdv.core.numbers import FrenchDecimalField
from cdv.georef import services

ALLOWED_SUFFIXES = {".csv", ".xlsx"}


def read_header(upload) -> list[str]:
    """Noms des colonnes du fichier déposé, lus comme le fera le traitement (encodage, séparateur)."""
    from cdv.georef.pipeline import GeorefError
    from cdv.georef.pipeline import read_header as pipeline_header

    suffix = PurePath(upload.name or "").suffix.lower()
    try:
        if hasattr(upload, "temporary_file_path"):
            header, _, _ = pipeline_header(upload.temporary_file_path())
        else:
            with tempfile.NamedTemporaryFile(suffix=suffix) as handle:
                for chunk in upload.chunks():
                    handle.write(chunk)
                handle.flush()
                header, _, _ = pipeline_header(handle.name)
    except GeorefError as error:
        raise ValidationError(str(error)) from error
    except Exception as error:  # un classeur abîmé fait échouer openpyxl de bien des façons
        raise ValidationError(
            "Fichier illisible : déposez un CSV (UTF-8, séparateur « ; » ou « , ») ou un classeur XLSX."
        ) from error
    finally:
        upload.seek(0)
    header = [h for h in header if str(h).strip()]
    if not header:
        raise ValidationError("Le fichier est vide ou sa première ligne ne nomme aucune colonne.")
    return header


def _split_columns(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class PointForm(forms.Form):
    lon = FrenchDecimalField(
        label="Longitude (degrés, WGS84)",
        thousands=False,
        required=False,
        min_value=-180,
        max_value=180,
        help_text="Ex. : -1,5256 (ouest de Greenwich : nombre négatif).",
    )
    lat = FrenchDecimalField(
        label="Latitude (degrés, WGS84)",
        thousands=False,
        required=False,
        min_value=-90,
        max_value=90,
        help_text="Ex. : 47,2064.",
    )
    adresse = forms.CharField(
        label="Ou une adresse",
        required=False,
        max_length=200,
        help_text="Ex. : 5 rue du Croisic 44100 Nantes (géocodée par la Base Adresse Nationale).",
    )
    geographie = forms.ChoiceField(
        label="Géographie prioritaire",
        choices=[("2024", "2024 (en vigueur)"), ("2015", "2015")],
        initial="2024",
        required=False,
    )

    def clean_lon(self):
        return None if self.cleaned_data["lon"] is None else float(self.cleaned_data["lon"])

    def clean_lat(self):
        return None if self.cleaned_data["lat"] is None else float(self.cleaned_data["lat"])

    def clean(self):
        data = super().clean()
        has_point = data.get("lon") is not None or data.get("lat") is not None
        if has_point and (data.get("lon") is None or data.get("lat") is None):
            raise ValidationError("Indiquez la longitude et la latitude, ou une adresse.")
        if not has_point and not data.get("adresse") and not self.errors:
            raise ValidationError("Indiquez des coordonnées ou une adresse.")
        return data


class UploadForm(forms.Form):
    MODES = [
        ("auto", "Reconnaître d'après les noms des colonnes"),
        ("lonlat", "Longitude et latitude (degrés, WGS84)"),
        ("xy", "X et Y en Lambert-93 (mètres)"),
        ("address", "Adresses (géocodées par la Base Adresse Nationale)"),
    ]
    fichier = forms.FileField(
        label="Fichier CSV ou XLSX",
        help_text="Une ligne par personne ou par lieu ; la première ligne nomme les colonnes.",
    )
    mode = forms.ChoiceField(label="Ce que contient le fichier", choices=MODES, initial="auto")
    col_lon = forms.CharField(label="Colonne de la longitude", required=False, max_length=100)
    col_lat = forms.CharField(label="Colonne de la latitude", required=False, max_length=100)
    col_x = forms.CharField(label="Colonne X (Lambert-93)", required=False, max_length=100)
    col_y = forms.CharField(label="Colonne Y (Lambert-93)", required=False, max_length=100)
    col_adresse = forms.CharField(
        label="Colonne(s) de l'adresse",
        required=False,
        max_length=300,
        help_text="Plusieurs colonnes séparées par des virgules, dans l'ordre : ex. « numero, voie ».",
    )
    col_code_postal = forms.CharField(label="Colonne du code postal", required=False, max_length=100)
    col_commune = forms.CharField(label="Colonne de la commune", required=False, max_length=100)
    geographie = forms.ChoiceField(
        label="Géographie prioritaire",
        choices=[("2024", "2024 (en vigueur)"), ("2015", "2015")],
        initial="2024",
    )
    score_min = FrenchDecimalField(
        label="Score minimal d'une adresse",
        thousands=False,
        min_value=0,
        max_value=1,
        initial=Decimal("0.5"),
        help_text="Entre 0 et 1 : en dessous, l'adresse est classée « score trop faible » et non située.",
    )
    format_sortie = forms.ChoiceField(
        label="Format du résultat",
        choices=[("csv", "CSV (UTF-8, s'ouvre dans Excel)"), ("xlsx", "Classeur Excel (XLSX)")],
        initial="csv",
        required=False,
        help_text="Les mêmes lignes et colonnes, plus celles du résultat ; le XLSX est plus long à produire.",
    )
    contrat = forms.SlugField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("col_lon", "col_lat", "col_x", "col_y", "col_code_postal", "col_commune"):
            self.fields[name].help_text = self.fields[name].help_text or "Laissez vide pour la reconnaître."
        self.header = []

    def clean_fichier(self):
        upload = self.cleaned_data["fichier"]
        if PurePath(upload.name or "").suffix.lower() not in ALLOWED_SUFFIXES:
            raise ValidationError("Format non pris en charge : déposez un fichier .csv ou .xlsx.")
        limit = settings.GEOREF_MAX_UPLOAD_MB
        if upload.size > limit * 1024 * 1024:
            raise ValidationError(f"Fichier trop volumineux : {limit} Mo au plus.")
        if upload.size == 0:
            raise ValidationError("Le fichier est vide.")
        self.header = read_header(upload)
        return upload

    def clean(self):
        from cdv.georef.pipeline import GeorefError, guess_options, resolve_column

        data = super().clean()
        if self.errors:
            return data
        header = self.header
        columns = ", ".join(header)
        mode = data["mode"]
        manual = {
            "lon": data.get("col_lon"),
            "lat": data.get("col_lat"),
            "x": data.get("col_x"),
            "y": data.get("col_y"),
            "address_columns": _split_columns(data.get("col_adresse")),
            "postcode": data.get("col_code_postal"),
            "city": data.get("col_commune"),
        }
        guessed = guess_options(header)
        if mode == "auto":
            if manual["lon"] and manual["lat"]:
                mode = "lonlat"
            elif manual["x"] and manual["y"]:
                mode = "xy"
            elif manual["address_columns"]:
                mode = "address"
            elif guessed is not None:
                mode = guessed.mode
            else:
                raise ValidationError(
                    "Colonnes non reconnues : choisissez ce que contient le fichier et nommez ses colonnes. "
                    f"Colonnes du fichier : {columns}."
                )
        guess = guessed if guessed is not None and guessed.mode == mode else None
        wanted = {
            "lonlat": ["lon", "lat"],
            "xy": ["x", "y"],
            "address": ["address_columns", "postcode", "city"],
        }
        options = {key: None for key in ("lon", "lat", "x", "y", "postcode", "city")}
        options["address_columns"] = []
        for key in wanted[mode]:
            options[key] = manual[key] or (getattr(guess, key) if guess else None) or options[key]
        labels = {"lon": "longitude", "lat": "latitude", "x": "X", "y": "Y", "address_columns": "adresse"}
        missing = [labels[k] for k in wanted[mode] if k in labels and not options[k]]
        if missing:
            raise ValidationError(
                f"Nommez la colonne : {', '.join(missing)}. Colonnes du fichier : {columns}."
            )
        try:
            for key in wanted[mode]:
                for name in options[key] if key == "address_columns" else [options[key]]:
                    if name:
                        resolve_column(header, name, labels.get(key, "de code postal ou de commune"))
        except GeorefError as error:
            raise ValidationError(str(error)) from error
        data["options"] = {
            "mode": mode,
            **options,
            "geography": data["geographie"],
            "min_score": float(data["score_min"]),
            "output_format": data.get("format_sortie") or "csv",
        }
        return data


class RecordForm(forms.Form):
    cible = forms.ChoiceField(label="Engagement et indicateur")
    annee = forms.TypedChoiceField(label="Année", coerce=int)

    def __init__(self, *args, pairs, **kwargs):
        super().__init__(*args, **kwargs)
        self.pairs = {f"{c.pk}-{i.pk}": (c, i) for c, i in pairs}
        self.fields["cible"].choices = [
            (key, f"{c.partner.name} — {c.title} — {i.name} ({i.unit})") for key, (c, i) in self.pairs.items()
        ]
        years = set()
        for commitment, _ in pairs:
            years.update(services.year_choices(commitment.contract))
        self.fields["annee"].choices = [(y, str(y)) for y in sorted(years, reverse=True)]
        if years and not self.is_bound:
            # La dernière année achevée (les adresses d'une liste de bénéficiaires portent sur une année
            # passée), ramenée dans les années proposées : jamais l'année de fin du contrat par défaut.
            last_done = timezone.localdate().year - 1
            self.initial["annee"] = min(max(last_done, min(years)), max(years))
