"""Les actes attributifs des lignes votées : préparation (type choisi d'après le montant et la
durée, référence numérotée par financeur), préparation de tous les actes manquants d'un appel,
dépôt de l'acte signé (PDF vérifié, date de signature), modèle d'acte d'un financeur.

Chaque fonction revérifie les droits (``follow_up_abilities``, ``act_template_abilities``),
relit et verrouille ce qu'elle écrit, et ne change rien si elle refuse (``GrantsError`` au
message français nommant le champ, ``PermissionDenied``, ``ConflictError``).
"""

from __future__ import annotations

import datetime
import hashlib
import os
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone

from cdv.contracts.models import Contract
from cdv.core.uploads import UploadError, read_upload
from cdv.notifications.enums import NotificationKind
from cdv.notifications.services import applicant_referents, link, notify
from cdv.partners.models import Partner
from cdv.users.models import User

from ..abilities import act_template_abilities, follow_up_abilities, funder_manager
from ..acts import (
    default_prefix,
    euros,
    french_date,
    kind_for,
    kind_label,
    reference_for,
    yearly_amounts_of,
)
from ..enums import EventKind, InstalmentKind, PaymentTerms
from ..errors import GrantsError, check_version
from ..models import ActTemplate, Application, ApplicationEvent, Call, CallFunder, FunderLine, GrantAct
from .applications import MAX_DOCUMENT_BYTES, check_document

TEMPLATE_FIELDS = ["reference_prefix", "visas", "clauses", "signatory_name", "signatory_title", "place"]


def _line_with_rights(line: FunderLine) -> FunderLine:
    """La ligne relue en base et verrouillée, avec ce que lisent les droits et l'acte."""
    locked = (
        FunderLine.objects.select_for_update(of=("self",)).select_related("funder__partner").get(pk=line.pk)
    )
    locked.application = (
        Application.objects.select_related("call__contract", "partner")
        .prefetch_related("qpvs", Prefetch("funder_lines", FunderLine.objects.select_related("funder")))
        .get(pk=locked.application_id)
    )
    return locked


def _act(line: FunderLine) -> GrantAct | None:
    return GrantAct.objects.select_for_update().filter(line=line).first()


def _event(application, kind, user, message, funder) -> None:
    ApplicationEvent.objects.create(
        application=application, kind=kind, actor=user, message=message, funder=funder
    )


def _prefix(call: Call, funder: CallFunder) -> str:
    template = ActTemplate.objects.filter(contract_id=call.contract_id, partner_id=funder.partner_id).first()
    return (template.reference_prefix.strip() if template else "") or default_prefix(funder.partner)


def _payment_terms(line: FunderLine) -> str:
    staged = line.instalments.filter(kind__in=[InstalmentKind.ADVANCE, InstalmentKind.BALANCE]).exists()
    return PaymentTerms.STAGED if staged else PaymentTerms.SINGLE


def _prepare(user: User, line: FunderLine) -> GrantAct:
    """Prépare (ou prépare de nouveau) l'acte de ``line``, déjà verrouillée et relue."""
    if not follow_up_abilities(user, line)["prepare_act"]:
        raise PermissionDenied(
            "Seuls les instructeurs de ce financeur préparent son acte, tant qu'il n'est pas signé."
        )
    application = line.application
    call = application.call
    act = _act(line)
    if act is not None and act.signed_on is not None:
        raise GrantsError("Cet acte est signé : il ne se prépare plus.")
    kind = kind_for(line.voted_amount, application.years)
    values = {
        "kind": kind,
        "amount": line.voted_amount,
        "yearly_amounts": yearly_amounts_of(line, application.years),
        "payment_terms": _payment_terms(line),
    }
    if act is None:
        funder = CallFunder.objects.select_for_update().get(pk=line.funder_id)
        funder.last_act_number += 1
        funder.save(update_fields=["last_act_number"])
        act = GrantAct.objects.create(
            line=line,
            funder=funder,
            number=funder.last_act_number,
            reference=reference_for(_prefix(call, funder), call.year, funder.last_act_number),
            prepared_by=user,
            **values,
        )
        message = f"Acte {act.reference} préparé ({kind_label(act.kind)}) : {euros(act.amount)}."
    else:
        for name, value in values.items():
            setattr(act, name, value)
        act.prepared_by = user
        act.prepared_at = timezone.now()
        act.version += 1
        act.save(update_fields=[*values, "prepared_by", "prepared_at", "version"])
        message = f"Acte {act.reference} préparé de nouveau ({kind_label(act.kind)}) : {euros(act.amount)}."
    _event(application, EventKind.ACT_PREPARED, user, message, line.funder)
    return act


@transaction.atomic
def prepare_act(*, user: User, line: FunderLine) -> GrantAct:
    """L'instructeur du financeur prépare l'acte de la ligne votée : arrêté sous 23 000 €,
    convention au-delà, CPO pour un projet pluriannuel. Préparer de nouveau avant la signature
    reprend les montants et le type, garde la référence."""
    return _prepare(user, _line_with_rights(line))


def missing_act_lines(user: User, call: Call) -> list[FunderLine]:
    """Les lignes votées de l'appel, des financeurs que ``user`` représente, qui n'ont pas d'acte."""
    partner_ids = [
        f.partner_id for f in call.funders.all() if funder_manager(user, call.contract_id, f.partner_id)
    ]
    return list(
        FunderLine.objects.for_call(call)
        .voted()
        .filter(voted_amount__gt=0, funder__partner_id__in=partner_ids, act__isnull=True)
        .select_related("application__partner", "funder__partner")
        .order_by("funder__order", "funder_id", "application__number", "pk")
    )


@transaction.atomic
def prepare_missing_acts(*, user: User, call: Call) -> list[GrantAct]:
    """Prépare d'un coup chaque acte manquant des financeurs de ``user`` sur cet appel."""
    if call.committee_held_at is None:
        raise GrantsError("Le comité n'a pas encore voté : aucun acte à préparer.")
    acts = []
    for line in missing_act_lines(user, call):
        locked = _line_with_rights(line)
        if GrantAct.objects.filter(line=locked).exists():  # préparé entre-temps par un autre
            continue
        acts.append(_prepare(user, locked))
    return acts


# ---------------------------------------------------------------------------------------------
# L'acte signé


def _check_signed_on(signed_on: Any, line: FunderLine, today: datetime.date) -> None:
    if not isinstance(signed_on, datetime.date):
        raise GrantsError({"signed_on": "Date de signature : indiquez-la (jj/mm/aaaa)."})
    if signed_on > today:
        raise GrantsError(
            {"signed_on": f"Date de signature : le {french_date(signed_on)} est dans le futur."}
        )
    if line.decision_date and signed_on < line.decision_date:
        raise GrantsError(
            {
                "signed_on": f"Date de signature : le {french_date(signed_on)} précède la décision du "
                f"comité ({french_date(line.decision_date)})."
            }
        )


@transaction.atomic
def sign_act(
    *,
    user: User,
    line: FunderLine,
    signed_on: datetime.date | None,
    uploaded: Any,
    version: int | None = None,
    replace: bool = False,
    today: datetime.date | None = None,
) -> GrantAct:
    """Dépose l'acte signé (un PDF, 10 Mo au plus, vérifié sur son contenu) et sa date de
    signature ; l'association en est prévenue. Remplacer un acte signé demande ``replace``."""
    line = _line_with_rights(line)
    if not follow_up_abilities(user, line)["sign_act"]:
        raise PermissionDenied("Seuls les instructeurs de ce financeur déposent son acte signé.")
    act = _act(line)
    if act is None:
        raise GrantsError("Préparez l'acte avant d'en déposer la version signée.")
    if version is not None and version != act.version:
        raise GrantsError(
            "L'acte a changé depuis l'ouverture de cette page (préparé de nouveau ou déposé par "
            "quelqu'un d'autre) : rechargez-la et vérifiez-le avant de déposer l'acte signé."
        )
    if act.signed_on is not None and not replace:
        raise GrantsError(
            {"confirm_replace": "L'acte signé est déjà déposé : cochez « Je confirme » pour le remplacer."}
        )
    today = today or timezone.localdate()
    _check_signed_on(signed_on, line, today)
    if uploaded is None:
        raise GrantsError({"file": "Acte signé : choisissez le fichier PDF."})
    name = os.path.basename(getattr(uploaded, "name", "") or "acte-signe.pdf")[:200]
    try:
        data = read_upload(
            uploaded, max_bytes=MAX_DOCUMENT_BYTES, too_large=" : réduisez-le (scan en 150 dpi)."
        )
    except UploadError as error:
        raise GrantsError({"file": f"Acte signé : « {name} » : {error}"}) from None
    try:
        content_type = check_document(name, data)
    except GrantsError as error:
        raise GrantsError({"file": [f"Acte signé : {m}" for m in error.messages]}) from None
    if content_type != "application/pdf":
        raise GrantsError({"file": f"Acte signé : « {name} » n'est pas un PDF ; déposez le scan en PDF."})
    replaced = act.signed_on is not None
    old_file = act.signed_file.name if replaced else ""
    act.signed_on = signed_on
    act.signed_original_name = name
    act.signed_sha256 = hashlib.sha256(data).hexdigest()
    act.signed_uploaded_by = user
    act.signed_uploaded_at = timezone.now()
    act.signed_file.save(f"{act.reference}-signe.pdf", ContentFile(data), save=False)
    act.version += 1
    act.save()
    if old_file and old_file != act.signed_file.name:
        transaction.on_commit(lambda: act.signed_file.storage.delete(old_file))
    application = line.application
    verb = "remplacé" if replaced else "déposé"
    _event(
        application,
        EventKind.ACT_SIGNED,
        user,
        f"Acte {act.reference} ({kind_label(act.kind)}) signé le {french_date(signed_on)} : "
        f"acte signé {verb}.",
        line.funder,
    )
    _notify_signed(act, application)
    return act


def _notify_signed(act: GrantAct, application: Application) -> None:
    call = application.call
    path = reverse("www:application", args=[call.contract.slug, call.year, application.pk])
    kind = kind_label(act.kind)
    text = (
        f"{act.funder.partner} a signé l'acte {act.reference} ({kind}) pour le dossier "
        f"{application.number} « {application.title} » : {euros(act.amount)}."
    )
    notify(
        kind=NotificationKind.ACT_SIGNED,
        recipients=list(applicant_referents(call.contract_id, [application.partner_id])),
        contract=call.contract,
        text=text,
        path=path,
        subject=f"Acte signé — dossier {application.number}",
        body=(
            f"Bonjour,\n\n{text}\nIl a été signé le {french_date(act.signed_on)}. L'acte signé se "
            f"télécharge depuis la page du dossier : {link(path)}\n"
        ),
    )


# ---------------------------------------------------------------------------------------------
# Le modèle d'acte d'un financeur


@transaction.atomic
def save_act_template(
    *, user: User, contract: Contract, partner: Partner, version: int | None, data: dict[str, str]
) -> ActTemplate:
    """Enregistre le modèle d'acte du financeur ``partner`` dans ``contract`` (verrou optimiste)."""
    if not act_template_abilities(user, contract, partner)["edit"]:
        raise PermissionDenied(
            "Seuls les instructeurs de ce financeur et le pilote écrivent son modèle d'acte."
        )
    if not CallFunder.objects.filter(call__contract=contract, partner=partner).exists():
        raise GrantsError("Ce partenaire n'est financeur d'aucun appel de ce contrat.")
    mine = {name: (data.get(name) or "").strip() for name in TEMPLATE_FIELDS}
    prefix = mine["reference_prefix"]
    if prefix and (len(prefix) > 20 or not all(c.isalnum() or c in "-_" for c in prefix)):
        raise GrantsError(
            {"reference_prefix": "Préfixe des références : 20 caractères au plus, lettres, chiffres, - ou _."}
        )
    template, created = ActTemplate.objects.select_for_update().get_or_create(
        contract=contract, partner=partner
    )
    if not created:
        check_version(template, version, mine)
    for name, value in mine.items():
        setattr(template, name, value)
    if not created:
        template.version += 1
    template.save()
    return template
