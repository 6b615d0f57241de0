from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from cdv.core.admin import FRENCH_NUMBERS, ReadabilityAdminMixin

from .models import Contract, KeyFigure, Milestone, Signatory


class SignatoryInline(admin.TabularInline):
    model = Signatory
    extra = 0
    autocomplete_fields = ["partner"]

    def get_queryset(self, request):
        # Le libellé de chaque ligne cite son partenaire : lu avec les signataires.
        return super().get_queryset(request).select_related("partner")


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0
    fields = ["kind", "title", "year", "when_label", "due_on", "done_on"]


@admin.register(Contract)
class ContractAdmin(ReadabilityAdminMixin, SimpleHistoryAdmin):
    list_display = ["title", "epci", "start_year", "end_year", "signed_on", "status"]
    list_filter = ["status"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["epci", "reference_territory"]
    filter_horizontal = ["qpvs"]
    inlines = [SignatoryInline, MilestoneInline]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "qpvs":
            kwargs["queryset"] = db_field.related_model.objects.qpvs().defer("geometry")
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(Signatory)
class SignatoryAdmin(SimpleHistoryAdmin):
    list_display = ["partner", "contract", "kind", "signed_on", "signatory_role"]
    list_filter = ["contract", "kind"]
    search_fields = ["partner__name", "signatory_name"]
    autocomplete_fields = ["partner"]


@admin.register(Milestone)
class MilestoneAdmin(SimpleHistoryAdmin):
    list_display = ["title", "contract", "kind", "year", "when_label", "done_on"]
    list_filter = ["contract", "kind", "year"]
    search_fields = ["title"]


@admin.register(KeyFigure)
class KeyFigureAdmin(SimpleHistoryAdmin):
    formfield_overrides = FRENCH_NUMBERS
    list_display = ["label", "contract", "value", "unit", "comparison_value", "source_label"]
    list_filter = ["contract", "is_headline"]
    search_fields = ["label", "perimeter", "source_label"]
