"""Formulaires de l'appel à projets côté pilote : l'appel et son calendrier, ses règles
d'éligibilité, ses financeurs, ses pièces et sa grille de notation, les confirmations."""

from decimal import Decimal

from django import forms

from cdv.core.numbers import FrenchDecimalField, FrenchIntegerField
from cdv.grants.enums import DocumentKind, FunderKind
from cdv.grants.models import Call
from cdv.partners.models import Partner
from cdv.plan.models import Enjeu, Objective
from cdv.territories.models import Territory

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
CALENDAR_FIELDS = [
    "publication_date",
    "info_meetings",
    "filing_opens",
    "filing_closes",
    "instruction_ends",
    "committee_date",
    "notification_date",
    "reporting_date",
]


class CallForm(forms.ModelForm):
    """L'appel : ce qu'il est, son calendrier, ses contacts (création et modification)."""

    year = FrenchIntegerField(label="Année des projets", thousands=False, min_value=2000, max_value=2100)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Call
        fields = ["title", "summary", *CALENDAR_FIELDS, "contacts"]
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 5}),
            "info_meetings": forms.Textarea(attrs={"rows": 4}),
            "contacts": forms.Textarea(attrs={"rows": 4}),
            **{f: DATE for f in CALENDAR_FIELDS if f != "info_meetings"},
        }

    def __init__(self, *args, creating: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not creating:
            del self.fields["year"]
        else:
            del self.fields["version"]
        self.order_fields(["year"])

    def _post_clean(self):
        """Pas de validation du modèle ici : le service valide tout (et nomme les champs)."""

    def values(self) -> dict:
        return {f: self.cleaned_data[f] for f in self.Meta.fields}


class CallRulesForm(forms.Form):
    """Ce qui est éligible et les règles d'éligibilité (réglages de l'appel)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    eligible_enjeux = forms.ModelMultipleChoiceField(
        label="Enjeux éligibles",
        queryset=Enjeu.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    eligible_objectives = forms.ModelMultipleChoiceField(
        label="Objectifs éligibles (facultatif : vide, tous les objectifs des enjeux éligibles)",
        queryset=Objective.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    eligible_qpvs = forms.ModelMultipleChoiceField(
        label="Quartiers éligibles (vide : tous les quartiers du contrat)",
        queryset=Territory.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    allow_whole_territory = forms.BooleanField(
        label="Projets à l'échelle de tout le territoire admis", required=False
    )
    min_qpv_share = FrenchDecimalField(
        label="Part minimale de bénéficiaires habitant un QPV (%)",
        unit="%",
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
    )
    min_amount = FrenchDecimalField(
        label="Montant minimal demandé (€)",
        unit="€",
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
    )
    max_amount = FrenchDecimalField(
        label="Montant maximal demandé (€)",
        unit="€",
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
    )
    max_call_share = FrenchDecimalField(
        label="Part maximale du budget demandée aux financeurs de l'appel (%)",
        unit="%",
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        help_text="Règle de cofinancement : le reste du budget vient d'autres ressources.",
    )
    min_funders = FrenchIntegerField(
        label="Nombre minimal de financeurs sollicités", thousands=False, min_value=0, max_value=20
    )

    RULES = [
        "allow_whole_territory",
        "min_qpv_share",
        "min_amount",
        "max_amount",
        "max_call_share",
        "min_funders",
    ]

    def __init__(self, *args, contract, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["eligible_enjeux"].queryset = Enjeu.objects.for_contract(contract).order_by("number")
        self.fields["eligible_objectives"].queryset = (
            Objective.objects.filter(enjeu__contract=contract)
            .select_related("enjeu")
            .order_by("enjeu__number", "number")
        )
        self.fields["eligible_qpvs"].queryset = contract.qpvs.only("pk", "name", "code").order_by("name")
        self.fields["eligible_qpvs"].label_from_instance = lambda q: f"{q.name} ({q.code})"
        self.fields["eligible_objectives"].label_from_instance = lambda o: (
            f"{o.enjeu.number}.{o.number} — {o.title}"
        )

    @classmethod
    def initial_for(cls, call: Call) -> dict:
        initial = {f: getattr(call, f) for f in cls.RULES}
        initial["version"] = call.version
        for field in ("eligible_enjeux", "eligible_objectives", "eligible_qpvs"):
            initial[field] = list(getattr(call, field).values_list("pk", flat=True))
        return initial

    def values(self) -> dict:
        return {f: self.cleaned_data[f] for f in self.RULES}


class FunderRowForm(forms.Form):
    partner = forms.ModelChoiceField(label="Financeur", queryset=Partner.objects.none())
    kind = forms.ChoiceField(
        label="Place dans le cofinancement", choices=FunderKind.choices, initial=FunderKind.PARTNER
    )
    label = forms.CharField(label="Ligne budgétaire", max_length=200, required=False)
    envelope = FrenchDecimalField(
        label="Enveloppe (€)", unit="€", max_digits=12, decimal_places=2, min_value=0
    )
    siret = forms.CharField(
        label="SIRET du financeur",
        max_length=20,
        required=False,
        help_text="14 chiffres ; publié dans les données ouvertes des subventions.",
    )

    def __init__(self, *args, partners=None, **kwargs):
        super().__init__(*args, **kwargs)
        if partners is not None:
            self.fields["partner"].queryset = partners


class BaseRows(forms.BaseFormSet):
    """Un formulaire par ligne ; une ligne laissée vide ou cochée « retirer » ne compte pas."""

    def __init__(self, *args, row_kwargs=None, **kwargs):
        self.row_kwargs = row_kwargs or {}
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return dict(self.row_kwargs)

    def rows(self) -> list[dict]:
        return [f.cleaned_data for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]


FunderFormSet = forms.formset_factory(FunderRowForm, formset=BaseRows, extra=2, can_delete=True)


class DocumentRowForm(forms.Form):
    kind = forms.ChoiceField(label="Pièce", choices=[("", "—"), *DocumentKind.choices])
    label = forms.CharField(label="Précision", max_length=200, required=False)
    required = forms.BooleanField(label="Obligatoire", required=False, initial=True)


DocumentFormSet = forms.formset_factory(DocumentRowForm, formset=BaseRows, extra=2, can_delete=True)


class CriterionRowForm(forms.Form):
    pk = forms.IntegerField(widget=forms.HiddenInput, required=False)
    label = forms.CharField(label="Critère", max_length=200)
    description = forms.CharField(
        label="Ce qu'on regarde", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    scale_max = FrenchIntegerField(
        label="Note maximale", thousands=False, min_value=1, max_value=20, initial=5
    )


CriterionFormSet = forms.formset_factory(CriterionRowForm, formset=BaseRows, extra=2, can_delete=True)


class CopyForm(forms.Form):
    year = FrenchIntegerField(label="Année du nouvel appel", thousands=False, min_value=2000, max_value=2100)
