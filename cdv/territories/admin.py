from django.contrib import admin

from .models import Commune, Epci, Qpv, Territory


class TerritoryAdminBase(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "population"]
    search_fields = ["code", "name"]
    list_filter = ["kind"]
    readonly_fields = ["bbox", "geometry_repaired"]
    autocomplete_fields = ["parents"]  # on cherche la commune ou l'EPCI parmi les 3 700 territoires
    list_per_page = 50

    def get_queryset(self, request):
        return super().get_queryset(request).defer("geometry")

    def save_model(self, request, obj, form, change):
        # Un contour saisi ici est orienté comme au chargement (RFC 7946), pour que toutes les
        # sorties GeoJSON restent conformes ; clean() a déjà vérifié que c'est une surface valide.
        if obj.geometry and "geometry" in form.changed_data:
            # shapely (et numpy) ne sont chargés qu'ici : le back-office est découvert au démarrage
            # de chaque processus, qui n'a pas à les importer pour rien.
            from .geometry import conform_geojson

            obj.geometry = conform_geojson(obj.geometry)
        super().save_model(request, obj, form, change)


@admin.register(Territory)
class TerritoryAdmin(TerritoryAdminBase):
    autocomplete_fields = ["predecessor", "parents"]


@admin.register(Qpv)
class QpvAdmin(TerritoryAdminBase):
    list_display = ["code", "name", "geography", "status", "commune_list", "geometry_repaired"]
    list_filter = ["geography", "status", "geometry_repaired"]
    autocomplete_fields = ["predecessor", "parents"]
    fields = [
        "code",
        "name",
        "geography",
        "status",
        "predecessor",
        "parents",
        "commune_codes",
        "population",
        "population_source",
        "population_year",
        "geometry",
        "bbox",
        "geometry_repaired",
        "source",
    ]

    @admin.display(description="communes (codes INSEE)")
    def commune_list(self, obj):
        return ", ".join(obj.commune_codes or [])


@admin.register(Commune)
class CommuneAdmin(TerritoryAdminBase):
    list_display = ["code", "name", "population"]
    list_filter = []
    exclude = ["kind", "geography", "status", "predecessor", "commune_codes"]


@admin.register(Epci)
class EpciAdmin(TerritoryAdminBase):
    list_display = ["code", "name", "population"]
    list_filter = []
    exclude = ["kind", "geography", "status", "predecessor", "commune_codes"]
