from django.contrib import admin
from django.urls import include, path

from cdv.api.urls import api

admin.site.site_header = "Contrat de ville — administration"
admin.site.site_title = "Contrat de ville"
admin.site.index_title = "Back-office des pilotes"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("cdv.www.urls")),
]
