from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Indicator


@admin.register(Indicator)
class IndicatorAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "contract", "enjeu", "unit", "direction", "aggregation", "is_demo"]
    list_filter = ["contract", "enjeu", "direction", "aggregation", "is_demo"]
    search_fields = ["code", "name", "definition", "source"]
    prepopulated_fields = {"code": ["name"]}
