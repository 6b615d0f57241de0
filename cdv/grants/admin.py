"""Le back-office de l'appel à projets, pour l'opérateur (et, limité à ses contrats, le pilote :
voir cdv/core/adminscope.py). Le pilote monte l'appel sur la plateforme, pas ici : ces pages
servent à consulter et à corriger. Les pièces des associations, l'historique des dossiers et les
montants votés n'entrent que par les pages de la plateforme, qui vérifient tout."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from cdv.core.admin import FRENCH_NUMBERS

from .models import (
    ActTemplate,
    Application,
    ApplicationEvent,
    BudgetLine,
    Call,
    CallDocument,
    CallFunder,
    FinalReport,
    FunderLine,
    GrantAct,
    InfoRequest,
    PartnerDocument,
    Payment,
    PaymentInstalment,
    QuartierOpinion,
    ReportBlockLift,
    ReportBudgetLine,
    ReportReview,
    Score,
    ScoringCriterion,
)


class CallFunderInline(admin.TabularInline):
    model = CallFunder
    extra = 0
    formfield_overrides = FRENCH_NUMBERS


class CallDocumentInline(admin.TabularInline):
    model = CallDocument
    extra = 0


class ScoringCriterionInline(admin.TabularInline):
    model = ScoringCriterion
    extra = 0


@admin.register(Call)
class CallAdmin(SimpleHistoryAdmin):
    formfield_overrides = FRENCH_NUMBERS
    list_display = ["title", "year", "contract", "status", "filing_opens", "filing_closes", "is_demo"]
    list_filter = ["contract", "status", "is_demo"]
    search_fields = ["title"]
    list_select_related = ["contract"]
    filter_horizontal = ["eligible_enjeux", "eligible_objectives", "eligible_qpvs"]
    readonly_fields = ["last_number", "committee_held_at", "version", "copied_from"]
    inlines = [CallFunderInline, CallDocumentInline, ScoringCriterionInline]


@admin.register(CallFunder)
class CallFunderAdmin(SimpleHistoryAdmin):
    formfield_overrides = FRENCH_NUMBERS
    list_display = ["partner", "call", "kind", "label", "envelope"]
    list_filter = ["call__contract", "kind"]
    search_fields = ["partner__name", "label"]
    list_select_related = ["partner", "call"]


@admin.register(CallDocument)
class CallDocumentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "call", "kind", "required"]
    list_filter = ["call__contract", "kind"]
    list_select_related = ["call"]


@admin.register(ScoringCriterion)
class ScoringCriterionAdmin(admin.ModelAdmin):
    list_display = ["label", "call", "scale_max", "order"]
    list_filter = ["call__contract"]
    list_select_related = ["call"]


class BudgetLineInline(admin.TabularInline):
    model = BudgetLine
    extra = 0
    formfield_overrides = FRENCH_NUMBERS


class FunderLineInline(admin.TabularInline):
    model = FunderLine
    extra = 0
    fields = ["funder", "status", "requested_amount", "proposed_amount", "voted_amount", "decision_date"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Application)
class ApplicationAdmin(SimpleHistoryAdmin):
    formfield_overrides = FRENCH_NUMBERS
    list_display = ["__str__", "partner", "call", "status", "submitted_at", "is_demo"]
    list_filter = ["call__contract", "call", "status", "is_demo"]
    search_fields = ["number", "title", "partner__name"]
    list_select_related = ["partner", "call"]
    raw_id_fields = ["renewal_of", "partner"]
    filter_horizontal = ["qpvs"]
    readonly_fields = ["number", "submitted_at", "submitted_by", "version", "documents", "created_by"]
    inlines = [BudgetLineInline, FunderLineInline]


@admin.register(BudgetLine)
class BudgetLineAdmin(admin.ModelAdmin):
    formfield_overrides = FRENCH_NUMBERS
    list_display = ["application", "account", "label", "amount"]
    list_filter = ["application__call__contract", "account"]
    list_select_related = ["application"]
    raw_id_fields = ["application"]


@admin.register(FunderLine)
class FunderLineAdmin(SimpleHistoryAdmin):
    formfield_overrides = FRENCH_NUMBERS
    list_display = ["application", "funder", "status", "requested_amount", "proposed_amount", "voted_amount"]
    list_filter = ["application__call__contract", "status"]
    search_fields = ["application__number", "application__title", "funder__partner__name"]
    list_select_related = ["application", "funder__partner"]
    raw_id_fields = ["application"]
    readonly_fields = ["version", "updated_by"]


@admin.register(QuartierOpinion)
class QuartierOpinionAdmin(SimpleHistoryAdmin):
    list_display = ["application", "qpv", "kind", "opinion", "author"]
    list_filter = ["application__call__contract", "kind", "opinion"]
    list_select_related = ["application", "qpv", "author"]
    raw_id_fields = ["application"]
    autocomplete_fields = ["qpv"]  # un quartier parmi tous les territoires : on le cherche


@admin.register(Score)
class ScoreAdmin(admin.ModelAdmin):
    list_display = ["application", "criterion", "author", "value"]
    list_filter = ["application__call__contract"]
    list_select_related = ["application", "criterion", "author"]
    raw_id_fields = ["application"]


@admin.register(InfoRequest)
class InfoRequestAdmin(admin.ModelAdmin):
    list_display = ["application", "asked_by", "asked_at", "answered_at"]
    list_filter = ["application__call__contract"]
    list_select_related = ["application", "asked_by"]
    raw_id_fields = ["application"]


@admin.register(ApplicationEvent)
class ApplicationEventAdmin(admin.ModelAdmin):
    """L'historique d'un dossier : lecture seule (il n'est écrit que par les services)."""

    list_display = ["application", "kind", "actor", "at"]
    list_filter = ["application__call__contract", "kind"]
    list_select_related = ["application", "actor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PartnerDocument)
class PartnerDocumentAdmin(admin.ModelAdmin):
    """Lecture seule : une pièce n'entre que par la plateforme, qui vérifie son contenu et sa
    taille ; réservé aux opérateurs (une pièce appartient à une association, pas à un contrat)."""

    list_display = ["original_name", "partner", "kind", "size", "uploaded_at"]
    list_filter = ["kind"]
    search_fields = ["original_name", "partner__name"]
    readonly_fields = [f.name for f in PartnerDocument._meta.fields]
    list_select_related = ["partner"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# ---------------------------------------------------------------------------------------------
# Après le vote : tout s'écrit sur la plateforme (actes, versements, comptes-rendus, examens,
# levées de blocage), qui vérifie les droits, les montants et l'historique ; ici, on consulte.


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ActTemplate)
class ActTemplateAdmin(SimpleHistoryAdmin, ReadOnlyAdmin):
    list_display = ["partner", "contract", "reference_prefix", "signatory_name"]
    list_filter = ["contract"]
    list_select_related = ["partner", "contract"]


@admin.register(GrantAct)
class GrantActAdmin(SimpleHistoryAdmin, ReadOnlyAdmin):
    list_display = ["reference", "kind", "funder", "amount", "signed_on"]
    list_filter = ["line__application__call__contract", "kind"]
    search_fields = ["reference", "line__application__number", "line__application__partner__name"]
    list_select_related = ["funder__partner"]


@admin.register(PaymentInstalment)
class PaymentInstalmentAdmin(SimpleHistoryAdmin, ReadOnlyAdmin):
    list_display = ["line", "kind", "amount", "due_date"]
    list_filter = ["line__application__call__contract", "kind"]
    list_select_related = ["line__application", "line__funder__partner"]


@admin.register(Payment)
class PaymentAdmin(SimpleHistoryAdmin, ReadOnlyAdmin):
    list_display = ["line", "paid_on", "amount", "reference", "recorded_by"]
    list_filter = ["line__application__call__contract"]
    search_fields = ["reference", "line__application__number"]
    list_select_related = ["line__application", "line__funder__partner", "recorded_by"]


@admin.register(FinalReport)
class FinalReportAdmin(SimpleHistoryAdmin, ReadOnlyAdmin):
    list_display = ["application", "path", "status", "due_date", "submitted_at"]
    list_filter = ["application__call__contract", "status", "path"]
    search_fields = ["application__number", "application__title", "application__partner__name"]
    list_select_related = ["application"]


@admin.register(ReportBudgetLine)
class ReportBudgetLineAdmin(ReadOnlyAdmin):
    list_display = ["report", "account", "planned_amount", "actual_amount"]
    list_filter = ["report__application__call__contract"]
    list_select_related = ["report__application"]


@admin.register(ReportReview)
class ReportReviewAdmin(ReadOnlyAdmin):
    list_display = ["report", "funder", "decision", "reviewer", "at"]
    list_filter = ["report__application__call__contract", "decision"]
    list_select_related = ["report__application", "funder__partner", "reviewer"]


@admin.register(ReportBlockLift)
class ReportBlockLiftAdmin(SimpleHistoryAdmin, ReadOnlyAdmin):
    list_display = ["partner", "call", "lifted_by", "lifted_at"]
    list_filter = ["call__contract"]
    list_select_related = ["partner", "call", "lifted_by"]
