"""Cahier d'engagements en PDF : ce qu'un lecteur y trouve (texte extrait avec pypdf)."""

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cdv.commitments import services
from cdv.commitments.documents import (
    DOCUMENTS_DIR,
    NOT_CONFIRMED,
    PartnerNotInContract,
    _local_only_fetcher,
    build_cahier_pdf,
    format_date,
    render_cahier_html,
)
from cdv.commitments.enums import CommitmentScope, CommitmentStatus, FundingKind
from cdv.commitments.models import Commitment, CommitmentMeans
from cdv.contracts.enums import SignatoryKind
from cdv.contracts.models import Signatory
from cdv.partners.enums import PartnerKind
from cdv.partners.models import Partner
from cdv.territories.models import Qpv
from cdv.users.enums import Role
from tests import factories
from tests.document_checks import assert_pdf_ua_metadata, pdf_page_texts
from tests.worlds import built_once, fresh_copy

pytestmark = [pytest.mark.django_db, pytest.mark.demo]

DEMO_SLUG = "association-tremplin-quartiers-demonstration"


def pdf_pages(pdf: bytes) -> list[str]:
    """Texte de chaque page, espaces insécables ramenés à des espaces ordinaires."""
    assert pdf.startswith(b"%PDF")
    return [re.sub(r"[\u00a0\u202f]", " ", page) for page in pdf_page_texts(pdf)]


def flat(text: str) -> str:
    """Texte sur une ligne : les passages à la ligne de la mise en page ne comptent pas."""
    return re.sub(r"\s+", " ", text)


def pdf_text(pdf: bytes) -> str:
    return flat(" ".join(pdf_pages(pdf)))


def objective(contract, enjeu_number, number=1):
    return contract.enjeux.get(number=enjeu_number).objectives.get(number=number)


def add_commitment(contract, partner, obj, title, *, qpvs=(), means=(), **fields):
    values = {
        "scope": CommitmentScope.QPV if qpvs else CommitmentScope.METROPOLITAN,
        "status": CommitmentStatus.PROPOSED,
        "summary_plain": f"Résumé clair de « {title} ».",
    }
    values.update(fields)
    commitment = Commitment.objects.create(
        contract=contract, partner=partner, objective=obj, title=title, **values
    )
    commitment.qpvs.set(qpvs)
    for year, funding, fte, amount in means:
        CommitmentMeans.objects.create(
            commitment=commitment, year=year, funding=funding, fte=Decimal(fte), amount_eur=Decimal(amount)
        )
    return commitment


def add_partner(contract):
    partner = factories.PartnerFactory(
        name="Régie de quartier des Dervallières",
        kind=PartnerKind.ASSOCIATION,
        siren=factories.siren_for(4242),
    )
    Signatory.objects.create(contract=contract, partner=partner, kind=SignatoryKind.PARTICIPANT)
    return partner


def add_commitments(contract, partner, qpvs):
    """Trois engagements sur deux enjeux, créés dans le désordre (enjeu 3, puis 1)."""
    later = add_commitment(
        contract,
        partner,
        objective(contract, 3, 2),
        "Assurer une présence de médiateurs le soir",
        scope=CommitmentScope.CONTRACT,
        target="Deux médiateurs cinq soirs par semaine",
        means=[(2026, FundingKind.SPECIFIC, "2", "40000")],
    )
    first = add_commitment(
        contract,
        partner,
        objective(contract, 1, 1),
        "Recruter douze habitants en insertion",
        qpvs=[qpvs["QN04413M"], qpvs["QN04405M"]],
        target="12 contrats d'insertion par an",
        deadline=datetime.date(2027, 6, 30),
        means=[
            (2025, FundingKind.ORDINARY, "1.5", "12000"),
            (2025, FundingKind.SPECIFIC, "0.25", "3500.50"),
            (2026, FundingKind.ORDINARY, "1", "10000"),
        ],
    )
    second = add_commitment(
        contract,
        partner,
        objective(contract, 1, 2),
        "Ouvrir un atelier de réparation de vélos",
        qpvs=[qpvs["QN04406M"]],
    )
    return [first, second, later]


def three_qpvs():
    return {q.code: q for q in Qpv.objects.filter(code__in=["QN04413M", "QN04405M", "QN04406M"])}


@pytest.fixture(scope="module", autouse=True)
def stopped_clock():
    """L'heure du début du fichier, pour tout le fichier. La couverture porte l'heure de génération à
    la minute : un test qui passait la minute redemandait un cahier au HTML différent, recomposé et
    relu (jusqu'à 2 s pour la compilation) au lieu d'être repris du cache ; la date du jour, elle,
    ne change plus en cours de fichier (un lancement à minuit)."""
    from unittest import mock

    now = timezone.now()
    with mock.patch.object(timezone, "now", lambda: now):
        yield


@pytest.fixture(scope="module")
def built_world(demo_data, django_db_blocker):
    """Bâti une fois pour le fichier (tests/worlds.py) : la régie, signataire du contrat, et ses trois
    engagements ; chaque test annule ce qu'il écrit. Les mêmes engagements donnent le même HTML d'un
    test à l'autre : un cahier déjà composé (cache de ``html_to_pdf``) et déjà lu (``pdf_page_texts``)
    par un test n'est ni recomposé ni relu par le suivant."""
    from cdv.contracts.models import Contract

    with built_once(django_db_blocker):
        nantes = Contract.objects.get(slug="nantes-metropole-2024-2030")
        partner = add_partner(nantes)
        yield {"partner": partner, "commitments": add_commitments(nantes, partner, three_qpvs())}


@pytest.fixture
def world(built_world):
    return fresh_copy(built_world)


@pytest.fixture
def partner(world):
    return world["partner"]


@pytest.fixture
def pilot(nantes):
    return factories.MembershipFactory(contract=nantes, role=Role.PILOT).user


@pytest.fixture
def qpvs():
    return three_qpvs()


@pytest.fixture
def commitments(world):
    return world["commitments"]


def test_partner_cahier_gives_cover_partner_plan_and_commitments(nantes, partner, commitments, qpvs):
    pdf = build_cahier_pdf(contract=nantes, partner=partner)
    assert_pdf_ua_metadata(pdf, title=f"Cahier d'engagements — {partner} — {nantes.title}")
    pages = pdf_pages(pdf)
    text = flat(" ".join(pages))

    cover = flat(pages[0])
    assert "Cahier d'engagements" in cover
    assert "Contrat de ville de Nantes Métropole 2024-2030" in cover
    assert "Période du contrat : 2024-2030" in cover
    assert "Régie de quartier des Dervallières" in cover
    assert f"Document généré le {format_date(timezone.now())}" in cover

    assert "Type de partenaire : Association" in text
    assert f"SIREN : {partner.siren}" in text
    assert "Place dans le contrat : Participe au pilotage (non signataire)" in text
    assert NOT_CONFIRMED in text

    enjeux = {e.number: e.title for e in nantes.enjeux.all()}
    headings = [f"Enjeu 1 — {enjeux[1]}", f"Enjeu 3 — {enjeux[3]}"]
    positions = [text.index(h) for h in headings]
    assert positions == sorted(positions)
    assert f"Enjeu 2 — {enjeux[2]}" not in text  # aucun engagement sur l'enjeu 2
    objectives = [
        f"Objectif 1.1 — {objective(nantes, 1, 1).title}",
        f"Objectif 1.2 — {objective(nantes, 1, 2).title}",
        f"Objectif 3.2 — {objective(nantes, 3, 2).title}",
    ]
    positions = [text.index(o) for o in objectives]
    assert positions == sorted(positions)
    titles = [c.title for c in commitments]
    positions = [text.index(t) for t in titles]
    assert positions == sorted(positions)
    assert positions[0] > text.index(objectives[0]) and positions[2] > text.index(objectives[2])

    assert "Résumé clair de « Recruter douze habitants en insertion »." in text
    recruit = text[text.index("Recruter douze habitants en insertion Résumé") : text.index("Objectif 1.2")]
    assert "Résumé clair de « Recruter douze habitants en insertion »." in recruit
    assert "État : Proposé par le partenaire · Échéance : 30 juin 2027" in recruit
    # quartiers par ordre alphabétique
    assert (
        f"Portée : Quartiers choisis · Quartiers : {qpvs['QN04405M'].name}, {qpvs['QN04413M'].name}"
        in recruit
    )
    assert "Cible : 12 contrats d'insertion par an" in recruit
    # moyens par année : droit commun, crédits spécifiques (ETP · euros), puis le total
    assert "Année Droit commun Crédits spécifiques" in recruit
    assert "2025 1,50 ETP · 12 000 € 0,25 ETP · 3 500,50 €" in recruit
    assert "2026 1,00 ETP · 10 000 € —" in recruit
    assert "Total 2,50 ETP · 22 000 € 0,25 ETP · 3 500,50 €" in recruit

    assert f"Quartiers : {qpvs['QN04406M'].name} Cible : non précisée Aucun moyen chiffré." in text
    assert "Échéance : non précisée" in text
    assert "Portée : Tout le contrat · Quartiers : tous les quartiers du contrat" in text
    assert "2026 — 2,00 ETP · 40 000 € Total — 2,00 ETP · 40 000 €" in text

    # récapitulatif du partenaire : les trois engagements additionnés, avec une colonne total
    summary = text[text.index("Moyens engagés par le partenaire, par année") : text.index("Enjeu 1 —")]
    assert "Année Droit commun Crédits spécifiques Total" in summary
    assert "2025 1,50 ETP · 12 000 € 0,25 ETP · 3 500,50 € 1,75 ETP · 15 500,50 €" in summary
    assert "2026 1,00 ETP · 10 000 € 2,00 ETP · 40 000 € 3,00 ETP · 50 000 €" in summary
    assert "Total 2,50 ETP · 22 000 € 2,25 ETP · 43 500,50 € 4,75 ETP · 65 500,50 €" in summary

    total = len(pages)
    assert total >= 2
    for number, page in enumerate(pages, start=1):
        assert f"page {number} sur {total}" in page
        assert "Cahier d'engagements — Régie de quartier des Dervallières" in page
    assert "Données de démonstration" not in text


def test_signatory_appears_once_the_cahier_is_confirmed(nantes, partner, commitments, pilot):
    before = pdf_text(build_cahier_pdf(contract=nantes, partner=partner))
    assert NOT_CONFIRMED in before
    assert "Jeanne Dupont" not in before

    for commitment in commitments:
        services.validate(user=pilot, commitment=commitment)
    confirmed = services.confirm_cahier(
        confirmed=True,
        user=pilot,
        contract=nantes,
        partner=partner,
        signatory_name="Jeanne Dupont",
        signatory_role="Présidente de la régie",
    )
    day = format_date(confirmed[0].confirmed_at)

    pages = [flat(page) for page in pdf_pages(build_cahier_pdf(contract=nantes, partner=partner))]
    text = " ".join(pages)
    assert NOT_CONFIRMED not in text
    assert f"Cahier confirmé le {day} par Jeanne Dupont, Présidente de la régie (3 engagements)." in text
    assert f"Confirmé le {day} par Jeanne Dupont, Présidente de la régie" in pages[0]  # couverture
    assert text.count("État : Confirmé (cahier d'engagements signé)") == 3


def test_a_later_commitment_awaiting_confirmation_is_flagged(nantes, partner, commitments, pilot):
    for commitment in commitments[:2]:
        services.validate(user=pilot, commitment=commitment)
    services.confirm_cahier(
        confirmed=True,
        user=pilot,
        contract=nantes,
        partner=partner,
        signatory_name="Jeanne Dupont",
        signatory_role="Présidente",
    )
    text = pdf_text(build_cahier_pdf(contract=nantes, partner=partner))
    assert "par Jeanne Dupont, Présidente (2 engagements)." in text
    assert "1 engagement ne fait pas encore partie du cahier signé" in text


def test_compilation_lists_every_engaged_partner(nantes, partner, commitments):
    pdf = build_cahier_pdf(contract=nantes)
    assert_pdf_ua_metadata(pdf, title=f"Cahiers d'engagements — compilation — {nantes.title}")
    pages = [flat(page) for page in pdf_pages(pdf)]
    text = " ".join(pages)
    assert "Cahiers d'engagements" in pages[0]
    assert "Compilation : tous les partenaires engagés" in pages[0]
    engaged = list(
        Partner.objects.filter(commitments__contract=nantes)
        .distinct()
        .order_by("name")
        .values_list("name", flat=True)
    )
    assert len(engaged) >= 4  # trois partenaires de démonstration et la régie
    assert f"{len(engaged)} partenaires" in pages[0]
    headings = [text.index(f"{name} Type de partenaire :") for name in engaged]
    assert headings == sorted(headings)
    for commitment in Commitment.objects.filter(contract=nantes):
        assert commitment.title in text
    # chaque partenaire ouvre une page, et son nom court dans le pied de page
    for name in engaged:
        assert any(page.startswith(f"{name} Type de partenaire :") for page in pages)
        assert f"Cahier d'engagements — {name} page" in text
    assert "Données de démonstration" in pages[0]
    assert f"page {len(pages)} sur {len(pages)}" in pages[-1]


def test_demo_data_is_marked_on_every_page(nantes):
    demo_partner = Partner.objects.get(slug=DEMO_SLUG)
    pages = [flat(page) for page in pdf_pages(build_cahier_pdf(contract=nantes, partner=demo_partner))]
    assert all("Données de démonstration" in page for page in pages)
    assert "Animer deux forums emploi par an à Bellevue et au Sillon de Bretagne" in " ".join(pages)


def test_user_text_is_rendered_as_text_never_as_markup(nantes, qpvs):
    hostile = factories.PartnerFactory(name='Asso <i>&</i> "Cie"', slug="asso-cie")
    payload = "<script>alert(1)</script><b>gras</b>"
    add_commitment(
        nantes,
        hostile,
        objective(nantes, 2),
        payload,
        summary_plain='<img src="https://example.invalid/pixel.png">',
        target="<u>cible</u>",
        description="Ligne 1 <em>x</em>\nLigne 2",
    )
    html = render_cahier_html(contract=nantes, partner=hostile)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;gras&lt;/b&gt;" in html
    assert "<script" not in html and "<img" not in html and "<u>" not in html and "<em>x" not in html
    assert "Asso &lt;i&gt;&amp;&lt;/i&gt; &quot;Cie&quot;" in html

    text = pdf_text(build_cahier_pdf(contract=nantes, partner=hostile))
    assert payload in text
    assert '<img src="https://example.invalid/pixel.png">' in text
    assert "Cible : <u>cible</u>" in text
    assert 'Asso <i>&</i> "Cie"' in text


def test_the_renderer_fetches_nothing_outside_the_documents_folder():
    fetcher = _local_only_fetcher()
    for url in ["https://example.org/style.css", "http://127.0.0.1/x.png", "file:///etc/passwd"]:
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    response = fetcher.fetch((DOCUMENTS_DIR / "cahier.css").as_uri())
    assert b"@page" in response.read()
    response.close()


def test_queries_do_not_grow_with_the_number_of_commitments(nantes, partner, qpvs):
    small = factories.PartnerFactory()
    Signatory.objects.create(contract=nantes, partner=small)
    means = [(2025, FundingKind.ORDINARY, "1", "1000"), (2026, FundingKind.SPECIFIC, "0.5", "500")]
    add_commitment(
        nantes, small, objective(nantes, 1), "Seul engagement", qpvs=[qpvs["QN04405M"]], means=means
    )
    for n in range(12):
        add_commitment(
            nantes,
            partner,
            objective(nantes, n % 4 + 1, n % 2 + 1),
            f"Engagement {n}",
            qpvs=list(qpvs.values())[: n % 3 + 1],
            means=means,
            action=None,
        )

    def count(**kwargs):
        with CaptureQueriesContext(connection) as queries:
            render_cahier_html(contract=nantes, **kwargs)
        return len(queries)

    assert count(partner=partner) == count(partner=small) <= 5
    assert count(partner=None) <= 5


def test_a_partner_foreign_to_the_contract_is_refused(nantes):
    stranger = factories.PartnerFactory()
    with pytest.raises(PartnerNotInContract, match="n'a pas de place"):
        build_cahier_pdf(contract=nantes, partner=stranger)
    # un signataire sans engagement a un cahier, vide
    Signatory.objects.create(contract=nantes, partner=stranger)
    text = pdf_text(build_cahier_pdf(contract=nantes, partner=stranger))
    assert "Aucun engagement n'est enregistré pour ce partenaire." in text
    assert NOT_CONFIRMED in text


# --- Commande build_cahier ---------------------------------------------------------------------


def test_command_writes_a_pdf_for_a_partner_by_id_or_slug_and_for_the_contract(
    nantes, partner, commitments, tmp_path
):
    by_id = tmp_path / "regie.pdf"
    call_command("build_cahier", "--contract", nantes.slug, "--partner", str(partner.pk), "-o", str(by_id))
    assert by_id.read_bytes().startswith(b"%PDF")
    assert "Recruter douze habitants en insertion" in pdf_text(by_id.read_bytes())

    by_slug = tmp_path / "demo.pdf"
    out = io.StringIO()
    call_command(
        "build_cahier",
        "--contract",
        nantes.slug,
        "--partner",
        DEMO_SLUG,
        "--format",
        "pdf",
        "-o",
        str(by_slug),
        stdout=out,
    )
    assert by_slug.read_bytes().startswith(b"%PDF")
    assert "écrit dans" in out.getvalue()

    everyone = tmp_path / "compilation.pdf"
    call_command("build_cahier", "--contract", nantes.slug, "-o", str(everyone))
    text = pdf_text(everyone.read_bytes())
    assert "Compilation" in text and partner.name in text


def test_command_errors_are_explicit(nantes, tmp_path):
    target = str(tmp_path / "x.pdf")
    with pytest.raises(CommandError, match="Contrat inconnu : « nulle-part »"):
        call_command("build_cahier", "--contract", "nulle-part", "-o", target)
    with pytest.raises(CommandError, match="Partenaire inconnu : « 999999 »"):
        call_command("build_cahier", "--contract", nantes.slug, "--partner", "999999", "-o", target)
    with pytest.raises(CommandError, match="Partenaire inconnu"):
        call_command("build_cahier", "--contract", nantes.slug, "--partner", "personne", "-o", target)
    stranger = factories.PartnerFactory()
    for fmt in ["pdf", "xlsx"]:
        with pytest.raises(CommandError, match="n'a pas de place dans le contrat"):
            call_command(
                "build_cahier",
                "--contract",
                nantes.slug,
                "--partner",
                stranger.slug,
                "--format",
                fmt,
                "-o",
                target,
            )
    with pytest.raises(CommandError, match="n'existe pas"):
        call_command("build_cahier", "--contract", nantes.slug, "-o", str(tmp_path / "absent" / "x.pdf"))
    assert not (tmp_path / "x.pdf").exists()


def test_command_writes_an_xlsx(nantes, tmp_path):
    target = tmp_path / "demo.xlsx"
    call_command(
        "build_cahier",
        "--contract",
        nantes.slug,
        "--partner",
        DEMO_SLUG,
        "--format",
        "xlsx",
        "-o",
        str(target),
    )
    assert target.read_bytes().startswith(b"PK")
