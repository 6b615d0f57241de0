"""Formulaires des engagements (saisie, renvoi, clôture, confirmation du cahier)."""

from decimal import Decimal, InvalidOperation

from django import forms
from django.core import signing
from django.db.models import Q
from django.urls import reverse

from cdv.commitments.enums import CommitmentScope, FundingKind
from cdv.core.numbers import FrenchDecimalField
from cdv.core.plain import readability
from cdv.plan.models import PLAIN_SUMMARY_MAX, Action, Objective
from cdv.territories.models import Territory


class CommitmentForm(forms.Form):
    objective = forms.ModelChoiceField(label="Objectif", queryset=Objective.objects.none())
    action = forms.ModelChoiceField(
        label="Action (facultatif)", queryset=Action.objects.none(), required=False
    )
    title = forms.CharField(label="Intitulé", max_length=300)
    summary_plain = forms.CharField(
        label="Résumé en langage clair",
        max_length=PLAIN_SUMMARY_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": PLAIN_SUMMARY_MAX}),
        help_text=f"{PLAIN_SUMMARY_MAX} caractères au plus, pour le public : phrases courtes, mots courants.",
    )
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    scope = forms.ChoiceField(label="Portée", choices=CommitmentScope.choices, widget=forms.RadioSelect)
    qpvs = forms.ModelMultipleChoiceField(
        label="Quartiers concernés",
        queryset=Territory.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Seulement pour la portée « quartiers choisis ».",
    )
    indicators = forms.ModelMultipleChoiceField(
        label="Indicateurs de suivi",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Les indicateurs du contrat qui montreront si l'engagement est tenu.",
    )
    target = forms.CharField(
        label="Cible", max_length=300, required=False, help_text="Ex. : 120 jeunes accompagnés par an."
    )
    deadline = forms.DateField(
        label="Échéance", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    amendment_reason = forms.CharField(
        label="Motif de l'avenant",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Obligatoire pour modifier un engagement confirmé : la version d'avant reste consultable.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    # Ce que la personne a chargé (signé) et les champs qu'elle doit trancher après un conflit.
    base = forms.CharField(widget=forms.HiddenInput, required=False)
    clashes = forms.CharField(widget=forms.HiddenInput, required=False)

    BASE_SALT = "cdv.commitment-base"

    @classmethod
    def sign_base(cls, state: dict) -> str:
        return signing.dumps(state, salt=cls.BASE_SALT, compress=True)

    def loaded_base(self) -> dict | None:
        """L'état chargé par la personne, ou None s'il manque ou a été altéré."""
        try:
            return signing.loads(self.data.get("base", ""), salt=self.BASE_SALT)
        except signing.BadSignature:
            return None

    @staticmethod
    def data_for_state(state: dict) -> dict:
        """Les valeurs de formulaire (comme envoyées par le navigateur) d'un état ``editable_state``."""
        data = {}
        for key, value in state.items():
            if key.startswith("means:"):
                _, year, funding = key.split(":")
                fte, eur = value
                data[f"fte_{year}_{funding}"] = "" if Decimal(fte) == 0 else fte
                data[f"eur_{year}_{funding}"] = "" if Decimal(eur) == 0 else eur
            elif key in {"qpvs", "indicators"}:
                data[key] = [str(pk) for pk in value]
            else:
                data[key] = "" if value is None else str(value)
        return data

    @property
    def summary_readability(self):
        value = self["summary_plain"].value() if self.is_bound else self.initial.get("summary_plain")
        return readability(value or "")

    def __init__(self, *args, contract, years, **kwargs):
        super().__init__(*args, **kwargs)
        self.years = list(years)
        # Un objectif ou une action archivés ne se choisissent plus ; celui de l'engagement modifié reste.
        loaded = (self.loaded_base() if self.is_bound else None) or self.initial
        kept_objective, kept_action = loaded.get("objective"), loaded.get("action")
        self.fields["objective"].queryset = Objective.objects.filter(
            Q(archived_at=None) | Q(pk=kept_objective), enjeu__contract=contract
        ).select_related("enjeu")
        self.fields["action"].queryset = (
            Action.objects.for_contract(contract)
            .filter(Q(archived_at=None, objective__archived_at=None) | Q(pk=kept_action))
            .select_related("objective__enjeu")
        )
        # Le libellé d'un QPV (``str``) lit son niveau, son nom et son code : lus avec la liste.
        self.fields["qpvs"].queryset = contract.qpvs.only("code", "name", "kind").order_by("name")
        self.fields["indicators"].queryset = contract.indicators.order_by("name")
        # Lisibilité recalculée pendant la saisie (htmx) ; sans JavaScript, elle s'affiche à l'envoi.
        self.fields["summary_plain"].widget.attrs.update(
            {
                "data-hx-get": reverse("www:readability", args=[contract.slug]),
                "data-hx-trigger": "input changed delay:600ms",
                "data-hx-target": "#lisibilite",
                "data-hx-swap": "outerHTML",
                "aria-describedby": "id_summary_plain_helptext lisibilite",
            }
        )
        for year in self.years:
            for funding in FundingKind:
                self.fields[f"fte_{year}_{funding.value}"] = FrenchDecimalField(
                    label=f"ETP {year} ({funding.label})",
                    unit="ETP",
                    required=False,
                    min_value=0,
                    max_digits=7,
                    decimal_places=2,
                )
                self.fields[f"eur_{year}_{funding.value}"] = FrenchDecimalField(
                    label=f"Euros {year} ({funding.label})",
                    unit="€",
                    required=False,
                    min_value=0,
                    max_digits=14,
                    decimal_places=2,
                )

    def enable_action_refresh(self, url):
        """Avec JavaScript, la liste des actions suit l'objectif choisi (htmx) ; sans, toutes restent."""
        self.fields["objective"].widget.attrs.update(
            {
                "data-hx-get": url,
                "data-hx-target": "#id_action",
                "data-hx-trigger": "change",
                "data-hx-swap": "innerHTML",
            }
        )

    def means_rows(self):
        """Grille des moyens pour le gabarit : une ligne par année, deux natures."""
        rows = []
        for year in self.years:
            cells = []
            for funding in FundingKind:
                cells.append((self[f"fte_{year}_{funding.value}"], self[f"eur_{year}_{funding.value}"]))
            rows.append((year, cells))
        return rows

    def clean(self):
        data = super().clean()
        objective, action = data.get("objective"), data.get("action")
        if objective and action and action.objective_id != objective.pk:
            self.add_error("action", "Cette action ne relève pas de l'objectif choisi.")
        return data

    def means(self):
        result = []
        for year in self.years:
            for funding in FundingKind:
                fte = self.cleaned_data.get(f"fte_{year}_{funding.value}") or Decimal(0)
                eur = self.cleaned_data.get(f"eur_{year}_{funding.value}") or Decimal(0)
                if fte or eur:
                    result.append({"year": year, "fte": fte, "amount_eur": eur, "funding": funding.value})
        return result

    def data_fields(self):
        keys = ["objective", "action", "title", "summary_plain", "description", "scope", "target", "deadline"]
        return {key: self.cleaned_data.get(key) for key in keys} | {
            "summary_plain": self.cleaned_data.get("summary_plain") or "",
            "description": self.cleaned_data.get("description") or "",
            "target": self.cleaned_data.get("target") or "",
        }

    @classmethod
    def initial_for(cls, commitment, years):
        from cdv.commitments.services import editable_state

        initial = {
            "base": cls.sign_base(editable_state(commitment)),
            "objective": commitment.objective_id,
            "action": commitment.action_id,
            "title": commitment.title,
            "summary_plain": commitment.summary_plain,
            "description": commitment.description,
            "scope": commitment.scope,
            "qpvs": [q.pk for q in commitment.qpvs.all()],
            "indicators": [i.pk for i in commitment.indicators.all()],
            "target": commitment.target,
            "deadline": commitment.deadline,
            "version": commitment.version,
        }
        for m in commitment.means.all():
            initial[f"fte_{m.year}_{m.funding}"] = m.fte
            initial[f"eur_{m.year}_{m.funding}"] = m.amount_eur
        return initial


class ReturnForm(forms.Form):
    comment = forms.CharField(
        label="Commentaire pour le partenaire", widget=forms.Textarea(attrs={"rows": 3})
    )


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(label="Issue", choices=[])
    reason = forms.CharField(
        label="Motif (obligatoire en cas d'abandon)", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        from cdv.commitments.enums import CommitmentStatus as S

        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = [
            (s.value, s.label) for s in (S.DONE, S.PARTLY_DONE, S.NOT_DONE, S.ABANDONED)
        ]


class ConfirmCahierForm(forms.Form):
    signatory_name = forms.CharField(label="Nom de la personne qui signe", max_length=200)
    signatory_role = forms.CharField(
        label="Sa qualité", max_length=200, help_text="Ex. : présidente, directeur général."
    )
    agree = forms.BooleanField(
        label="Je confirme, au nom du partenaire, les engagements listés ci-dessus.",
        error_messages={"required": "Cochez la case « Je confirme » pour confirmer le cahier."},
    )


def parse_decimal(value):
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
