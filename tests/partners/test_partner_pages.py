import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment, CommitmentAmendment
from cdv.partners.models import Partner
from cdv.territories.models import Qpv
from cdv.users.enums import Role
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


def text(response):
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


@pytest.fixture
def tremplin():
    return Partner.objects.get(name="Association Tremplin Quartiers (démonstration)")


@pytest.fixture
def referent(nantes, tremplin):
    return factories.MembershipFactory(contract=nantes, partner=tremplin, role=Role.EDITOR).user


@pytest.fixture
def pilot(nantes):
    return factories.MembershipFactory(contract=nantes, role=Role.PILOT).user


def form_data(commitment_or_none=None, **overrides):
    data = {
        "objective": "",
        "title": "Ateliers CV au centre social",
        "summary_plain": "Des ateliers pour écrire son CV, chaque semaine.",
        "scope": "QPV",
        "target": "100 personnes",
        "deadline": "2026-12-31",
        "fte_2025_DROIT_COMMUN": "0.5",
        "eur_2025_DROIT_COMMUN": "12000",
    }
    data.update(overrides)
    return data


def test_partner_space_lists_commitments_by_enjeu_and_qpv(client, nantes, tremplin, referent):
    client.force_login(referent)
    response = client.get(reverse("www:partner_space", args=[nantes.slug, tremplin.slug]))
    assert response.status_code == 200
    page = text(response)
    assert "Cahier d'engagements de Association Tremplin Quartiers" in page
    assert "Animer deux forums emploi par an" in page
    assert "1. Emploi et activité économique" in page
    assert "Bellevue" in page and "Par quartier" in page
    assert "Données de démonstration" in page
    assert "Nouvel engagement" in page


def test_create_then_propose_validate_confirm_through_the_pages(client, nantes, tremplin, referent, pilot):
    objective = nantes.enjeux.get(number=1).objectives.first()
    malakoff = Qpv.objects.get(code="QN04413M")
    client.force_login(referent)
    url = reverse("www:commitment_create", args=[nantes.slug, tremplin.slug])
    response = client.post(url, form_data(objective=objective.pk, qpvs=[malakoff.pk]))
    assert response.status_code == 302
    commitment = Commitment.objects.get(title="Ateliers CV au centre social")
    assert commitment.status == S.DRAFT and commitment.partner == tremplin
    means = commitment.means.get()
    assert (str(means.fte), str(means.amount_eur), means.year) == ("0.50", "12000.00", 2025)

    detail = text(client.get(reverse("www:commitment", args=[nantes.slug, commitment.pk])))
    assert "Proposer au pilote" in detail and "Valider" not in detail
    client.post(reverse("www:commitment_transition", args=[nantes.slug, commitment.pk, "proposer"]))
    client.force_login(pilot)
    dashboard = text(client.get(reverse("www:dashboard", args=[nantes.slug])))
    assert "À valider" in dashboard and "Ateliers CV au centre social" in dashboard
    client.post(reverse("www:commitment_transition", args=[nantes.slug, commitment.pk, "valider"]))
    assert Commitment.objects.get(pk=commitment.pk).status == S.VALIDATED

    client.force_login(referent)
    confirm_url = reverse("www:confirm_cahier", args=[nantes.slug, tremplin.slug])
    summary = text(client.get(confirm_url))
    assert "Ce qui sera confirmé (1)" in summary and "Ateliers CV au centre social" in summary
    assert "Restent de côté" in summary  # les autres engagements de démonstration non validés
    response = client.post(
        confirm_url, {"signatory_name": "Camille Martin", "signatory_role": "Présidente", "agree": "on"}
    )
    assert response.status_code == 302
    commitment.refresh_from_db()
    assert commitment.status == S.CONFIRMED and commitment.confirmed_name == "Camille Martin"


def test_form_errors_are_reported_in_french_and_nothing_is_saved(client, nantes, tremplin, referent):
    client.force_login(referent)
    url = reverse("www:commitment_create", args=[nantes.slug, tremplin.slug])
    before = Commitment.objects.count()
    response = client.post(url, form_data(objective="", title="", eur_2025_DROIT_COMMUN="-5"))
    page = text(response)
    assert response.status_code == 200
    assert "Le formulaire contient des erreurs" in page
    assert "Ce champ est obligatoire" in page
    assert "Euros 2025 (Moyens de droit commun) : le nombre ne peut pas être négatif." in page
    objective = nantes.enjeux.get(number=1).objectives.first()
    response = client.post(url, form_data(objective=objective.pk, qpvs=[]))
    assert "doit citer au moins un QPV" in text(response)
    assert Commitment.objects.count() == before


def test_second_save_with_a_stale_form_gets_a_conflict_showing_what_changed(
    client, nantes, tremplin, referent, pilot
):
    commitment = Commitment.objects.get(title__startswith="Financer vingt permis")
    url = reverse("www:commitment_edit", args=[nantes.slug, commitment.pk])
    stale_version = commitment.version
    base = form_data(
        objective=commitment.objective_id, scope="METROPOLE", title=commitment.title, version=stale_version
    )
    client.force_login(pilot)
    assert client.post(url, base | {"target": "25 permis par an"}).status_code == 302
    client.force_login(referent)
    response = client.post(url, base | {"title": "Financer trente permis par an"})
    assert response.status_code == 409
    page = text(response)
    assert "modifié par quelqu'un d'autre" in page
    assert "cible" in page and "25 permis par an" in page
    commitment.refresh_from_db()
    assert commitment.title.startswith("Financer vingt permis") and commitment.target == "25 permis par an"


def test_amending_a_confirmed_commitment_through_the_page_keeps_the_earlier_version(
    client, nantes, tremplin, referent, pilot
):
    commitment = Commitment.objects.get(title__startswith="Animer deux forums")
    client.force_login(pilot)
    client.post(reverse("www:commitment_transition", args=[nantes.slug, commitment.pk, "valider"]))
    client.force_login(referent)
    client.post(
        reverse("www:confirm_cahier", args=[nantes.slug, tremplin.slug]),
        {"signatory_name": "Camille Martin", "signatory_role": "Présidente", "agree": "on"},
    )
    commitment.refresh_from_db()
    url = reverse("www:commitment_edit", args=[nantes.slug, commitment.pk])
    assert "Motif de l'avenant" in text(client.get(url))
    qpvs = [q.pk for q in commitment.qpvs.all()]
    data = form_data(
        objective=commitment.objective_id, title=commitment.title, qpvs=qpvs, version=commitment.version
    )
    data.update({"target": "400 participants par an", "amendment_reason": "Troisième forum financé."})
    assert client.post(url, data).status_code == 302
    amendment = CommitmentAmendment.objects.get(commitment=commitment)
    assert amendment.previous["target"] == "300 participants par an"
    detail = text(client.get(reverse("www:commitment", args=[nantes.slug, commitment.pk])))
    assert (
        "Avenant n° 1" in detail
        and "300 participants par an" in detail
        and "Troisième forum financé." in detail
    )
    assert "Historique" in detail


def test_commitment_page_shows_history_to_its_partner_and_pilots_only(client, nantes, referent, pilot):
    commitment = Commitment.objects.get(title__startswith="Équiper 200 logements")  # en cours : public
    assert commitment.partner.name != referent.memberships.get().partner.name
    url = reverse("www:commitment", args=[nantes.slug, commitment.pk])
    assert "Historique" not in text(client.get(url))
    # L'historique montre les versions en préparation : pas au référent d'un autre partenaire.
    client.force_login(referent)
    assert "Historique" not in text(client.get(url))
    client.force_login(pilot)
    assert "Historique" in text(client.get(url))
    owner = factories.MembershipFactory(contract=nantes, partner=commitment.partner, role=Role.READER).user
    client.force_login(owner)
    assert "Historique" in text(client.get(url))


def test_drafts_are_not_public(client, nantes):
    draft = Commitment.objects.get(title__startswith="Financer vingt permis")
    assert client.get(reverse("www:commitment", args=[nantes.slug, draft.pk])).status_code == 404


def test_partner_not_in_the_contract_is_a_404(client, nantes, pilot):
    stranger = factories.PartnerFactory()
    client.force_login(pilot)
    assert client.get(reverse("www:partner_space", args=[nantes.slug, stranger.slug])).status_code == 404


def test_pages_keep_a_bounded_number_of_queries(client, nantes, tremplin, referent, pilot):
    def count(user, url):
        client.force_login(user)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    space = reverse("www:partner_space", args=[nantes.slug, tremplin.slug])
    dashboard = reverse("www:dashboard", args=[nantes.slug])
    before = (count(referent, space), count(pilot, dashboard))
    objective = nantes.enjeux.get(number=2).objectives.first()
    for i in range(20):
        c = Commitment.objects.create(
            contract=nantes, partner=tremplin, objective=objective, title=f"Engagement {i}", scope="QPV"
        )
        c.qpvs.set(nantes.qpvs.all()[:3])
        c.means.create(year=2025, fte=1, funding="DROIT_COMMUN")
    after = (count(referent, space), count(pilot, dashboard))
    assert after == before
    assert max(after) <= 25


def test_the_commitment_form_reads_the_quarters_in_one_query(client, nantes, tremplin, referent):
    """Les cases des quartiers : une requête pour tous, leur libellé (niveau, nom, code) compris ;
    pas une de plus par quartier."""
    client.force_login(referent)
    url = reverse("www:commitment_create", args=[nantes.slug, tremplin.slug])
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    territory_reads = [q["sql"] for q in ctx.captured_queries if 'FROM "territories_territory"' in q["sql"]]
    assert nantes.qpvs.count() > 1
    assert len(territory_reads) == 1, territory_reads


def test_action_list_follows_the_objective_with_htmx(client, nantes, tremplin, referent):
    client.force_login(referent)
    form = client.get(reverse("www:commitment_create", args=[nantes.slug, tremplin.slug])).content.decode()
    assert 'data-hx-get="/contrats/nantes-metropole-2024-2030/actions-par-objectif/"' in form
    assert "django_htmx/htmx-2.min.js" in form
    objective = nantes.enjeux.get(number=1).objectives.get(number=1)
    fragment = client.get(
        reverse("www:action_options", args=[nantes.slug]), {"objective": objective.pk}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Forums emploi de proximité" in fragment
    assert "Jardins partagés" not in fragment
    client.logout()
    assert client.get(reverse("www:action_options", args=[nantes.slug])).status_code == 302
