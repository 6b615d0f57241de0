"""Formulaires du compte-rendu financier côté association : le compte-rendu (trois chemins), le
budget réalisé ligne à ligne, le fichier des bénéficiaires, la transmission. Montants et nombres à
la française."""

from django import forms

from cdv.core.numbers import FrenchIntegerField
from cdv.grants.enums import ReportPath
from cdv.grants.services.reports import REPORT_FIELDS, ActualLine, PlannedRow

from .grants_applications import euro_field

DATE = {"widget": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), "required": False}


def _text(label, rows=4, **kwargs):
    return forms.CharField(
        label=label, required=False, max_length=10_000, widget=forms.Textarea(attrs={"rows": rows}), **kwargs
    )


class ReportForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    path = forms.ChoiceField(
        label="Où en est l'action ?", choices=ReportPath.choices, widget=forms.RadioSelect
    )
    # Réalisée
    achievements = _text("Ce qui a été fait", 6, help_text="Les actions menées, leur nombre, les lieux.")
    beneficiaries_reached = FrenchIntegerField(label="Bénéficiaires touchés", required=False, min_value=0)
    qpv_beneficiaries = FrenchIntegerField(
        label="Dont habitants d'un quartier prioritaire (QPV)",
        required=False,
        min_value=0,
        help_text="La part en QPV en est déduite, sauf si vous la calculez d'après le fichier des adresses.",
    )
    indicators_results = _text(
        "Indicateurs d'évaluation : résultats",
        help_text="Pour chaque indicateur prévu au dossier, le résultat.",
    )
    difficulties = _text("Difficultés rencontrées, écarts avec le projet", 3)
    documents = forms.ModelMultipleChoiceField(
        label="Pièces justificatives jointes",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": "Cette pièce n'est pas une pièce justificative de votre association."
        },
    )
    new_file = forms.FileField(
        label="Ajouter une pièce justificative",
        required=False,
        help_text="PDF, JPEG, PNG ou document bureautique, 10 Mo au plus ; elle est jointe au compte-rendu.",
    )
    # Non réalisée
    not_carried_reason = _text("Pourquoi l'action n'a pas été réalisée")
    amount_to_return = euro_field(
        "Montant à reverser (€)",
        help_text="Au plus ce qui a été versé (ou accordé, si les versements sont tenus ailleurs).",
    )
    # Nouvelles dates
    new_start_date = forms.DateField(label="Nouveau début", **DATE)
    new_end_date = forms.DateField(label="Nouvelle fin", **DATE)
    new_dates_reason = _text("Pourquoi de nouvelles dates")

    def __init__(self, *args, documents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["documents"].queryset = documents
        self.fields["documents"].label_from_instance = lambda d: (
            f"{d.original_name} (déposée le {d.uploaded_at:%d/%m/%Y})"
        )

    @staticmethod
    def initial_of(report, application) -> dict:
        if report is None:
            # Version 0 : « pas de compte-rendu au chargement » ; s'il a été créé entre-temps, conflit.
            return {"path": ReportPath.CARRIED_OUT, "version": 0}
        data = {field: getattr(report, field) for field in REPORT_FIELDS}
        data["version"] = report.version
        data["documents"] = list(report.documents.all())
        return data

    def report_data(self) -> dict:
        return {field: self.cleaned_data.get(field) for field in REPORT_FIELDS}


class ReportBudgetForm(forms.Form):
    """Une ligne par ligne du budget prévu : le réalisé et, si l'écart dépasse la limite,
    l'explication."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, planned: list[PlannedRow], **kwargs):
        super().__init__(*args, **kwargs)
        self.planned = planned
        for order, row in enumerate(planned):
            self.fields[f"actual_{order}"] = euro_field(f"Réalisé — {row.title}")
            self.fields[f"explanation_{order}"] = forms.CharField(
                label=f"Explication de l'écart — {row.title}",
                required=False,
                max_length=10_000,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    @staticmethod
    def initial_of(report) -> dict:
        if report is None:
            return {"version": 0}
        data = {"version": report.version}
        for line in report.budget_lines.all():
            data[f"actual_{line.order}"] = line.actual_amount
            data[f"explanation_{line.order}"] = line.explanation
        return data

    def rows(self):
        return [
            (row, self[f"actual_{order}"], self[f"explanation_{order}"])
            for order, row in enumerate(self.planned)
        ]

    def charge_rows(self):
        return [r for r in self.rows() if r[0].is_charge]

    def income_rows(self):
        return [r for r in self.rows() if not r[0].is_charge]

    def lines(self) -> list[ActualLine]:
        return [
            ActualLine(
                order=order,
                actual=self.cleaned_data.get(f"actual_{order}"),
                explanation=self.cleaned_data.get(f"explanation_{order}") or "",
            )
            for order in range(len(self.planned))
        ]

    def actual_triples(self):
        """(compte, prévu, réalisé saisi) pour le contrôle charges = produits de la saisie."""
        cleaned = getattr(self, "cleaned_data", {})
        return [(row.account, row.planned, cleaned.get(f"actual_{o}")) for o, row in enumerate(self.planned)]


class BeneficiariesForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    file = forms.FileField(
        label="Fichier des bénéficiaires (CSV ou XLSX)",
        help_text="Une ligne par bénéficiaire, les noms de colonnes sur la première ligne : « adresse », "
        "« code_postal », « commune » ; ou « longitude » et « latitude » ; ou « x » et « y » (Lambert-93). "
        "5 000 lignes et 2 Mo au plus.",
    )


class SubmitReportForm(forms.Form):
    confirm = forms.BooleanField(
        label="Je confirme transmettre ce compte-rendu aux financeurs au nom de l'association.",
        required=False,
    )
