"""Formulaires du pilotage (partenaires du contrat)."""

from django import forms

from cdv.contracts.enums import SignatoryKind
from cdv.partners.enums import PartnerKind
from cdv.partners.models import Partner

CONFIRM_LABEL = (
    "Je confirme que ce partenaire prend part au contrat : il apparaîtra parmi les signataires et "
    "participants sur la page publique, et des personnes pourront être invitées en son nom."
)


class AddPartnerForm(forms.Form):
    """Ajouter au contrat un partenaire existant de l'instance, trouvé par la recherche."""

    partner = forms.IntegerField(widget=forms.HiddenInput)
    kind = forms.ChoiceField(
        label="Place dans le contrat", choices=SignatoryKind.choices, initial=SignatoryKind.PARTICIPANT
    )
    confirm = forms.BooleanField(
        label=CONFIRM_LABEL, error_messages={"required": "Confirmez l'ajout du partenaire au contrat."}
    )

    def __init__(self, *args, contract, **kwargs):
        super().__init__(*args, **kwargs)
        self.contract = contract

    def clean_partner(self):
        partner = Partner.objects.filter(pk=self.cleaned_data["partner"]).first()
        if partner is None:
            raise forms.ValidationError("Ce partenaire n'existe pas.")
        return partner


class NewPartnerForm(forms.Form):
    """Créer une organisation absente de la plateforme et l'ajouter au contrat."""

    name = forms.CharField(label="Nom de l'organisation", max_length=200)
    kind = forms.ChoiceField(label="Type", choices=PartnerKind.choices)
    siret = forms.CharField(label="SIRET (facultatif)", max_length=17, required=False)
    place = forms.ChoiceField(
        label="Place dans le contrat", choices=SignatoryKind.choices, initial=SignatoryKind.PARTICIPANT
    )
    confirm = forms.BooleanField(
        label=CONFIRM_LABEL, error_messages={"required": "Confirmez l'ajout du partenaire au contrat."}
    )
