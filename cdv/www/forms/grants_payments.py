"""Formulaires des versements : échéancier d'une ligne votée, versement fait, annulation motivée.
Montants à la française (« 1 234,56 € ») quelle que soit la langue du navigateur ; dates dans un
champ ``type="date"`` (AAAA-MM-JJ) qui accepte aussi JJ/MM/AAAA."""

from decimal import Decimal

from django import forms
from django.utils import timezone

from cdv.core.figures import french_number
from cdv.core.numbers import FrenchDecimalField
from cdv.grants.enums import InstalmentKind, PaymentTerms
from cdv.grants.services.payments import (
    BALANCE_CONDITION,
    MAX_CONDITION_LENGTH,
    MAX_REASON_LENGTH,
    MAX_REFERENCE_LENGTH,
    PlannedInstalment,
    staged_amounts,
)

from .grants_applications import euro_field

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


def date_field(label: str, *, required: bool = False, **kwargs) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": f"{label} : indiquez-la.",
            "invalid": f"{label} : date invalide (JJ/MM/AAAA).",
        },
        **kwargs,
    )


def condition_field(label: str, **kwargs) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=MAX_CONDITION_LENGTH,
        error_messages={"max_length": f"{label} : {MAX_CONDITION_LENGTH} caractères au plus."},
        **kwargs,
    )


class ScheduleForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    terms = forms.ChoiceField(
        label="Mode de versement",
        choices=PaymentTerms.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Mode de versement : choisissez-en un."},
    )
    single_amount = euro_field("Montant du versement unique", help_text="Le montant voté.")
    single_due_date = date_field("Date prévue du versement unique")
    single_condition = condition_field(
        "Condition du versement unique", help_text="Ex. : à la signature de l'acte."
    )
    advance_percent = FrenchDecimalField(
        label="Avance en pourcentage du montant voté",
        unit="%",
        required=False,
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal("99.99"),
        help_text="Ex. : 80 %. Ou saisissez directement le montant de l'avance.",
    )
    advance_amount = euro_field("Montant de l'avance")
    advance_due_date = date_field("Date prévue de l'avance")
    advance_condition = condition_field("Condition de l'avance", help_text="Ex. : à la signature de l'acte.")
    balance_amount = euro_field("Montant du solde", help_text="Vide : le montant voté moins l'avance.")
    balance_due_date = date_field("Date prévue du solde")
    balance_condition = condition_field("Condition du solde", help_text=f"Ex. : {BALANCE_CONDITION}.")

    def __init__(self, *args, voted: Decimal, **kwargs):
        self.voted = voted
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        if self.errors or data.get("terms") != PaymentTerms.STAGED:
            return data
        percent, advance = data.get("advance_percent"), data.get("advance_amount")
        if percent is not None:
            computed, _ = staged_amounts(self.voted, percent)
            if advance is None:
                data["advance_amount"] = advance = computed
            elif advance != computed:
                self.add_error(
                    "advance_percent",
                    f"Avance en pourcentage : {french_number(percent, '%')} du montant voté font "
                    f"{french_number(computed, '€')}, mais l'avance saisie est de "
                    f"{french_number(advance, '€')} : videz l'un des deux champs.",
                )
                return data
        if advance is None:
            self.add_error(
                "advance_amount", "Montant de l'avance : indiquez-le, ou son pourcentage du montant voté."
            )
        elif data.get("balance_amount") is None:
            data["balance_amount"] = self.voted - advance
        return data

    def planned(self) -> tuple[str, list[PlannedInstalment]]:
        data = self.cleaned_data
        terms = data["terms"]
        if terms == PaymentTerms.SINGLE:
            amount = data["single_amount"] if data["single_amount"] is not None else self.voted
            return terms, [
                PlannedInstalment(
                    InstalmentKind.SINGLE, amount, data["single_due_date"], data["single_condition"]
                )
            ]
        return terms, [
            PlannedInstalment(
                InstalmentKind.ADVANCE,
                data["advance_amount"],
                data["advance_due_date"],
                data["advance_condition"],
            ),
            PlannedInstalment(
                InstalmentKind.BALANCE,
                data["balance_amount"],
                data["balance_due_date"],
                data["balance_condition"],
            ),
        ]

    @staticmethod
    def initial_of(line, instalments, act_terms: str | None) -> dict:
        """Les valeurs du formulaire : l'échéancier enregistré, sinon le mode de l'acte."""
        initial = {
            "version": line.version,
            "single_amount": line.voted_amount,
            "balance_condition": BALANCE_CONDITION,
        }
        if not instalments:
            initial["terms"] = act_terms or PaymentTerms.SINGLE
            return initial
        by_kind = {i.kind: i for i in instalments}
        initial["terms"] = PaymentTerms.SINGLE if InstalmentKind.SINGLE in by_kind else PaymentTerms.STAGED
        for kind, prefix in (
            (InstalmentKind.SINGLE, "single"),
            (InstalmentKind.ADVANCE, "advance"),
            (InstalmentKind.BALANCE, "balance"),
        ):
            if kind in by_kind:
                instalment = by_kind[kind]
                initial[f"{prefix}_amount"] = instalment.amount
                initial[f"{prefix}_due_date"] = instalment.due_date
                initial[f"{prefix}_condition"] = instalment.condition
        return initial


class PaymentForm(forms.Form):
    paid_on = date_field("Date du versement", required=True, initial=timezone.localdate)
    amount = euro_field("Montant versé")
    reference = forms.CharField(
        label="Référence du mandat",
        required=False,
        max_length=MAX_REFERENCE_LENGTH,
        help_text="Le numéro du mandat de paiement, pour retrouver le versement en comptabilité.",
        error_messages={"max_length": f"Référence du mandat : {MAX_REFERENCE_LENGTH} caractères au plus."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].required = True
        self.fields["amount"].error_messages["required"] = "Montant versé : indiquez-le."


class CancelPaymentForm(forms.Form):
    reason = forms.CharField(
        label="Motif de l'annulation",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=MAX_REASON_LENGTH,
        help_text="Il reste dans l'historique du dossier, lisible par l'association.",
        error_messages={
            "required": "Motif de l'annulation : dites pourquoi ce versement est annulé.",
            "max_length": f"Motif de l'annulation : {MAX_REASON_LENGTH} caractères au plus.",
        },
    )
    confirm = forms.BooleanField(
        label="Je confirme l'annulation de ce versement : il ne comptera plus dans ce qui est versé.",
        error_messages={"required": "Cochez la case « Je confirme » pour annuler ce versement."},
    )


class BoardFilterForm(forms.Form):
    funder = forms.TypedChoiceField(label="Financeur", required=False, coerce=int, empty_value=None)
    state = forms.ChoiceField(label="État", required=False)

    def __init__(self, *args, funders, states, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["funder"].choices = [("", "Tous les financeurs")] + [
            (f.pk, f.partner.name) for f in funders
        ]
        self.fields["state"].choices = states
