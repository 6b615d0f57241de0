"""Tests qui attaquent. Couverture (ce fichier et les tests existants qu'il ne duplique pas) :

- sondes inter-partenaires et inter-contrats de chaque écriture d'engagement, pages et API :
  tests/test_permission_matrix.py (rôle × action × son partenaire / un autre / un autre contrat) ;
- CSRF : ici, chaque URL de cdv/www/urls.py appelée en POST sans jeton par une personne connectée
  (pilote) est refusée (403) ;
- XSS stocké : ici, charges dans l'intitulé, le résumé et la description d'un engagement et dans
  le nom d'un partenaire, rendues échappées sur les pages publiques ;
- injection de formules dans les exports XLSX/CSV : tests/test_commitments_xlsx.py (safe_text),
  tests/test_audit.py (CSV du journal) ;
- téléversements (type menteur, taille) : tests/test_commitments_xlsx.py, tests/test_review_cycle.py ;
- schemathesis sur l'API : tests/test_api_schemathesis.py.

Non couvert ici faute de temps (à compléter) : sondes d'identifiants devinés sur chaque vue
d'écriture hors engagements (retours, instances, décisions, évaluations, bilans), bombes zip et
noms de fichiers « ../ » pour chaque téléversement, XSS dans les PDF.
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
    "resource": "x",
    "token": "x",
    "uidb64": "x",
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
