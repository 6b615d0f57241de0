"""Modération avec caviardage : le pilote retouche le texte à publier (noms, adresses) ; le texte
déposé reste gardé, lisible des seuls pilotes, avec qui l'a retouché et quand."""

import pytest
from django.test import Client
from django.urls import reverse

from cdv.monitoring import feedback as fb
from cdv.monitoring.enums import Moderation
from cdv.monitoring.models import Feedback
from tests.participation.participation_world import api, dervallieres, login, post, text, texts

# Le même monde que les tests de participation (conftest.py) : bâti une fois pour ce fichier aussi.
pytestmark = [pytest.mark.django_db, pytest.mark.demo]

ORIGINAL = "Mme Zoé Martin, 12 rue des Lilas, anime seule les ateliers du mercredi : il faut l'aider."
REDACTED = "Une bénévole anime seule les ateliers du mercredi : il faut l'aider."


def moderate(client, world, feedback, **data):
    url = reverse("www:feedback_moderate", args=[world["nantes"].slug, feedback.pk])
    return client.post(url, data)


def test_the_pilot_redacts_the_text_then_publishes_it(client, world):
    nantes, pilot = world["nantes"], world["users"]["pilot"]
    feedback = post(world, text_=ORIGINAL, qpvs=[dervallieres(nantes)])
    login(client, world, "pilot")
    queue = client.get(reverse("www:moderation", args=[nantes.slug])).content.decode()
    assert f'name="text" id="texte-{feedback.pk}"' in queue  # le texte à publier, modifiable

    response = moderate(client, world, feedback, decision="publier", text=REDACTED)
    assert response.status_code == 302
    feedback.refresh_from_db()
    assert feedback.moderation == Moderation.PUBLISHED
    assert (feedback.text, feedback.original_text) == (REDACTED, ORIGINAL)
    assert feedback.redacted_by == pilot and feedback.redacted_at is not None
    # Qui a changé quoi : l'historique garde le texte déposé puis le texte retouché, avec son auteur.
    last = feedback.history.first()
    assert last.history_user == pilot and last.text == REDACTED and last.original_text == ORIGINAL

    anonymous = Client()
    public = text(anonymous.get(reverse("www:feedback_list", args=[nantes.slug])))
    assert REDACTED in public and "Zoé Martin" not in public and "rue des Lilas" not in public
    data = api(anonymous, f"/api/v1/contracts/{nantes.slug}/feedback")
    assert REDACTED in texts(data) and "Zoé Martin" not in str(data)
    qpv_page = text(anonymous.get(reverse("www:qpv", args=[nantes.slug, dervallieres(nantes).code])))
    assert REDACTED in qpv_page and "Zoé Martin" not in qpv_page


def test_the_original_is_shown_to_pilots_only(client, world):
    nantes, pilot = world["nantes"], world["users"]["pilot"]
    feedback = post(world, text_=ORIGINAL)
    fb.publish_feedback(user=pilot, feedback=feedback, text=REDACTED)

    login(client, world, "pilot")
    queue = text(client.get(reverse("www:moderation", args=[nantes.slug])))
    assert ORIGINAL in queue and "Texte retouché avant publication par" in queue

    for role in ["council", "editor", "reader", "evaluator", "pilot_other"]:
        member = Client()
        login(member, world, role)
        seen = text(member.get(reverse("www:feedback_list", args=[nantes.slug])))
        seen += text(member.get(reverse("www:my_feedback", args=[nantes.slug])))
        seen += str(api(member, f"/api/v1/contracts/{nantes.slug}/feedback", world["users"][role]))
        assert "Zoé Martin" not in seen, role
    # L'auteur lit le texte publié et sait qu'il a été retouché.
    author = Client()
    login(author, world, "council")
    mine = text(author.get(reverse("www:my_feedback", args=[nantes.slug])))
    assert REDACTED in mine and "retouché par la modération" in mine


def test_publishing_unchanged_keeps_no_copy(world):
    feedback = post(world, text_=ORIGINAL)
    fb.publish_feedback(user=world["users"]["pilot"], feedback=feedback, text=f"  {ORIGINAL}\n")
    feedback.refresh_from_db()
    assert (feedback.text, feedback.original_text, feedback.redacted_by) == (ORIGINAL, "", None)


def test_an_empty_redacted_text_is_refused_and_nothing_changes(client, world):
    feedback = post(world, text_=ORIGINAL)
    login(client, world, "pilot")
    response = moderate(client, world, feedback, decision="publier", text="   ")
    assert response.status_code == 200
    assert "Le texte à publier est vide" in text(response)
    feedback.refresh_from_db()
    assert (feedback.moderation, feedback.text, feedback.original_text) == (Moderation.PENDING, ORIGINAL, "")


def test_only_a_pilot_redacts(world):
    feedback = post(world, text_=ORIGINAL)
    for role in ["council", "evaluator", "pilot_other"]:
        with pytest.raises(fb.PermissionDenied):
            fb.publish_feedback(user=world["users"][role], feedback=feedback, text=REDACTED)
    assert Feedback.objects.get(pk=feedback.pk).text == ORIGINAL


def test_the_author_finds_the_text_as_deposited_in_the_export_of_their_data(client, world):
    """Droit d'accès : l'auteur retrouve ce qu'il a écrit, même retouché avant publication."""
    feedback = post(world, text_=ORIGINAL)
    fb.publish_feedback(user=world["users"]["pilot"], feedback=feedback, text=REDACTED)
    login(client, world, "council")
    data = client.get(reverse("www:my_data")).json()
    item = next(i for i in data["retours"] if i["id"] == feedback.pk)
    assert (item["texte"], item["texte_depose"]) == (REDACTED, ORIGINAL)
