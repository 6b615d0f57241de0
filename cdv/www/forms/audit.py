"""Formulaire de filtre du journal d'audit."""

from django import forms

from cdv.users.models import DELETED_ACCOUNT_LABEL


def person_label(user) -> str:
    if user is None:
        return "(automatique)"
    if user.anonymized_at:
        return DELETED_ACCOUNT_LABEL
    full = user.get_full_name()
    return f"{full} ({user.email})" if full else user.email


class AuditFilterForm(forms.Form):
    qui = forms.TypedChoiceField(label="Personne", required=False, coerce=int, empty_value=None)
    objet = forms.ChoiceField(label="Type d'objet", required=False)
    du = forms.DateField(label="Du", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    au = forms.DateField(label="Au", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    q = forms.CharField(label="Texte (intitulé)", required=False, max_length=200)

    def __init__(self, *args, people=(), sources=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["objet"].choices = [("", "Tous")] + [(s.key, s.label) for s in sources]
        self.fields["qui"].choices = [("", "Tout le monde")] + [(u.pk, person_label(u)) for u in people]
