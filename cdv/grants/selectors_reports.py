"""Les comptes-rendus d'un appel, tels que le pilote et les financeurs les suivent."""

from django.db.models import Prefetch

from .abilities import follow_up_funder_ids
from .blocking import BLOCKING_REPORT_STATUSES, due_date_of, funded_applications, report_of
from .enums import ReportStatus
from .models import Application, FunderLine, ReportReview
from .services.report_review import current_reviews

# Le filtre « pas commencé » (aucun compte-rendu)
NOT_STARTED = "NON_COMMENCE"


def report_rows(user, call, *, today):
    """Une ligne par projet financé de l'appel que ``user`` suit (pilote : tous ; instructeur :
    ceux que ses financeurs ont financés). Trois requêtes, quel que soit le nombre de projets."""
    granted = FunderLine.objects.granted().select_related("funder__partner")
    applications = funded_applications(Application.objects.filter(call=call))
    funder_ids = follow_up_funder_ids(user, call)
    if funder_ids is not None:
        mine = granted.filter(funder__call=call, funder__partner_id__in=funder_ids)
        applications = applications.filter(pk__in=mine.values("application_id"))
    applications = (
        applications.select_related("partner", "final_report")
        .prefetch_related(
            Prefetch("funder_lines", granted, to_attr="granted"),
            Prefetch("final_report__reviews", ReportReview.objects.select_related("funder")),
        )
        .order_by("partner__name", "number", "pk")
    )
    rows = []
    for application in applications:
        application.call = call
        report = report_of(application)
        status = report.status if report is not None else None
        due = due_date_of(application)
        current = current_reviews(report, list(report.reviews.all())) if report is not None else {}
        rows.append(
            {
                "application": application,
                "report": report,
                "status": status or NOT_STARTED,
                "status_label": ReportStatus(status).label if status else "Pas commencé",
                "due_date": due,
                "late": status in BLOCKING_REPORT_STATUSES and due < today,
                "funders": [(line, current.get(line.funder_id)) for line in application.granted],
            }
        )
    return rows
