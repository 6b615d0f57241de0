"""Formulaire de l'opérateur : accorder la lecture inter-contrats (vue de l'État)."""

from django import forms


class CrossContractReaderForm(forms.Form):
    email = forms.EmailField(
        label="Adresse électronique de la personne",
        help_text="La personne doit déjà avoir un compte sur la plateforme.",
    )
    partner = forms.CharField(
        label="Partenaire signataire",
        max_length=200,
        help_text="Nom, sigle ou SIREN du partenaire (ex. : Préfecture de la Loire-Atlantique). "
        "La personne lira tous les contrats qu'il a signés.",
    )
