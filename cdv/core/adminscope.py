"""Le back-office d'un pilote se limite aux contrats qu'il pilote (décision 0006).

Deux rôles distincts :
- **opérateur de l'instance** = superutilisateur Django : tout le back-office, tous les contrats,
  les comptes, jetons, traitements, la géographie ;
- **pilote** = rôle PILOTE dans un contrat, compte ``is_staff`` sans être superutilisateur : dans le
  back-office, seulement les objets de ses contrats (plan, jalons, signataires, indicateurs,
  engagements, suivi, évaluation), en lecture les territoires et les partenaires qui prennent part
  à ses contrats (modifiables s'ils ne prennent part à aucun autre contrat). Les comptes,
  invitations, jetons et traitements restent aux opérateurs.

Un seul mixin (``PilotScopedAdmin``) porte la règle ; ``scope_admin_site`` l'applique à chaque
ModelAdmin enregistré dont le modèle a un chemin vers son contrat (``CONTRACT_PATHS``) ; un modèle
absent de la table reste réservé aux opérateurs (refus par défaut). Listes, pages de modification
par identifiant, ajouts, suppressions et choix des listes déroulantes (clés étrangères et
plusieurs-à-plusieurs) passent tous par là.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied

from cdv.contracts.abilities import piloted_contract_ids
from cdv.territories.enums import TerritoryKind

# Modèle → chemin de recherche vers son contrat (« pk » : le contrat lui-même).
CONTRACT_PATHS = {
    "contracts.Contract": "pk",
    "contracts.Signatory": "contract",
    "contracts.Milestone": "contract",
    "contracts.KeyFigure": "contract",
    "plan.Enjeu": "contract",
    "plan.Objective": "enjeu__contract",
    "plan.Action": "objective__enjeu__contract",
    "plan.QpvPriority": "enjeu__contract",
    "commitments.Commitment": "contract",
    "commitments.CommitmentMeans": "commitment__contract",
    "commitments.CommitmentAmendment": "commitment__contract",
    "indicators.Indicator": "contract",
    "indicators.IndicatorValue": "indicator__contract",
    "indicators.Target": "indicator__contract",
    "monitoring.ReviewCampaign": "contract",
    "monitoring.ProgressReport": "campaign__contract",
    "monitoring.ReportAttachment": "report__campaign__contract",
    "monitoring.Feedback": "contract",
    "monitoring.Meeting": "contract",
    "monitoring.Decision": "meeting__contract",
    "evaluation.Evaluation": "contract",
    "evaluation.Recommendation": "evaluation__contract",
    "evaluation.Questionnaire": "evaluation__contract",
    "evaluation.EvaluationReport": "evaluation__contract",
    "evaluation.Amendment": "contract",
    "grants.Call": "contract",
    "grants.CallFunder": "call__contract",
    "grants.CallDocument": "call__contract",
    "grants.ScoringCriterion": "call__contract",
    "grants.Application": "call__contract",
    "grants.BudgetLine": "application__call__contract",
    "grants.FunderLine": "application__call__contract",
    "grants.QuartierOpinion": "application__call__contract",
    "grants.Score": "application__call__contract",
    "grants.InfoRequest": "application__call__contract",
    "grants.ApplicationEvent": "application__call__contract",
    "grants.ActTemplate": "contract",
    "grants.GrantAct": "line__application__call__contract",
    "grants.PaymentInstalment": "line__application__call__contract",
    "grants.Payment": "line__application__call__contract",
    "grants.FinalReport": "application__call__contract",
    "grants.ReportBudgetLine": "report__application__call__contract",
    "grants.ReportReview": "report__application__call__contract",
    "grants.ReportBlockLift": "call__contract",
}
# Créer ou supprimer un contrat est un acte d'opérateur.
OPERATOR_ONLY_ADD_DELETE = {"contracts.Contract"}
# Lecture seule pour les pilotes : la géographie de référence, commune à toute l'instance.
READ_ONLY = {"territories.Territory", "territories.Qpv", "territories.Commune", "territories.Epci"}
PARTNER = "partners.Partner"
# Le contrat lui-même : ses QPV se choisissent dans toute la géographie prioritaire.
QPV_FREE_CHOICE = {"contracts.Contract"}
# Ce que lit le libellé (__str__) d'un choix : « partenaire — engagement ».
CHOICE_LABEL_RELATED = {"commitments.Commitment": "partner"}
# Ici un pilote choisit librement le partenaire : c'est l'acte qui le fait entrer au contrat.
FREE_PARTNER_CHOICE = {"contracts.Signatory"}


def _operator(request) -> bool:
    return request.user.is_active and request.user.is_superuser


def _contract_id(obj, path):
    for part in path.split("__"):
        if obj is None:
            return None
        if part == "pk":
            return obj.pk
        obj = getattr(obj, part, None)
    return getattr(obj, "pk", None)


def _partners_of(ids):
    from cdv.partners.models import Partner

    result = Partner.objects.none()
    for contract_id in ids:
        result = result | Partner.objects.taking_part_in(contract_id)
    return result.distinct()


def _contracts_of_partner(partner) -> set[int]:
    """Contrats auxquels le partenaire prend part (signature, rôles, engagements)."""
    return (
        set(partner.signatures.values_list("contract_id", flat=True))
        | set(partner.memberships.values_list("contract_id", flat=True))
        | set(partner.commitments.values_list("contract_id", flat=True))
    )


def _is_relation(model, item) -> bool:
    from django.contrib.admin.utils import NotRelationField, get_fields_from_path
    from django.core.exceptions import FieldDoesNotExist

    if not isinstance(item, str):
        return False
    try:
        return bool(get_fields_from_path(model, item)[-1].is_relation)
    except (FieldDoesNotExist, NotRelationField):  # pas un champ : filtre laissé tel quel
        return False


def limit_choices(request, model_label, db_field, queryset):
    """Les choix d'une liste déroulante du back-office pour un pilote : rien d'un autre contrat."""
    if queryset is not None and db_field.related_model._meta.label in READ_ONLY:
        # Une liste de quartiers n'affiche que leurs noms : sans les contours (plusieurs Mo pour
        # les 1 584 QPV), la page d'ajout d'une instance ou d'un appel s'ouvre cinq fois plus vite.
        queryset = queryset.defer("geometry")
    if queryset is not None and db_field.related_model._meta.label in CHOICE_LABEL_RELATED:
        # Le libellé de chaque choix lit un objet lié : lu avec la liste, pas une requête par choix.
        queryset = queryset.select_related(CHOICE_LABEL_RELATED[db_field.related_model._meta.label])
    if queryset is None or _operator(request):
        return queryset
    ids = piloted_contract_ids(request.user)
    related = db_field.related_model._meta.label
    if related in CONTRACT_PATHS:
        return queryset.filter(**{f"{CONTRACT_PATHS[related]}__in": ids})
    if related == PARTNER and model_label not in FREE_PARTNER_CHOICE:
        return queryset.filter(pk__in=_partners_of(ids).values("pk"))
    if related == "users.User":
        return queryset.filter(memberships__contract__in=ids).distinct()
    if related in READ_ONLY and model_label not in QPV_FREE_CHOICE:
        # Les quartiers d'une action, d'un engagement, d'une instance… : ceux de ses contrats, pas les
        # 1 584 QPV de France (les communes et EPCI, rarement choisis, restent tous proposés).
        if (db_field.remote_field.limit_choices_to or {}).get("kind") == TerritoryKind.QPV:
            return queryset.filter(qpv_contracts__in=ids).distinct()
    return queryset


class PilotChoicesMixin:
    """Clés étrangères et plusieurs-à-plusieurs limitées aux contrats pilotés."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = limit_choices(request, self.model._meta.label, db_field, field.queryset)
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = limit_choices(request, self.model._meta.label, db_field, field.queryset)
        return field


DJANGO_ADMIN_MODULES = ("django.contrib.admin.", "simple_history.")


def own_rule(instance, base, name, *args) -> bool:
    """La règle propre du ModelAdmin d'origine (lecture seule, par exemple) s'il en a une, sinon vrai.

    Les règles par défaut de Django (permissions de modèle ``user.has_perm``) ne comptent pas pour
    un pilote : c'est son contrat qui décide ; mais un back-office qui refuse la modification à
    tout le monde la refuse aussi au pilote."""
    mro = type(instance).__mro__
    for klass in mro[mro.index(base) + 1 :]:
        if name in vars(klass):
            if klass.__module__.startswith(DJANGO_ADMIN_MODULES):
                return True
            return bool(getattr(klass, name)(instance, *args))
    return True


class PilotScopedAdmin(PilotChoicesMixin):
    """Un ModelAdmin dont un pilote ne voit et ne modifie que les objets de ses contrats."""

    contract_path = None  # chemin vers le contrat ; None : partenaire ou territoire (cas à part)

    def _ids(self, request):
        return piloted_contract_ids(request.user) if request.user.is_staff else set()

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if _operator(request):
            return queryset
        ids = self._ids(request)
        label = self.model._meta.label
        if label == PARTNER:
            return queryset.filter(pk__in=_partners_of(ids).values("pk"))
        if label in READ_ONLY:
            return queryset if ids else queryset.none()
        return queryset.filter(**{f"{self.contract_path}__in": ids})

    def _allows(self, request, obj, *, write=False):
        ids = self._ids(request)
        if not ids:
            return False
        label = self.model._meta.label
        if label in READ_ONLY:
            return not write
        if obj is None:
            return True
        if label == PARTNER:
            if write:  # un partenaire commun à un autre contrat (l'État, la CAF) : lecture seule
                return bool(_contracts_of_partner(obj)) and _contracts_of_partner(obj) <= ids
            return _partners_of(ids).filter(pk=obj.pk).exists()
        return _contract_id(obj, self.contract_path) in ids

    def has_module_permission(self, request):
        return super().has_module_permission(request) if _operator(request) else bool(self._ids(request))

    def get_list_filter(self, request):
        """Les filtres par objet lié ne proposent que ce que la liste contient (pas les autres contrats)."""
        filters = super().get_list_filter(request)
        if _operator(request):
            return filters
        return [
            (item, admin.RelatedOnlyFieldListFilter) if _is_relation(self.model, item) else item
            for item in filters
        ]

    def has_view_permission(self, request, obj=None):
        if _operator(request):
            return super().has_view_permission(request, obj)
        return self._allows(request, obj) and own_rule(
            self, PilotScopedAdmin, "has_view_permission", request, obj
        )

    def has_change_permission(self, request, obj=None):
        if _operator(request):
            return super().has_change_permission(request, obj)
        return self._allows(request, obj, write=True) and own_rule(
            self, PilotScopedAdmin, "has_change_permission", request, obj
        )

    def has_add_permission(self, request, *args):
        if _operator(request):
            return super().has_add_permission(request, *args)
        label = self.model._meta.label
        if label in OPERATOR_ONLY_ADD_DELETE or label == PARTNER:
            return False  # un partenaire s'ajoute au contrat depuis la page des invitations
        return self._allows(request, None, write=True) and own_rule(
            self, PilotScopedAdmin, "has_add_permission", request, *args
        )

    def has_delete_permission(self, request, obj=None):
        if _operator(request):
            return super().has_delete_permission(request, obj)
        label = self.model._meta.label
        if label in OPERATOR_ONLY_ADD_DELETE or label == PARTNER:
            return False
        return self._allows(request, obj, write=True) and own_rule(
            self, PilotScopedAdmin, "has_delete_permission", request, obj
        )

    def save_model(self, request, obj, form, change):
        # Filet : même si un formulaire laissait passer un choix, rien ne s'écrit hors de ses contrats.
        if not _operator(request) and not self._allows(request, obj, write=True):
            raise PermissionDenied("Cet objet relève d'un contrat que vous ne pilotez pas.")
        super().save_model(request, obj, form, change)


class PilotScopedInline(PilotChoicesMixin):
    """Une ligne intégrée : ses objets appartiennent au parent, dont la page a déjà vérifié l'accès."""

    def _pilot(self, request):
        return request.user.is_staff and bool(piloted_contract_ids(request.user))

    def _rule(self, request, name, obj):
        if _operator(request):
            return getattr(super(), name)(request, obj)
        return self._pilot(request) and own_rule(self, PilotScopedInline, name, request, obj)

    def has_view_permission(self, request, obj=None):
        return self._rule(request, "has_view_permission", obj)

    def has_change_permission(self, request, obj=None):
        return self._rule(request, "has_change_permission", obj)

    def has_add_permission(self, request, obj=None):
        return self._rule(request, "has_add_permission", obj)

    def has_delete_permission(self, request, obj=None):
        return self._rule(request, "has_delete_permission", obj)


def scope_admin_site(site=None) -> None:
    """Remplace chaque ModelAdmin d'un modèle lié à un contrat par sa version limitée aux pilotes."""
    site = site or admin.site
    for model, model_admin in list(site._registry.items()):
        label = model._meta.label
        if label not in CONTRACT_PATHS and label not in READ_ONLY and label != PARTNER:
            continue  # réservé aux opérateurs
        original = type(model_admin)
        if issubclass(original, PilotScopedAdmin):
            continue
        inlines = [
            inline
            if issubclass(inline, PilotScopedInline)
            else type(inline.__name__, (PilotScopedInline, inline), {"__module__": inline.__module__})
            for inline in original.inlines
        ]
        scoped = type(
            original.__name__,
            (PilotScopedAdmin, original),
            {
                "__module__": original.__module__,
                "contract_path": CONTRACT_PATHS.get(label),
                "inlines": inlines,
            },
        )
        site._registry[model] = scoped(model, site)
