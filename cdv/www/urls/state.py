"""Vue de l'État : le tableau des contrats signés par un partenaire (lecture inter-contrats)."""

from django.urls import path

from ..views import state

urlpatterns = [
    path("vue-etat/", state.state_dashboard_page, name="state_dashboard"),
    path("vue-etat/contrats.xlsx", state.state_dashboard_xlsx, name="state_dashboard_xlsx"),
    path("exploitation/lecture-inter-contrats/", state.cross_contract_readers, name="cross_contract_readers"),
]
