"""Deux personnes modifient le même engagement : rien de ce que l'autre a enregistré ne se perd.

Les formulaires sont relus dans la page (comme le ferait un navigateur), puis renvoyés tels quels
ou avec une modification : c'est ce que fait la personne qui suit les consignes de l'écran.
"""

import html
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from cdv.commitments.enums import FundingKind
from cdv.commitments.models import Commitment
from cdv.partners.models import Partner
from cdv.territories.models import Qpv
from cdv.users.enums import Role
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


class _FormReader(HTMLParser):
    """Les valeurs qu'un navigateur enverrait pour le formulaire principal de la page."""

    def __init__(self):
        super().__init__()
        self.data, self._in_form, self._textarea, self._select = {}, False, None, None

    def _add(self, name, value):
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("method") == "post" and "class" in attrs:
            self._in_form = True
        if not self._in_form or "name" not in attrs and tag != "option":
            return
        if tag == "input":
            kind = attrs.get("type", "text")
            if kind in {"checkbox", "radio"}:
                if "checked" in attrs:
                    self._add(attrs["name"], attrs.get("value", "on"))
            elif kind != "submit":
                self._add(attrs["name"], attrs.get("value") or "")
        elif tag == "textarea":
            self._textarea = attrs["name"]
            self._add(self._textarea, "")
        elif tag == "select":
            self._select = attrs["name"]
        elif tag == "option" and self._select and "selected" in attrs:
            self._add(self._select, attrs.get("value", ""))

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self._in_form = False


def form_of(response) -> dict:
    reader = _FormReader()
    reader.feed(response.content.decode())
    data = {key: values if len(values) > 1 else values[0] for key, values in reader.data.items()}
    data.pop("csrfmiddlewaretoken", None)
    # Le navigateur retire le saut de ligne qui suit <textarea> ; Django l'ajoute à l'affichage.
    return {k: v.removeprefix("\n") if isinstance(v, str) else v for k, v in data.items()}


def text(response):
    page = html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))
    return re.sub(r"\s+", " ", page.replace("\u202f", " ").replace("\xa0", " "))


@pytest.fixture
def tremplin():
    return Partner.objects.get(name="Association Tremplin Quartiers (démonstration)")


@pytest.fixture
def referent(nantes, tremplin):
    return factories.MembershipFactory(contract=nantes, partner=tremplin, role=Role.EDITOR).user


@pytest.fixture
def pilot(nantes):
    return factories.MembershipFactory(contract=nantes, role=Role.PILOT).user


@pytest.fixture
def commitment():
    return Commitment.objects.get(title__startswith="Financer vingt permis")


def edit_url(nantes, commitment):
    return reverse("www:commitment_edit", args=[nantes.slug, commitment.pk])


def load_form(client, user, url):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return form_of(response)


def amount(commitment, year, funding=FundingKind.ORDINARY):
    means = commitment.means.filter(year=year, funding=funding).first()
    return means.amount_eur if means else Decimal(0)


def test_resaving_after_a_conflict_keeps_the_means_the_other_person_saved(
    client, nantes, commitment, referent, pilot
):
    url = edit_url(nantes, commitment)
    seen_by_referent = load_form(client, referent, url)
    seen_by_pilot = load_form(client, pilot, url)
    assert client.post(url, seen_by_pilot | {"eur_2026_DROIT_COMMUN": "9000"}).status_code == 302
    assert amount(commitment, 2026) == Decimal("9000")

    client.force_login(referent)
    conflict = client.post(url, seen_by_referent | {"title": "Financer trente permis par an"})
    assert conflict.status_code == 409
    page = text(conflict)
    assert "Conflit de modification" in page
    assert "moyens 2026 (Moyens de droit commun)" in page and "9 000" in page
    assert amount(commitment, 2026) == Decimal("9000")

    resaved = client.post(url, form_of(conflict))  # « vérifiez-les, puis enregistrez de nouveau »
    assert resaved.status_code == 302
    commitment.refresh_from_db()
    assert commitment.title == "Financer trente permis par an"
    assert amount(commitment, 2026) == Decimal("9000")


def test_conflict_screen_lists_every_field_the_other_person_changed(
    client, nantes, commitment, referent, pilot
):
    url = edit_url(nantes, commitment)
    seen_by_referent = load_form(client, referent, url)
    seen_by_pilot = load_form(client, pilot, url)
    malakoff = Qpv.objects.get(code="QN04413M")
    indicator = nantes.indicators.order_by("name").first()
    changes = {
        "scope": "QPV",
        "qpvs": [str(malakoff.pk)],
        "indicators": [str(indicator.pk)],
        "description": "Une description nouvelle",
        "deadline": "2027-06-30",
        "fte_2027_CREDITS_SPECIFIQUES": "1.5",
    }
    assert client.post(url, seen_by_pilot | changes).status_code == 302

    client.force_login(referent)
    conflict = client.post(url, seen_by_referent | {"target": "30 permis"})
    assert conflict.status_code == 409
    page = text(conflict)
    for label in ["portée", "quartiers", "indicateurs", "description", "échéance"]:
        assert f" {label} " in page, label
    assert "moyens 2027 (Crédits spécifiques de la politique de la ville)" in page
    assert "Malakoff" in page and indicator.name in page and "Une description nouvelle" in page

    assert client.post(url, form_of(conflict)).status_code == 302
    commitment.refresh_from_db()
    assert commitment.target == "30 permis" and commitment.scope == "QPV"
    assert list(commitment.qpvs.all()) == [malakoff] and list(commitment.indicators.all()) == [indicator]
    assert commitment.description == "Une description nouvelle"
    assert str(commitment.deadline) == "2027-06-30"
    assert commitment.means.get(year=2027, funding=FundingKind.SPECIFIC).fte == Decimal("1.5")


def test_a_field_both_people_changed_must_be_chosen_explicitly(client, nantes, commitment, referent, pilot):
    url = edit_url(nantes, commitment)
    seen_by_referent = load_form(client, referent, url)
    seen_by_pilot = load_form(client, pilot, url)
    assert client.post(url, seen_by_pilot | {"title": "Titre du pilote"}).status_code == 302

    client.force_login(referent)
    conflict = client.post(url, seen_by_referent | {"title": "Titre du référent"})
    page = text(conflict)
    assert "Titre du pilote" in page and "Titre du référent" in page
    assert "À choisir" in page

    unchosen = client.post(url, form_of(conflict))
    assert unchosen.status_code == 200
    assert "Choisissez la valeur à garder pour « intitulé »" in text(unchosen)
    commitment.refresh_from_db()
    assert commitment.title == "Titre du pilote"

    kept_theirs = client.post(url, form_of(conflict) | {"keep_title": "theirs"})
    assert kept_theirs.status_code == 302
    commitment.refresh_from_db()
    assert commitment.title == "Titre du pilote"


def test_choosing_ones_own_value_in_a_clash_saves_it(client, nantes, commitment, referent, pilot):
    url = edit_url(nantes, commitment)
    seen_by_referent = load_form(client, referent, url)
    seen_by_pilot = load_form(client, pilot, url)
    client.post(url, seen_by_pilot | {"eur_2026_DROIT_COMMUN": "9000"})
    client.force_login(referent)
    conflict = client.post(url, seen_by_referent | {"eur_2026_DROIT_COMMUN": "7000"})
    assert "À choisir" in text(conflict)
    assert client.post(url, form_of(conflict) | {"keep_means:2026:DROIT_COMMUN": "mine"}).status_code == 302
    assert amount(commitment, 2026) == Decimal("7000")


def test_history_on_the_commitment_page_says_how_the_means_changed(client, nantes, commitment, pilot):
    url = edit_url(nantes, commitment)
    before = amount(commitment, 2026)
    seen = load_form(client, pilot, url)
    assert client.post(url, seen | {"eur_2026_DROIT_COMMUN": "9000"}).status_code == 302
    page = text(client.get(reverse("www:commitment", args=[nantes.slug, commitment.pk])))
    history = page.split("Historique", 1)[1]
    from cdv.core.figures import french_number

    old = french_number(before).replace("\u202f", " ")
    assert f"moyens 2026 (Moyens de droit commun) : « {old}" in history
    assert "→ « " in history and "9 000 €" in history
    assert str(pilot) in history


def test_history_names_quarters_indicators_and_scope_in_words(client, nantes, commitment, pilot):
    url = edit_url(nantes, commitment)
    seen = load_form(client, pilot, url)
    malakoff = Qpv.objects.get(code="QN04413M")
    indicator = nantes.indicators.order_by("name").first()
    objective = nantes.enjeux.get(number=2).objectives.first()
    changes = {
        "scope": "QPV",
        "qpvs": [str(malakoff.pk)],
        "indicators": [str(indicator.pk)],
        "objective": str(objective.pk),
        "action": "",
    }
    assert client.post(url, seen | changes).status_code == 302
    page = text(client.get(reverse("www:commitment", args=[nantes.slug, commitment.pk])))
    history = page.split("Historique", 1)[1]
    assert "quartiers concernés : « — » → « Malakoff" in history
    assert f"indicateurs de suivi : « — » → « {indicator.name} »" in history
    assert "portée : « Échelle métropolitaine » → « Quartiers choisis »" in history
    assert f"→ « {objective} »" in history
    assert "{'" not in history


def test_api_conflict_lists_the_means_the_other_person_changed_and_loses_nothing(
    client, nantes, commitment, referent, pilot
):
    from cdv.users.services import create_api_token

    def bearer(user):
        _, key = create_api_token(user=user, name="test")
        return {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    url = f"/api/v1/contracts/{nantes.slug}/commitments/{commitment.pk}"
    seen = commitment.version
    means = [
        {"year": 2025, "fte": "0.2", "amount_eur": "25000", "funding": "CREDITS_SPECIFIQUES"},
        {"year": 2026, "fte": "0", "amount_eur": "9000", "funding": "DROIT_COMMUN"},
    ]
    first = client.patch(
        url, {"version": seen, "means": means}, content_type="application/json", **bearer(pilot)
    )
    assert first.status_code == 200, first.content
    stale = client.patch(
        url, {"version": seen, "title": "Trente permis"}, content_type="application/json", **bearer(referent)
    )
    assert stale.status_code == 409
    changes = [[str(v).replace("\u202f", " ") for v in change] for change in stale.json()["changes"]]
    assert ["moyens 2026 (Moyens de droit commun)", "0 ETP, 0 €", "0 ETP, 9 000 €"] in changes
    assert amount(commitment, 2026) == Decimal("9000")
    again = client.patch(
        url,
        {"version": first.json()["version"], "title": "Trente permis"},
        content_type="application/json",
        **bearer(referent),
    )
    assert again.status_code == 200
    assert amount(commitment, 2026) == Decimal("9000")


def test_a_forged_list_of_fields_to_choose_changes_nothing_and_breaks_nothing(
    client, nantes, commitment, referent
):
    url = edit_url(nantes, commitment)
    seen = load_form(client, referent, url)
    forged = seen | {
        "clashes": "means:x,means:2026:NOPE,version,title",
        "keep_means:x": "theirs",
        "keep_version": "theirs",
    }
    response = client.post(url, forged | {"keep_title": "theirs", "target": "22 permis"})
    assert response.status_code == 302
    commitment.refresh_from_db()
    assert commitment.target == "22 permis"
