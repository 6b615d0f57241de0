"""Pages de l'opérateur de l'instance (superutilisateur) : créer un contrat de ville."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from cdv.contracts import services as contract_services
from cdv.contracts.enums import PlanStart
from cdv.partners.enums import PartnerKind
from cdv.territories.loaders import national_epcis
from cdv.users.abilities import account_abilities

from ..forms.operator import NewContractForm
from .helpers import add_service_errors, require


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
    require(
        account_abilities(request.user)["create_contract"], "Seul un opérateur de l'instance crée un contrat."
    )
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
