"""Ce qui reste incomplet avant un acte irréversible du suivi annuel (clore la campagne, figer
l'année) : lu ici, montré sur la page de confirmation. Deux requêtes, quelle que soit la campagne."""

from django.db.models import Count
from django.template.defaultfilters import date as date_format

from .enums import CampaignStatus, ReportState


def _plural(count, singular, plural):
    return singular if count == 1 else plural


def campaign_gaps(campaign, *, today, act: str) -> list[str]:
    """Les phrases qui disent ce qui n'est pas fini ; ``act`` : ``"close"`` ou ``"freeze"``."""
    from .models import ProgressReport

    reports = ProgressReport.objects.filter(campaign=campaign)
    counts = dict(reports.values_list("state").annotate(n=Count("id")).order_by())
    total = sum(counts.values())
    draft, returned = counts.get(ReportState.DRAFT, 0), counts.get(ReportState.RETURNED, 0)
    submitted = counts.get(ReportState.SUBMITTED, 0)
    not_sent = draft + returned
    gaps = []
    if not_sent:
        names = list(
            reports.not_submitted()
            .order_by("partner__name")
            .values_list("partner__name", flat=True)
            .distinct()
        )
        verb = _plural(not_sent, "bilan n'est pas encore transmis", "bilans ne sont pas encore transmis")
        sentence = f"{not_sent} {verb} sur {total}"
        if returned:
            sentence += f", dont {returned} {_plural(returned, 'renvoyé', 'renvoyés')} pour complément"
        gaps.append(f"{sentence} ({', '.join(names)}).")
    if submitted:
        gaps.append(
            f"{submitted} {_plural(submitted, 'bilan transmis attend', 'bilans transmis attendent')} "
            "encore votre examen."
        )
    if campaign.deadline >= today:
        days = (campaign.deadline - today).days
        when = "aujourd'hui" if days == 0 else f"encore {days} {_plural(days, 'jour', 'jours')}"
        gaps.append(
            f"La date limite des bilans n'est pas atteinte : {when} "
            f"(le {date_format(campaign.deadline, 'j F Y')})."
        )
    if act == "freeze" and campaign.status == CampaignStatus.OPEN:
        gaps.append("La campagne est encore ouverte : les partenaires peuvent encore remplir leurs bilans.")
    return gaps
