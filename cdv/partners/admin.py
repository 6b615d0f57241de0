from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Partner


@admin.register(Partner)
class PartnerAdmin(SimpleHistoryAdmin):
    list_display = ["name", "short_name", "kind", "siren", "rna", "is_demo"]
    list_filter = ["kind", "is_demo"]
    search_fields = ["name", "short_name", "siren", "siret", "rna"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["member_of", "qpvs"]
