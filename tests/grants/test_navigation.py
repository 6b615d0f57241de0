"""Chacun trouve, par des liens, les pages de l'appel à projets que ses droits (``call_abilities``,
``application_abilities``) lui ouvrent : page et liste des appels, dossier, « Mon espace »."""

import pytest
from django.urls import reverse

from cdv.users.enums import Role

from .instruction_world import build_world, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    world = build_world()
    world.committee = member(world.call.contract, Role.COMMITTEE_MEMBER)
    return world


def call_links(world):
    args = [world.call.contract.slug, world.call.year]
    return {
        name: reverse(f"www:{name}", args=args)
        for name in ("call_queue", "programmation", "call_drafts", "call_edit", "call_funders")
    }


EXPECTED = {
    "pilot": {"call_queue", "programmation", "call_drafts", "call_edit", "call_funders"},
    "instructor_a": {"call_queue", "programmation"},
    "committee": {"call_queue", "programmation"},
    "correspondent": {"call_queue"},
    "delegate": {"call_queue"},
    "referent": set(),
    None: set(),
}


@pytest.mark.parametrize("who", list(EXPECTED))
def test_call_page_and_call_list_link_to_what_the_role_may_open(client, world, who):
    if who:
        client.force_login(getattr(world, who))
    slug = world.call.contract.slug
    page = client.get(reverse("www:call", args=[slug, world.call.year])).content.decode()
    listing = client.get(reverse("www:call_list", args=[slug])).content.decode()
    links = call_links(world)
    assert {name for name, link in links.items() if f'href="{link}"' in page} == EXPECTED[who]
    on_list = {name for name, link in links.items() if f'href="{link}"' in listing}
    # La liste mène aux brouillons par leur nombre (aucun ici) ; les autres étapes, par la page.
    assert on_list == EXPECTED[who] - {"call_funders", "call_drafts"}


def test_application_page_links_to_instruction_and_pdf_when_allowed(client, world):
    application = world.application
    args = [world.call.contract.slug, world.call.year, application.pk]
    detail = reverse("www:application", args=args)
    pdf = reverse("www:application_pdf", args=args)
    instruction = reverse("www:application_instruction", args=args)

    client.force_login(world.instructor_a)
    text = client.get(detail).content.decode()
    assert pdf in text and instruction in text
    assert client.get(pdf).status_code == 200

    client.force_login(world.referent)
    text = client.get(detail).content.decode()
    assert pdf in text and instruction not in text
    assert client.get(pdf).status_code == 200


@pytest.mark.parametrize(
    ("who", "queue", "programmation"),
    [
        ("instructor_a", True, True),
        ("correspondent", True, False),
        ("delegate", True, False),
        ("committee", True, True),
    ],
)
def test_my_space_leads_each_aap_role_to_its_pages(client, world, who, queue, programmation):
    client.force_login(getattr(world, who))
    args = [world.call.contract.slug, world.call.year]

    text = client.get(reverse("www:my_space")).content.decode()

    assert (reverse("www:call_queue", args=args) in text) is queue
    assert (reverse("www:programmation", args=args) in text) is programmation
    assert "rattaché à aucun partenaire" not in text
