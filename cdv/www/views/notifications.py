"""Mes notifications (/espace/notifications/) et « Relancer maintenant » du pilote.

Chacun ne voit et ne marque que ses propres notifications : un numéro envoyé par le formulaire
n'agit que sur une notification de la personne connectée.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from cdv.contracts.abilities import contract_abilities
from cdv.monitoring import reminders
from cdv.monitoring.enums import CampaignStatus
from cdv.notifications import services
from cdv.notifications.models import Notification

from ..forms.notifications import PreferencesForm
from .helpers import add_service_errors, get_contract, require
from .review import _get_campaign

PAGE_SIZE = 30


def _ids(values) -> list[int]:
    return [int(v) for v in values if v.isascii() and v.isdigit() and len(v) < 19]


@login_required
@require_http_methods(["GET", "POST"])
def my_notifications(request):
    user = request.user
    form = PreferencesForm(initial=services.preferences_of(user))
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "preferences":
            form = PreferencesForm(request.POST)
            if form.is_valid():
                try:
                    services.set_preferences(user=user, choices=form.cleaned_data)
                except ValidationError as error:
                    add_service_errors(form, error)
                else:
                    messages.success(request, "Vos préférences de notification sont enregistrées.")
                    return redirect("www:notifications")
        elif action == "read":
            services.mark_read(user=user, notification_ids=_ids(request.POST.getlist("notification")))
            return redirect("www:notifications")
        elif action == "read_all":
            count = services.mark_read(user=user)
            plural = "s" if count > 1 else ""
            messages.success(request, f"{count} notification{plural} marquée{plural} comme lue{plural}.")
            return redirect("www:notifications")
    page = Paginator(
        Notification.objects.for_user(user)
        .select_related("contract")
        .only("text", "url", "created_at", "read_at", "emailed_at", "delivery", "kind", "contract__title"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/list.html",
        {"page": page, "unread": services.unread_count(user), "form": form},
    )


@login_required
@require_http_methods(["GET", "POST"])
def remind(request, slug, year):
    """Aperçu de la relance (qui reçoit quoi) puis, sur confirmation, l'envoi : pilote seulement."""
    contract = get_contract(request, slug)
    require(
        contract_abilities(request.user, contract)["manage_review"],
        "Seul le pilote du contrat relance les référents.",
    )
    campaign = _get_campaign(contract, year)
    if campaign.status != CampaignStatus.OPEN:
        raise PermissionDenied(f"La campagne {campaign.year} n'est pas ouverte : plus de relance.")
    if request.method == "POST":
        result = reminders.remind_now(user=request.user, campaign=campaign)
        sent = len(result.sent)
        text = f"Relance envoyée : {sent} courriel{'s' if sent > 1 else ''}."
        if result.already_sent:
            text += f" {len(result.already_sent)} personne(s) déjà relancée(s) aujourd'hui."
        if result.failed:
            messages.error(
                request, f"Courriel non envoyé à : {', '.join(result.failed)}. Réessayez plus tard."
            )
        messages.success(request, text)
        return redirect("www:review_campaign", slug=contract.slug, year=campaign.year)
    today = timezone.localdate()
    recipients, orphans = reminders.pending_by_recipient(campaign)
    already = reminders.already_reminded(campaign, reminders.manual_slot(today), recipients)
    people = [
        {
            "user": user,
            "partners": sorted({r.partner.name for r in reports}),
            "reports": reports,
            "already": user.pk in already,
            "subject": reminders.reminder_subject(campaign, reminders.manual_slot(today), today),
            "body": reminders.message(campaign, reminders.manual_slot(today), user, reports, today),
        }
        for user, reports in recipients.items()
    ]
    return render(
        request,
        "review/remind.html",
        {
            "contract": contract,
            "campaign": campaign,
            "people": people,
            "orphans": orphans,
            "to_send": sum(1 for p in people if not p["already"]),
        },
    )
