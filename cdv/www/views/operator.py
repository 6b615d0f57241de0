"""Pages de l'opérateur de l'instance (superutilisateur) : créer un contrat de ville."""

import re

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from cdv.contracts import services as contract_services
from cdv.contracts.enums import PlanStart, UsualSignatory
from cdv.contracts.models import Contract
from cdv.partners.enums import PartnerKind
from cdv.territories.loaders import national_epcis

from .helpers import add_service_errors, require


class NewContractForm(forms.Form):
    epci = forms.CharField(
        label="EPCI porteur",
        max_length=200,
        required=False,
        help_text="Tapez le nom ou le SIREN de l'EPCI, puis choisissez-le dans la liste proposée.",
        widget=forms.TextInput(attrs={"list": "epci-liste", "autocomplete": "off"}),
    )
    commune_codes = forms.CharField(
        label="Ou bien : codes INSEE des communes",
        max_length=500,
        required=False,
        help_text="Seulement si le contrat ne couvre que certaines communes de l'EPCI : codes INSEE "
        "séparés par des espaces ou des virgules (ex. : 44184). Laissez vide pour tout l'EPCI.",
    )
    title = forms.CharField(
        label="Intitulé du contrat",
        max_length=200,
        help_text="Ex. : Contrat de ville de la CARENE 2024-2030.",
    )
    start_year = forms.IntegerField(label="Année de début", min_value=1990, max_value=2100, initial=2024)
    end_year = forms.IntegerField(label="Année de fin", min_value=1990, max_value=2100, initial=2030)
    signatory_kinds = forms.MultipleChoiceField(
        label="Signataires habituels à ajouter",
        choices=UsualSignatory.choices,
        required=False,
        initial=list(UsualSignatory.values),
        widget=forms.CheckboxSelectMultiple,
        help_text="Un partenaire déjà présent dans la plateforme (la préfecture, la CAF…) est repris, "
        "pas dupliqué.",
    )
    landlords = forms.CharField(
        label="Bailleurs sociaux signataires (un par ligne)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    others = forms.CharField(
        label="Autres signataires (un par ligne)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Par leur nom complet, ex. : Agence régionale de santé Pays de la Loire.",
    )
    plan_start = forms.ChoiceField(
        label="Le plan commence par",
        choices=PlanStart.choices,
        initial=PlanStart.EMPTY,
        widget=forms.RadioSelect,
    )
    copy_from = forms.ModelChoiceField(
        label="Contrat dont copier la structure",
        queryset=Contract.objects.none(),
        required=False,
        help_text="Seulement pour « la structure d'un autre contrat » : enjeux, objectifs et actions sont "
        "copiés, sans quartiers, partenaires ni engagements.",
    )
    pilot_email = forms.EmailField(
        label="Adresse du premier pilote",
        help_text="Il reçoit une invitation par courriel ; son compte gère ce contrat seulement.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["copy_from"].queryset = Contract.objects.order_by("title")

    def clean_epci(self):
        text = self.cleaned_data["epci"].strip()
        if not text:
            return ""
        epcis = national_epcis()
        siren = re.search(r"\b(\d{9})\b", text)
        if siren and siren.group(1) in epcis:
            return siren.group(1)
        named = [code for code, row in epcis.items() if row["nom"].lower() == text.lower()]
        if len(named) == 1:
            return named[0]
        raise ValidationError("EPCI introuvable : choisissez-le dans la liste proposée (nom et SIREN).")

    def clean(self):
        data = super().clean()
        codes = re.split(r"[\s,;]+", data.get("commune_codes") or "")
        data["commune_list"] = [c for c in codes if c]
        if not data.get("epci") and not data["commune_list"] and "epci" not in self.errors:
            self.add_error("epci", "Choisissez l'EPCI porteur (ou des communes par leur code INSEE).")
        if data.get("epci") and data["commune_list"]:
            # Les communes précisent le périmètre ; l'EPCI se déduit d'elles.
            data["epci"] = ""
        return data

    def service_arguments(self):
        data = self.cleaned_data
        others = [(n, PartnerKind.SOCIAL_LANDLORD) for n in data["landlords"].splitlines() if n.strip()]
        others += [(n, PartnerKind.OTHER) for n in data["others"].splitlines() if n.strip()]
        return {
            "epci_code": data["epci"],
            "commune_codes": data["commune_list"],
            "title": data["title"],
            "start_year": data["start_year"],
            "end_year": data["end_year"],
            "signatory_kinds": data["signatory_kinds"],
            "other_signatories": others,
            "plan_start": data["plan_start"],
            "copy_from": data["copy_from"],
            "pilot_email": data["pilot_email"],
        }


def _preview(args):
    """Ce qui sera créé : territoire, QPV, signataires (repris ou nouveaux), plan."""
    from cdv.contracts.services import contract_territory, existing_partner, usual_signatory_partners

    epci, row, qpvs, communes = contract_territory(
        epci_code=args["epci_code"], commune_codes=args["commune_codes"]
    )
    partners = usual_signatory_partners(kinds=args["signatory_kinds"], epci_row=row, communes=communes)
    partners += [(name.strip(), kind, [], "") for name, kind in args["other_signatories"]]
    signatories = [
        {
            "name": name,
            "kind": PartnerKind(kind).label,
            "exists": existing_partner(name=name, kind=kind, candidates=candidates, siren=siren) is not None,
        }
        for name, kind, candidates, siren in partners
    ]
    return {"epci": epci, "epci_row": row, "qpvs": qpvs, "communes": communes, "signatories": signatories}


@login_required
@require_http_methods(["GET", "POST"])
def new_contract(request):
    require(request.user.is_superuser, "Seul un opérateur de l'instance crée un contrat.")
    form = NewContractForm(request.POST or None)
    context = {"form": form, "epcis": national_epcis().values()}
    if request.method == "POST" and request.POST.get("action") == "edit":
        return render(request, "operator/new_contract.html", context)
    if request.method == "POST" and form.is_valid():
        args = form.service_arguments()
        try:
            if request.POST.get("action") == "create":
                contract, _ = contract_services.create_contract(
                    operator=request.user, request=request, **args
                )
            else:
                context.update(_preview(args), args=args, plan_label=PlanStart(args["plan_start"]).label)
                return render(request, "operator/new_contract_confirm.html", context)
        except ValidationError as error:
            add_service_errors(form, error, {"epci_code": "epci", "other_signatories": "others"})
        else:
            messages.success(
                request,
                f"Contrat « {contract.title} » créé (en préparation) avec {contract.qpvs.count()} QPV ; "
                f"invitation envoyée à {args['pilot_email']}.",
            )
            return redirect("www:contract", slug=contract.slug)
    status = 422 if request.method == "POST" else 200
    return render(request, "operator/new_contract.html", context, status=status)
