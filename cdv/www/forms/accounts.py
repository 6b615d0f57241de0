"""Formulaires des comptes (invitation, acceptation)."""

from django import forms
from django.contrib.auth import password_validation

from cdv.users.enums import Role


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Adresse électronique de la personne invitée")
    role = forms.ChoiceField(label="Rôle", choices=Role.choices)
    partner = forms.ModelChoiceField(
        label="Au nom du partenaire",
        queryset=None,
        required=False,
        help_text="Obligatoire sauf pour un pilote, un évaluateur, un correspondant de quartier ou un "
        "membre du comité des financeurs. Référent d'appel à projets : l'association ; instructeur : "
        "le financeur ; délégué du préfet : l'État.",
    )

    qpv = forms.ModelChoiceField(
        label="Pour le quartier",
        queryset=None,
        required=False,
        error_messages={"invalid_choice": "Ce quartier n'est pas un quartier prioritaire de ce contrat."},
        help_text="Correspondant de quartier et délégué du préfet (appel à projets) : le quartier "
        "prioritaire du contrat dont la personne donne l'avis.",
    )

    def __init__(self, *args, partners, qpvs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = partners
        self.fields["qpv"].queryset = qpvs


class AcceptInvitationForm(forms.Form):
    first_name = forms.CharField(label="Prénom", max_length=150, required=False)
    last_name = forms.CharField(label="Nom", max_length=150, required=False)
    password1 = forms.CharField(
        label="Mot de passe", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label="Confirmez le mot de passe", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args, email, **kwargs):
        self.email = email
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = password_validation.password_validators_help_text_html()

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "Les deux mots de passe ne sont pas identiques.")
        elif data.get("password1"):
            from cdv.users.models import User

            try:
                password_validation.validate_password(data["password1"], User(email=self.email))
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data
