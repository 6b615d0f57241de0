"""Formulaires du comité des financeurs : simulation d'une ligne, vote."""

from decimal import Decimal

from django import forms
from django.utils import timezone

from cdv.core.numbers import FrenchDecimalField
from cdv.grants.enums import Simulation

MAX_AMOUNT = Decimal("99999999.99")


class SimulationForm(forms.Form):
    choice = forms.ChoiceField(
        label="Simulation",
        choices=[(Simulation.PENDING, "Non simulé"), (Simulation.YES, "Oui"), (Simulation.NO, "Non")],
        required=False,
    )
    amount = FrenchDecimalField(
        label="Montant simulé",
        unit="€",
        required=False,
        min_value=Decimal("0"),
        max_value=MAX_AMOUNT,
        max_digits=12,
        decimal_places=2,
        help_text="Vide : le montant proposé par l'instructeur, sinon le montant demandé.",
    )

    def clean_choice(self):
        return self.cleaned_data.get("choice") or Simulation.PENDING


class VoteForm(forms.Form):
    decision_date = forms.DateField(
        label="Date de la décision",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        initial=timezone.localdate,
        error_messages={
            "required": "Date de la décision : indiquez-la.",
            "invalid": "Date de la décision : date invalide.",
        },
    )
    reference_prefix = forms.CharField(
        label="Préfixe des références",
        max_length=40,
        required=False,
        help_text="Chaque décision reçoit la référence « préfixe-numéro du dossier-numéro du financeur ». "
        "Vide : CF.",
    )
    confirm = forms.BooleanField(
        label="Je confirme l'enregistrement du vote du comité des financeurs : chaque ligne reçoit "
        "sa décision et chaque association est prévenue. Cet acte est définitif.",
        error_messages={"required": "Cochez la case « Je confirme » pour enregistrer le vote."},
    )
