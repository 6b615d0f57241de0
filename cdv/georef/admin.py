from django.contrib import admin

from .models import GeorefJob


@admin.register(GeorefJob)
class GeorefJobAdmin(admin.ModelAdmin):
    """Lecture seule : un traitement ne se crée et ne se modifie que par le site ou la tâche de fond."""

    list_display = [
        "original_name",
        "owner",
        "contract",
        "status",
        "progress_done",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "contract"]
    search_fields = ["original_name", "owner__email"]
    list_select_related = ["owner", "contract"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in GeorefJob._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
