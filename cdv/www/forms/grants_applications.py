"""Formulaires du dossier côté association : identité, création, projet, budget CERFA, pièces,
dépôt, réponse aux compléments. Les montants se saisissent à la française (« 12 000,50 € »)."""

from decimal import Decimal

from django import forms
from django.urls import reverse

from cdv.core.numbers import FrenchDecimalField, FrenchIntegerField
from cdv.core.plain import readability
from cdv.grants.enums import CHARGE_ACCOUNTS, INCOME_ACCOUNTS, Account, DocumentKind, ProjectScope
from cdv.grants.models import MAX_YEARS, Application
from cdv.grants.services.applications import IDENTITY_FIELDS, MAX_AMOUNT, PROJECT_FIELDS
from cdv.partners.models import Partner
from cdv.plan.models import Action, Enjeu, Objective

MAX_EUR = MAX_AMOUNT - Decimal("0.01")


def euro_field(label: str, **kwargs) -> FrenchDecimalField:
    return FrenchDecimalField(
        label=label,
        unit="€",
        required=False,
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=MAX_EUR,
        **kwargs,
    )


class IdentityForm(forms.ModelForm):
    # Saisis avec ou sans espaces : normalisés avant les contrôles du modèle (clé, format).
    siret = forms.CharField(
        label="SIRET", max_length=20, required=False, help_text="14 chiffres (clé de contrôle vérifiée)."
    )
    rna = forms.CharField(
        label="Numéro RNA",
        max_length=12,
        required=False,
        help_text="W suivi de 9 caractères, ex. : W442001234.",
    )
    fte = FrenchDecimalField(
        label="Équivalents temps plein (ETP)", required=False, max_digits=7, decimal_places=2
    )

    class Meta:
        model = Partner
        fields = IDENTITY_FIELDS
        help_texts = {
            "siret": "14 chiffres, sans espaces (clé de contrôle vérifiée).",
            "rna": "W suivi de 9 caractères, exemple : W442001234.",
        }

    def clean_siret(self):
        return (self.cleaned_data.get("siret") or "").replace(" ", "")

    def clean_rna(self):
        return (self.cleaned_data.get("rna") or "").replace(" ", "").upper()


class CreateForm(forms.Form):
    title = forms.CharField(label="Intitulé du projet", max_length=300, required=False)
    renewal_of = forms.ModelChoiceField(
        label="Reprendre un dossier d'une année précédente",
        queryset=Application.objects.none(),
        required=False,
        empty_label="Non, partir d'un dossier vide",
        help_text="Le projet, le budget, les demandes aux financeurs et les pièces sont recopiés ; "
        "vous les modifiez ensuite.",
    )

    def __init__(self, *args, previous, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["renewal_of"].queryset = previous
        self.fields["renewal_of"].label_from_instance = lambda a: (
            f"{a.call.year} — {a.number or 'brouillon'} — {a.title}"
        )


class ProjectForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    title = forms.CharField(label="Intitulé du projet", max_length=300)
    summary_plain = forms.CharField(
        label="Résumé en langage clair",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Pour les habitants et les financeurs : phrases courtes, mots courants.",
    )
    objectives = forms.CharField(label="Objectifs", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    public = forms.CharField(label="Public visé", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    beneficiaries = FrenchIntegerField(label="Nombre de bénéficiaires prévus", required=False, min_value=0)
    qpv_share = FrenchDecimalField(
        label="Part des bénéficiaires habitant un quartier prioritaire (%)",
        unit="%",
        required=False,
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
    )
    scope = forms.ChoiceField(label="Portée", choices=ProjectScope.choices, widget=forms.RadioSelect)
    qpvs = forms.ModelMultipleChoiceField(
        label="Quartiers concernés",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Ce quartier n'est pas un quartier prioritaire du contrat."},
    )
    places = forms.CharField(
        label="Lieux de l'action", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    start_date = forms.DateField(
        label="Début", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    end_date = forms.DateField(
        label="Fin", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    enjeu = forms.ModelChoiceField(
        label="Enjeu du contrat", queryset=None, required=False, empty_label="Choisissez un enjeu"
    )
    objective = forms.ModelChoiceField(
        label="Objectif", queryset=None, required=False, empty_label="Aucun objectif précis"
    )
    action = forms.ModelChoiceField(
        label="Action du contrat (facultatif)",
        queryset=None,
        required=False,
        empty_label="Aucune action précise",
    )
    evaluation_indicators = forms.CharField(
        label="Indicateurs d'évaluation", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    human_means = forms.CharField(
        label="Moyens humains", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    years = forms.TypedChoiceField(
        label="Durée",
        coerce=int,
        choices=[(n, f"{n} an{'s' if n > 1 else ''}") for n in range(1, MAX_YEARS + 1)],
        help_text="Un projet pluriannuel (4 ans au plus) donne un montant demandé pour chaque année.",
    )

    def __init__(self, *args, call, **kwargs):
        super().__init__(*args, **kwargs)
        contract = call.contract
        qpvs = contract.qpvs.only("code", "name").order_by("name")
        eligible = list(call.eligible_qpvs.values_list("pk", flat=True))
        self.fields["qpvs"].queryset = qpvs.filter(pk__in=eligible) if eligible else qpvs
        enjeux = Enjeu.objects.for_contract(contract)
        eligible_enjeux = list(call.eligible_enjeux.values_list("pk", flat=True))
        self.fields["enjeu"].queryset = enjeux.filter(pk__in=eligible_enjeux) if eligible_enjeux else enjeux
        self.fields["objective"].queryset = (
            Objective.objects.for_contract(contract).active().select_related("enjeu")
        )
        self.fields["action"].queryset = (
            Action.objects.for_contract(contract).active().select_related("objective")
        )
        self.fields["summary_plain"].widget.attrs.update(
            {
                "data-hx-get": reverse("www:readability", args=[contract.slug]),
                "data-hx-trigger": "input changed delay:600ms",
                "data-hx-target": "#lisibilite",
                "data-hx-swap": "outerHTML",
                "aria-describedby": "id_summary_plain_helptext lisibilite",
            }
        )

    @property
    def summary_readability(self):
        value = self["summary_plain"].value() if self.is_bound else self.initial.get("summary_plain")
        return readability(value or "")

    @classmethod
    def initial_of(cls, application: Application) -> dict:
        data = {f: getattr(application, f) for f in cls.project_fields()}
        data["summary_plain"] = application.summary
        data["qpvs"] = list(application.qpvs.all())
        data["version"] = application.version
        return data

    @staticmethod
    def project_fields() -> list[str]:
        """Les champs du projet qu'écrit le service, sauf le résumé (champ ``summary_plain`` ici,
        pour l'aide à la lisibilité commune avec les engagements)."""
        return [f for f in PROJECT_FIELDS if f != "summary"]

    def project_data(self) -> dict:
        data = {f: self.cleaned_data.get(f) for f in self.project_fields()}
        for text in ("objectives", "public", "places", "evaluation_indicators", "human_means"):
            data[text] = data[text] or ""
        data["summary"] = self.cleaned_data.get("summary_plain") or ""
        return data


class BudgetForm(forms.Form):
    """Le budget du projet comme dans le CERFA : une ligne par compte (avec un détail), et au
    compte 74 une ligne par financeur de l'appel (année 1, puis une par année suivante)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, funders, years: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.funders = list(funders)
        self.years = years
        for account in [*CHARGE_ACCOUNTS, *INCOME_ACCOUNTS]:
            label = Account(account).label
            self.fields[f"label_{account}"] = forms.CharField(
                label=f"Détail — {label}", max_length=200, required=False
            )
            self.fields[f"amount_{account}"] = euro_field(f"Montant — {label}")
        for funder in self.funders:
            for year in range(1, years + 1):
                self.fields[f"funder_{funder.pk}_{year}"] = euro_field(f"{funder.partner} — année {year}")

    @classmethod
    def initial_of(cls, application: Application) -> dict:
        data: dict = {"version": application.version}
        for line in application.budget_lines.all():
            key = f"amount_{line.account}"
            data[key] = data.get(key, Decimal("0")) + line.amount
            data[f"label_{line.account}"] = ", ".join(
                filter(None, [data.get(f"label_{line.account}"), line.label])
            )
        for line in application.funder_lines.all():
            data[f"funder_{line.funder_id}_1"] = line.requested_amount
            for year, value in enumerate(line.later_amounts or [], start=2):
                data[f"funder_{line.funder_id}_{year}"] = Decimal(value)
        return data

    def rows(self, accounts):
        return [(Account(a), self[f"label_{a}"], self[f"amount_{a}"]) for a in accounts]

    def charge_rows(self):
        return self.rows(CHARGE_ACCOUNTS)

    def income_rows(self):
        return self.rows(INCOME_ACCOUNTS)

    def funder_rows(self):
        return [
            (funder, [self[f"funder_{funder.pk}_{year}"] for year in range(1, self.years + 1)])
            for funder in self.funders
        ]

    def year_numbers(self):
        return list(range(1, self.years + 1))

    def lines(self) -> list[tuple[str, str, Decimal]]:
        return [
            (
                a,
                self.cleaned_data.get(f"label_{a}") or "",
                self.cleaned_data.get(f"amount_{a}") or Decimal("0"),
            )
            for a in [*CHARGE_ACCOUNTS, *INCOME_ACCOUNTS]
        ]

    def requests(self) -> dict:
        result = {}
        for funder in self.funders:
            amounts = [self.cleaned_data.get(f"funder_{funder.pk}_{y}") for y in range(1, self.years + 1)]
            result[funder] = (amounts[0] or Decimal("0"), [a or Decimal("0") for a in amounts[1:]])
        return result

    def preview_totals(self) -> dict:
        """Totaux de la saisie en cours (même invalide : les montants illisibles comptent pour 0)."""
        cleaned = getattr(self, "cleaned_data", {})

        def amount(key):
            value = cleaned.get(key)
            return value if isinstance(value, Decimal) else Decimal("0")

        charges = sum((amount(f"amount_{a}") for a in CHARGE_ACCOUNTS), Decimal("0"))
        own = sum((amount(f"amount_{a}") for a in INCOME_ACCOUNTS), Decimal("0"))
        requested = sum((amount(f"funder_{f.pk}_1") for f in self.funders), Decimal("0"))
        return {
            "charges": charges,
            "own_income": own,
            "requested": requested,
            "income": own + requested,
            "difference": charges - own - requested,
        }


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label="Pièce", choices=DocumentKind.choices)
    file = forms.FileField(
        label="Fichier",
        help_text="PDF, JPEG, PNG ou document bureautique (.docx, .xlsx, .odt, .ods), 10 Mo au plus.",
    )


class AttachForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    documents = forms.ModelMultipleChoiceField(
        label="Pièces jointes au dossier",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Cette pièce n'est pas une pièce de votre association."},
    )

    def __init__(self, *args, documents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["documents"].queryset = documents
        self.fields["documents"].label_from_instance = lambda d: (
            f"{d.get_kind_display()} — {d.original_name} (déposée le {d.uploaded_at:%d/%m/%Y})"
        )


class SubmitForm(forms.Form):
    sworn_name = forms.CharField(
        label="Nom et qualité de la personne qui dépose",
        max_length=200,
        help_text="Le représentant légal de l'association, ou la personne qu'il a déléguée.",
    )
    sworn_statement = forms.BooleanField(
        label="Je certifie que l'association est régulièrement déclarée, en règle de ses obligations "
        "fiscales et sociales, et que les informations de ce dossier sont exactes et sincères "
        "(déclaration sur l'honneur).",
        required=False,
    )
    republican_contract = forms.BooleanField(
        label="L'association souscrit le contrat d'engagement républicain (loi du 24 août 2021).",
        required=False,
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label="Votre réponse",
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Vous pouvez aussi compléter le projet, le budget ou les pièces avant de répondre.",
    )


class ConfirmForm(forms.Form):
    confirm = forms.BooleanField(label="Je confirme", required=False)
    reason = forms.CharField(label="Motif (facultatif)", max_length=500, required=False)
