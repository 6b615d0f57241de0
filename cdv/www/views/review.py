"""Suivi annuel : campagnes de bilan (pilote), tableau de complétude, bilans des partenaires,
examen par le pilote, pièces jointes.

Les droits viennent de ``cdv.monitoring.abilities`` ; les écritures passent par
``cdv.monitoring.services``, qui revérifient tout. Le contrat est cherché d'abord, puis la
campagne dans ce contrat, puis le bilan dans cette campagne : un identifiant venu de l'URL n'est
jamais cru (invisible → 404, visible mais interdit → 403).
"""

import os

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from cdv.contracts.abilities import contract_abilities
from cdv.core import filestore
from cdv.monitoring import abilities, selectors, services
from cdv.monitoring.confirmations import campaign_gaps
from cdv.monitoring.models import ProgressReport, ReviewCampaign, Snapshot
from cdv.monitoring.yearly import later_version_exists
from cdv.partners.models import Partner
from cdv.territories.models import Territory

from ..forms.review import OpenCampaignForm, ReportForm, ReturnReportForm
from .helpers import add_service_errors, confirmed_act, get_contract, get_partner, require

# ---------------------------------------------------------------------------------------------
# Formulaires
# ---------------------------------------------------------------------------------------------


ERROR_FIELDS = {"file": "attachment", "reviewer_comment": "comment"}


def _add_errors(form, error):
    add_service_errors(form, error, ERROR_FIELDS)


# ---------------------------------------------------------------------------------------------
# Recherche sûre des objets
# ---------------------------------------------------------------------------------------------


def _get_campaign(contract, year):
    campaign = ReviewCampaign.objects.for_contract(contract).filter(year=year).first()
    if campaign is None:
        raise Http404("Aucune campagne de suivi de ce contrat ne porte cette année.")
    campaign.contract = contract
    return campaign


def _require_member(request, contract):
    require(
        contract_abilities(request.user, contract)["view_internals"],
        "Le suivi annuel est réservé aux membres du contrat.",
    )


def _get_report(request, campaign, pk, ability="view"):
    report = (
        ProgressReport.objects.for_campaign(campaign)
        .filter(pk=pk)
        .select_related("commitment__objective__enjeu", "commitment__action", "partner", "reviewed_by")
        .first()
    )
    if report is None:
        raise Http404("Aucun bilan de cette campagne ne porte ce numéro.")
    report.campaign = campaign
    rights = abilities.report_abilities(request.user, report)
    if not rights["view"]:
        raise Http404("Aucun bilan de cette campagne ne porte ce numéro.")
    if not rights[ability]:
        raise PermissionDenied(services.refusal_message(request.user, report, ability))
    return report, rights


def _today():
    return timezone.localdate()


# ---------------------------------------------------------------------------------------------
# Campagnes : liste et ouverture
# ---------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def campaigns(request, slug):
    contract = get_contract(request, slug)
    _require_member(request, contract)
    can_open = abilities.can_open_campaign(request.user, contract)
    if request.method == "POST":
        require(can_open, "Seul le pilote du contrat ouvre une campagne de suivi annuel.")
    form = None
    if can_open:
        default_year = min(max(_today().year - 1, contract.start_year), contract.end_year)
        form = OpenCampaignForm(request.POST or None, initial={"year": default_year})
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.open_campaign(
                user=request.user,
                contract=contract,
                year=form.cleaned_data["year"],
                deadline=form.cleaned_data["deadline"],
                opens_on=form.cleaned_data["opens_on"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            count = campaign.reports.count()
            messages.success(
                request,
                f"Campagne {campaign.year} ouverte : {count} bilan{'s' if count > 1 else ''} à remplir.",
            )
            return redirect("www:review_campaign", slug=contract.slug, year=campaign.year)
    rows = ReviewCampaign.objects.for_contract(contract).with_report_counts()
    partner_ids = abilities.own_report_partner_ids(request.user, contract)
    return render(
        request,
        "review/campaigns.html",
        {
            "contract": contract,
            "campaigns": rows,
            "form": form,
            "can_open": can_open,
            "can_see_dashboard": contract_abilities(request.user, contract)["steer"],
            "my_partners": Partner.objects.filter(pk__in=partner_ids).order_by("name"),
        },
    )


# ---------------------------------------------------------------------------------------------
# Tableau de complétude
# ---------------------------------------------------------------------------------------------


def _later_version(campaign) -> bool:
    if not campaign.is_frozen:
        return False
    snapshot = Snapshot.objects.for_campaign(campaign).first()
    return snapshot is not None and later_version_exists(snapshot)


@login_required
def campaign_dashboard(request, slug, year):
    contract = get_contract(request, slug)
    _require_member(request, contract)
    campaign = _get_campaign(contract, year)
    rights = abilities.campaign_abilities(request.user, campaign)
    require(rights["view_dashboard"], "Le tableau de complétude est réservé au pilote et à l'évaluateur.")
    today = _today()
    return render(
        request,
        "review/dashboard.html",
        {
            "contract": contract,
            "campaign": campaign,
            "rights": rights,
            "today": today,
            "deadline_passed": today > campaign.deadline,
            "days_left": (campaign.deadline - today).days,
            **selectors.completeness(campaign, today),
            "later_version": _later_version(campaign),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def close_campaign(request, slug, year):
    """Page de confirmation (ce qui est incomplet, case « Je confirme ») puis clôture."""
    contract = get_contract(request, slug)
    _require_member(request, contract)
    campaign = _get_campaign(contract, year)
    rights = abilities.campaign_abilities(request.user, campaign)
    if not rights["close"]:
        if not rights["manage"]:
            raise PermissionDenied("Seul le pilote du contrat clôt une campagne de suivi annuel.")
        raise PermissionDenied(f"La campagne {campaign.year} n'est pas ouverte.")
    error = ""
    if request.method == "POST":
        error = confirmed_act(
            request,
            lambda: services.close_campaign(user=request.user, campaign=campaign, confirmed=True),
            unchecked="Cochez la case « Je confirme » pour clore la campagne.",
            done=f"Campagne {campaign.year} close : les bilans ne se modifient plus.",
        )
        if error is None:
            return redirect("www:review_campaign", slug=contract.slug, year=campaign.year)
    return render(
        request,
        "review/confirm.html",
        {
            "contract": contract,
            "campaign": campaign,
            "act": "close",
            "title": f"Clore la campagne {campaign.year}",
            "gaps": campaign_gaps(campaign, today=_today(), act="close"),
            "error": error,
        },
    )


# ---------------------------------------------------------------------------------------------
# Bilans d'un partenaire
# ---------------------------------------------------------------------------------------------


@login_required
def partner_reports(request, slug, year, partner_slug):
    contract = get_contract(request, slug)
    _require_member(request, contract)
    campaign = _get_campaign(contract, year)
    partner = get_partner(contract, partner_slug)
    partner_rights = abilities.partner_reports_abilities(request.user, contract, partner.pk)
    require(
        partner_rights["view"],
        "Les bilans d'un partenaire sont lus par ce partenaire, les pilotes et les évaluateurs.",
    )
    reports = list(
        ProgressReport.objects.for_campaign(campaign)
        .for_partner(partner)
        .select_related("commitment__objective__enjeu")
        .prefetch_related(Prefetch("commitment__qpvs", queryset=Territory.objects.only("code", "name")))
        .annotate(attachment_count=Count("attachments"))
        .order_by(
            "commitment__objective__enjeu__number", "commitment__objective__number", "commitment__title"
        )
    )
    today = _today()
    for report in reports:
        report.campaign = campaign
        report.is_late = report.is_late_on(today)
        report.rights = abilities.report_abilities(request.user, report)
    owner = partner_rights["edit"]
    pending = sum(1 for r in reports if r.is_not_submitted)
    return render(
        request,
        "review/partner_reports.html",
        {
            "contract": contract,
            "campaign": campaign,
            "partner": partner,
            "reports": reports,
            "owner": owner,
            "pending": pending,
            "today": today,
            "can_see_dashboard": abilities.campaign_abilities(request.user, campaign)["view_dashboard"],
        },
    )


# ---------------------------------------------------------------------------------------------
# Un bilan : formulaire, lecture, examen
# ---------------------------------------------------------------------------------------------


def _render_report(
    request, contract, campaign, report, rights, *, form=None, return_form=None, conflict=None
):
    if form is None and rights["edit"]:
        form = ReportForm(
            initial=ReportForm.initial_for(report),
            indicator_slots=selectors.report_indicator_slots(report, campaign.year),
        )
    report.is_late = report.is_late_on(_today())
    status = 409 if conflict else 200
    return render(
        request,
        "review/report.html",
        {
            "contract": contract,
            "campaign": campaign,
            "report": report,
            "commitment": report.commitment,
            "rights": rights,
            "form": form,
            "return_form": return_form or ReturnReportForm(),
            "conflict": conflict,
            "attachments": list(report.attachments.select_related("uploaded_by")),
            "planned": selectors.planned_means(report, campaign.year),
            "max_attachments": services.MAX_ATTACHMENTS_PER_REPORT,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def report_page(request, slug, year, pk):
    contract = get_contract(request, slug)
    _require_member(request, contract)
    campaign = _get_campaign(contract, year)
    if request.method == "GET":
        report, rights = _get_report(request, campaign, pk)
        return _render_report(request, contract, campaign, report, rights)

    action = request.POST.get("action", "save")
    report, rights = _get_report(request, campaign, pk, ability="submit" if action == "submit" else "edit")
    upload = request.FILES.get("attachment")
    if upload is not None:
        require(rights["upload"], services.refusal_message(request.user, report, "upload"))
    form = ReportForm(
        request.POST, request.FILES, indicator_slots=selectors.report_indicator_slots(report, campaign.year)
    )
    conflict = None
    if form.is_valid():
        created = []
        try:
            with transaction.atomic():
                saved = services.save_report(
                    user=request.user,
                    report=report,
                    expected_version=form.cleaned_data["version"] or 0,
                    data=form.report_data(),
                )
                if form.indicator_slots:
                    services.save_indicator_values(
                        user=request.user, report=saved, values=form.indicator_values()
                    )
                if upload is not None:
                    created.append(
                        services.add_attachment(user=request.user, report=saved, uploaded_file=upload)
                    )
                if action == "submit":
                    services.submit_report(user=request.user, report=saved, expected_version=saved.version)
        except services.ReportConflictError as error:
            services.discard_files(created)
            conflict = error
            report.refresh_from_db()
            report.campaign = campaign
        except ValidationError as error:
            services.discard_files(created)
            _add_errors(form, error)
        else:
            if action == "submit":
                messages.success(request, "Bilan transmis au pilote. Merci !")
                return redirect(
                    "www:review_partner",
                    slug=contract.slug,
                    year=campaign.year,
                    partner_slug=report.partner.slug,
                )
            done = "Bilan enregistré en brouillon."
            if created:
                done += f" Pièce jointe « {created[0].original_name} » ajoutée."
            messages.success(request, done)
            return redirect("www:review_report", slug=contract.slug, year=campaign.year, pk=report.pk)
    return _render_report(request, contract, campaign, report, rights, form=form, conflict=conflict)


@login_required
@require_POST
def accept_report(request, slug, year, pk):
    contract = get_contract(request, slug)
    _require_member(request, contract)
    campaign = _get_campaign(contract, year)
    report, _ = _get_report(request, campaign, pk, ability="accept")
    try:
        services.accept_report(user=request.user, report=report)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("www:review_report", slug=contract.slug, year=campaign.year, pk=report.pk)
    messages.success(request, f"Bilan « {report.commitment.title} » accepté.")
    return redirect("www:review_campaign", slug=contract.slug, year=campaign.year)


@login_required
@require_POST
def return_report(request, slug, year, pk):
    contract = get_contract(request, slug)
    _require_member(request, contract)
    campaign = _get_campaign(contract, year)
    report, rights = _get_report(request, campaign, pk, ability="return")
    return_form = ReturnReportForm(request.POST)
    if return_form.is_valid():
        try:
            services.return_report(
                user=request.user, report=report, comment=return_form.cleaned_data["comment"]
            )
        except ValidationError as error:
            _add_errors(return_form, error)
        else:
            messages.success(
                request, f"Bilan « {report.commitment.title} » renvoyé au partenaire pour complément."
            )
            return redirect("www:review_campaign", slug=contract.slug, year=campaign.year)
    return _render_report(request, contract, campaign, report, rights, return_form=return_form)


# ---------------------------------------------------------------------------------------------
# Pièces jointes
# ---------------------------------------------------------------------------------------------


@login_required
def attachment_download(request, slug, year, pk, attachment_pk):
    contract = get_contract(request, slug)
    _require_member(request, contract)
    campaign = _get_campaign(contract, year)
    report, _ = _get_report(request, campaign, pk)
    attachment = report.attachments.filter(pk=attachment_pk).first()
    if attachment is None:
        raise Http404("Aucune pièce jointe de ce bilan ne porte ce numéro.")
    try:
        handle = filestore.open_stream(attachment.file.storage, attachment.file.name)
    except FileNotFoundError as error:
        raise Http404("Le fichier de cette pièce jointe est introuvable.") from error
    response = filestore.stream_response(
        handle,
        as_attachment=True,
        filename=os.path.basename(attachment.file.name),
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def attachment_delete(request, slug, year, pk, attachment_pk):
    contract = get_contract(request, slug)
    _require_member(request, contract)
    campaign = _get_campaign(contract, year)
    report, _ = _get_report(request, campaign, pk, ability="delete_attachment")
    attachment = report.attachments.filter(pk=attachment_pk).first()
    if attachment is None:
        raise Http404("Aucune pièce jointe de ce bilan ne porte ce numéro.")
    try:
        services.delete_attachment(user=request.user, attachment=attachment)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"Pièce jointe « {attachment.original_name} » retirée.")
    return redirect("www:review_report", slug=contract.slug, year=campaign.year, pk=report.pk)
