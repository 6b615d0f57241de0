from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from cdv.core.admin import FRENCH_NUMBERS, ReadabilityAdminMixin

from .models import Commitment, CommitmentAmendment, CommitmentMeans


class MeansInline(admin.TabularInline):
    formfield_overrides = FRENCH_NUMBERS
    model = CommitmentMeans
    extra = 0


@admin.register(Commitment)
class CommitmentAdmin(ReadabilityAdminMixin, SimpleHistoryAdmin):
    list_display = ["title", "partner", "contract", "objective", "scope", "status", "is_demo"]
    list_filter = ["contract", "status", "scope", "is_demo", "partner__kind"]
    search_fields = ["title", "summary_plain", "partner__name"]
    autocomplete_fields = ["partner"]
    filter_horizontal = ["qpvs"]
    list_select_related = ["partner", "contract", "objective__enjeu"]
    readonly_fields = ["version", "created_at", "updated_at"]
    inlines = [MeansInline]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "qpvs":
            kwargs["queryset"] = db_field.related_model.objects.qpvs().defer("geometry")
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(CommitmentMeans)
class CommitmentMeansAdmin(SimpleHistoryAdmin):
    formfield_overrides = FRENCH_NUMBERS
    list_display = ["commitment", "year", "fte", "amount_eur", "funding"]
    list_filter = ["year", "funding"]
    search_fields = ["commitment__title"]
    list_select_related = ["commitment__partner"]


@admin.register(CommitmentAmendment)
class CommitmentAmendmentAdmin(admin.ModelAdmin):
    """Lecture seule : un avenant est une trace, il ne se réécrit pas."""

    list_display = ["commitment", "number", "created_at", "author"]
    search_fields = ["commitment__title", "reason"]
    list_select_related = ["commitment", "author"]
    readonly_fields = [
        "commitment",
        "number",
        "reason",
        "author",
        "created_at",
        "previous_version",
        "previous",
        "changes",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
