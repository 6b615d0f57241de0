"""L'année arrêtée : instantané immuable et bilan annuel (PDF).

Le bilan de l'année N se prépare pour le COPIL, tenu au début de N+1 : il retient les retours
publiés et les décisions des instances jusqu'à la fin de N+1 (jamais après).

``year_payload`` rassemble, pour une année, les indicateurs (avec l'ensemble des QPV et l'écart
calculés), les engagements et leur état, les bilans, les retours publiés, les décisions et les
chiffres de l'appel à projets de l'année (``cdv.grants.figures``). Le
gel enregistre ce contenu une fois pour toutes (``Snapshot``, empreinte SHA-256) ; le bilan annuel
se construit à partir de l'instantané s'il existe, sinon des données du moment.
"""

import datetime
import hashlib
import json
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone

from cdv.commitments.enums import CommitmentStatus
from cdv.commitments.models import Commitment
from cdv.core.actors import person_or_none
from cdv.grants import figures as grant_figures
from cdv.indicators import selectors
from cdv.indicators.models import Indicator, IndicatorValue, Target
from cdv.territories.models import Territory

from .abilities import campaign_abilities
from .enums import CampaignStatus, MeetingKind
from .models import Decision, Feedback, ProgressReport, ReviewCampaign, Snapshot

PAYLOAD_VERSION = 1


def _num(value) -> str | None:
    return None if value is None else f"{Decimal(value).normalize():f}"


def _point(value) -> str | None:
    """Une valeur d'une série du bilan : « s » pour le secret statistique (jamais confondu avec l'absence)."""
    return SECRET_MARK if value.is_secret else _num(value.value)


SECRET_MARK = "s"


def _reports_payload(campaign) -> dict:
    """Les bilans de la campagne, par engagement, tels que l'instantané les enregistre."""
    return {
        r.commitment_id: {
            "state": r.state,
            "state_label": r.get_state_display(),
            "reported_status": r.get_reported_status_display() if r.reported_status else "",
            "progress_pct": r.progress_pct,
            "fte_actual": _num(r.fte_actual),
            "amount_actual": _num(r.amount_actual),
            "what_worked": r.what_worked,
            "difficulties": r.difficulties,
        }
        for r in ProgressReport.objects.filter(campaign=campaign)
    }


def later_version_exists(snapshot) -> bool:
    """Un bilan a-t-il changé depuis le gel (bilan renvoyé complété, puis accepté) ? L'instantané,
    lui, ne change pas : la page le dit. Une requête."""
    frozen = {c["id"]: c["report"] for c in snapshot.payload.get("commitments", []) if c.get("report")}
    return _reports_payload(snapshot.campaign) != frozen


def year_payload(contract, year: int) -> dict:
    """Tout ce que le bilan de l'année ``year`` montre, en JSON (chaînes pour les nombres)."""
    populations = selectors.contract_qpv_populations(contract)
    targets = {}
    for target in Target.objects.filter(indicator__contract=contract).order_by("year"):
        targets.setdefault(target.indicator_id, []).append(target)
    values_by_indicator = {}
    # Le territoire de chaque valeur sans son contour (le contenu n'en lit que le nom, le code, le niveau).
    for v in selectors.with_territory(
        IndicatorValue.objects.filter(indicator__contract=contract, year__lte=year)
    ):
        values_by_indicator.setdefault(v.indicator_id, []).append(v)
    indicators = []
    for indicator in Indicator.objects.filter(contract=contract).select_related("enjeu").order_by("name"):
        rows = sorted(values_by_indicator.get(indicator.pk, []), key=lambda v: (v.year, v.quarter))
        summaries = selectors.summaries(contract, indicator, rows, populations)
        series = {}
        for v in rows:
            if v.territory_id is None or v.territory.kind in {"EPCI", "ZONE_EMPLOI", "FRANCE"}:
                series.setdefault(v.territory_label, []).append([v.period_label, _point(v)])
        qpv_series = {}
        for v in rows:
            if v.territory_id in populations:
                qpv_series.setdefault(v.territory.name, []).append([v.period_label, _point(v)])
        indicators.append(
            {
                "series": {label: points for label, points in series.items() if len(points) > 2},
                "qpv_series": {
                    name: points for name, points in sorted(qpv_series.items()) if len(points) > 1
                },
                "code": indicator.code,
                "name": indicator.name,
                "unit": indicator.unit,
                "source": indicator.source,
                "comparability_note": indicator.comparability_note,
                "is_demo": indicator.is_demo,
                "is_rate": indicator.is_rate,
                "progress": {
                    key: _num(value) if isinstance(value, Decimal) else value
                    for key, value in selectors.progress_content(
                        selectors.progress(indicator, summaries, targets.get(indicator.pk, []))
                    ).items()
                },
                "summaries": [
                    {
                        "period": s.period_label,
                        "qpv_value": _num(s.qpv_value),
                        "qpv_origin": s.qpv_origin,
                        "qpv_reason": s.qpv_reason,
                        "reference": s.reference_label,
                        "reference_value": _num(s.reference_value),
                        "reference_secret": s.reference_secret,
                        "gap_points": _num(s.gap.points) if s.gap else None,
                        "gap_ratio": _num(s.gap.ratio) if s.gap and s.gap.ratio is not None else None,
                    }
                    for s in summaries
                ],
            }
        )
    campaign = ReviewCampaign.objects.filter(contract=contract, year=year).first()
    reports = _reports_payload(campaign) if campaign is not None else {}
    commitments = []
    queryset = (
        Commitment.objects.filter(contract=contract)
        .select_related("partner", "objective__enjeu")
        .prefetch_related(Prefetch("qpvs", queryset=Territory.objects.only("code", "name")), "means")
        .order_by("objective__enjeu__number", "partner__name", "id")
    )
    for c in queryset:
        means = [m for m in c.means.all() if m.year == year]
        commitments.append(
            {
                "id": c.pk,
                "title": c.title,
                "partner": c.partner.name,
                "enjeu": c.objective.enjeu.number,
                "enjeu_title": c.objective.enjeu.title,
                "status": c.status,
                "status_label": c.get_status_display(),
                "qpvs": [q.name for q in c.qpvs.all()],
                "qpv_codes": [q.code for q in c.qpvs.all()],
                "scope": c.scope,
                "fte_planned": _num(sum((m.fte for m in means), Decimal(0))),
                "amount_planned": _num(sum((m.amount_eur for m in means), Decimal(0))),
                "report": reports.get(c.pk),
                "is_demo": c.is_demo,
            }
        )
    feedback = [
        {
            "kind": f.get_kind_display(),
            "text": f.text,
            "enjeu": f.enjeu.number if f.enjeu_id else None,
            "qpvs": [q.name for q in f.qpvs.all()],
            "from": f.partner.name if f.partner_id else "",
            "is_demo": f.is_demo,
        }
        for f in Feedback.objects.for_contract(contract)
        .published()
        .filter(created_at__year__lte=year + 1)
        .select_related("partner", "enjeu")
        .prefetch_related(Prefetch("qpvs", queryset=Territory.objects.only("name")))
    ]
    decisions = [
        {
            "meeting": str(d.meeting),
            "meeting_kind": d.meeting.kind,
            "date": d.meeting.date.isoformat(),
            "text": d.text,
            "owner": d.owner.name if d.owner_id else "",
            "due_on": d.due_on.isoformat() if d.due_on else None,
            "status": d.get_status_display(),
            "follow_up": d.follow_up,
        }
        for d in Decision.objects.filter(meeting__contract=contract, meeting__date__year__lte=year + 1)
        .select_related("meeting", "owner")
        .order_by("meeting__date", "id")
    ]
    return {
        "version": PAYLOAD_VERSION,
        "contract": {
            "slug": contract.slug,
            "title": contract.title,
            "period": contract.period_label,
            "reference": contract.reference.name,
        },
        "year": year,
        "qpvs": [
            {"code": q.code, "name": q.name} for q in contract.qpvs.order_by("name").only("code", "name")
        ],
        "enjeux": [{"number": e.number, "title": e.title} for e in contract.enjeux.all()],
        "indicators": indicators,
        "commitments": commitments,
        "feedback": feedback,
        "decisions": decisions,
        "copil_held": any(d["meeting_kind"] == MeetingKind.COPIL for d in decisions),
        # L'appel à projets de l'année : demandé, voté, versé (None : pas d'appel cette année-là).
        "call": grant_figures.to_json(grant_figures.call_figures(contract, year)),
    }


def checksum(payload: dict) -> str:
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@transaction.atomic
def freeze_year(*, user, campaign, confirmed: bool = False) -> Snapshot:
    """Arrête l'année : enregistre l'instantané et fige la campagne. Une seule fois, et seulement
    sur confirmation explicite (``confirmed=True``) : l'acte est irréversible."""
    campaign = ReviewCampaign.objects.select_for_update().get(pk=campaign.pk)
    if not campaign_abilities(user, campaign)["manage"]:
        raise PermissionDenied("Seul un pilote du contrat fige l'année.")
    if campaign.status == CampaignStatus.FROZEN or Snapshot.objects.filter(campaign=campaign).exists():
        raise ValidationError(f"L'année {campaign.year} est déjà figée : l'instantané ne change plus.")
    if confirmed is not True:
        raise ValidationError(
            f"Figer l'année {campaign.year} est irréversible : une confirmation explicite est requise."
        )
    payload = year_payload(campaign.contract, campaign.year)
    payload["frozen_at"] = timezone.now().isoformat()
    snapshot = Snapshot.objects.create(
        campaign=campaign, created_by=person_or_none(user), payload=payload, checksum=checksum(payload)
    )
    campaign.status = CampaignStatus.FROZEN
    campaign.save(update_fields=["status"])
    return snapshot


def payload_for_report(contract, year: int) -> tuple[dict, bool]:
    """Le contenu du bilan : l'instantané figé s'il existe (``True``), sinon les données du moment."""
    snapshot = Snapshot.objects.filter(campaign__contract=contract, campaign__year=year).first()
    if snapshot is not None:
        return snapshot.payload, True
    return year_payload(contract, year), False


def _chart_for(indicator):
    """L'évolution : la courbe calculée de l'ensemble des QPV (le motif là où elle ne se calcule pas)
    à côté de la référence ; sans évolution, l'écart de la dernière période."""
    from cdv.indicators.charts import GapChart, LineChart, Refused, Series
    from cdv.indicators.computations import at_period

    summaries = indicator["summaries"]
    if not summaries:
        return None
    series = [
        Series(label, [(p, _dec(v)) for p, v in points])
        for label, points in (indicator.get("series") or {}).items()
    ]
    computed = [s for s in summaries if s.get("qpv_origin") == "calculée"]
    if len(computed) > 1:
        series.insert(
            0,
            Series(
                "Ensemble des QPV (calculé)",
                [
                    (
                        s["period"],
                        _dec(s["qpv_value"])
                        if s.get("qpv_origin") == "calculée"
                        else Refused(s["qpv_reason"]),
                    )
                    for s in summaries
                    if s.get("qpv_origin") == "calculée" or s.get("qpv_reason")
                ],
            ),
        )
    if series:
        return LineChart(
            title=f"{indicator['name']} ({indicator['unit']})", unit=indicator["unit"], series=series
        )
    last = summaries[-1]
    if last["qpv_value"] is None or last["reference_value"] is None or not indicator.get("is_rate", True):
        return None
    return GapChart(
        title=f"{indicator['name']} {at_period(last['period'])} ({indicator['unit']})",
        unit=indicator["unit"],
        bars=[("Ensemble des QPV", _dec(last["qpv_value"]))],
        reference_label=last["reference"],
        reference_value=_dec(last["reference_value"]),
    )


def _multiples_for(indicator):
    """Un petit graphique par QPV (avec la référence) quand l'indicateur a des valeurs par quartier."""
    from cdv.indicators.charts import SmallMultiples

    panels = indicator.get("qpv_series") or {}
    if not panels:
        return None
    reference = [  # la ligne de la référence n'a de sens qu'entre taux
        (s["period"], _dec(SECRET_MARK if s.get("reference_secret") else s["reference_value"]))
        for s in indicator["summaries"]
        if indicator.get("is_rate", True)
    ]
    return SmallMultiples(
        title=f"{indicator['name']} par quartier ({indicator['unit']})",
        unit=indicator["unit"],
        panels=[(name, [(p, _dec(v)) for p, v in points]) for name, points in panels.items()],
        reference_label=indicator["summaries"][-1]["reference"] if indicator["summaries"] else "",
        reference=reference,
    )


def _dec(text):
    """Un nombre du contenu figé ; « s » redevient le secret statistique des graphiques."""
    from cdv.indicators.charts import SECRET

    if text == SECRET_MARK:
        return SECRET
    return None if text is None else Decimal(text)


def _call_chart(call):
    """Les montants votés par financeur : des barres (la définition des graphiques du projet), avec
    leur tableau de données."""
    from cdv.indicators.charts import GapChart

    if not call or not call.get("funders"):
        return None
    return GapChart(
        title=f"Montants votés par financeur, appel à projets {call['year']} (€)",
        unit="€",
        bars=[(row["label"], Decimal(row["voted"])) for row in call["funders"]],
        reference_label="",
        reference_value=None,
    )


def build_annual_report_pdf(*, contract, year: int) -> bytes:
    from cdv.commitments.documents import DOCUMENTS_DIR, html_to_pdf

    return html_to_pdf(
        annual_report_html(contract=contract, year=year), css_path=DOCUMENTS_DIR / "annual_report.css"
    )


def _local_date(moment: str | None):
    """La date locale d'un instant enregistré à l'ISO (« 2026-12-06T22:40:00+00:00 »), ou None."""
    if not moment:
        return None
    parsed = datetime.datetime.fromisoformat(moment)
    return (timezone.localtime(parsed) if timezone.is_aware(parsed) else parsed).date()


def annual_report_html(*, contract, year: int) -> str:
    payload, frozen = payload_for_report(contract, year)
    enjeux = []
    for enjeu in payload["enjeux"]:
        items = [c for c in payload["commitments"] if c["enjeu"] == enjeu["number"]]
        reported = [c for c in items if c["report"]]
        enjeux.append(
            {
                "number": enjeu["number"],
                "title": enjeu["title"],
                "commitments": items,
                "fte_actual": sum(Decimal(c["report"]["fte_actual"] or 0) for c in reported),
                "amount_actual": sum(Decimal(c["report"]["amount_actual"] or 0) for c in reported),
                "feedback": [f for f in payload["feedback"] if f["enjeu"] == enjeu["number"]][:5],
            }
        )
    qpvs = []
    for qpv in payload["qpvs"]:
        items = [c for c in payload["commitments"] if qpv["code"] in c["qpv_codes"] or c["scope"] != "QPV"]
        qpvs.append(
            {
                "name": qpv["name"],
                "code": qpv["code"],
                "local": [c for c in items if c["scope"] == "QPV"],
                "general": len([c for c in items if c["scope"] != "QPV"]),
                "feedback": [f for f in payload["feedback"] if qpv["name"] in f["qpvs"]][:3],
            }
        )
    charts = [
        (indicator, _chart_for(indicator), _multiples_for(indicator)) for indicator in payload["indicators"]
    ]
    # Un instantané figé avant que le bilan ne porte l'appel à projets n'en a pas les chiffres : ceux
    # du moment, dits comme tels.
    call_live = "call" not in payload
    call = grant_figures.to_json(grant_figures.call_figures(contract, year)) if call_live else payload["call"]
    return render_to_string(
        "documents/annual_report.html",
        {
            "p": payload,
            "frozen": frozen,
            "frozen_on": _local_date(payload.get("frozen_at")) if frozen else None,
            "enjeux": enjeux,
            "qpvs": qpvs,
            "charts": charts,
            "generated": timezone.localtime(),
            "has_demo": any(c["is_demo"] for c in payload["commitments"]),
            "statuses_done": {CommitmentStatus.DONE.label, CommitmentStatus.PARTLY_DONE.label},
            "call": call,
            "call_live": call_live and frozen,
            "call_chart": _call_chart(call),
            "call_as_of": datetime.date.fromisoformat(call["as_of"]) if call else None,
            "call_caption": f"appel à projets {year}",
        },
    )
