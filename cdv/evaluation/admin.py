from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Amendment,
    AmendmentChange,
    Evaluation,
    EvaluationQuestion,
    EvaluationReport,
    Judgement,
    Questionnaire,
    QuestionnaireItem,
    Recommendation,
)


class QuestionInline(admin.StackedInline):
    model = EvaluationQuestion
    extra = 0
    fields = ["number", "text", "criterion", "enjeux", "objectives"]
    filter_horizontal = ["enjeux", "objectives"]


@admin.register(Evaluation)
class EvaluationAdmin(SimpleHistoryAdmin):
    list_display = ["title", "contract", "kind", "period_label", "status", "is_demo"]
    list_filter = ["contract", "kind", "status", "is_demo"]
    search_fields = ["title"]
    readonly_fields = ["status", "adopted_on", "adopting_meeting"]
    inlines = [QuestionInline]

    def has_change_permission(self, request, obj=None):
        # Adoptée, une évaluation est figée : le back-office ne la modifie plus.
        return super().has_change_permission(request, obj) and not (obj and obj.is_adopted)


@admin.register(Judgement)
class JudgementAdmin(SimpleHistoryAdmin):
    list_display = ["question", "scale", "author", "updated_at"]
    list_filter = ["question__evaluation"]


@admin.register(Recommendation)
class RecommendationAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "evaluation"]
    list_filter = ["evaluation"]
    filter_horizontal = ["enjeux", "objectives", "commitments"]


class ItemInline(admin.TabularInline):
    model = QuestionnaireItem
    extra = 1
    fields = ["number", "text", "kind", "question"]


@admin.register(Questionnaire)
class QuestionnaireAdmin(SimpleHistoryAdmin):
    """Le pilote bâtit ici le questionnaire de chaque quartier ; les réponses restent anonymes."""

    list_display = ["title", "qpv", "evaluation", "status", "is_demo"]
    list_filter = ["evaluation", "status"]
    search_fields = ["title", "qpv__name"]
    inlines = [ItemInline]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "qpv":
            kwargs["queryset"] = db_field.related_model.objects.qpvs().defer("geometry")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(EvaluationReport)
class EvaluationReportAdmin(admin.ModelAdmin):
    list_display = ["evaluation", "version", "adopted", "created_at", "checksum"]
    readonly_fields = ["evaluation", "version", "adopted", "created_at", "created_by", "payload", "checksum"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ChangeInline(admin.TabularInline):
    model = AmendmentChange
    extra = 0
    readonly_fields = ["kind", "model", "object_id", "label", "before", "after"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Amendment)
class AmendmentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "contract", "signed_on", "evaluation"]
    list_filter = ["contract"]
    readonly_fields = ["created_by"]
    inlines = [ChangeInline]
