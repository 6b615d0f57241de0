"""Formulaires des instances (COPIL, comités, instances de quartier) et de leurs décisions."""

from django import forms

from cdv.commitments.models import Commitment
from cdv.monitoring import meetings as mt
from cdv.monitoring.enums import DecisionStatus, MeetingKind
from cdv.partners.models import Partner
from cdv.plan.models import Action
from cdv.territories.models import Territory

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def contract_qpvs(contract):
    return contract.qpvs.only("code", "name", "kind").order_by("name")


class MeetingForm(forms.Form):
    kind = forms.ChoiceField(label="Instance", choices=MeetingKind.choices)
    title = forms.CharField(label="Intitulé", max_length=200)
    date = forms.DateField(label="Date", widget=DATE_WIDGET)
    qpv = forms.ModelChoiceField(
        label="Quartier (instance de quartier seulement)",
        queryset=Territory.objects.none(),
        required=False,
    )
    participants = forms.ModelMultipleChoiceField(
        label="Partenaires présents",
        queryset=Partner.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    agenda = forms.CharField(label="Ordre du jour", required=False, widget=forms.Textarea(attrs={"rows": 4}))
    minutes = forms.CharField(
        label="Compte rendu",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=(
            "Le compte rendu d'un COPIL est public ; celui des autres instances est réservé aux membres."
        ),
    )

    def __init__(self, *args, contract, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["qpv"].queryset = contract_qpvs(contract)
        self.fields["participants"].queryset = mt.contract_partners(contract).only("name")

    def data_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in mt.MEETING_FIELDS}

    @staticmethod
    def initial_for(meeting) -> dict:
        return {
            "kind": meeting.kind,
            "title": meeting.title,
            "date": meeting.date,
            "qpv": meeting.qpv_id,
            "participants": list(meeting.participants.all()),
            "agenda": meeting.agenda,
            "minutes": meeting.minutes,
        }


class DecisionForm(forms.Form):
    text = forms.CharField(label="Décision", widget=forms.Textarea(attrs={"rows": 3}))
    owner = forms.ModelChoiceField(label="Porteur", queryset=Partner.objects.none(), required=False)
    due_on = forms.DateField(label="Échéance", required=False, widget=DATE_WIDGET)
    status = forms.ChoiceField(label="Suivi", choices=DecisionStatus.choices, initial=DecisionStatus.OPEN)
    follow_up = forms.CharField(
        label="Où en est-on ?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=(
            "Obligatoire pour abandonner une décision. Faite ou abandonnée, elle sort des décisions à suivre."
        ),
    )
    actions = forms.ModelMultipleChoiceField(
        label="Actions liées",
        queryset=Action.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    commitments = forms.ModelMultipleChoiceField(
        label="Engagements liés",
        queryset=Commitment.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, contract, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = mt.contract_partners(contract).only("name")
        self.fields["actions"].queryset = Action.objects.for_contract(contract).order_by("code")
        # Le formulaire d'une décision est celui du pilote, qui lit tous les engagements du contrat.
        self.fields["commitments"].queryset = (
            Commitment.objects.filter(contract=contract)
            .select_related("partner")
            .order_by("partner__name", "id")
        )

    def data_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in mt.DECISION_FIELDS}

    @staticmethod
    def initial_for(decision) -> dict:
        return {
            "text": decision.text,
            "owner": decision.owner_id,
            "due_on": decision.due_on,
            "status": decision.status,
            "follow_up": decision.follow_up,
            "actions": list(decision.actions.all()),
            "commitments": list(decision.commitments.all()),
        }
