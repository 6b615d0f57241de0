from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from cdv.core.admin import FRENCH_NUMBERS

from .models import Indicator, IndicatorValue, Target


@admin.register(Indicator)
class IndicatorAdmin(SimpleHistoryAdmin):
    list_display = [
        "code",
        "name",
        "contract",
        "enjeu",
        "unit",
        "rate_scale",
        "direction",
        "aggregation",
        "is_demo",
    ]
    list_filter = ["contract", "enjeu", "rate_scale", "direction", "aggregation", "is_demo"]
    search_fields = ["code", "name", "definition", "source"]
    prepopulated_fields = {"code": ["name"]}


@admin.register(IndicatorValue)
class IndicatorValueAdmin(admin.ModelAdmin):
    formfield_overrides = FRENCH_NUMBERS
    list_display = [
        "indicator",
        "scope",
        "territory",
        "year",
        "quarter",
        "display",
        "status",
        "is_secret",
        "is_demo",
    ]
    list_filter = ["indicator__contract", "indicator", "scope", "status", "is_secret", "is_demo", "year"]
    search_fields = ["indicator__code", "indicator__name", "territory__name", "territory__code", "source"]
    list_select_related = ["indicator", "territory"]
    raw_id_fields = ["territory", "commitment"]

    @admin.display(description="valeur")
    def display(self, obj):
        return obj.display


@admin.register(Target)
class TargetAdmin(SimpleHistoryAdmin):
    formfield_overrides = FRENCH_NUMBERS
    list_display = ["indicator", "territory", "year", "value"]
    list_filter = ["indicator__contract", "indicator"]
    raw_id_fields = ["territory"]
