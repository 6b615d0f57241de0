"""Où en est une ligne votée : acte, versements, compte-rendu. L'état de suivi (``FollowUpStage``)
est calculé, jamais saisi : il ne peut pas contredire les actes et versements enregistrés.

Les pages listent les lignes avec ``FunderLine.objects….with_follow_up()`` (montant versé, date
du dernier versement, signature de l'acte, état du compte-rendu en une requête), puis
``stage_of(line)``.
"""

from decimal import Decimal

from django.core.exceptions import ObjectDoesNotExist

from .enums import FollowUpStage, LineStatus, ReportStatus

ZERO = Decimal("0")


def paid_amount(line) -> Decimal:
    """Montant versé sur la ligne (annotation ``paid_amount`` si présente)."""
    value = getattr(line, "paid_amount", None)
    if value is None and not hasattr(line, "paid_amount"):
        value = sum((p.amount for p in line.payments.all()), ZERO)
    return value or ZERO


def report_status(line) -> str | None:
    """État du compte-rendu du dossier de la ligne (annotation ``report_status`` si présente)."""
    if hasattr(line, "report_status"):
        return line.report_status
    try:
        return line.application.final_report.status
    except ObjectDoesNotExist:
        return None


def act_signed_on(line):
    if hasattr(line, "act_signed_on"):
        return line.act_signed_on
    try:
        return line.act.signed_on
    except ObjectDoesNotExist:
        return None


def has_act(line) -> bool:
    if hasattr(line, "act_reference"):
        return bool(line.act_reference)
    try:
        return line.act is not None
    except ObjectDoesNotExist:
        return False


def granted_lines(application) -> list:
    """Les lignes votées d'un montant non nul du dossier : ses subventions accordées (lues sur
    ``funder_lines`` préchargées ; en requête : ``FunderLine.objects.granted()``)."""
    return [
        line
        for line in application.funder_lines.all()
        if line.status == LineStatus.VOTED and line.voted_amount
    ]


def stage_of(line) -> str:
    """L'état de suivi d'une ligne votée (suite des libellés de Dauphin)."""
    voted = line.voted_amount or ZERO
    paid = paid_amount(line)
    if voted and paid >= voted:
        return FollowUpStage.PAID
    report = report_status(line)
    if report == ReportStatus.ACCEPTED:
        return FollowUpStage.JUSTIFIED
    if report == ReportStatus.CHANGES_REQUESTED:
        return FollowUpStage.TO_AMEND
    if report == ReportStatus.SUBMITTED:
        return FollowUpStage.JUSTIFYING
    if paid:
        return FollowUpStage.PARTLY_PAID
    if act_signed_on(line):
        return FollowUpStage.SIGNED
    if has_act(line):
        return FollowUpStage.ACT_READY
    return FollowUpStage.VOTED


# Ce que le public lit de l'état de suivi : le compte-rendu de l'association ne se publie pas.
PUBLIC_STAGE_WORDS = {
    FollowUpStage.VOTED: "Voté",
    FollowUpStage.SIGNED: "Conventionné",
    FollowUpStage.PAID: "Payé",
}


def public_stage(line) -> str:
    """L'état de suivi ramené à ce qui se publie : payé (versé en entier), conventionné (acte
    signé, ou un premier versement fait), sinon voté."""
    if stage_of(line) == FollowUpStage.PAID:
        return FollowUpStage.PAID
    if act_signed_on(line) or paid_amount(line):
        return FollowUpStage.SIGNED
    return FollowUpStage.VOTED


def follow_up_of(user, application) -> dict:
    """Ce que les pages d'un dossier montrent « après le vote » : pour chaque ligne votée, son
    acte, son état de suivi, le versé et les droits de ``user`` ; puis le compte-rendu et ses
    droits. Vide tant que le comité n'a rien accordé. Trois requêtes, quel que soit le dossier."""
    from .abilities import follow_up_abilities, report_abilities
    from .models import FinalReport, FunderLine

    lines = list(
        FunderLine.objects.filter(application=application, status="VOTE")
        .exclude(voted_amount=None)
        .exclude(voted_amount=0)
        .select_related("funder__partner", "act")
        .with_follow_up()
    )
    rows = []
    for line in lines:
        line.application = application
        rights = follow_up_abilities(user, line)
        if rights["view"]:
            stage = stage_of(line)
            rows.append(
                {
                    "line": line,
                    "stage": stage,
                    "stage_label": FollowUpStage(stage).label,
                    "paid": paid_amount(line),
                    "rights": rights,
                }
            )
    report = FinalReport.objects.filter(application=application).first()
    report_rights = report_abilities(user, application, report)
    return {"rows": rows, "report": report, "report_rights": report_rights}
