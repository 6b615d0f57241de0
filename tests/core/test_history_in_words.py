"""L'historique d'un engagement se lit en phrases françaises : états par leur libellé, personnes
par leur nom, objets liés par leur nom ; jamais de code brut ni d'identifiant."""

import html
import re

import pytest
from django.urls import reverse

from cdv.commitments.enums import CommitmentScope
from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from cdv.users.enums import Role
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


def text(response):
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def test_status_changes_and_the_confirming_person_read_in_words(client, nantes):
    partner = factories.PartnerFactory(name="Partenaire (historique)")
    factories.SignatoryFactory(contract=nantes, partner=partner)
    pilot = factories.MembershipFactory(contract=nantes, role=Role.PILOT).user
    pilot.first_name, pilot.last_name = "Camille", "Pilote"
    pilot.save()
    editor = factories.MembershipFactory(contract=nantes, role=Role.EDITOR, partner=partner).user
    editor.first_name, editor.last_name = "Dominique", "Référente"
    editor.save()
    commitment = Commitment.objects.create(
        contract=nantes,
        partner=partner,
        objective=nantes.enjeux.order_by("number").first().objectives.first(),
        title="Engagement raconté",
        scope=CommitmentScope.CONTRACT,
        status=S.DRAFT,
    )

    def transition(user, name):
        client.force_login(user)
        url = reverse("www:commitment_transition", args=[nantes.slug, commitment.pk, name])
        assert client.post(url).status_code == 302

    transition(editor, "proposer")
    transition(pilot, "valider")
    client.force_login(editor)
    response = client.post(
        reverse("www:confirm_cahier", args=[nantes.slug, partner.slug]),
        {"signatory_name": "Dominique Référente", "signatory_role": "Directrice", "agree": "on"},
    )
    assert response.status_code == 302
    transition(editor, "demarrer")
    client.force_login(pilot)
    page = text(client.get(reverse("www:commitment", args=[nantes.slug, commitment.pk])))
    history = page.split("Historique", 1)[1]
    assert "état : « Proposé par le partenaire » → « Validé par le pilote »" in history
    # La personne qui a confirmé : son nom, pas son numéro de compte.
    assert "confirmé par : « — » → « Dominique Référente »" in history
    assert f"« {editor.pk} »" not in history and "PROPOSE" not in history
    # Des phrases : qui a fait quoi.
    assert "Camille Pilote a modifié l'engagement :" in history
    assert "Dominique Référente a modifié l'engagement :" in history
    assert "Dominique Référente a créé" not in history  # créé par la plateforme dans ce test
    assert "La plateforme a créé l'engagement." in history


def test_the_audit_log_names_roles_and_states_by_their_labels(client, nantes):
    pilot = factories.MembershipFactory(contract=nantes, role=Role.PILOT).user
    factories.MembershipFactory(contract=nantes, role=Role.EVALUATOR)
    client.force_login(pilot)
    page = text(client.get(reverse("www:audit", args=[nantes.slug]), {"objet": "role"}))
    assert "Évaluateur" in page and "Pilote du contrat" in page
    assert "EVALUATEUR" not in page and "PILOTE " not in page
