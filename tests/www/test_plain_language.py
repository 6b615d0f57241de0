"""Langage clair : résumé jamais vide, indice de lisibilité et conseils pour les rédacteurs."""

import pytest

from cdv.commitments.models import Commitment
from cdv.core.plain import first_sentences, plain_summary, readability
from cdv.territories.svgmap import build_map
from tests import factories

pytestmark = pytest.mark.demo

SIMPLE = "Nous aidons les jeunes à trouver un emploi. Un conseiller les suit chaque semaine."
JARGON = (
    "La mobilisation interinstitutionnelle des dispositifs de droit commun en faveur de l'insertion "
    "socioprofessionnelle des publics résidant dans les QPV constitue une priorité transversale du CDV"
)


def test_a_simple_text_scores_higher_than_administrative_jargon():
    simple, jargon = readability(SIMPLE), readability(JARGON)
    assert simple.score > 60 > jargon.score
    assert simple.good and not jargon.good
    assert simple.level in {"facile", "assez facile"}
    assert jargon.level == "très difficile"
    assert simple.words == 14 and simple.sentences == 2


def test_jargon_gets_concrete_advice_naming_what_to_change():
    advice = " ".join(readability(JARGON).advice)
    assert "1 phrase de plus de 20 mots" in advice
    assert "interinstitutionnelle" in advice and "socioprofessionnelle" in advice
    assert "Sigles (CDV, QPV)" in advice
    assert "Terminez par un point" in advice
    assert readability(SIMPLE).advice == []


def test_too_short_a_text_is_not_scored():
    result = readability("Emploi.")
    assert result.score is None and "trop court" in result.meaning


def test_first_sentences_keeps_whole_sentences_within_the_limit():
    assert first_sentences("Un. Deux. Trois.", 9) == "Un. Deux."
    assert first_sentences("Court.", 300) == "Court."
    long_word_text = "mot " * 200
    cut = first_sentences(long_word_text, 50)
    assert len(cut) <= 50 and cut.endswith("…")


@pytest.mark.django_db
def test_plain_summary_falls_back_to_description_then_to_a_generated_sentence(nantes):
    partner = factories.PartnerFactory(name="Atelier Vélo", kind="ASSOCIATION")
    objective = nantes.enjeux.get(number=1).objectives.first()
    commitment = Commitment(contract=nantes, partner=partner, objective=objective, title="Réparer 100 vélos")
    assert plain_summary(commitment) == "Atelier Vélo s'engage : Réparer 100 vélos."
    commitment.description = "Un atelier ouvert le samedi.\nDeuxième ligne."
    assert plain_summary(commitment) == "Un atelier ouvert le samedi. Deuxième ligne."
    commitment.summary_plain = "  Des vélos réparés  pour tous. "
    assert plain_summary(commitment) == "Des vélos réparés pour tous."


@pytest.mark.django_db
def test_editors_see_the_score_of_their_summary_in_the_commitment_form(client, nantes):
    partner = nantes.signatories.get(partner__slug="nantes-metropole").partner
    editor = factories.MembershipFactory(contract=nantes, role="EDITEUR", partner=partner).user
    client.force_login(editor)
    page = client.get(f"/contrats/{nantes.slug}/partenaires/{partner.slug}/engagements/nouveau/")
    body = page.content.decode()
    assert 'data-hx-get="/contrats/nantes-metropole-2024-2030/lisibilite/"' in body
    assert "texte trop court pour être mesuré" in body  # champ vide au départ
    fragment = client.get(f"/contrats/{nantes.slug}/lisibilite/", {"summary_plain": JARGON})
    assert "très difficile" in fragment.content.decode() and "Visez 60 ou plus" in fragment.content.decode()


@pytest.mark.django_db
def test_the_readability_fragment_respects_contract_visibility(client):
    hidden = factories.ContractFactory(status="PREPARATION")
    assert client.get(f"/contrats/{hidden.slug}/lisibilite/", {"summary_plain": SIMPLE}).status_code == 404


class Place:
    def __init__(self, code, geometry):
        self.code, self.name, self.geometry = code, code, geometry


def test_the_static_map_projects_shapes_inside_its_frame():
    square = {"type": "Polygon", "coordinates": [[[0, 45], [1, 45], [1, 46], [0, 46], [0, 45]]]}
    inner = {
        "type": "MultiPolygon",
        "coordinates": [[[[0.2, 45.2], [0.4, 45.2], [0.4, 45.4], [0.2, 45.2]]]],
    }
    svg = build_map([Place("Q", inner)], [Place("C", square)], width=200)
    # 1° de longitude à 45,5° de latitude ≈ 0,70 × 1° de latitude : la carte est plus haute que large
    assert svg.width == 200 and 270 < svg.height < 290
    assert svg.background[0].path.startswith("M6.0 ") and svg.background[0].path.endswith(" Z")
    coordinates = [
        float(v) for v in svg.shapes[0].path.replace("M", "").replace("L", "").replace("Z", "").split()
    ]
    assert all(0 <= v <= svg.height for v in coordinates)
    assert build_map([Place("vide", None)]) is None


@pytest.mark.django_db
def test_pilots_see_the_readability_of_summaries_in_the_back_office(client, admin_user, nantes):
    from cdv.plan.models import Action

    action = Action.objects.for_contract(nantes).get(title="Forums emploi de proximité")
    Action.objects.filter(pk=action.pk).update(summary_plain=JARGON)
    client.force_login(admin_user)
    body = client.get(f"/admin/plan/action/{action.pk}/change/").content.decode()
    assert "lisibilité du résumé" in body.lower()
    assert "très difficile" in body and "Sigles (CDV, QPV)" in body
    assert (
        body.index('name="summary_plain"') < body.index("très difficile") < body.index('name="description"')
    )
