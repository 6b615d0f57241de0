"""« Est-ce en QPV ? » : un point pour tout le monde, un fichier pour les personnes connectées.

- ``/georeferencement/`` : un point (coordonnées ou adresse) → son QPV, sans connexion ; dépôt d'un
  fichier CSV ou XLSX (connexion requise) et liste de ses traitements ;
- ``/georeferencement/traitements/<n>/`` : avancement (htmx toutes les 2 s ; sans JavaScript, un
  lien « Actualiser »), résumé, téléchargement du résultat, et enregistrement de la part en QPV
  comme valeur d'un indicateur d'engagement.

Un traitement n'est visible que de la personne qui l'a lancé : pour toute autre, il n'existe pas
(404), quel que soit le numéro essayé.
"""

import os
from pathlib import PurePath

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from cdv.commitments import abilities
from cdv.commitments.models import Commitment
from cdv.contracts.models import Contract
from cdv.core import filestore
from cdv.core.ratelimit import parse_rate, rate_limited
from cdv.georef import services, tasks
from cdv.georef.abilities import georef_abilities, recording_contracts, records_indicator_values
from cdv.georef.models import GeorefJob, JobStatus
from cdv.indicators.origins import is_own_series, value_origins

from ..forms.georef import PointForm, RecordForm, UploadForm

STATUS_LABELS = {
    "DANS_QPV": "Dans un QPV",
    "HORS_QPV": "Hors QPV",
    "NON_GEOCODE": "Adresse non trouvée (ou géocodeur indisponible)",
    "SCORE_FAIBLE": "Adresse trouvée avec un score trop faible",
    "ENTREE_INVALIDE": "Entrée invalide (coordonnées absentes ou hors limites)",
}


def _recordable_pairs(user, job):
    """(engagement, indicateur en %) pour lesquels la personne peut enregistrer la part en QPV."""
    if not georef_abilities(user, job)["record"]:
        return []
    contracts = recording_contracts(user, Contract.objects.all(), job.contract_id)
    commitments = (
        Commitment.objects.recording()
        .filter(contract__in=contracts.distinct(), indicators__isnull=False)
        .select_related("contract", "partner")
        .prefetch_related("indicators")
        .distinct()
        .order_by("contract__title", "partner__name", "title")
    )
    candidates = []
    for commitment in commitments:
        if not abilities.can_record_indicator_value(user, commitment):
            continue
        for indicator in commitment.indicators.all():
            if services.is_percentage(indicator):
                candidates.append((commitment, indicator))
    # Jamais une série officielle ni celle d'un autre engagement (revérifié par le service).
    origins = value_origins({indicator.pk for _, indicator in candidates})
    return [(c, i) for c, i in candidates if is_own_series(i, c, origins)]


def record_unavailable_reason(user, job) -> str:
    """Pourquoi le formulaire « enregistrer comme indicateur » n'est pas proposé, et quoi faire."""
    if not records_indicator_values(user, job.contract_id):
        return (
            "Seuls les pilotes d'un contrat et les référents (rédaction) d'un partenaire enregistrent "
            "cette part comme valeur d'indicateur"
            + (" de ce contrat" if job.contract_id else "")
            + ". Transmettez le fichier résultat au référent de votre organisation."
        )
    return (
        "Aucun engagement que vous suivez n'a d'indicateur en % qui lui soit propre (une série "
        "officielle ne se remplace pas d'ici), parmi les engagements validés, confirmés ou en cours"
        + (" de ce contrat" if job.contract_id else "")
        + ". Depuis la fiche de l'engagement, ajoutez un indicateur en % (par exemple « Part des "
        "bénéficiaires résidant en QPV »), puis revenez sur cette page."
    )


def _job_for(request, pk) -> GeorefJob:
    job = GeorefJob.objects.owned_by(request.user).select_related("contract").filter(pk=pk).first()
    if job is None or not georef_abilities(request.user, job)["view"]:
        raise Http404("Aucun de vos traitements ne porte ce numéro.")
    return job


def _summary_rows(job):
    summary = job.summary or {}
    by_status = summary.get("by_status") or {}
    statuses = [(code, STATUS_LABELS.get(code, code), by_status.get(code, 0)) for code in STATUS_LABELS]
    statuses += [(code, code, n) for code, n in by_status.items() if code not in STATUS_LABELS]
    by_qpv = sorted(
        ((code, value[0], value[-1]) for code, value in (summary.get("by_qpv") or {}).items()),
        key=lambda item: (-item[2], item[0]),
    )
    return statuses, by_qpv


@require_http_methods(["GET", "POST"])
def georef_home(request):
    asked = any(request.GET.get(k) is not None for k in ("lon", "lat", "adresse"))
    point_form = PointForm(request.GET if asked else None, auto_id="point_%s")  # ids distincts du dépôt
    point_result = None
    retry_after = None
    if point_form.is_bound and point_form.is_valid():
        if point_form.cleaned_data.get("lon") is None:  # une adresse : un appel au géocodeur
            retry_after = rate_limited(
                request, scope="georef-web-adresses", rate=settings.GEOREF_WEB_ADDRESS_RATE
            )
        point_result = _rate_limited_result(retry_after) if retry_after else _locate_point(point_form)
    upload_form = None
    if request.user.is_authenticated:
        if request.method == "POST":
            upload_form = UploadForm(request.POST, request.FILES)
            if upload_form.is_valid():
                job = _create_job(request, upload_form)
                if job is not None:
                    return redirect("www:georef_job", pk=job.pk)
        else:
            upload_form = UploadForm(initial={"contrat": request.GET.get("contrat", "")})
    elif request.method == "POST":
        raise PermissionDenied("Connectez-vous pour déposer un fichier.")
    jobs = GeorefJob.objects.owned_by(request.user)[:20] if request.user.is_authenticated else []
    status = 422 if (upload_form is not None and upload_form.is_bound and upload_form.errors) else 200
    if point_form.is_bound and point_form.errors:
        status = 422
    if retry_after:
        status = 429
    response = render(
        request,
        "georef/home.html",
        {
            "point_form": point_form,
            "point_result": point_result,
            "upload_form": upload_form,
            "jobs": jobs,
            "max_mb": settings.GEOREF_MAX_UPLOAD_MB,
            "retention_days": settings.GEOREF_RETENTION_DAYS,
        },
        status=status,
    )
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def _rate_limited_result(wait):
    count, _, period = parse_rate(settings.GEOREF_WEB_ADDRESS_RATE)
    return {
        "statut_qpv": "LIMITE",
        "statut_label": "Trop de recherches d'adresses",
        "raison": (
            f"{count} recherches d'adresse par {period} au plus depuis une même adresse IP. "
            f"Réessayez dans {wait} s ; des coordonnées se situent sans attendre, et une liste "
            "d'adresses se dépose en fichier (connexion requise)."
        ),
        "lon": None,
        "lat": None,
    }


def _locate_point(form):
    result = _locate_point_raw(form)
    result["statut_label"] = STATUS_LABELS.get(result.get("statut_qpv"), result.get("statut_qpv", ""))
    return result


def _locate_point_raw(form):
    from cdv.georef.ban import BanGeocoder, GeocoderUnavailable
    from cdv.georef.engine import GeorefError
    from cdv.georef.pipeline import locate_points

    data = form.cleaned_data
    geography = data.get("geographie") or "2024"
    result = {"lon": data.get("lon"), "lat": data.get("lat"), "label": "", "score": None}
    try:
        if data.get("lon") is None:
            try:
                found = BanGeocoder.interactive().geocode_one(data["adresse"])
            except GeocoderUnavailable as error:
                return {**result, "statut_qpv": "NON_GEOCODE", "raison": str(error)}
            if found is None:
                return {**result, "statut_qpv": "NON_GEOCODE", "raison": "Adresse introuvable."}
            result.update(lon=found.lon, lat=found.lat, label=found.label, score=found.score)
        (located,) = locate_points([(result["lon"], result["lat"])], geography=geography)
    except GeorefError as error:
        return {**result, "statut_qpv": "ENTREE_INVALIDE", "raison": str(error)}
    return {**result, **located, "geography": geography}


def _create_job(request, form):
    contract = None
    slug = form.cleaned_data.get("contrat")
    if slug:
        contract = Contract.objects.visible_to(request.user).filter(slug=slug).first()
    upload = form.cleaned_data["fichier"]
    job = GeorefJob(
        owner=request.user,
        contract=contract,
        original_name=os.path.basename(upload.name)[:200],
        input_size=upload.size,
        options=form.cleaned_data["options"],
    )
    job.input_file.save(upload.name, upload, save=False)
    job.save()
    tasks.start(job)
    return job


@login_required
@require_GET
def georef_job(request, pk):
    job = _job_for(request, pk)
    pairs = _recordable_pairs(request.user, job)
    return render(request, "georef/job.html", _job_context(request, job, pairs, RecordForm(pairs=pairs)))


def _job_context(request, job, pairs, record_form):
    statuses, by_qpv = _summary_rows(job)
    shares = {}
    for commitment, _ in pairs:
        contract = commitment.contract
        if contract.pk not in shares:
            shares[contract.pk] = (contract, services.share_for_contract(job, contract))
    share = job.share_in_qpv
    return {
        "job": job,
        "share_percent": None if share is None else 100 * share,
        "statuses": statuses,
        "by_qpv": by_qpv,
        "record_form": record_form if pairs else None,
        "record_unavailable": ""
        if pairs or job.status != JobStatus.DONE
        else record_unavailable_reason(request.user, job),
        "contract_shares": list(shares.values()),
        "min_located": services.MIN_LOCATED,
        "refresh_url": reverse("www:georef_job", args=[job.pk]),
    }


@login_required
@require_GET
def georef_job_status(request, pk):
    """Fragment d'avancement (htmx) ; à la fin du traitement, la page entière se recharge."""
    job = _job_for(request, pk)
    if job.is_finished and request.htmx:
        return HttpResponseClientRefresh()
    return render(request, "georef/_progress.html", {"job": job})


@login_required
@require_GET
def georef_download(request, pk):
    job = _job_for(request, pk)
    if not georef_abilities(request.user, job)["download"] or not job.output_file:
        raise Http404("Ce traitement n'a pas (ou plus) de fichier résultat.")
    try:
        handle = filestore.open_stream(job.output_file.storage, job.output_file.name)
    except FileNotFoundError as error:
        raise Http404("Le fichier résultat a été effacé (durée de conservation dépassée).") from error
    stem = PurePath(job.original_name).stem or "fichier"
    suffix = PurePath(job.output_file.name).suffix
    response = filestore.stream_response(handle, as_attachment=True, filename=f"{stem}-qpv{suffix}")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def georef_record(request, pk):
    job = _job_for(request, pk)
    pairs = _recordable_pairs(request.user, job)
    if not pairs:
        raise PermissionDenied(
            "Aucun indicateur en % d'un engagement que vous suivez ne peut recevoir cette part."
        )
    form = RecordForm(request.POST, pairs=pairs)
    if form.is_valid():
        commitment, indicator = form.pairs[form.cleaned_data["cible"]]
        try:
            value = services.record_share_as_indicator_value(
                user=request.user,
                job=job,
                commitment=commitment,
                indicator=indicator,
                year=form.cleaned_data["annee"],
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(
                request,
                f"Valeur provisoire enregistrée : {value.display} {indicator.unit} en {value.year} "
                f"pour « {indicator.name} » ({commitment.title}).",
            )
            return redirect("www:commitment", slug=commitment.contract.slug, pk=commitment.pk)
    return render(request, "georef/job.html", _job_context(request, job, pairs, form), status=422)
