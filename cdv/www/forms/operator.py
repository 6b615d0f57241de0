"""Formulaire de l'exploitation (nouveau contrat)."""

import re

from django import forms
from django.core.exceptions import ValidationError

from cdv.contracts.enums import PlanStart, UsualSignatory
from cdv.contracts.models import Contract
from cdv.partners.enums import PartnerKind
from cdv.territories.loaders import national_epcis


class NewContractForm(forms.Form):
    epci = forms.CharField(
        label="EPCI porteur",
        max_length=200,
        required=False,
        help_text="Tapez le nom ou le SIREN de l'EPCI, puis choisissez-le dans la liste proposée.",
        widget=forms.TextInput(attrs={"list": "epci-liste", "autocomplete": "off"}),
    )
    commune_codes = forms.CharField(
        label="Ou bien : codes INSEE des communes",
        max_length=500,
        required=False,
        help_text="Seulement si le contrat ne couvre que certaines communes de l'EPCI : codes INSEE "
        "séparés par des espaces ou des virgules (ex. : 44184). Laissez vide pour tout l'EPCI.",
    )
    title = forms.CharField(
        label="Intitulé du contrat",
        max_length=200,
        help_text="Ex. : Contrat de ville de la CARENE 2024-2030.",
    )
    start_year = forms.IntegerField(label="Année de début", min_value=1990, max_value=2100, initial=2024)
    end_year = forms.IntegerField(label="Année de fin", min_value=1990, max_value=2100, initial=2030)
    signatory_kinds = forms.MultipleChoiceField(
        label="Signataires habituels à ajouter",
        choices=UsualSignatory.choices,
        required=False,
        initial=list(UsualSignatory.values),
        widget=forms.CheckboxSelectMultiple,
        help_text="Un partenaire déjà présent dans la plateforme (la préfecture, la CAF…) est repris, "
        "pas dupliqué.",
    )
    landlords = forms.CharField(
        label="Bailleurs sociaux signataires (un par ligne)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    others = forms.CharField(
        label="Autres signataires (un par ligne)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Par leur nom complet, ex. : Agence régionale de santé Pays de la Loire.",
    )
    plan_start = forms.ChoiceField(
        label="Le plan commence par",
        choices=PlanStart.choices,
        initial=PlanStart.EMPTY,
        widget=forms.RadioSelect,
    )
    copy_from = forms.ModelChoiceField(
        label="Contrat dont copier la structure",
        queryset=Contract.objects.none(),
        required=False,
        help_text="Seulement pour « la structure d'un autre contrat » : enjeux, objectifs et actions sont "
        "copiés, sans quartiers, partenaires ni engagements.",
    )
    pilot_email = forms.EmailField(
        label="Adresse du premier pilote",
        help_text="Il reçoit une invitation par courriel ; son compte gère ce contrat seulement.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["copy_from"].queryset = Contract.objects.order_by("title")

    def clean_epci(self):
        text = self.cleaned_data["epci"].strip()
        if not text:
            return ""
        epcis = national_epcis()
        siren = re.search(r"\b(\d{9})\b", text)
        if siren and siren.group(1) in epcis:
            return siren.group(1)
        named = [code for code, row in epcis.items() if row["nom"].lower() == text.lower()]
        if len(named) == 1:
            return named[0]
        raise ValidationError("EPCI introuvable : choisissez-le dans la liste proposée (nom et SIREN).")

    def clean(self):
        data = super().clean()
        codes = re.split(r"[\s,;]+", data.get("commune_codes") or "")
        data["commune_list"] = [c for c in codes if c]
        if not data.get("epci") and not data["commune_list"] and "epci" not in self.errors:
            self.add_error("epci", "Choisissez l'EPCI porteur (ou des communes par leur code INSEE).")
        if data.get("epci") and data["commune_list"]:
            # Les communes précisent le périmètre ; l'EPCI se déduit d'elles.
            data["epci"] = ""
        return data

    def service_arguments(self):
        data = self.cleaned_data
        others = [(n, PartnerKind.SOCIAL_LANDLORD) for n in data["landlords"].splitlines() if n.strip()]
        others += [(n, PartnerKind.OTHER) for n in data["others"].splitlines() if n.strip()]
        return {
            "epci_code": data["epci"],
            "commune_codes": data["commune_list"],
            "title": data["title"],
            "start_year": data["start_year"],
            "end_year": data["end_year"],
            "signatory_kinds": data["signatory_kinds"],
            "other_signatories": others,
            "plan_start": data["plan_start"],
            "copy_from": data["copy_from"],
            "pilot_email": data["pilot_email"],
        }
