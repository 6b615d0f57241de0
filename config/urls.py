from django.contrib import admin
from django.urls import include, path

from cdv.api.urls import api
from cdv.users.proconnect_urls import proconnect_callback

admin.site.site_header = "Contrat de ville — administration"
admin.site.site_title = "Contrat de ville"
admin.site.index_title = "Back-office des pilotes"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    # Retour de ProConnect (nom d'URL attendu par mozilla-django-oidc).
    path("oidc/callback/", proconnect_callback, name="oidc_authentication_callback"),
    path("", include("cdv.www.urls")),
]
