"""Formulaires de l'examen des comptes-rendus financiers (financeurs), du suivi des comptes-rendus
d'un appel et de la levée d'un blocage (pilote)."""

from django import forms

from cdv.grants.enums import ReportStatus, ReviewDecision
from cdv.grants.selectors_reports import NOT_STARTED

MAX_TEXT = 10_000


class ReviewForm(forms.Form):
    """L'examen au nom d'un financeur : accepter, ou demander des modifications (commentaire
    obligatoire alors)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    funder = forms.TypedChoiceField(label="Au nom du financeur", coerce=int)
    decision = forms.ChoiceField(
        label="Décision",
        choices=[
            (ReviewDecision.ACCEPTED, "Accepter le compte-rendu"),
            (ReviewDecision.CHANGES_REQUESTED, "Demander des modifications à l'association"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Décision : choisissez « accepter » ou « demander des modifications »."},
    )
    comment = forms.CharField(
        label="Commentaire",
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Obligatoire pour demander des modifications : l'association le reçoit par courriel.",
    )

    def __init__(self, *args, funders, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["funder"].choices = [(f.pk, str(f.partner)) for f in funders]
        if len(funders) == 1:
            self.fields["funder"].initial = funders[0].pk
            self.fields["funder"].widget = forms.HiddenInput()

    def clean(self):
        data = super().clean()
        if (
            data.get("decision") == ReviewDecision.CHANGES_REQUESTED
            and not (data.get("comment") or "").strip()
        ):
            self.add_error("comment", "Commentaire : dites à l'association ce qu'elle doit modifier.")
        return data


class ReportsFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="État du compte-rendu",
        required=False,
        choices=[("", "Tous"), (NOT_STARTED, "Pas commencé"), *ReportStatus.choices],
    )
    funder = forms.TypedChoiceField(label="Financeur", required=False, coerce=int, empty_value=None)
    late = forms.BooleanField(label="En retard seulement", required=False)
    q = forms.CharField(label="Association ou projet", required=False, max_length=100)

    def __init__(self, *args, funders, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["funder"].choices = [("", "Tous")] + [(f.pk, str(f.partner)) for f in funders]


class LiftForm(forms.Form):
    reason = forms.CharField(
        label="Raison de la levée",
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Gardée dans l'historique des dossiers concernés et dans la liste des levées.",
        error_messages={"required": "Raison : dites pourquoi le blocage est levé."},
    )
    confirm = forms.BooleanField(
        label="Je confirme : l'association pourra déposer à cet appel malgré ces comptes-rendus",
        error_messages={"required": "Cochez « Je confirme » pour lever le blocage : rien n'a été fait."},
    )
