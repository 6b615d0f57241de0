"""Retours d'expérience : dépôt, modification par l'auteur, modération par le pilote, publication,
refus et retrait motivés, liste publique filtrée, anonymat des membres des conseils citoyens, XSS,
CSRF ; qui lit quoi dans l'API. Le monde : participation_world.py."""

import html
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from cdv.monitoring import feedback as fb
from cdv.monitoring.enums import FeedbackKind, Moderation
from cdv.monitoring.models import Feedback
from cdv.plan.models import Action
from cdv.users.enums import Role
from tests import factories

from .participation_world import (
    COUNCIL_NAME,
    ROLES,
    SECRET_FIRST,
    SECRET_LAST,
    api,
    dervallieres,
    feedback_state,
    login,
    post,
    text,
    texts,
)

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


# --- Retours d'expérience : cycle de vie ----------------------------------------------------------


def test_feedback_life_cycle_through_the_pages(client, world):
    nantes, council = world["nantes"], world["council"]
    enjeu = nantes.enjeux.get(number=2)
    action = Action.objects.for_contract(nantes).get(title="Aide aux devoirs après l'école")
    login(client, world, "council")
    form = client.get(reverse("www:feedback_create", args=[nantes.slug]))
    assert form.status_code == 200
    assert "jamais votre nom" in text(form) and COUNCIL_NAME in text(form)
    response = client.post(
        reverse("www:feedback_create", args=[nantes.slug]),
        {
            "kind": FeedbackKind.NEED,
            "text": "Il manque des bénévoles pour l'aide aux devoirs le jeudi.",
            "qpvs": [dervallieres(nantes).pk],
            "enjeu": enjeu.pk,
            "actions": [action.pk],
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse(
        "www:my_feedback", args=[nantes.slug]
    )
    feedback = Feedback.objects.get(text__startswith="Il manque des bénévoles")
    assert feedback.moderation == Moderation.PENDING
    assert feedback.partner == council and feedback.author == world["users"]["council"]
    assert list(feedback.qpvs.all()) == [dervallieres(nantes)] and list(feedback.actions.all()) == [action]
    mine = text(client.get(reverse("www:my_feedback", args=[nantes.slug])))
    assert "En attente de modération" in mine and "Modifier ce retour" in mine

    public_url = reverse("www:feedback_list", args=[nantes.slug])
    anonymous = Client()
    assert "Il manque des bénévoles" not in text(anonymous.get(public_url))
    assert feedback.text not in texts(api(anonymous, f"/api/v1/contracts/{nantes.slug}/feedback"))

    login(client, world, "pilot")
    queue = text(client.get(reverse("www:moderation", args=[nantes.slug])))
    pending = Feedback.objects.filter(contract=nantes, moderation=Moderation.PENDING).count()
    assert "Il manque des bénévoles" in queue and f"Retours à modérer ({pending})" in queue
    response = client.post(
        reverse("www:feedback_moderate", args=[nantes.slug, feedback.pk]), {"decision": "publier"}
    )
    assert response.status_code == 302
    feedback.refresh_from_db()
    assert feedback.moderation == Moderation.PUBLISHED
    assert feedback.moderated_by == world["users"]["pilot"] and feedback.moderated_at is not None

    page = text(anonymous.get(public_url))
    assert "Il manque des bénévoles pour l'aide aux devoirs le jeudi." in page
    assert "Besoin" in page and COUNCIL_NAME in page and "Dervallières" in page
    assert "2. " in page and "Aide aux devoirs après l'école" in page
    published = Feedback.objects.filter(contract=nantes, moderation=Moderation.PUBLISHED).count()
    assert f"{published} retours publiés" in page

    # Publié : son auteur ne le modifie plus.
    login(client, world, "council")
    url = reverse("www:feedback_edit", args=[nantes.slug, feedback.pk])
    before = feedback_state()
    assert client.get(url).status_code == 403
    assert (
        client.post(url, {"kind": FeedbackKind.SUCCESS, "text": "Modifié après publication"}).status_code
        == 403
    )
    assert feedback_state() == before


def test_rejected_feedback_is_never_public_and_the_author_reads_the_reason(client, world):
    nantes = world["nantes"]
    feedback = post(world, text_="Un retour qui cite une personne nommément.")
    url = reverse("www:feedback_moderate", args=[nantes.slug, feedback.pk])
    login(client, world, "pilot")
    response = client.post(url, {"decision": "refuser", "reason": "  "})
    assert response.status_code == 200
    page = text(response)
    assert "La modération n'a pas été enregistrée" in page and "Indiquez à son auteur pourquoi" in page
    assert Feedback.objects.get(pk=feedback.pk).moderation == Moderation.PENDING

    response = client.post(url, {"decision": "refuser", "reason": "Merci de ne nommer personne."})
    assert response.status_code == 302
    feedback.refresh_from_db()
    assert feedback.moderation == Moderation.REJECTED
    assert feedback.moderation_comment == "Merci de ne nommer personne."

    # Jamais publié ensuite, ni par la page ni par le service.
    client.post(url, {"decision": "publier"})
    assert Feedback.objects.get(pk=feedback.pk).moderation == Moderation.REJECTED
    with pytest.raises(fb.FeedbackError):
        fb.publish_feedback(user=world["users"]["pilot"], feedback=feedback)
    anonymous = Client()
    assert "cite une personne" not in text(anonymous.get(reverse("www:feedback_list", args=[nantes.slug])))
    assert feedback.text not in texts(api(anonymous, f"/api/v1/contracts/{nantes.slug}/feedback"))

    login(client, world, "council")
    mine = text(client.get(reverse("www:my_feedback", args=[nantes.slug])))
    assert "Non publié" in mine and "Merci de ne nommer personne." in mine
    assert "Modifier ce retour" not in mine
    edit = reverse("www:feedback_edit", args=[nantes.slug, feedback.pk])
    assert client.post(edit, {"kind": FeedbackKind.SUCCESS, "text": "Corrigé"}).status_code == 403


def test_a_published_feedback_can_be_withdrawn_with_a_reason_and_stays_private(client, world):
    nantes = world["nantes"]
    feedback = post(world)
    fb.publish_feedback(user=world["users"]["pilot"], feedback=feedback)
    fb.reject_feedback(
        user=world["users"]["pilot"], feedback=feedback, reason="Retiré à la demande du conseil."
    )
    feedback.refresh_from_db()
    assert feedback.moderation == Moderation.REJECTED
    assert "ateliers du mercredi" not in text(client.get(reverse("www:feedback_list", args=[nantes.slug])))


def test_the_author_edits_own_pending_feedback_only(client, world):
    nantes = world["nantes"]
    feedback = post(world)
    url = reverse("www:feedback_edit", args=[nantes.slug, feedback.pk])
    data = {"kind": FeedbackKind.PROPOSAL, "text": "Proposer les ateliers aussi le samedi.", "qpvs": []}

    for role, status in [("editor", 404), ("reader", 404), ("pilot", 403), ("pilot_other", 404)]:
        client.logout()
        login(client, world, role)
        before = feedback_state()
        assert client.post(url, data).status_code == status, role
        assert feedback_state() == before
    client.logout()
    response = client.post(url, data)
    assert response.status_code == 302 and reverse("www:login") in response["Location"]

    login(client, world, "council")
    form = text(client.get(url))
    assert "Les ateliers du mercredi ont trouvé leur public." in form
    assert client.post(url, data).status_code == 302
    feedback.refresh_from_db()
    assert (feedback.kind, feedback.text) == (FeedbackKind.PROPOSAL, "Proposer les ateliers aussi le samedi.")
    assert feedback.moderation == Moderation.PENDING
    with pytest.raises(PermissionDenied):
        fb.update_feedback(user=world["users"]["editor"], feedback=feedback, kind="REUSSITE", text="Piraté")


@pytest.mark.parametrize("role", ROLES)
def test_only_pilots_moderate(client, world, role):
    nantes = world["nantes"]
    feedback = post(world)
    login(client, world, role)
    before = feedback_state()
    queue = client.get(reverse("www:moderation", args=[nantes.slug]))
    response = client.post(
        reverse("www:feedback_moderate", args=[nantes.slug, feedback.pk]), {"decision": "publier"}
    )
    if role == "pilot":
        assert queue.status_code == 200 and response.status_code == 302
        assert Feedback.objects.get(pk=feedback.pk).moderation == Moderation.PUBLISHED
        return
    if role == "anonymous":
        assert queue.status_code == 302 and response.status_code == 302
        assert reverse("www:login") in response["Location"]
    else:
        assert queue.status_code == 403 and response.status_code == 403
    assert feedback_state() == before
    if role != "anonymous":
        with pytest.raises(PermissionDenied):
            fb.publish_feedback(user=world["users"][role], feedback=feedback)
        with pytest.raises(PermissionDenied):
            fb.reject_feedback(user=world["users"][role], feedback=feedback, reason="Non")


@pytest.mark.parametrize(
    "role,expected",
    [
        ("pilot", 302),
        ("editor", 302),
        ("reader", 302),
        ("council", 302),
        ("evaluator", 403),
        ("pilot_other", 403),
        ("anonymous", "login"),
    ],
)
def test_who_may_post_feedback(client, world, role, expected):
    nantes = world["nantes"]
    login(client, world, role)
    before = feedback_state()
    response = client.post(
        reverse("www:feedback_create", args=[nantes.slug]),
        {"kind": FeedbackKind.DIFFICULTY, "text": "Les locaux ferment trop tôt."},
    )
    if expected == "login":
        assert response.status_code == 302 and reverse("www:login") in response["Location"]
    else:
        assert response.status_code == expected, text(response)[:500]
    if expected == 302:
        created = Feedback.objects.get(text="Les locaux ferment trop tôt.")
        assert created.moderation == Moderation.PENDING
        expected_partner = {"pilot": None, "council": world["council"]}.get(role, world["partner_a"])
        assert created.partner == expected_partner
    else:
        assert feedback_state() == before


def test_feedback_links_to_another_contract_are_refused(client, world):
    nantes = world["nantes"]
    before = feedback_state()
    cases = {
        "qpvs": {"qpvs": [world["other_qpv"]]},
        "enjeu": {"enjeu": world["other_enjeu"]},
        "actions": {"actions": [world["other_action"]]},
        "commitments": {"commitments": [world["other_commitment"]]},
        "indicators": {"indicators": [world["other_indicator"]]},
    }
    for field, links in cases.items():
        with pytest.raises(fb.FeedbackError) as caught:
            post(world, role="editor", **links)
        assert list(caught.value.message_dict) == [field]
        message = " ".join(caught.value.message_dict[field])
        assert "autre contrat" in message or "ne relèvent pas du contrat" in message
    assert feedback_state() == before

    # Par la page : l'identifiant d'un objet d'un autre contrat n'est pas un choix valide.
    login(client, world, "editor")
    response = client.post(
        reverse("www:feedback_create", args=[nantes.slug]),
        {
            "kind": FeedbackKind.NEED,
            "text": "Lien vers un autre contrat",
            "actions": [world["other_action"].pk],
            "commitments": [world["other_commitment"].pk],
        },
    )
    assert response.status_code == 200
    page = text(response)
    assert "Le formulaire contient des erreurs" in page and "choix valide" in page
    assert feedback_state() == before


def test_form_errors_are_summarised_in_french(client, world):
    nantes = world["nantes"]
    login(client, world, "council")
    before = feedback_state()
    response = client.post(reverse("www:feedback_create", args=[nantes.slug]), {"kind": "", "text": ""})
    page = text(response)
    assert response.status_code == 200
    assert "Le formulaire contient des erreurs" in page and "Ce champ est obligatoire" in page
    assert 'href="#id_text"' in response.content.decode()
    assert feedback_state() == before


def test_a_member_of_several_partners_chooses_on_whose_behalf(client, world):
    nantes = world["nantes"]
    editor = world["users"]["editor"]
    factories.MembershipFactory(user=editor, contract=nantes, partner=world["council"], role=Role.READER)
    with pytest.raises(fb.FeedbackError):
        post(world, role="editor")
    with pytest.raises(fb.FeedbackError):
        post(world, role="editor", partner=world["outsider"])
    feedback = post(world, role="editor", partner=world["council"])
    assert feedback.partner == world["council"]


# --- Anonymat, XSS ------------------------------------------------------------------------------


def test_council_members_are_never_named_in_public_pages_or_the_api(client, world):
    nantes = world["nantes"]
    feedback = post(world, text_="Le conseil demande un banc devant l'école.")
    fb.publish_feedback(user=world["users"]["pilot"], feedback=feedback)
    council_user = world["users"]["council"]
    secrets = [SECRET_FIRST, SECRET_LAST, council_user.email]
    for role in ["anonymous", "reader", "editor"]:
        client.logout()
        user = login(client, world, role)
        page = client.get(reverse("www:feedback_list", args=[nantes.slug])).content.decode()
        assert "Le conseil demande un banc" in page and html.escape(COUNCIL_NAME) in page
        data = api(Client(), f"/api/v1/contracts/{nantes.slug}/feedback", user)
        dumped = json.dumps(data, ensure_ascii=False)
        item = next(i for i in data["items"] if i["id"] == feedback.pk)
        assert item["on_behalf_of"] == COUNCIL_NAME
        for secret in secrets:
            assert secret not in page and secret not in dumped
        assert not {"author", "author_id", "email", "moderated_by"} & set(item)
    # Ses propres pages ne l'exposent pas davantage au public ; le pilote, lui, sait qui modère.
    login(client, world, "pilot")
    fb.post_feedback(user=council_user, contract=nantes, kind=FeedbackKind.NEED, text="Un autre retour.")
    assert SECRET_LAST in text(client.get(reverse("www:moderation", args=[nantes.slug])))


def test_a_stored_script_in_a_feedback_is_rendered_escaped(client, world):
    nantes = world["nantes"]
    payload = '<script>alert("xss")</script><img src=x onerror=alert(1)>'
    feedback = post(world, text_=payload)
    login(client, world, "pilot")
    queue = client.get(reverse("www:moderation", args=[nantes.slug])).content.decode()
    assert "<script>alert" not in queue and "&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;" in queue
    fb.publish_feedback(user=world["users"]["pilot"], feedback=feedback)
    page = Client().get(reverse("www:feedback_list", args=[nantes.slug])).content.decode()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;" in page


def test_forms_are_csrf_protected(world):
    nantes = world["nantes"]
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["users"]["council"])
    url = reverse("www:feedback_create", args=[nantes.slug])
    data = {"kind": FeedbackKind.SUCCESS, "text": "Avec ou sans jeton CSRF"}
    assert client.post(url, data).status_code == 403
    assert not Feedback.objects.filter(text="Avec ou sans jeton CSRF").exists()
    client.get(url)
    token = client.cookies["csrftoken"].value
    assert client.post(url, data | {"csrfmiddlewaretoken": token}).status_code == 302
    assert Feedback.objects.filter(text="Avec ou sans jeton CSRF").count() == 1


def test_public_list_filters_by_qpv_and_enjeu(client, world):
    nantes = world["nantes"]
    pilot = world["users"]["pilot"]
    bellevue = nantes.qpvs.get(code="QN04405M")
    enjeu = nantes.enjeux.get(number=3)
    Feedback.objects.filter(contract=nantes, is_demo=True).delete()  # seuls les retours de ce test
    first = post(world, text_="Retour aux Dervallières", qpvs=[dervallieres(nantes)], enjeu=enjeu)
    second = post(world, role="editor", text_="Retour à Bellevue", qpvs=[bellevue])
    for f in (first, second):
        fb.publish_feedback(user=pilot, feedback=f)
    url = reverse("www:feedback_list", args=[nantes.slug])
    page = text(client.get(url, {"quartier": "QN04406M"}))
    assert "Retour aux Dervallières" in page and "Retour à Bellevue" not in page
    page = text(client.get(url, {"enjeu": "3"}))
    assert "Retour aux Dervallières" in page and "Retour à Bellevue" not in page
    page = text(client.get(url, {"quartier": "QN04405M", "enjeu": "3"}))
    assert "Aucun retour publié pour ces critères" in page
    page = text(client.get(url, {"quartier": "inconnu", "enjeu": "x"}))
    assert "Retour aux Dervallières" in page and "Retour à Bellevue" in page
    data = api(client, f"/api/v1/contracts/{nantes.slug}/feedback?qpv=QN04405M")
    assert [i["text"] for i in data["items"]] == ["Retour à Bellevue"]


def test_feedback_api_per_role(world):
    nantes, pilot = world["nantes"], world["users"]["pilot"]
    published = post(world, text_="Publié")
    fb.publish_feedback(user=pilot, feedback=published)
    post(world, text_="En attente du conseil")
    post(world, role="editor", text_="En attente du référent")
    url = f"/api/v1/contracts/{nantes.slug}/feedback"
    seen = {
        role: {i["text"] for i in api(Client(), url, world["users"][role])["items"] if not i["is_demo"]}
        for role in ["anonymous", "pilot", "council", "editor", "reader", "pilot_other"]
    }
    assert seen["anonymous"] == seen["reader"] == seen["pilot_other"] == {"Publié"}
    assert seen["pilot"] == {"Publié", "En attente du conseil", "En attente du référent"}
    assert seen["council"] == {"Publié", "En attente du conseil"}
    assert seen["editor"] == {"Publié", "En attente du référent"}
    item = next(i for i in api(Client(), url)["items"] if i["id"] == published.pk)
    assert item["moderation"] == Moderation.PUBLISHED and item["on_behalf_of"] == COUNCIL_NAME
