"""Formulaires de l'instruction des dossiers de l'appel à projets (libellés en français ; montants
saisis à la française, « 12 000,50 € » ou « 12000.5 »)."""

from decimal import Decimal

from django import forms

from cdv.core.numbers import FrenchDecimalField
from cdv.grants.enums import INSTRUCTION_LINE_STATUSES, LineStatus, Opinion, OpinionKind

# Au-delà, un montant n'a pas de sens pour un projet de quartier (faute de frappe).
ABSURD_AMOUNT = Decimal("10000000")


def _amount_field(label: str, **kwargs) -> FrenchDecimalField:
    return FrenchDecimalField(
        label=label,
        unit="€",
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=ABSURD_AMOUNT,
        required=False,
        error_messages={
            "min_value": f"{label} : un montant négatif n'a pas de sens.",
            "max_value": f"{label} : plus de 10 millions d'euros, vérifiez la saisie.",
        },
        **kwargs,
    )


class QueueFilterForm(forms.Form):
    """Les filtres de la file (paramètres GET) ; les choix dépendent de l'appel."""

    funder = forms.TypedChoiceField(label="Financeur", required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(label="État de la ligne", required=False)
    enjeu = forms.TypedChoiceField(label="Enjeu", required=False, coerce=int, empty_value=None)
    qpv = forms.TypedChoiceField(label="Quartier", required=False, coerce=int, empty_value=None)
    min_amount = _amount_field("Montant demandé minimal")
    max_amount = _amount_field("Montant demandé maximal")
    late = forms.BooleanField(label="En retard seulement", required=False)

    def __init__(self, data=None, *, funders, enjeux, qpvs):
        super().__init__(data)
        self.fields["funder"].choices = [("", "Tous les financeurs")] + [
            (f.pk, str(f.partner)) for f in funders
        ]
        self.fields["status"].choices = [("", "Tous les états")] + [
            (s.value, s.label) for s in LineStatus if s != LineStatus.DRAFT
        ]
        self.fields["enjeu"].choices = [("", "Tous les enjeux")] + [(e.pk, e.title) for e in enjeux]
        self.fields["qpv"].choices = [("", "Tous les quartiers")] + [(q.pk, q.name) for q in qpvs]

    def clean(self):
        data = super().clean()
        low, high = data.get("min_amount"), data.get("max_amount")
        if low is not None and high is not None and low > high:
            self.add_error("max_amount", "Montant demandé maximal : il est plus petit que le minimal.")
        return data


class FunderLineForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    status = forms.ChoiceField(
        label="État de la ligne", choices=[(s.value, s.label) for s in INSTRUCTION_LINE_STATUSES]
    )
    proposed_amount = _amount_field(
        "Montant proposé",
        help_text="Au plus le montant demandé à ce financeur. Ex. : 12 000,50 €.",
    )
    opinion = forms.ChoiceField(
        label="Avis du financeur", choices=[("", "Pas encore d'avis")] + Opinion.choices, required=False
    )
    comment = forms.CharField(
        label="Commentaire de l'instructeur",
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        max_length=5000,
        help_text="Non montré à l'association.",
    )


class QuartierOpinionForm(forms.Form):
    target = forms.ChoiceField(label="Avis de, pour le quartier")
    opinion = forms.ChoiceField(label="Avis", choices=Opinion.choices, widget=forms.RadioSelect)
    comment = forms.CharField(
        label="Commentaire", widget=forms.Textarea(attrs={"rows": 5}), required=False, max_length=5000
    )

    def __init__(self, *args, targets, versions=None, **kwargs):
        """``targets`` : [(qpv, kind)] que la personne peut renseigner ; ``versions`` : {(qpv, kind):
        version de l'avis déjà donné}. Chaque avis garde sa version (champ caché), pour le verrou."""
        super().__init__(*args, **kwargs)
        self.targets = {f"{qpv.pk}:{kind}": (qpv, kind) for qpv, kind in targets}
        self.fields["target"].choices = [
            (key, f"{OpinionKind(kind).label} — {qpv.name}") for key, (qpv, kind) in self.targets.items()
        ]
        for key, (qpv, kind) in self.targets.items():
            self.fields[self._version_name(key)] = forms.IntegerField(
                widget=forms.HiddenInput,
                required=False,
                initial=(versions or {}).get((qpv.pk, kind), 0),
            )

    @staticmethod
    def _version_name(key: str) -> str:
        return "version_" + key.replace(":", "_")

    def chosen(self):
        """(quartier, avis, version chargée) choisis."""
        key = self.cleaned_data["target"]
        qpv, kind = self.targets[key]
        return qpv, kind, self.cleaned_data.get(self._version_name(key))

    def version_field_of(self, qpv_id: int, kind: str) -> str:
        return self._version_name(f"{qpv_id}:{kind}")


class ScoresForm(forms.Form):
    def __init__(self, *args, criteria, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = list(criteria)
        for criterion in self.criteria:
            self.fields[f"criterion_{criterion.pk}"] = forms.IntegerField(
                label=f"{criterion.label} (0 à {criterion.scale_max})",
                required=False,
                min_value=0,
                max_value=criterion.scale_max,
                help_text=criterion.description,
                error_messages={
                    "min_value": f"{criterion.label} : la note va de 0 à {criterion.scale_max}.",
                    "max_value": f"{criterion.label} : la note va de 0 à {criterion.scale_max}.",
                    "invalid": f"{criterion.label} : une note entière est attendue.",
                },
            )
            self.fields[f"comment_{criterion.pk}"] = forms.CharField(
                label=f"Commentaire sur « {criterion.label} »", required=False, max_length=2000
            )

    def rows(self):
        return [(self[f"criterion_{c.pk}"], self[f"comment_{c.pk}"]) for c in self.criteria]

    def scores(self):
        return {
            c: (self.cleaned_data[f"criterion_{c.pk}"], self.cleaned_data[f"comment_{c.pk}"])
            for c in self.criteria
        }


class InfoRequestForm(forms.Form):
    funder = forms.TypedChoiceField(label="Au nom du financeur", coerce=int, empty_value=None)
    questions = forms.CharField(
        label="Vos questions à l'association",
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=10000,
        help_text="L'association les reçoit par courriel, répond puis dépose à nouveau son dossier.",
    )
    confirm = forms.BooleanField(
        label="Je confirme : le dossier revient à l'association jusqu'à sa réponse.",
        error_messages={"required": "Cochez « Je confirme » pour rendre le dossier à l'association."},
    )

    def __init__(self, *args, funders, allow_none: bool, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(f.pk, str(f.partner)) for f in funders]
        if allow_none:
            choices = [("", "Le pilote de l'appel")] + choices
        else:
            self.fields["funder"].required = True
        self.fields["funder"].required = not allow_none
        self.fields["funder"].choices = choices
