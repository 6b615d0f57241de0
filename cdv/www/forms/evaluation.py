"""Formulaires de l'évaluation à mi-parcours (jugements, recommandations, adoption, questionnaires)."""

from django import forms

from cdv.commitments.models import Commitment
from cdv.evaluation.enums import (
    ItemKind,
    JudgementScale,
)
from cdv.monitoring.enums import MeetingKind
from cdv.monitoring.models import Meeting
from cdv.plan.models import Enjeu, Objective

SCALE_CHOICES = [
    (1, "1 — pas du tout"),
    (2, "2 — un peu"),
    (3, "3 — moyennement"),
    (4, "4 — beaucoup"),
    (5, "5 — tout à fait"),
]


NO_ANSWER = ("", "Sans réponse")


class JudgementForm(forms.Form):
    scale = forms.TypedChoiceField(
        label="Appréciation", choices=JudgementScale.choices, coerce=int, widget=forms.RadioSelect
    )
    text = forms.CharField(
        label="Jugement argumenté",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Appuyez-vous sur les éléments de preuve : indicateurs, réalisation, moyens, retours.",
    )

    def __init__(self, *args, number, **kwargs):
        super().__init__(*args, prefix=f"q{number}", **kwargs)
        self.fields["scale"].label = f"Appréciation sur la question {number}"
        self.fields["text"].label = f"Jugement argumenté sur la question {number}"


class ObjectiveChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.enjeu.number}.{obj.number} {obj.title}"


class CommitmentChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.title} ({obj.partner.name})"


class RecommendationForm(forms.Form):
    text = forms.CharField(label="Recommandation", widget=forms.Textarea(attrs={"rows": 4}))
    enjeux = forms.ModelMultipleChoiceField(
        label="Enjeux concernés",
        queryset=Enjeu.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    objectives = ObjectiveChoiceField(
        label="Objectifs concernés",
        queryset=Objective.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    commitments = CommitmentChoiceField(
        label="Engagements concernés",
        queryset=Commitment.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, contract, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enjeux"].queryset = Enjeu.objects.filter(contract=contract).order_by("number")
        self.fields["objectives"].queryset = (
            Objective.objects.filter(enjeu__contract=contract)
            .select_related("enjeu")
            .order_by("enjeu__number", "number")
        )
        self.fields["commitments"].queryset = (
            Commitment.objects.filter(contract=contract)
            .select_related("partner")
            .only("title", "partner__name")
            .order_by("partner__name", "title", "id")
        )


class MeetingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.title} — {obj.date:%d/%m/%Y}"


class AdoptForm(forms.Form):
    meeting = MeetingChoiceField(
        label="Comité de pilotage qui adopte l'évaluation",
        queryset=Meeting.objects.none(),
        empty_label="— choisir —",
        error_messages={"required": "Choisissez le comité de pilotage (COPIL) qui adopte l'évaluation."},
        help_text="Un comité de pilotage (COPIL) du contrat, enregistré dans les instances : "
        "l'adoption prend sa date.",
    )
    confirm = forms.BooleanField(
        label="Je confirme l'adoption de l'évaluation par ce comité de pilotage, à sa date, "
        "et sa publication sur le site public",
        error_messages={"required": "Cochez la case « Je confirme » pour adopter l'évaluation."},
    )

    def __init__(self, *args, contract, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meeting"].queryset = Meeting.objects.filter(
            contract=contract, kind=MeetingKind.COPIL
        ).order_by("-date", "-id")


class AnswerForm(forms.Form):
    """Un champ par question du questionnaire : ``item_<numéro>``."""

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            label = f"{item.number}. {item.text}"
            if item.kind == ItemKind.SCALE:
                field = forms.TypedChoiceField(
                    label=label,
                    choices=[*SCALE_CHOICES, NO_ANSWER],
                    coerce=int,
                    empty_value=None,
                    required=False,
                    widget=forms.RadioSelect,
                )
            else:
                field = forms.CharField(
                    label=label,
                    required=False,
                    max_length=5000,
                    widget=forms.Textarea(attrs={"rows": 4, "maxlength": 5000}),
                )
            self.fields[f"item_{item.number}"] = field

    def answers(self) -> dict:
        return {item.number: self.cleaned_data.get(f"item_{item.number}") for item in self.items}

    @staticmethod
    def initial_for(response) -> dict:
        initial = {}
        for answer in response.answers.select_related("item"):
            value = answer.scale_value if answer.scale_value is not None else answer.text
            initial[f"item_{answer.item.number}"] = value
        return initial
