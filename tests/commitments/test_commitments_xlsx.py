"""Cahier d'engagements en XLSX : export, modèle pré-rempli, import tout-ou-rien, droits et commande.
Ce que l'import refuse (cellules, lignes, fichiers hostiles) : test_commitments_xlsx_refusals.py."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from cdv.commitments import services, xlsx_export, xlsx_import, xlsx_template
from cdv.commitments.enums import CommitmentScope, CommitmentStatus, FundingKind
from cdv.commitments.models import Commitment, CommitmentAmendment, CommitmentMeans
from cdv.core import formulas, spreadsheets
from cdv.core.actors import SystemActor
from cdv.partners.models import Partner
from cdv.users.enums import Role
from cdv.users.models import Membership
from tests import factories
from tests.worlds import built_once, remove_demo_reviews

# Ces tests comptent les engagements des partenaires de démonstration d'avant le suivi par quartier :
# le suivi de la démonstration est retiré une fois pour le fichier (plus bas), pas à chaque test.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_without_reviews")]

SYSTEM = SystemActor()


# Modèle de chaque partenaire bâti une fois sur ce monde (avant toute écriture d'un test) : un test
# qui part du modèle tel qu'on le télécharge l'ouvre (``template_for``) au lieu de le rebâtir.
PRISTINE_TEMPLATES: dict[int, bytes] = {}


@pytest.fixture(scope="module")
def demo_without_reviews(demo_data, django_db_blocker):
    """La démonstration sans son suivi annuel, pour tout le fichier (annulé à la fin) ; chaque test
    annule ce qu'il écrit."""
    from cdv.contracts.models import Contract

    with built_once(django_db_blocker):
        remove_demo_reviews()
        nantes = Contract.objects.get(slug="nantes-metropole-2024-2030")
        for partner in Partner.objects.filter(commitments__contract=nantes).distinct():
            PRISTINE_TEMPLATES[partner.pk] = xlsx_template.build_template_xlsx(
                contract=nantes, partner=partner
            )
        yield
        PRISTINE_TEMPLATES.clear()


# --- outils ----------------------------------------------------------------------------------


@pytest.fixture
def tremplin():
    return Partner.objects.get(name__startswith="Association Tremplin Quartiers")


@pytest.fixture
def bailleur():
    return Partner.objects.get(name__startswith="Bailleur Habitat Solidaire")


@pytest.fixture
def pilot(nantes):
    return factories.MembershipFactory(contract=nantes, role=Role.PILOT).user


@pytest.fixture
def editor(nantes, tremplin):
    """Référent (rédaction) de Tremplin, créé pour le test."""
    membership = Membership.objects.create(
        user=factories.UserFactory(), contract=nantes, partner=tremplin, role=Role.EDITOR
    )
    return membership.user


def sheet_rows(ws):
    return [list(row) for row in ws.iter_rows(values_only=True)]


def as_dicts(ws):
    rows = sheet_rows(ws)
    header = rows[0]
    return [dict(zip(header, row, strict=False)) for row in rows[1:] if any(v is not None for v in row)]


class Template:
    """Le modèle téléchargé, ouvert pour être modifié comme dans un tableur."""

    def __init__(self, content: bytes):
        self.wb = load_workbook(io.BytesIO(content))
        self.ws = self.wb[xlsx_template.SHEET]
        self.columns = {cell.value: cell.column for cell in self.ws[1] if cell.value}

    def row_of(self, commitment) -> int:
        for row in range(2, self.ws.max_row + 1):
            if self.ws.cell(row=row, column=1).value == commitment.pk:
                return row
        raise AssertionError(f"engagement {commitment.pk} absent du modèle")

    def next_row(self) -> int:
        row = 2
        while self.ws.cell(row=row, column=self.columns["Intitulé"]).value:
            row += 1
        return row

    def set(self, row, column, value):
        self.ws.cell(row=row, column=self.columns[column]).value = value

    def get(self, row, column):
        return self.ws.cell(row=row, column=self.columns[column]).value

    def add(self, **values) -> int:
        row = self.next_row()
        defaults = {
            "Objectif": "1.1",
            "Intitulé": "Tenir une permanence emploi chaque mardi",
            "Portée": "Quartiers choisis",
            "QPV": "QN04405M",
        }
        for column, value in {**defaults, **values}.items():
            self.set(row, column, value)
        return row

    def bytes(self) -> bytes:
        buffer = io.BytesIO()
        self.wb.save(buffer)
        return buffer.getvalue()


def template_for(nantes, partner) -> Template:
    """Le modèle du partenaire tel qu'on le télécharge avant toute modification de la base par le test
    (bâti une fois pour le fichier : ``demo_without_reviews``)."""
    assert nantes.slug == "nantes-metropole-2024-2030"
    return Template(PRISTINE_TEMPLATES[partner.pk])


def upload(nantes, partner, content, user=SYSTEM, filename="cahier.xlsx"):
    return xlsx_import.import_commitments_xlsx(
        user=user, contract=nantes, partner=partner, fileobj=io.BytesIO(content), filename=filename
    )


def db_state():
    """Tout ce qu'un import pourrait changer : lignes, versions, historique, avenants."""
    return (
        Commitment.objects.count(),
        CommitmentMeans.objects.count(),
        sorted(Commitment.objects.values_list("pk", "version", "title")),
        sorted(CommitmentMeans.objects.values_list("commitment_id", "year", "funding", "fte", "amount_eur")),
        Commitment.history.count(),
        CommitmentMeans.history.count(),
        CommitmentAmendment.objects.count(),
    )


def forum(partner):
    return Commitment.objects.get(partner=partner, title__startswith="Animer deux forums emploi")


def assert_refused(report, *fragments):
    """Le rapport refuse l'import et une erreur contient tous les fragments donnés."""
    assert not report.ok
    assert (report.created, report.updated, report.unchanged) == (0, 0, 0)
    matching = [e for e in report.errors if all(f in e for f in fragments)]
    assert matching, f"aucune erreur ne contient {fragments} : {report.errors}"
    return matching[0]


# --- export ----------------------------------------------------------------------------------


def test_export_of_one_partner_lists_commitments_by_enjeu_with_means(nantes, tremplin):
    wb = load_workbook(io.BytesIO(xlsx_export.export_cahier_xlsx(contract=nantes, partner=tremplin)))
    assert wb.sheetnames == ["Engagements", "Moyens"]
    rows = as_dicts(wb["Engagements"])
    assert [r["Intitulé"] for r in rows] == [
        "Animer deux forums emploi par an à Bellevue et au Sillon de Bretagne",
        "Financer vingt permis de conduire par an",
    ]
    first = rows[0]
    assert first["Partenaire"] == tremplin.name
    assert first["Enjeu"].startswith("1. ")
    assert (first["Code objectif"], first["Code action"]) == ("1.1", "1.1.1")
    assert first["État"] == "Proposé par le partenaire"
    assert first["Portée"] == "Quartiers choisis"
    assert first["QPV"] == "QN04405M, QN04419I"
    assert first["Cible"] == "300 participants par an"
    assert first["Résumé en langage clair"].startswith("Nous organisons deux forums")
    assert first["Échéance"].date() == datetime.date(2026, 12, 31)
    assert rows[1]["Portée"] == "Échelle métropolitaine" and rows[1]["QPV"] is None
    means = as_dicts(wb["Moyens"])
    assert len(means) == 3
    assert means[0]["Année"] == 2025 and means[0]["ETP"] == 0.5 and means[0]["Montant (€)"] == 12000
    assert means[0]["Nature des moyens"] == "Moyens de droit commun"
    assert means[2]["Nature des moyens"] == "Crédits spécifiques de la politique de la ville"


def test_export_of_the_whole_contract_is_sorted_by_enjeu_across_partners(nantes):
    wb = load_workbook(io.BytesIO(xlsx_export.export_cahier_xlsx(contract=nantes)))
    rows = as_dicts(wb["Engagements"])
    assert len(rows) == Commitment.objects.filter(contract=nantes).count()
    enjeux = [int(r["Enjeu"].split(".")[0]) for r in rows]
    assert enjeux == sorted(enjeux) and enjeux[0] == 1 and enjeux[-1] == 4
    assert len({r["Partenaire"] for r in rows}) == 3


def test_export_for_an_anonymous_reader_keeps_only_public_commitments(nantes):
    from django.contrib.auth.models import AnonymousUser

    wb = load_workbook(io.BytesIO(xlsx_export.export_cahier_xlsx(contract=nantes, user=AnonymousUser())))
    states = {r["État"] for r in as_dicts(wb["Engagements"])}
    assert states == {"En cours"}


@pytest.mark.parametrize("dangerous", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rx"])
def test_export_neutralises_formula_injection(nantes, tremplin, dangerous):
    commitment = forum(tremplin)
    Commitment.objects.filter(pk=commitment.pk).update(title=dangerous, target=dangerous)
    for content in [
        xlsx_export.export_cahier_xlsx(contract=nantes, partner=tremplin),
        xlsx_template.build_template_xlsx(contract=nantes, partner=tremplin),
    ]:
        wb = load_workbook(io.BytesIO(content))
        cells = [c for row in wb["Engagements"].iter_rows() for c in row if c.value]
        assert not [c for c in cells if c.data_type == "f"]
        # Selon l'analyseur XML (avec ou sans lxml), un retour chariot revient tel quel ou en \n.
        forms = [dangerous, dangerous.replace("\r", "\n")]
        read_back = next(
            (f for f in forms if any(isinstance(c.value, str) and f in c.value for c in cells)), ""
        )
        titles = [c for c in cells if isinstance(c.value, str) and read_back and read_back in c.value]
        assert len(titles) == 2  # intitulé et cible
        # Règle XLSX : une cellule texte, la valeur inchangée (pas d'apostrophe ajoutée).
        assert all(c.value == read_back and c.data_type == "s" for c in titles)


@pytest.mark.parametrize("text", ["=x", "'=x", "''=x", "'hello", "-5 %", "hello", "\tx", "@a", "+1", ""])
def test_csv_neutralisation_is_exactly_reversed_on_import(text):
    quoted = formulas.csv_text(text)
    assert spreadsheets.unsafe_text(quoted) == text
    assert formulas.PLAIN_NUMBER_RE.match(quoted) or not quoted.startswith(("=", "+", "-", "@", "\t", "\r"))


@pytest.mark.parametrize("title", ["-20 % de chômage", '=HYPERLINK("http://x")'])
def test_neutralised_text_comes_back_unchanged_through_the_template(nantes, tremplin, title):
    commitment = forum(tremplin)
    Commitment.objects.filter(pk=commitment.pk).update(title=title, target="@quartier")
    before = db_state()
    report = upload(nantes, tremplin, xlsx_template.build_template_xlsx(contract=nantes, partner=tremplin))
    assert report.ok and report.unchanged == 2
    assert db_state() == before


# --- modèle ----------------------------------------------------------------------------------


def test_template_is_prefilled_with_hidden_ids_and_dropdown_lists(nantes, tremplin):
    template = template_for(nantes, tremplin)
    ws = template.ws
    assert ws.column_dimensions["A"].hidden and ws.column_dimensions["B"].hidden
    row = template.row_of(forum(tremplin))
    assert template.get(row, "Version") == forum(tremplin).version
    assert template.get(row, "Objectif") == "1.1 — Rapprocher les habitants de l'emploi"
    assert template.get(row, "Action") == "1.1.1 — Forums emploi de proximité"
    assert template.get(row, "ETP droit commun 2025") == 0.5
    assert template.get(row, "€ droit commun 2026") == 12000
    assert template.get(row, "ETP crédits spécifiques 2025") is None
    assert "Motif de l'avenant" in template.columns
    # Formats de saisie : la cellule pré-remplie et toute la colonne (lignes libres comprises).
    for column, number_format in [
        ("Échéance", xlsx_export.DATE_FORMAT),
        ("ETP droit commun 2025", xlsx_export.FTE_FORMAT),
        ("€ droit commun 2026", xlsx_export.EUR_FORMAT),
        ("€ crédits spécifiques 2030", xlsx_export.EUR_FORMAT),
    ]:
        assert ws.cell(row=row, column=template.columns[column]).number_format == number_format
        letter = ws.cell(row=1, column=template.columns[column]).column_letter
        assert ws.column_dimensions[letter].number_format == number_format
    assert (
        "€ crédits spécifiques 2030" in template.columns and "ETP droit commun 2023" not in template.columns
    )

    lists = template.wb["Listes"]
    assert lists.sheet_state == "hidden" and lists.protection.sheet
    columns = {lists.cell(row=1, column=c).value: c for c in range(1, lists.max_column + 1)}
    values = {
        title: [lists.cell(row=r, column=c).value for r in range(2, lists.max_row + 1)]
        for title, c in columns.items()
    }
    assert "2.1 — Favoriser la réussite éducative" in values["Objectifs"]
    assert "QN04405M" in values["QPV du contrat"] and len([v for v in values["QPV du contrat"] if v]) == 15
    assert [v for v in values["Années du contrat"] if v] == list(range(2024, 2031))
    assert "Quartiers choisis" in values["Portées"] and "Brouillon" in values["États"]
    assert "Moyens de droit commun" in values["Natures des moyens"]
    formulas = {str(v.sqref).split(":")[0]: v.formula1 for v in ws.data_validations.dataValidation}
    objective_letter = ws.cell(row=1, column=template.columns["Objectif"]).column_letter
    assert formulas[f"{objective_letter}2"].startswith("'Listes'!$A$2:$A$")
    scope_letter = ws.cell(row=1, column=template.columns["Portée"]).column_letter
    assert formulas[f"{scope_letter}2"].startswith("'Listes'!$E$2:$E$")


def test_template_round_trip_unchanged_changes_nothing(nantes, bailleur):
    before = db_state()
    report = upload(nantes, bailleur, xlsx_template.build_template_xlsx(contract=nantes, partner=bailleur))
    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (0, 0, 1)
    assert db_state() == before


def test_round_trip_tolerates_line_endings_spaces_and_means_outside_the_template(nantes, tremplin):
    commitment = forum(tremplin)
    Commitment.objects.filter(pk=commitment.pk).update(
        description="Première ligne\r\nDeuxième ligne", target="300 participants par an  "
    )
    CommitmentMeans.objects.create(commitment=commitment, year=2023, fte=1, funding=FundingKind.ORDINARY)
    before = db_state()
    report = upload(nantes, tremplin, xlsx_template.build_template_xlsx(contract=nantes, partner=tremplin))
    assert report.ok and report.unchanged == 2, report.errors
    assert db_state() == before


def test_status_change_since_download_does_not_block_an_unchanged_row(nantes, tremplin):
    content = xlsx_template.build_template_xlsx(contract=nantes, partner=tremplin)
    permis = Commitment.objects.get(partner=tremplin, title__startswith="Financer vingt permis")
    services.propose(user=SYSTEM, commitment=permis)
    before = db_state()
    report = upload(nantes, tremplin, content)
    assert report.ok and report.unchanged == 2, report.errors
    assert db_state() == before


def test_round_trip_by_a_partner_editor_skips_commitments_he_may_not_edit(nantes, tremplin, editor):
    # « Proposé » n'est plus modifiable par le partenaire : la ligne inchangée ne doit pas bloquer.
    before = db_state()
    report = upload(
        nantes, tremplin, xlsx_template.build_template_xlsx(contract=nantes, partner=tremplin), user=editor
    )
    assert report.ok, report.errors
    assert report.unchanged == 2
    assert db_state() == before


def test_create_and_update_through_the_template(nantes, tremplin, pilot):
    template = template_for(nantes, tremplin)
    permis = Commitment.objects.get(partner=tremplin, title__startswith="Financer vingt permis")
    row = template.row_of(permis)
    template.set(row, "Intitulé", "Financer trente permis de conduire par an")
    template.set(row, "Cible", "30 permis par an")
    template.set(row, "€ crédits spécifiques 2025", 30000)
    template.set(row, "ETP droit commun 2027", "0,5")
    template.set(row, "€ droit commun 2027", 1000)
    new = template.add(
        **{
            "Action": "1.1.1 — Forums emploi de proximité",
            "Résumé en langage clair": "Un conseiller vous reçoit chaque mardi.",
            "QPV": "QN04405M, qn04419i",
            "Cible": "40 personnes par mois",
            "Échéance": datetime.date(2027, 6, 30),
            "ETP droit commun 2026": 0.2,
            "€ crédits spécifiques 2026": 5000,
        }
    )
    assert new > row
    report = upload(nantes, tremplin, template.bytes(), user=pilot)
    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (1, 1, 1)

    permis.refresh_from_db()
    assert permis.title == "Financer trente permis de conduire par an" and permis.version == 2
    assert {(m.year, m.funding, m.fte, m.amount_eur) for m in permis.means.all()} == {
        (2025, FundingKind.SPECIFIC, Decimal("0.20"), Decimal("30000.00")),
        (2027, FundingKind.ORDINARY, Decimal("0.50"), Decimal("1000.00")),
    }
    created = Commitment.objects.get(partner=tremplin, title="Tenir une permanence emploi chaque mardi")
    assert created.status == CommitmentStatus.DRAFT and created.contract == nantes
    assert created.action.code == "1.1.1" and created.objective.code == "1.1"
    assert created.scope == CommitmentScope.QPV
    assert {q.code for q in created.qpvs.all()} == {"QN04405M", "QN04419I"}
    assert created.deadline == datetime.date(2027, 6, 30)
    assert {(m.year, m.funding, m.fte, m.amount_eur) for m in created.means.all()} == {
        (2026, FundingKind.ORDINARY, Decimal("0.20"), Decimal("0.00")),
        (2026, FundingKind.SPECIFIC, Decimal("0.00"), Decimal("5000.00")),
    }


def test_clearing_means_cells_removes_the_means(nantes, tremplin):
    template = template_for(nantes, tremplin)
    row = template.row_of(forum(tremplin))
    template.set(row, "ETP droit commun 2026", None)
    template.set(row, "€ droit commun 2026", None)
    report = upload(nantes, tremplin, template.bytes())
    assert report.ok and report.updated == 1
    assert [m.year for m in forum(tremplin).means.all()] == [2025]


def test_second_upload_of_the_same_file_changes_nothing(nantes, tremplin):
    template = template_for(nantes, tremplin)
    template.set(template.row_of(forum(tremplin)), "Cible", "400 participants par an")
    template.add()
    content = template.bytes()
    first = upload(nantes, tremplin, content)
    assert first.ok and (first.created, first.updated) == (1, 1)
    after_first = db_state()
    second = upload(nantes, tremplin, content)
    assert second.ok, second.errors
    assert (second.created, second.updated, second.unchanged) == (0, 0, 3)
    assert db_state() == after_first


def test_amendment_of_a_commitment_in_progress(nantes, bailleur):
    commitment = Commitment.objects.get(partner=bailleur)
    template = template_for(nantes, bailleur)
    row = template.row_of(commitment)
    template.set(row, "Cible", "250 logements équipés")
    before = db_state()
    report = upload(nantes, bailleur, template.bytes())
    message = assert_refused(
        report, "Feuille « Engagements »", f"ligne {row}", "colonne « Motif de l'avenant »"
    )
    assert "motif de l'avenant" in message
    assert db_state() == before

    template.set(row, "Motif de l'avenant", "Extension décidée en comité de pilotage.")
    report = upload(nantes, bailleur, template.bytes())
    assert report.ok and report.updated == 1
    amendment = CommitmentAmendment.objects.get(commitment=commitment)
    assert amendment.reason == "Extension décidée en comité de pilotage."
    assert amendment.previous["target"] == "200 logements équipés"


# --- droits --------------------------------------------------------------------------------------


def test_partner_editor_cannot_import_into_another_partners_cahier(nantes, bailleur, editor):
    content = xlsx_template.build_template_xlsx(contract=nantes, partner=bailleur)
    before = db_state()
    with pytest.raises(PermissionDenied):
        upload(nantes, bailleur, content, user=editor)
    assert db_state() == before


def test_partner_editor_imports_into_his_own_cahier(nantes, tremplin, editor):
    template = template_for(nantes, tremplin)
    permis = Commitment.objects.get(partner=tremplin, title__startswith="Financer vingt permis")
    template.set(template.row_of(permis), "Cible", "25 permis par an")
    template.add()
    report = upload(nantes, tremplin, template.bytes(), user=editor)
    assert report.ok, report.errors
    assert (report.created, report.updated) == (1, 1)


def test_reader_cannot_import(nantes, bailleur):
    reader = Membership.objects.get(contract=nantes, partner=bailleur, role=Role.READER).user
    with pytest.raises(PermissionDenied):
        upload(
            nantes,
            bailleur,
            xlsx_template.build_template_xlsx(contract=nantes, partner=bailleur),
            user=reader,
        )


# --- commande ------------------------------------------------------------------------------------


def test_command_imports_and_prints_a_french_summary(nantes, tremplin, tmp_path):
    template = template_for(nantes, tremplin)
    template.add()
    path = tmp_path / "cahier.xlsx"
    path.write_bytes(template.bytes())
    out = io.StringIO()
    call_command("import_commitments", str(path), contract=nantes.slug, partner=str(tremplin.pk), stdout=out)
    assert "Import terminé : 1 engagement créé, 0 modifié, 2 inchangés." in out.getvalue()
    out = io.StringIO()
    call_command(
        "import_commitments", str(path), "--contract", nantes.slug, "--partner", tremplin.slug, stdout=out
    )
    assert "0 engagement créé, 0 modifié, 3 inchangés" in out.getvalue()


def test_command_reports_every_error_on_stderr_and_exits_non_zero(nantes, tremplin, tmp_path):
    template = template_for(nantes, tremplin)
    template.add(QPV="QN99999M")
    template.add(Intitulé="Autre", Objectif="9.9")
    path = tmp_path / "cahier.xlsx"
    path.write_bytes(template.bytes())
    before = db_state()
    err = io.StringIO()
    with pytest.raises(CommandError) as error:
        call_command("import_commitments", str(path), contract=nantes.slug, partner=tremplin.slug, stderr=err)
    assert error.value.returncode == 1
    assert "Import refusé : 2 erreurs" in str(error.value)
    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 2
    assert "colonne « QPV » : le code QN99999M n'est pas un QPV du contrat." in lines[0]
    assert "colonne « Objectif »" in lines[1]
    assert db_state() == before


def test_command_refuses_unknown_contract_partner_or_file(nantes, tremplin, tmp_path):
    path = tmp_path / "cahier.xlsx"
    path.write_bytes(template_for(nantes, tremplin).bytes())
    with pytest.raises(CommandError, match="Contrat introuvable"):
        call_command("import_commitments", str(path), contract="inconnu", partner=tremplin.slug)
    with pytest.raises(CommandError, match="Partenaire introuvable"):
        call_command("import_commitments", str(path), contract=nantes.slug, partner="personne")
    with pytest.raises(CommandError, match="Fichier introuvable"):
        call_command("import_commitments", str(tmp_path / "absent.xlsx"), contract=nantes.slug, partner="1")
