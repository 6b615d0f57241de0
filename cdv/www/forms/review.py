"""Formulaires du suivi annuel (ouverture de campagne, bilan, renvoi)."""

from django import forms
from django.core.exceptions import ValidationError

from cdv.commitments.enums import PUBLIC_STATUSES, CommitmentStatus
from cdv.core.numbers import FrenchDecimalField, FrenchIntegerField
from cdv.core.validators import check_zip_archive, foreign_content
from cdv.monitoring import services


class OpenCampaignForm(forms.Form):
    year = FrenchIntegerField(
        label="Année suivie",
        thousands=False,
        min_value=1990,
        max_value=2100,
        help_text="L'année dont les partenaires font le bilan (ex. : 2025).",
    )
    deadline = forms.DateField(
        label="Date limite des bilans",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    opens_on = forms.DateField(
        label="Date d'ouverture (facultatif)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Aujourd'hui si vous la laissez vide.",
    )


class ReportForm(forms.Form):
    reported_status = forms.ChoiceField(
        label="Où en est l'engagement ?",
        choices=[("", "— à choisir —")]
        + [(s.value, s.label) for s in CommitmentStatus if s in PUBLIC_STATUSES],
        required=False,
    )
    progress_pct = FrenchIntegerField(
        label="Avancement (%)", unit="%", min_value=0, max_value=100, required=False, help_text="De 0 à 100."
    )
    fte_actual = FrenchDecimalField(
        label="ETP effectivement mobilisés",
        unit="ETP",
        min_value=0,
        max_digits=7,
        decimal_places=2,
        required=False,
        help_text="Équivalents temps plein sur l'année, ex. : 0,5.",
    )
    amount_actual = FrenchDecimalField(
        label="Euros effectivement mobilisés",
        unit="€",
        min_value=0,
        max_digits=14,
        decimal_places=2,
        required=False,
        help_text="Montant dépensé sur l'année, en euros.",
    )
    what_worked = forms.CharField(
        label="Ce qui a marché", required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    difficulties = forms.CharField(
        label="Difficultés rencontrées",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Obligatoire si l'engagement est partiellement réalisé, non réalisé ou abandonné.",
    )
    attachment = forms.FileField(
        label="Ajouter une pièce jointe (facultatif)",
        required=False,
        help_text=(
            f"{services.ALLOWED_LABEL} ; {services.MAX_ATTACHMENT_BYTES // (1024 * 1024)} Mo au plus. "
            "Elle est jointe quand vous enregistrez ou transmettez le bilan."
        ),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    DATA_FIELDS = services.EDITABLE_FIELDS

    def __init__(self, *args, indicator_slots=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.indicator_slots = list(indicator_slots)
        for index, (indicator, territory, initial, locked_by) in enumerate(self.indicator_slots):
            where = territory.name if territory is not None else "ensemble des QPV du contrat"
            # Une valeur saisie ailleurs (autre partenaire, pilote, import) se lit mais ne se remplace
            # pas d'ici : la case est désactivée, et ce qu'on enverrait malgré tout est ignoré.
            self.fields[f"indval_{index}"] = FrenchDecimalField(
                label=f"{indicator.name} — {where} ({indicator.unit})",
                unit=indicator.unit,
                required=False,
                max_digits=16,
                decimal_places=4,
                initial=initial,
                disabled=locked_by is not None,
                help_text=f"Valeur déjà saisie ({locked_by}) : elle ne se modifie pas depuis ce bilan."
                if locked_by is not None
                else "",
            )

    def indicator_fields(self):
        return [self[f"indval_{index}"] for index in range(len(self.indicator_slots))]

    def indicator_values(self):
        """(indicateur, territoire, valeur) pour les cases remplies ; une case vide ne change rien."""
        return [
            (indicator, territory, self.cleaned_data[f"indval_{index}"])
            for index, (indicator, territory, _, locked_by) in enumerate(self.indicator_slots)
            if locked_by is None and self.cleaned_data.get(f"indval_{index}") is not None
        ]

    def report_data(self) -> dict:
        data = {name: self.cleaned_data.get(name) for name in self.DATA_FIELDS}
        for name in ("reported_status", "what_worked", "difficulties"):
            data[name] = data[name] or ""
        return data

    def clean_attachment(self):
        """Premiers contrôles, avant toute écriture : taille, bombe ZIP, programme ou page web.

        Le service (``add_attachment``) revérifie tout et reconnaît le type réel ; ici, un refus
        dit précisément ce qui ne va pas."""
        upload = self.cleaned_data.get("attachment")
        if upload is None:
            return upload
        limit = services.MAX_ATTACHMENT_BYTES
        if upload.size > limit:
            raise ValidationError(f"Fichier trop volumineux : {limit // (1024 * 1024)} Mo au plus.")
        head = upload.read(512)
        upload.seek(0)
        if head.startswith(b"PK\x03\x04"):
            check_zip_archive(
                upload,
                max_members=services.MAX_ZIP_MEMBERS,
                max_uncompressed=services.MAX_UNCOMPRESSED_BYTES,
                max_ratio=services.MAX_COMPRESSION_RATIO,
            )
        elif services.detect_kind(head) is None and (found := foreign_content(head)) is not None:
            raise ValidationError(
                f"Ce fichier est {found} (quel que soit son nom) : "
                f"{services.ALLOWED_LABEL} seulement, sans macro."
            )
        return upload

    @classmethod
    def initial_for(cls, report) -> dict:
        return {name: getattr(report, name) for name in cls.DATA_FIELDS} | {"version": report.version}


class ReturnReportForm(forms.Form):
    comment = forms.CharField(
        label="Ce que le partenaire doit compléter ou corriger",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
