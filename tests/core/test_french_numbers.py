"""Nombres à la française : ce qu'on saisit (« 0,5 », « 11 500 € ») est lu sans surprise quelle
que soit la langue du navigateur, ou refusé clairement ; ce qui s'affiche s'écrit à la française."""

import datetime
import html
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from cdv.commitments.enums import CommitmentStatus as S
from cdv.commitments.models import Commitment
from cdv.core.figures import french_number
from cdv.core.numbers import FrenchDecimalField, NumberFormatError, parse_french_decimal
from cdv.monitoring import services as monitoring
from cdv.partners.models import Partner
from cdv.users.enums import Role
from tests import factories

pytestmark = pytest.mark.demo

NNBSP, NBSP = "\u202f", "\u00a0"


def text(response):
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


# --- Lecture d'une saisie ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "unit", "expected"),
    [
        ("0,5", "", "0.5"),
        ("0.5", "", "0.5"),
        (",5", "", "0.5"),
        ("11 500", "€", "11500"),
        ("11500", "€", "11500"),
        ("11 500,50 €", "€", "11500.50"),
        (f"11{NNBSP}500,50{NBSP}€", "€", "11500.50"),
        (f"11{NBSP}500,50 €", "€", "11500.50"),
        ("11 500 euros", "€", "11500"),
        ("1 234,5 %", "%", "1234.5"),
        ("12 345 678", "", "12345678"),
        ("0.500", "", "0.500"),  # un zéro devant le point : pas de milliers possibles
        ("−3,5", "", "-3.5"),
        ("-1.5256", "", "-1.5256"),
        ("  7  ", "", "7"),
        ("", "", None),
    ],
)
def test_french_and_plain_writings_mean_the_same_number(typed, unit, expected):
    result = parse_french_decimal(typed, unit=unit)
    assert result == (None if expected is None else Decimal(expected))


@pytest.mark.parametrize(
    ("typed", "unit", "explains"),
    [
        ("1.234,5", "", "mêle point et virgule"),
        ("1,234.5", "", "mêle point et virgule"),
        ("0,5,3", "", "une seule virgule"),
        ("1.2.3", "", "une seule virgule"),
        ("1.500", "", "est ambigu"),  # 1,5 ou 1 500 ? on ne devine pas
        ("12.345", "€", "est ambigu"),
        ("1 50", "", "groupes de trois chiffres"),
        ("12,", "", "des chiffres après la virgule"),
        ("5 %", "€", "suivi au plus de « € »"),
        ("abc", "", "n'est pas un nombre"),
        ("1e5", "", "n'est pas un nombre"),
        ("\u0663", "", "n'est pas un nombre"),  # chiffre arabe-indien : pas de conversion silencieuse
    ],
)
def test_malformed_or_ambiguous_numbers_are_refused_with_a_french_explanation(typed, unit, explains):
    with pytest.raises(NumberFormatError, match=re.escape(explains)):
        parse_french_decimal(typed, unit=unit)


def test_a_coordinate_field_reads_the_point_as_decimal_even_with_three_decimals():
    assert parse_french_decimal("47.206", thousands=False) == Decimal("47.206")
    assert parse_french_decimal("47,206", thousands=False) == Decimal("47.206")


def field(**kwargs):
    return FrenchDecimalField(label="ETP 2025 (droit commun)", required=False, **kwargs)


def test_the_field_names_itself_and_respects_digits_and_places_in_french():
    fte = field(min_value=0, max_digits=7, decimal_places=2)
    assert fte.clean("0,5") == Decimal("0.5")
    for typed, message in [
        ("0,125", "ETP 2025 (droit commun) : 2 chiffres après la virgule au plus."),
        ("11,500", "ETP 2025 (droit commun) : 2 chiffres après la virgule au plus."),
        ("123 456", f"ETP 2025 (droit commun) : nombre trop grand (99{NNBSP}999 au plus)."),
        ("-1", "ETP 2025 (droit commun) : le nombre ne peut pas être négatif."),
        ("1.234,5", "ETP 2025 (droit commun) : « 1.234,5 » mêle point et virgule"),
    ]:
        with pytest.raises(Exception) as caught:
            fte.clean(typed)
        assert caught.value.messages[0].startswith(message), caught.value.messages


def test_the_field_renders_a_text_input_the_browser_does_not_parse_and_shows_french_values():
    html_input = field(decimal_places=2, max_digits=7).widget.render("fte", Decimal("0.50"))
    assert 'type="text"' in html_input and 'inputmode="decimal"' in html_input
    assert 'value="0,5"' in html_input and 'type="number"' not in html_input
    big = field(decimal_places=2, max_digits=14).widget.render("eur", Decimal("12000.00"))
    assert f'value="12{NNBSP}000"' in big
    # Saisie renvoyée (erreur ailleurs dans le formulaire) : réécrite à la française si lisible.
    assert 'value="0,5"' in field().widget.render("fte", "0.5")
    assert 'value="1.234,5"' in field().widget.render("fte", "1.234,5")


def test_a_field_without_thousands_shows_its_value_ungrouped_and_reads_it_back():
    """Une année (ou une coordonnée) ne s'écrit pas « 2 025 » : la valeur proposée dans le champ se
    renvoie telle quelle sans erreur (le pilote qui garde l'année proposée ouvre sa campagne)."""
    from cdv.core.numbers import FrenchIntegerField

    year = FrenchIntegerField(label="Année suivie", thousands=False, min_value=1990, max_value=2100)
    shown = year.widget.render("year", 2025)
    assert 'value="2025"' in shown, shown
    assert year.clean(re.search(r'value="([^"]*)"', shown).group(1)) == 2025
    lon = FrenchDecimalField(label="Longitude", thousands=False, required=False)
    assert 'value="-1234,5"' in lon.widget.render("lon", Decimal("-1234.5"))
    # Les autres champs gardent les milliers séparés.
    assert f'value="12{NNBSP}000"' in field(max_digits=14, decimal_places=2).widget.render("eur", 12000)


# --- Affichage ---------------------------------------------------------------------------------


def test_french_number_rounds_sensibly_and_puts_a_no_break_space_before_the_unit():
    assert french_number(Decimal("1.98"), "%") == f"1,98{NBSP}%"
    assert french_number(Decimal("28.695")) == "28,7"  # écart non arrondi : 2 décimales au plus
    assert french_number(Decimal("91.1")) == "91,1"
    assert french_number(Decimal("11500.5"), "€") == f"11{NNBSP}500,50{NBSP}€"
    assert french_number(Decimal("12000.00"), "€") == f"12{NNBSP}000{NBSP}€"
    assert french_number(Decimal("0.00412")) == "0,00412"  # petit nombre : pas arrondi à 0
    assert french_number(Decimal("-0.001"), places=1) == "0"
    assert french_number(-1.5256, places=6) == "-1,5256"


# --- À travers les vrais formulaires -----------------------------------------------------------


@pytest.fixture
def tremplin():
    return Partner.objects.get(name="Association Tremplin Quartiers (démonstration)")


@pytest.fixture
def referent(nantes, tremplin):
    return factories.MembershipFactory(contract=nantes, partner=tremplin, role=Role.EDITOR).user


def commitment_data(objective, **means):
    return {
        "objective": objective.pk,
        "title": "Ateliers CV au centre social",
        "summary_plain": "Des ateliers pour écrire son CV, chaque semaine.",
        "scope": "CONTRAT",
        "deadline": "2026-12-31",
        **means,
    }


@pytest.mark.django_db
def test_a_commitment_saved_with_french_numbers_keeps_them_exactly(client, nantes, tremplin, referent):
    objective = nantes.enjeux.get(number=1).objectives.first()
    client.force_login(referent)
    url = reverse("www:commitment_create", args=[nantes.slug, tremplin.slug])
    form_page = client.get(url).content.decode()
    assert 'name="fte_2025_DROIT_COMMUN"' in form_page and 'type="number"' not in form_page
    data = commitment_data(
        objective,
        fte_2025_DROIT_COMMUN="0,5",
        eur_2025_DROIT_COMMUN=f"11{NNBSP}500,50{NBSP}€",
        fte_2026_CREDITS_SPECIFIQUES="1.25",
        eur_2026_CREDITS_SPECIFIQUES="3 000",
    )
    response = client.post(url, data)
    assert response.status_code == 302, text(response)
    commitment = Commitment.objects.get(title="Ateliers CV au centre social")
    means = {(m.year, m.funding): (m.fte, m.amount_eur) for m in commitment.means.all()}
    assert means[(2025, "DROIT_COMMUN")] == (Decimal("0.5"), Decimal("11500.50"))
    assert means[(2026, "CREDITS_SPECIFIQUES")] == (Decimal("1.25"), Decimal("3000"))
    # Réaffichés dans le formulaire de modification : à la française, les euros avec leurs centimes.
    edit = client.get(reverse("www:commitment_edit", args=[nantes.slug, commitment.pk])).content.decode()
    assert 'value="0,5"' in edit and f'value="11{NNBSP}500,50"' in edit and 'value="1,25"' in edit


@pytest.mark.django_db
def test_an_ambiguous_amount_is_refused_naming_the_field_and_nothing_is_saved(
    client, nantes, tremplin, referent
):
    objective = nantes.enjeux.get(number=1).objectives.first()
    client.force_login(referent)
    url = reverse("www:commitment_create", args=[nantes.slug, tremplin.slug])
    before = Commitment.objects.count()
    data = commitment_data(objective, fte_2025_DROIT_COMMUN="0,5", eur_2025_DROIT_COMMUN="1.234,5")
    response = client.post(url, data)
    page = text(response)
    assert response.status_code == 200
    assert "Euros 2025 (Moyens de droit commun) : « 1.234,5 » mêle point et virgule" in page
    assert 'value="0,5"' in response.content.decode()  # le reste de la saisie est gardé
    assert Commitment.objects.count() == before


@pytest.fixture
def report(nantes, without_demo_reviews):
    pilot = factories.MembershipFactory(contract=nantes, role=Role.PILOT).user
    Commitment.objects.filter(title__startswith="Ouvrir l'aide aux devoirs").update(status=S.CONFIRMED)
    campaign = monitoring.open_campaign(
        user=pilot,
        contract=nantes,
        year=2025,
        deadline=datetime.date(2026, 2, 28),
        opens_on=datetime.date(2026, 1, 5),
    )
    return campaign.reports.get(commitment__title__startswith="Équiper 200 logements")


@pytest.mark.django_db
def test_the_yearly_report_accepts_french_amounts_rates_and_indicator_values(client, nantes, report):
    editor = factories.MembershipFactory(contract=nantes, partner=report.commitment.partner, role=Role.EDITOR)
    client.force_login(editor.user)
    url = reverse("www:review_report", args=[nantes.slug, 2025, report.pk])
    page = client.get(url).content.decode()
    assert 'name="amount_actual"' in page and 'type="number"' not in page
    response = client.post(
        url,
        {
            "action": "save",
            "version": report.version,
            "progress_pct": "60 %",
            "fte_actual": "0,5",
            "amount_actual": "11 500 €",
            "indval_0": "1 200,5",
        },
    )
    assert response.status_code == 302, text(response)
    report.refresh_from_db()
    assert (report.progress_pct, report.fte_actual, report.amount_actual) == (
        60,
        Decimal("0.5"),
        Decimal("11500"),
    )
    from cdv.indicators.models import IndicatorValue

    value = IndicatorValue.objects.get(
        indicator__code="logements-equipes-thermostat", territory__code="QN04408M", year=2025
    )
    assert value.value == Decimal("1200.5")
    page = client.get(url).content.decode()
    # Brouillon : le formulaire réaffiche la saisie à la française.
    assert f'value="11{NNBSP}500"' in page and 'value="60"' in page and 'value="0,5"' in page


@pytest.mark.django_db
def test_the_yearly_report_refuses_a_rate_above_100_in_french(client, nantes, report):
    editor = factories.MembershipFactory(contract=nantes, partner=report.commitment.partner, role=Role.EDITOR)
    client.force_login(editor.user)
    url = reverse("www:review_report", args=[nantes.slug, 2025, report.pk])
    response = client.post(url, {"action": "save", "version": report.version, "progress_pct": "120 %"})
    assert response.status_code == 200
    assert "Avancement (%) : 100 au plus." in text(response)
    report.refresh_from_db()
    assert report.progress_pct is None


# --- Ce que les pages publiques affichent ------------------------------------------------------

SKIPPED_TAGS = {"script", "style", "svg", "code", "pre", "title"}


class _VisibleText(HTMLParser):
    """Le texte lu par une personne : ni attributs, ni scripts, ni coordonnées SVG, ni code."""

    def __init__(self):
        super().__init__()
        self.depth, self.parts = 0, []

    def handle_starttag(self, tag, attrs):
        self.depth += tag in SKIPPED_TAGS

    def handle_endtag(self, tag):
        self.depth -= tag in SKIPPED_TAGS

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


def visible_text(content: str, codes) -> str:
    parser = _VisibleText()
    parser.feed(content)
    text = " ".join(parser.parts)
    text = re.sub(r"https?://\S+", " ", text)
    # Un numéro de version de logiciel (« 6.0.0 ») cité dans une source n'est pas un nombre.
    text = re.sub(r"(?<![\d.,])\d+\.\d+\.\d+(?![.,]?\d)", "VERSION", text)
    # Les numéros d'objectif et d'action (« 1.2 », « 1.2.3 ») sont des références, pas des nombres.
    for code in sorted(codes, key=len, reverse=True):
        text = re.sub(rf"(?<![\d.,]){re.escape(code)}(?![\d.,])", "REF", text)
    return text


def badly_written_numbers(text: str) -> list[str]:
    problems = [m.group(0) for m in re.finditer(r".{0,30}\d\.\d.{0,10}", text)]
    problems += [
        m.group(0)
        for m in re.finditer(r".{0,30}\d(?:[ \u202f\t\n]*)[%€]", text)
        if "\u00a0" not in m.group(0)[-2:]
    ]
    return problems


@pytest.mark.django_db
def test_public_pages_and_the_annual_report_write_numbers_in_french(client, nantes, monkeypatch):
    from cdv.commitments import documents
    from cdv.monitoring import yearly
    from cdv.plan.models import Action, Objective

    codes = {o.code for o in Objective.objects.select_related("enjeu")}
    codes |= {a.code for a in Action.objects.select_related("objective__enjeu")}
    qpv = nantes.qpvs.order_by("code").first()
    partner = Partner.objects.get(name="Bailleur Habitat Solidaire (démonstration)")
    urls = [
        reverse("www:home"),
        reverse("www:contract", args=[nantes.slug]),
        reverse("www:qpv", args=[nantes.slug, qpv.code]),
        reverse("www:indicators", args=[nantes.slug]),
        reverse("www:indicator", args=[nantes.slug, "taux-emploi-demo"]),
        reverse("www:indicator", args=[nantes.slug, "taux-chomage-localise"]),
        reverse("www:partner", args=[nantes.slug, partner.slug]),
    ]
    pages = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        pages[url] = response.content.decode()
    monkeypatch.setattr(documents, "html_to_pdf", lambda html, css_path=None: html)
    pages["bilan annuel 2025"] = yearly.build_annual_report_pdf(contract=nantes, year=2025)
    percentages = 0
    for where, content in pages.items():
        text = visible_text(content, codes)
        assert not badly_written_numbers(text), (where, badly_written_numbers(text))
        percentages += len(re.findall(r"\d\u00a0%", text))
    assert percentages > 20  # les pages montrent bien des taux, écrits « 44 % »


@pytest.mark.django_db
def test_the_back_office_types_amounts_the_french_way_too(client, admin_user):
    from cdv.commitments.models import CommitmentMeans

    means = CommitmentMeans.objects.select_related("commitment").first()
    client.force_login(admin_user)
    url = reverse("admin:commitments_commitmentmeans_change", args=[means.pk])
    page = client.get(url).content.decode()
    fte_input = re.search(r'<input[^>]*name="fte"[^>]*>', page).group(0)
    assert 'type="text"' in fte_input and 'inputmode="decimal"' in fte_input
    assert "1.00 ETP" not in page and "ETP" in page  # le titre de la fiche aussi, à la française
