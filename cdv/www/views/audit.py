"""Journal d'audit d'un contrat, pour ses pilotes : qui a changé quoi, et quand.

Il lit les historiques django-simple-history des objets du contrat (contrat, signataires, jalons,
chiffres clés, plan, engagements et leurs moyens, indicateurs et cibles, campagnes et bilans,
retours, instances et décisions, évaluations, partenaires du contrat, rôles), fusionnés en une seule
requête SQL (UNION ALL triée par date) : une page coûte un nombre fixe de requêtes, quel que soit
le volume d'historique. Filtres : personne, type d'objet, période, texte de l'intitulé. Export CSV
(cellules protégées contre l'injection de formules).
"""

import csv
import functools
from dataclasses import dataclass
from datetime import datetime, time

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q, TextField, Value
from django.db.models.functions import Cast
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from cdv.contracts.abilities import contract_abilities
from cdv.core.formulas import csv_text
from cdv.users.models import User

from ..forms.audit import AuditFilterForm, person_label
from .helpers import get_contract, require

PAGE_SIZE = 50
ACTIONS = {"+": "création", "~": "modification", "-": "suppression"}


@dataclass(frozen=True)
class Source:
    key: str
    label: str
    model_path: str  # « application.Modèle »
    label_field: str  # champ texte montré et cherché ; vide : l'identifiant

    def model(self):
        from django.apps import apps

        return apps.get_model(self.model_path)

    def scope(self, contract) -> Q:
        return SCOPES[self.key](contract)


def _ids(model_path, **filters):
    from django.apps import apps

    return apps.get_model(model_path).objects.filter(**filters).values("pk")


def _contract_partner_ids(contract):
    from cdv.partners.models import Partner

    return (
        Partner.objects.filter(
            Q(signatures__contract=contract)
            | Q(memberships__contract=contract)
            | Q(commitments__contract=contract)
        )
        .values("pk")
        .distinct()
    )


SOURCES = [
    Source("contrat", "Contrat", "contracts.Contract", "title"),
    Source("signataire", "Signataire", "contracts.Signatory", "signatory_name"),
    Source("jalon", "Jalon", "contracts.Milestone", "title"),
    Source("chiffre", "Chiffre clé", "contracts.KeyFigure", "label"),
    Source("enjeu", "Enjeu", "plan.Enjeu", "title"),
    Source("objectif", "Objectif", "plan.Objective", "title"),
    Source("action", "Action", "plan.Action", "title"),
    Source("priorite", "Priorité de quartier", "plan.QpvPriority", "text"),
    Source("engagement", "Engagement", "commitments.Commitment", "title"),
    Source("moyens", "Moyens d'un engagement", "commitments.CommitmentMeans", "funding"),
    Source("indicateur", "Indicateur", "indicators.Indicator", "name"),
    Source("cible", "Cible d'indicateur", "indicators.Target", ""),
    Source("campagne", "Campagne de suivi", "monitoring.ReviewCampaign", "status"),
    Source("bilan", "Bilan annuel", "monitoring.ProgressReport", "state"),
    Source("retour", "Retour d'expérience", "monitoring.Feedback", "text"),
    Source("instance", "Instance", "monitoring.Meeting", "title"),
    Source("decision", "Décision", "monitoring.Decision", "text"),
    Source("evaluation", "Évaluation", "evaluation.Evaluation", "title"),
    Source("question", "Question évaluative", "evaluation.EvaluationQuestion", "text"),
    Source("jugement", "Jugement", "evaluation.Judgement", "text"),
    Source("recommandation", "Recommandation", "evaluation.Recommendation", "text"),
    Source("questionnaire", "Questionnaire", "evaluation.Questionnaire", "title"),
    Source("partenaire", "Partenaire", "partners.Partner", "name"),
    Source("role", "Rôle", "users.Membership", "role"),
]
SOURCE_BY_KEY = {s.key: s for s in SOURCES}

SCOPES = {
    "contrat": lambda c: Q(id=c.pk),
    "signataire": lambda c: Q(contract_id=c.pk),
    "jalon": lambda c: Q(contract_id=c.pk),
    "chiffre": lambda c: Q(contract_id=c.pk),
    "enjeu": lambda c: Q(contract_id=c.pk),
    "objectif": lambda c: Q(enjeu_id__in=_ids("plan.Enjeu", contract=c)),
    "action": lambda c: Q(objective_id__in=_ids("plan.Objective", enjeu__contract=c)),
    "priorite": lambda c: Q(enjeu_id__in=_ids("plan.Enjeu", contract=c)),
    "engagement": lambda c: Q(contract_id=c.pk),
    "moyens": lambda c: Q(commitment_id__in=_ids("commitments.Commitment", contract=c)),
    "indicateur": lambda c: Q(contract_id=c.pk),
    "cible": lambda c: Q(indicator_id__in=_ids("indicators.Indicator", contract=c)),
    "campagne": lambda c: Q(contract_id=c.pk),
    "bilan": lambda c: Q(campaign_id__in=_ids("monitoring.ReviewCampaign", contract=c)),
    "retour": lambda c: Q(contract_id=c.pk),
    "instance": lambda c: Q(contract_id=c.pk),
    "decision": lambda c: Q(meeting_id__in=_ids("monitoring.Meeting", contract=c)),
    "evaluation": lambda c: Q(contract_id=c.pk),
    "question": lambda c: Q(evaluation_id__in=_ids("evaluation.Evaluation", contract=c)),
    "jugement": lambda c: Q(question_id__in=_ids("evaluation.EvaluationQuestion", evaluation__contract=c)),
    "recommandation": lambda c: Q(evaluation_id__in=_ids("evaluation.Evaluation", contract=c)),
    "questionnaire": lambda c: Q(evaluation_id__in=_ids("evaluation.Evaluation", contract=c)),
    "partenaire": lambda c: Q(id__in=_contract_partner_ids(c)),
    "role": lambda c: Q(contract_id=c.pk),
}
# Noms préfixés : les annotations ne doivent pas cacher un champ d'un modèle (« label », « kind »).
COLUMNS = [
    "history_id",
    "history_date",
    "history_type",
    "history_user_id",
    "audit_object",
    "audit_label",
    "audit_source",
]


def history_rows(contract, *, who=None, source_key=None, start=None, end=None, text=""):
    """Un seul QuerySet (UNION ALL) de toutes les modifications du contrat, les plus récentes d'abord."""
    tz = timezone.get_current_timezone()
    parts = []
    for source in SOURCES:
        if source_key and source.key != source_key:
            continue
        qs = source.model().history.filter(source.scope(contract))
        if who:
            qs = qs.filter(history_user_id=who)
        if start:
            qs = qs.filter(history_date__gte=datetime.combine(start, time.min, tzinfo=tz))
        if end:
            qs = qs.filter(history_date__lte=datetime.combine(end, time.max, tzinfo=tz))
        if text:
            if not source.label_field:
                continue
            qs = qs.filter(**{f"{source.label_field}__icontains": text})
        qs = (
            qs.order_by()
            .annotate(
                audit_object=Cast("id", TextField()),
                audit_label=Cast(source.label_field or "id", TextField()),
                audit_source=Value(source.key, output_field=TextField()),
            )
            .values_list(*COLUMNS)
        )
        parts.append(qs)
    if not parts:
        return None
    first, *rest = parts
    combined = first.union(*rest, all=True) if rest else first
    return combined.order_by("-history_date", "-history_id")


@functools.cache
def _choice_labels(source) -> dict:
    """Libellés des choix du champ montré (état d'un bilan, rôle…) : le code brut n'est pas lu."""
    if not source.label_field:
        return {}
    return {
        str(value): str(label)
        for value, label in source.model()._meta.get_field(source.label_field).flatchoices
    }


def _decorate(rows):
    users = User.objects.in_bulk({row[3] for row in rows if row[3]})
    for _history_id, date, action, user_id, object_id, label, kind in rows:
        source = SOURCE_BY_KEY[kind]
        label = _choice_labels(source).get(label, label)
        yield {
            "date": date,
            "who": person_label(users.get(user_id)) if user_id else "(automatique)",
            "action": ACTIONS.get(action, action),
            "kind": source.label,
            "object_id": object_id,
            "label": (label or "")[:200],
        }


def _people(contract):
    return (
        User.objects.filter(Q(memberships__contract=contract) | Q(is_superuser=True))
        .distinct()
        .order_by("last_name", "first_name", "email")
    )


class Echo:
    def write(self, value):
        return value


def _csv(contract, queryset):
    writer = csv.writer(Echo(), delimiter=";")

    def lines():
        yield "\ufeff" + writer.writerow(["date", "personne", "action", "type", "identifiant", "intitulé"])
        batch = []
        for row in queryset.iterator(chunk_size=2000):
            batch.append(row)
            if len(batch) >= 2000:
                yield from _csv_lines(writer, batch)
                batch = []
        yield from _csv_lines(writer, batch)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="journal-{contract.slug}.csv"'
    return response


def _csv_lines(writer, batch):
    for item in _decorate(batch):
        yield writer.writerow(
            [
                timezone.localtime(item["date"]).strftime("%Y-%m-%d %H:%M:%S"),
                csv_text(str(item["who"])),
                item["action"],
                item["kind"],
                csv_text(str(item["object_id"])),
                csv_text(str(item["label"])),
            ]
        )


@login_required
@require_GET
def audit_log(request, slug):
    contract = get_contract(request, slug)
    require(
        contract_abilities(request.user, contract)["view_audit"],
        "Le journal d'audit est réservé aux pilotes.",
    )
    people = list(_people(contract))
    form = AuditFilterForm(request.GET or None, people=people, sources=SOURCES)
    filters = form.cleaned_data if form.is_valid() else {}
    queryset = history_rows(
        contract,
        who=filters.get("qui"),
        source_key=filters.get("objet") or None,
        start=filters.get("du"),
        end=filters.get("au"),
        text=(filters.get("q") or "").strip(),
    )
    if request.GET.get("format") == "csv":
        return _csv(contract, queryset)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    encoded = query.urlencode()
    return render(
        request,
        "audit/log.html",
        {
            "contract": contract,
            "form": form,
            "page": page,
            "rows": list(_decorate(list(page.object_list))),
            "page_query": f"{encoded}&" if encoded else "",
            "csv_query": f"{encoded}&format=csv" if encoded else "format=csv",
        },
    )
