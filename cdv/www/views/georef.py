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
import tempfile
from decimal import Decimal
from pathlib import PurePath

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from cdv.commitments import abilities
from cdv.commitments.models import Commitment
from cdv.contracts.models import Contract
from cdv.core.numbers import FrenchDecimalField
from cdv.core.ratelimit import parse_rate, rate_limited
from cdv.georef import services, tasks
from cdv.georef.models import GeorefJob, JobStatus
from cdv.indicators.origins import is_own_series, value_origins
from cdv.users.enums import Role
from cdv.users.models import Membership

ALLOWED_SUFFIXES = {".csv", ".xlsx"}
STATUS_LABELS = {
    "DANS_QPV": "Dans un QPV",
    "HORS_QPV": "Hors QPV",
    "NON_GEOCODE": "Adresse non trouvée (ou géocodeur indisponible)",
    "SCORE_FAIBLE": "Adresse trouvée avec un score trop faible",
    "ENTREE_INVALIDE": "Entrée invalide (coordonnées absentes ou hors limites)",
}


def read_header(upload) -> list[str]:
    """Noms des colonnes du fichier déposé, lus comme le fera le traitement (encodage, séparateur)."""
    from cdv.georef.pipeline import GeorefError
    from cdv.georef.pipeline import read_header as pipeline_header

    suffix = PurePath(upload.name or "").suffix.lower()
    try:
        if hasattr(upload, "temporary_file_path"):
            header, _, _ = pipeline_header(upload.temporary_file_path())
        else:
            with tempfile.NamedTemporaryFile(suffix=suffix) as handle:
                for chunk in upload.chunks():
                    handle.write(chunk)
                handle.flush()
                header, _, _ = pipeline_header(handle.name)
    except GeorefError as error:
        raise ValidationError(str(error)) from error
    except Exception as error:  # un classeur abîmé fait échouer openpyxl de bien des façons
        raise ValidationError(
            "Fichier illisible : déposez un CSV (UTF-8, séparateur « ; » ou « , ») ou un classeur XLSX."
        ) from error
    finally:
        upload.seek(0)
    header = [h for h in header if str(h).strip()]
    if not header:
        raise ValidationError("Le fichier est vide ou sa première ligne ne nomme aucune colonne.")
    return header


def _split_columns(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class PointForm(forms.Form):
    lon = FrenchDecimalField(
        label="Longitude (degrés, WGS84)",
        thousands=False,
        required=False,
        min_value=-180,
        max_value=180,
        help_text="Ex. : -1,5256 (ouest de Greenwich : nombre négatif).",
    )
    lat = FrenchDecimalField(
        label="Latitude (degrés, WGS84)",
        thousands=False,
        required=False,
        min_value=-90,
        max_value=90,
        help_text="Ex. : 47,2064.",
    )
    adresse = forms.CharField(
        label="Ou une adresse",
        required=False,
        max_length=200,
        help_text="Ex. : 5 rue du Croisic 44100 Nantes (géocodée par la Base Adresse Nationale).",
    )
    geographie = forms.ChoiceField(
        label="Géographie prioritaire",
        choices=[("2024", "2024 (en vigueur)"), ("2015", "2015")],
        initial="2024",
        required=False,
    )

    def clean_lon(self):
        return None if self.cleaned_data["lon"] is None else float(self.cleaned_data["lon"])

    def clean_lat(self):
        return None if self.cleaned_data["lat"] is None else float(self.cleaned_data["lat"])

    def clean(self):
        data = super().clean()
        has_point = data.get("lon") is not None or data.get("lat") is not None
        if has_point and (data.get("lon") is None or data.get("lat") is None):
            raise ValidationError("Indiquez la longitude et la latitude, ou une adresse.")
        if not has_point and not data.get("adresse") and not self.errors:
            raise ValidationError("Indiquez des coordonnées ou une adresse.")
        return data


class UploadForm(forms.Form):
    MODES = [
        ("auto", "Reconnaître d'après les noms des colonnes"),
        ("lonlat", "Longitude et latitude (degrés, WGS84)"),
        ("xy", "X et Y en Lambert-93 (mètres)"),
        ("address", "Adresses (géocodées par la Base Adresse Nationale)"),
    ]
    fichier = forms.FileField(
        label="Fichier CSV ou XLSX",
        help_text="Une ligne par personne ou par lieu ; la première ligne nomme les colonnes.",
    )
    mode = forms.ChoiceField(label="Ce que contient le fichier", choices=MODES, initial="auto")
    col_lon = forms.CharField(label="Colonne de la longitude", required=False, max_length=100)
    col_lat = forms.CharField(label="Colonne de la latitude", required=False, max_length=100)
    col_x = forms.CharField(label="Colonne X (Lambert-93)", required=False, max_length=100)
    col_y = forms.CharField(label="Colonne Y (Lambert-93)", required=False, max_length=100)
    col_adresse = forms.CharField(
        label="Colonne(s) de l'adresse",
        required=False,
        max_length=300,
        help_text="Plusieurs colonnes séparées par des virgules, dans l'ordre : ex. « numero, voie ».",
    )
    col_code_postal = forms.CharField(label="Colonne du code postal", required=False, max_length=100)
    col_commune = forms.CharField(label="Colonne de la commune", required=False, max_length=100)
    geographie = forms.ChoiceField(
        label="Géographie prioritaire",
        choices=[("2024", "2024 (en vigueur)"), ("2015", "2015")],
        initial="2024",
    )
    score_min = FrenchDecimalField(
        label="Score minimal d'une adresse",
        thousands=False,
        min_value=0,
        max_value=1,
        initial=Decimal("0.5"),
        help_text="Entre 0 et 1 : en dessous, l'adresse est classée « score trop faible » et non située.",
    )
    format_sortie = forms.ChoiceField(
        label="Format du résultat",
        choices=[("csv", "CSV (UTF-8, s'ouvre dans Excel)"), ("xlsx", "Classeur Excel (XLSX)")],
        initial="csv",
        required=False,
        help_text="Les mêmes lignes et colonnes, plus celles du résultat ; le XLSX est plus long à produire.",
    )
    contrat = forms.SlugField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("col_lon", "col_lat", "col_x", "col_y", "col_code_postal", "col_commune"):
            self.fields[name].help_text = self.fields[name].help_text or "Laissez vide pour la reconnaître."
        self.header = []

    def clean_fichier(self):
        upload = self.cleaned_data["fichier"]
        if PurePath(upload.name or "").suffix.lower() not in ALLOWED_SUFFIXES:
            raise ValidationError("Format non pris en charge : déposez un fichier .csv ou .xlsx.")
        limit = settings.GEOREF_MAX_UPLOAD_MB
        if upload.size > limit * 1024 * 1024:
            raise ValidationError(f"Fichier trop volumineux : {limit} Mo au plus.")
        if upload.size == 0:
            raise ValidationError("Le fichier est vide.")
        self.header = read_header(upload)
        return upload

    def clean(self):
        from cdv.georef.pipeline import GeorefError, guess_options, resolve_column

        data = super().clean()
        if self.errors:
            return data
        header = self.header
        columns = ", ".join(header)
        mode = data["mode"]
        manual = {
            "lon": data.get("col_lon"),
            "lat": data.get("col_lat"),
            "x": data.get("col_x"),
            "y": data.get("col_y"),
            "address_columns": _split_columns(data.get("col_adresse")),
            "postcode": data.get("col_code_postal"),
            "city": data.get("col_commune"),
        }
        guessed = guess_options(header)
        if mode == "auto":
            if manual["lon"] and manual["lat"]:
                mode = "lonlat"
            elif manual["x"] and manual["y"]:
                mode = "xy"
            elif manual["address_columns"]:
                mode = "address"
            elif guessed is not None:
                mode = guessed.mode
            else:
                raise ValidationError(
                    "Colonnes non reconnues : choisissez ce que contient le fichier et nommez ses colonnes. "
                    f"Colonnes du fichier : {columns}."
                )
        guess = guessed if guessed is not None and guessed.mode == mode else None
        wanted = {
            "lonlat": ["lon", "lat"],
            "xy": ["x", "y"],
            "address": ["address_columns", "postcode", "city"],
        }
        options = {key: None for key in ("lon", "lat", "x", "y", "postcode", "city")}
        options["address_columns"] = []
        for key in wanted[mode]:
            options[key] = manual[key] or (getattr(guess, key) if guess else None) or options[key]
        labels = {"lon": "longitude", "lat": "latitude", "x": "X", "y": "Y", "address_columns": "adresse"}
        missing = [labels[k] for k in wanted[mode] if k in labels and not options[k]]
        if missing:
            raise ValidationError(
                f"Nommez la colonne : {', '.join(missing)}. Colonnes du fichier : {columns}."
            )
        try:
            for key in wanted[mode]:
                for name in options[key] if key == "address_columns" else [options[key]]:
                    if name:
                        resolve_column(header, name, labels.get(key, "de code postal ou de commune"))
        except GeorefError as error:
            raise ValidationError(str(error)) from error
        data["options"] = {
            "mode": mode,
            **options,
            "geography": data["geographie"],
            "min_score": float(data["score_min"]),
            "output_format": data.get("format_sortie") or "csv",
        }
        return data


def _recordable_pairs(user, job):
    """(engagement, indicateur en %) pour lesquels la personne peut enregistrer la part en QPV."""
    if not user.is_authenticated or job.status != JobStatus.DONE:
        return []
    contracts = Contract.objects.filter(
        memberships__user=user, memberships__role__in=[Role.PILOT, Role.EDITOR]
    )
    if user.is_superuser:
        contracts = Contract.objects.all()
    if job.contract_id:
        contracts = contracts.filter(pk=job.contract_id)
    commitments = (
        Commitment.objects.filter(
            contract__in=contracts.distinct(),
            indicators__isnull=False,
            status__in=abilities.RECORDING_STATUSES,
        )
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


class RecordForm(forms.Form):
    cible = forms.ChoiceField(label="Engagement et indicateur")
    annee = forms.TypedChoiceField(label="Année", coerce=int)

    def __init__(self, *args, pairs, **kwargs):
        super().__init__(*args, **kwargs)
        self.pairs = {f"{c.pk}-{i.pk}": (c, i) for c, i in pairs}
        self.fields["cible"].choices = [
            (key, f"{c.partner.name} — {c.title} — {i.name} ({i.unit})") for key, (c, i) in self.pairs.items()
        ]
        years = set()
        for commitment, _ in pairs:
            years.update(services.year_choices(commitment.contract))
        self.fields["annee"].choices = [(y, str(y)) for y in sorted(years, reverse=True)]
        if years and not self.is_bound:
            # La dernière année achevée (les adresses d'une liste de bénéficiaires portent sur une année
            # passée), ramenée dans les années proposées : jamais l'année de fin du contrat par défaut.
            last_done = timezone.localdate().year - 1
            self.initial["annee"] = min(max(last_done, min(years)), max(years))


def record_unavailable_reason(user, job) -> str:
    """Pourquoi le formulaire « enregistrer comme indicateur » n'est pas proposé, et quoi faire."""
    roles = Membership.objects.filter(user=user, role__in=[Role.PILOT, Role.EDITOR])
    if job.contract_id:
        roles = roles.filter(contract_id=job.contract_id)
    if not user.is_superuser and not roles.exists():
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
    if job is None:
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
    if job.status != JobStatus.DONE or not job.output_file:
        raise Http404("Ce traitement n'a pas (ou plus) de fichier résultat.")
    try:
        handle = job.output_file.open("rb")
    except FileNotFoundError as error:
        raise Http404("Le fichier résultat a été effacé (durée de conservation dépassée).") from error
    stem = PurePath(job.original_name).stem or "fichier"
    suffix = PurePath(job.output_file.name).suffix
    response = FileResponse(handle, as_attachment=True, filename=f"{stem}-qpv{suffix}")
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
