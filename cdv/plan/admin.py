from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from cdv.core.admin import ReadabilityAdminMixin

from .models import Action, Enjeu, Objective, QpvPriority


class ObjectiveInline(admin.TabularInline):
    model = Objective
    extra = 0
    fields = ["number", "title", "is_demo"]


@admin.register(Enjeu)
class EnjeuAdmin(ReadabilityAdminMixin, SimpleHistoryAdmin):
    list_display = ["number", "title", "contract", "is_demo"]
    list_filter = ["contract", "is_demo"]
    search_fields = ["title"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [ObjectiveInline]


@admin.register(Objective)
class ObjectiveAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "enjeu", "is_demo"]
    list_filter = ["enjeu__contract", "enjeu", "is_demo"]
    search_fields = ["title"]


@admin.register(Action)
class ActionAdmin(ReadabilityAdminMixin, SimpleHistoryAdmin):
    list_display = ["code", "title", "objective", "scope", "status", "pilot_partner", "is_demo"]
    list_filter = ["objective__enjeu__contract", "objective__enjeu", "scope", "status", "is_demo"]
    search_fields = ["code", "title", "summary_plain"]
    autocomplete_fields = ["pilot_partner"]
    filter_horizontal = ["qpvs", "contributors"]
    list_select_related = ["objective__enjeu", "pilot_partner"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "qpvs":
            kwargs["queryset"] = db_field.related_model.objects.qpvs().defer("geometry")
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(QpvPriority)
class QpvPriorityAdmin(SimpleHistoryAdmin):
    list_display = ["qpv", "enjeu", "is_demo"]
    list_filter = ["enjeu__contract", "enjeu", "is_demo"]
    search_fields = ["qpv__name", "text"]
    list_select_related = ["qpv", "enjeu"]
