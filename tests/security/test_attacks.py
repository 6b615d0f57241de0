"""Tests qui attaquent. Carte de la couverture (ce fichier et ceux qu'il ne duplique pas) :

- sondes inter-partenaires et inter-contrats :
  - écritures d'engagement, pages et API : tests/security/permissions/ (rôle × action × son
    partenaire / un autre / un autre contrat) ;
  - toutes les autres vues d'écriture et lectures non publiques par identifiant (retours, instances,
    décisions, évaluations, questionnaires, campagnes et bilans, pièces jointes, cahiers,
    invitations, géoréférencement, jetons) : tests/security/test_attack_roles_*.py (table rôle ×
    requête) et tests/security/test_attack_probes.py (identifiants d'un autre contrat ou partenaire,
    champs cachés forgés ; un test échoue si une nouvelle URL n'est ni sondée ni écartée avec sa
    raison) ;
  - chaque opération d'écriture de l'API et ses lectures par identifiant :
    tests/security/test_attack_api.py (un test échoue si une nouvelle opération n'a pas ses sondes) ;
- CSRF : ici, chaque URL de cdv/www/urls/ appelée en POST sans jeton par une personne connectée
  (pilote) est refusée (403) ;
- XSS stocké : ici, sur les pages publiques ; dans les PDF, DOCX, XLSX et CSV (et injection de
  formules) : tests/security/test_attack_exports.py ; CSV du journal : tests/core/test_audit.py ;
- téléversements (type menteur, bombe ZIP, noms « ../ », fichier vide ou trop gros) sur chaque point
  de dépôt (cahier XLSX, pièces jointes des bilans, géoréférencement, administration) :
  tests/security/test_attack_uploads.py ;
- schemathesis sur l'API : tests/api/test_api_schemathesis.py.
"""

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse

from cdv.commitments.enums import CommitmentScope
from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from cdv.users.enums import Role
from cdv.www import urls as www_urls
from tests import factories

pytestmark = pytest.mark.django_db
PAYLOADS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']
SAMPLE_KWARGS = {
    "slug": "nantes-metropole-2024-2030",
    "pk": 1,
    "partner_slug": "x",
    "enjeu_slug": "x",
    "code": "x",
    "transition": "proposer",
    "fmt": "pdf",
    "kind": "mi-parcours",
    "number": 1,
    "version": 1,
    "year": 2025,
    "attachment_pk": 1,
    "line_pk": 1,
    "payment_pk": 1,
    "resource": "x",
    "token": "x",
    "uidb64": "x",
    "enjeu_pk": 1,
    "objective_pk": 1,
    "direction": "monter",
}


def all_www_paths():
    paths = []
    for pattern in www_urls.urlpatterns:
        if isinstance(pattern, URLResolver) or not isinstance(pattern, URLPattern):
            continue
        kwargs = {name: SAMPLE_KWARGS[name] for name in pattern.pattern.converters}
        paths.append((pattern.name, reverse(f"www:{pattern.name}", kwargs=kwargs)))
    return paths


def test_every_post_without_csrf_token_is_refused(nantes):
    pilot = factories.MembershipFactory(contract=nantes, role=Role.PILOT).user
    client = Client(enforce_csrf_checks=True)
    client.force_login(pilot)
    accepted = []
    for name, path in all_www_paths():
        response = client.post(path, {"title": "x"})
        if response.status_code not in {403, 404, 405}:
            accepted.append((name, response.status_code))
    assert accepted == []


def test_stored_xss_is_escaped_on_public_pages(client, nantes):
    partner = factories.PartnerFactory(name=PAYLOADS[1])
    factories.SignatoryFactory(contract=nantes, partner=partner)
    commitment = Commitment.objects.create(
        contract=nantes,
        partner=partner,
        objective=factories.ObjectiveFactory(enjeu=nantes.enjeux.first()),
        title=PAYLOADS[0],
        summary_plain=PAYLOADS[1],
        description=PAYLOADS[0],
        scope=CommitmentScope.CONTRACT,
        status=S.CONFIRMED,
    )
    for url in (
        reverse("www:commitment", args=[nantes.slug, commitment.pk]),
        reverse("www:partner", args=[nantes.slug, partner.slug]),
        reverse("www:partners", args=[nantes.slug]),
    ):
        body = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in body, url
        assert "<img src=x onerror" not in body, url
        assert re.search(r"&lt;script&gt;|&quot;&gt;&lt;img", body), url
