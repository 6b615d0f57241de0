"""Formulaire des retours d'expérience (dépôt et modification)."""

from django import forms

from cdv.commitments.abilities import visible_commitments
from cdv.commitments.models import Commitment
from cdv.monitoring import feedback as fb
from cdv.monitoring.enums import FeedbackKind
from cdv.partners.models import Partner
from cdv.plan.models import Action, Enjeu
from cdv.territories.models import Territory


def contract_qpvs(contract):
    return contract.qpvs.only("code", "name", "kind").order_by("name")


def linkable_commitments(contract, user):
    """Les engagements qu'on peut lier à un retour : ceux que la personne peut lire."""
    return (
        visible_commitments(user, Commitment.objects.all(), contract)
        .select_related("partner")
        .order_by("partner__name", "id")
    )


class FeedbackForm(forms.Form):
    partner = forms.ModelChoiceField(
        label="Au nom de",
        queryset=Partner.objects.none(),
        required=False,
        help_text="Le public voit l'organisation, jamais votre nom.",
    )
    kind = forms.ChoiceField(label="Nature du retour", choices=FeedbackKind.choices, widget=forms.RadioSelect)
    text = forms.CharField(
        label="Votre retour",
        max_length=fb.TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": fb.TEXT_MAX}),
        help_text=f"{fb.TEXT_MAX} caractères au plus. Ne citez personne : le retour sera lu par le public.",
    )
    qpvs = forms.ModelMultipleChoiceField(
        label="Quartiers concernés (facultatif)",
        queryset=Territory.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    enjeu = forms.ModelChoiceField(label="Enjeu (facultatif)", queryset=Enjeu.objects.none(), required=False)
    actions = forms.ModelMultipleChoiceField(
        label="Actions concernées (facultatif)",
        queryset=Action.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    commitments = forms.ModelMultipleChoiceField(
        label="Engagements concernés (facultatif)",
        queryset=Commitment.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    indicators = forms.ModelMultipleChoiceField(
        label="Indicateurs concernés (facultatif)",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, contract, user, partners=None, pilot=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["qpvs"].queryset = contract_qpvs(contract)
        self.fields["enjeu"].queryset = Enjeu.objects.filter(contract=contract)
        self.fields["actions"].queryset = Action.objects.for_contract(contract).order_by("code")
        self.fields["commitments"].queryset = linkable_commitments(contract, user)
        self.fields["indicators"].queryset = contract.indicators.order_by("name")
        self.only_partner = None
        if partners is None:  # modification : le partenaire ne change pas
            del self.fields["partner"]
        elif len(partners) == 1 and not pilot:
            self.only_partner = partners[0]
            del self.fields["partner"]
        elif not partners:
            del self.fields["partner"]
        else:
            self.fields["partner"].queryset = Partner.objects.filter(pk__in=[p.pk for p in partners])
            self.fields["partner"].required = not pilot
            self.fields["partner"].empty_label = "— le pilotage du contrat —" if pilot else "— choisir —"

    def links(self) -> dict:
        data = self.cleaned_data
        return {
            "qpvs": data["qpvs"],
            "enjeu": data["enjeu"],
            "actions": data["actions"],
            "commitments": data["commitments"],
            "indicators": data["indicators"],
        }

    @staticmethod
    def initial_for(feedback) -> dict:
        return {
            "kind": feedback.kind,
            "text": feedback.text,
            "qpvs": list(feedback.qpvs.all()),
            "enjeu": feedback.enjeu_id,
            "actions": list(feedback.actions.all()),
            "commitments": list(feedback.commitments.all()),
            "indicators": list(feedback.indicators.all()),
        }
