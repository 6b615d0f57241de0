"""Formulaires des actes attributifs de l'appel à projets : acte signé, modèle d'acte d'un financeur."""

from django import forms
from django.utils import timezone


class SignedActForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    signed_on = forms.DateField(
        label="Date de signature",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y"],
        initial=timezone.localdate,
        help_text="Jour où le dernier signataire a signé (jj/mm/aaaa).",
        error_messages={
            "required": "Date de signature : indiquez-la (jj/mm/aaaa).",
            "invalid": "Date de signature : date invalide (jj/mm/aaaa).",
        },
    )
    file = forms.FileField(
        label="Acte signé (PDF)",
        help_text="Le scan de l'acte signé, en PDF, 10 Mo au plus.",
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
        error_messages={
            "required": "Acte signé : choisissez le fichier PDF.",
            "empty": "Acte signé : le fichier est vide.",
        },
    )
    confirm_replace = forms.BooleanField(
        label="Je confirme remplacer l'acte signé déjà déposé (l'ancien fichier est supprimé).",
        required=False,
    )


class ActTemplateForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    reference_prefix = forms.CharField(
        label="Préfixe des références",
        max_length=20,
        required=False,
        help_text="Ex. : ETAT-P147 ; les actes sont numérotés <préfixe>-<année>-0001. "
        "Vide : le sigle du financeur. Un changement vaut pour les actes préparés ensuite.",
    )
    visas = forms.CharField(
        label="Visas",
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        max_length=10000,
        help_text="Un visa par ligne (« Vu la loi… ; »). Vide : les visas par défaut (lois de 2000 "
        "et 2021, décret de 2001).",
    )
    clauses = forms.CharField(
        label="Articles propres au financeur",
        widget=forms.Textarea(attrs={"rows": 8}),
        required=False,
        max_length=20000,
        help_text="Ajoutés après les articles communs ; une ligne vide sépare deux paragraphes.",
    )
    signatory_name = forms.CharField(label="Signataire (nom)", max_length=200, required=False)
    signatory_title = forms.CharField(
        label="Qualité du signataire",
        max_length=200,
        required=False,
        help_text="Ex. : Le préfet de la Loire-Atlantique ; la vice-présidente déléguée.",
    )
    place = forms.CharField(label="Lieu de signature", max_length=100, required=False)
