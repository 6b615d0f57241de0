"""Formulaires de l'éditeur du plan d'action (enjeux, objectifs, actions)."""

from django import forms
from django.urls import reverse

from cdv.core.plain import readability
from cdv.partners.models import Partner
from cdv.plan.models import Action


class EnjeuForm(forms.Form):
    title = forms.CharField(label="Intitulé", max_length=200)
    summary_plain = forms.CharField(label="Résumé en langage clair", max_length=300, required=False)
    description = forms.CharField(
        label="Description", widget=forms.Textarea(attrs={"rows": 4}), required=False
    )


class ObjectiveForm(forms.Form):
    title = forms.CharField(label="Intitulé", max_length=300)
    description = forms.CharField(
        label="Description", widget=forms.Textarea(attrs={"rows": 4}), required=False
    )


class ActionForm(forms.Form):
    title = forms.CharField(label="Intitulé", max_length=300)
    summary_plain = forms.CharField(
        label="Résumé en langage clair",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="300 caractères au plus, pour le public : phrases courtes, mots courants.",
    )
    description = forms.CharField(
        label="Description détaillée", widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    all_qpvs = forms.BooleanField(
        label="Tous les QPV du contrat (action à l'échelle métropolitaine)", required=False
    )
    qpvs = forms.ModelMultipleChoiceField(
        label="Quartiers concernés", queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    pilot_partner = forms.ModelChoiceField(label="Partenaire pilote", queryset=None, required=False)
    contributors = forms.ModelMultipleChoiceField(
        label="Partenaires contributeurs", queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    status = forms.ChoiceField(
        label="État", choices=Action._meta.get_field("status").choices, initial="PREVUE"
    )
    start_on = forms.DateField(label="Début (JJ/MM/AAAA)", required=False)
    end_on = forms.DateField(label="Fin (JJ/MM/AAAA)", required=False)

    def __init__(self, *args, contract, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["qpvs"].queryset = contract.qpvs.only("code", "name").order_by("name")
        self.fields["qpvs"].label_from_instance = lambda qpv: qpv.name
        partners = Partner.objects.taking_part_in(contract).order_by("name").only("name")
        self.fields["pilot_partner"].queryset = partners
        self.fields["contributors"].queryset = partners
        self.fields["summary_plain"].widget.attrs.update(
            {
                "data-hx-get": reverse("www:readability", args=[contract.slug]),
                "data-hx-trigger": "input changed delay:600ms",
                "data-hx-target": "#lisibilite",
                "data-hx-swap": "outerHTML",
                "aria-describedby": "id_summary_plain_helptext lisibilite",
            }
        )

    def summary_readability(self):
        value = self["summary_plain"].value() if self.is_bound else self.initial.get("summary_plain")
        return readability(value or "")
