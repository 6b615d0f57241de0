"""Appel à projets (AAP) : l'appel (pilote, page publique), les dossiers (association), leur
instruction (financeurs, quartiers) et le comité des financeurs (programmation, vote)."""

from django.urls import path

from ..views import grants_applications as applications
from ..views import grants_calls as calls
from ..views import grants_committee as committee
from ..views import grants_instruction as instruction

CALL = "contrats/<slug:slug>/aap/<int:year>/"
APPLICATION = CALL + "dossiers/<int:pk>/"

urlpatterns = [
    # L'appel : montage par le pilote, page publique
    path("contrats/<slug:slug>/aap/", calls.call_list, name="call_list"),
    path("contrats/<slug:slug>/aap/nouveau/", calls.call_create, name="call_create"),
    path(CALL, calls.call_page, name="call"),
    path(CALL + "modifier/", calls.call_edit, name="call_edit"),
    path(CALL + "financeurs/", calls.call_funders, name="call_funders"),
    path(CALL + "pieces-et-grille/", calls.call_settings, name="call_settings"),
    path(CALL + "publier/", calls.call_publish, name="call_publish"),
    path(CALL + "archiver/", calls.call_archive, name="call_archive"),
    path(CALL + "copier/", calls.call_copy, name="call_copy"),
    path(CALL + "brouillons/", calls.call_drafts, name="call_drafts"),
    # Les dossiers : côté association
    path(
        "contrats/<slug:slug>/partenaires/<slug:partner_slug>/aap/",
        applications.partner_applications,
        name="partner_applications",
    ),
    path(
        "contrats/<slug:slug>/partenaires/<slug:partner_slug>/identite/",
        applications.partner_identity,
        name="partner_identity",
    ),
    path(
        "contrats/<slug:slug>/partenaires/<slug:partner_slug>/pieces/",
        applications.partner_documents,
        name="partner_documents",
    ),
    path(
        CALL + "partenaires/<slug:partner_slug>/nouveau-dossier/",
        applications.application_create,
        name="application_create",
    ),
    path(APPLICATION, applications.application_detail, name="application"),
    path(APPLICATION + "projet/", applications.application_project, name="application_project"),
    path(APPLICATION + "budget/", applications.application_budget, name="application_budget"),
    path(APPLICATION + "pieces/", applications.application_documents, name="application_documents"),
    path(APPLICATION + "deposer/", applications.application_submit, name="application_submit"),
    path(APPLICATION + "retirer/", applications.application_withdraw, name="application_withdraw"),
    path(APPLICATION + "supprimer/", applications.application_delete, name="application_delete"),
    path(APPLICATION + "complements/", applications.application_answer, name="application_answer"),
    path(APPLICATION + "recepisse.pdf", applications.application_receipt, name="application_receipt"),
    # L'instruction : financeurs, correspondants de quartier, délégués du préfet
    path(CALL + "instruction/", instruction.queue, name="call_queue"),
    path(APPLICATION + "instruction/", instruction.application_instruction, name="application_instruction"),
    path(
        APPLICATION + "lignes/<int:line_pk>/",
        instruction.funder_line_edit,
        name="funder_line_edit",
    ),
    path(APPLICATION + "avis/", instruction.quartier_opinion, name="quartier_opinion"),
    path(APPLICATION + "notes/", instruction.scores_edit, name="scores_edit"),
    path(APPLICATION + "demande-complements/", instruction.request_info, name="request_info"),
    path(APPLICATION + "dossier.pdf", instruction.application_pdf, name="application_pdf"),
    # Le comité des financeurs
    path(CALL + "programmation/", committee.programmation, name="programmation"),
    path(CALL + "programmation.xlsx", committee.programmation_xlsx, name="programmation_xlsx"),
    path(
        CALL + "programmation/lignes/<int:line_pk>/simulation/",
        committee.simulate_line,
        name="simulate_line",
    ),
    path(CALL + "programmation/vote/", committee.vote, name="committee_vote"),
]
