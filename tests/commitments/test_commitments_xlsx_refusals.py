"""Cahier d'engagements en XLSX, ce que l'import refuse : une cellule, une ligne ou un classeur
invalides refusés tout ou rien (rien n'est écrit, chaque erreur dit sa feuille, sa ligne et sa
colonne), fichiers hostiles (taille, contenu qui n'est pas un classeur, bombe zip, macros). Le monde
et les outils sont ceux de test_commitments_xlsx.py (démonstration sans son suivi annuel, bâtie une
fois pour le fichier ; modèles des partenaires bâtis une fois)."""

import datetime
import io
import zipfile

import pytest
from openpyxl import Workbook

from cdv.commitments import services, xlsx_import, xlsx_template
from cdv.commitments.models import Commitment
from cdv.territories.models import Qpv
from tests import factories
from tests.commitments import test_commitments_xlsx as xlsx_tests
from tests.commitments.test_commitments_xlsx import (
    SYSTEM,
    Template,
    assert_refused,
    db_state,
    forum,
    template_for,
    upload,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_without_reviews")]

demo_without_reviews = xlsx_tests.demo_without_reviews
tremplin = xlsx_tests.tremplin
bailleur = xlsx_tests.bailleur
editor = xlsx_tests.editor


# --- refus : tout ou rien ----------------------------------------------------------------------


def bad_cell(nantes, partner, column, value, *, row=None, new=False):
    """Modèle où une cellule est modifiée (ligne existante ou nouvelle ligne) ; renvoie (octets, ligne)."""
    template = template_for(nantes, partner)
    if new:
        row = template.add(**{column: value})
    else:
        row = row or 2
        template.set(row, column, value)
    return template.bytes(), row


BAD_CELLS = [
    ("ETP droit commun 2025", "beaucoup", "n'est pas un nombre"),
    ("€ droit commun 2025", -100, "négatif"),
    ("ETP droit commun 2025", 0.125, "deux décimales"),
    ("€ droit commun 2025", "1.500", "est ambigu"),  # 1,5 ou 1 500 € ? on ne devine pas
    ("€ droit commun 2025", "1.234,5", "mêle point et virgule"),
    ("Échéance", "bientôt", "n'est pas une date valide"),
    ("Échéance", datetime.date(2031, 3, 1), "dépasse la fin du contrat (2030)"),
    ("Objectif", "9.9 — Objectif inventé", "l'objectif 9.9 n'existe pas"),
    ("Action", "7.7.7", "l'action 7.7.7 n'existe pas"),
    ("Action", "2.1.1 — Aide aux devoirs après l'école", "ne relève pas de l'objectif 1.1"),
    ("QPV", "QN04405M, QN99999M", "le code QN99999M n'est pas un QPV du contrat."),
    ("Portée", "Tout le contrat", "ne cite pas de quartier", "QPV"),
    ("Portée", "Partout", "n'est pas une portée"),
    ("Intitulé", "x" * 301, "301 caractères, pour 300 au plus"),
    ("Intitulé", "", "l'intitulé de l'engagement est obligatoire"),
    ("Résumé en langage clair", "y" * 301, "301 caractères, pour 300 au plus"),
    ("Identifiant", "douze", "n'est pas un nombre entier valide"),
    ("Version", None, "la version manque"),
    ("Identifiant", 999999, "ne désigne aucun engagement de ce contrat"),
    ("État", "Validé par le pilote", "l'état ne se modifie pas par import"),
    ("État", "Presque fini", "n'est pas un état connu"),
]


@pytest.mark.parametrize("case", BAD_CELLS, ids=[f"{c[0]}: {c[2]}" for c in BAD_CELLS])
def test_bad_cell_is_refused_with_sheet_row_and_column(nantes, tremplin, case):
    column, value, expected, *reported = case
    content, xlsx_row = bad_cell(nantes, tremplin, column, value)
    before = db_state()
    report = upload(nantes, tremplin, content)
    message = assert_refused(report, expected)
    reported = reported[0] if reported else column
    assert message.startswith(f"Feuille « Engagements », ligne {xlsx_row}, colonne « {reported} » : "), (
        message
    )
    assert db_state() == before


def test_new_row_with_a_non_draft_status_is_refused(nantes, tremplin):
    content, row = bad_cell(nantes, tremplin, "État", "Confirmé (cahier d'engagements signé)", new=True)
    before = db_state()
    message = assert_refused(upload(nantes, tremplin, content), "Brouillon")
    assert message.startswith(f"Feuille « Engagements », ligne {row}, colonne « État » : ")
    assert db_state() == before


def test_qpv_of_another_contract_is_refused(nantes, tremplin):
    outside = Qpv.objects.qpvs().exclude(pk__in=nantes.qpvs.values("pk")).first()
    content, row = bad_cell(nantes, tremplin, "QPV", f"QN04405M, {outside.code}", new=True)
    before = db_state()
    message = assert_refused(upload(nantes, tremplin, content), outside.code, "ne relève pas de ce contrat")
    assert message.startswith(f"Feuille « Engagements », ligne {row}, colonne « QPV » : ")
    assert db_state() == before


def test_quartiers_choisis_without_qpv_is_refused(nantes, tremplin):
    content, row = bad_cell(nantes, tremplin, "QPV", None, new=True)
    before = db_state()
    message = assert_refused(upload(nantes, tremplin, content), "au moins un code QPV")
    assert message.startswith(f"Feuille « Engagements », ligne {row}, colonne « QPV » : ")
    assert db_state() == before


def test_formula_in_a_cell_is_refused(nantes, tremplin):
    template = template_for(nantes, tremplin)
    row = template.add(**{"Cible": "=1+1"})
    template.wb["Listes"]["J5"] = "=SUM(A1:A2)"
    before = db_state()
    report = upload(nantes, tremplin, template.bytes())
    message = assert_refused(report, "formules ne sont pas acceptées")
    assert message.startswith(f"Feuille « Engagements », ligne {row}, colonne « Cible » : ")
    assert_refused(report, "Feuille « Listes », ligne 5, colonne « J »", "formules")
    assert db_state() == before


def test_duplicate_ids_are_refused(nantes, tremplin):
    template = template_for(nantes, tremplin)
    commitment = forum(tremplin)
    row = template.add(Identifiant=commitment.pk, Version=commitment.version)
    before = db_state()
    message = assert_refused(upload(nantes, tremplin, template.bytes()), "figure déjà ligne")
    assert message.startswith(f"Feuille « Engagements », ligne {row}, colonne « Identifiant » : ")
    assert db_state() == before


def test_id_of_another_partner_is_refused(nantes, tremplin, bailleur):
    other = Commitment.objects.get(partner=bailleur)
    template = template_for(nantes, tremplin)
    row = template.add(Identifiant=other.pk, Version=other.version, Intitulé=other.title)
    before = db_state()
    message = assert_refused(upload(nantes, tremplin, template.bytes()), "appartient à un autre partenaire")
    assert message.startswith(f"Feuille « Engagements », ligne {row}, colonne « Identifiant » : ")
    assert bailleur.name in message
    assert db_state() == before


def test_id_of_another_contract_is_refused(nantes, tremplin):
    other_contract = factories.ContractFactory()
    objective = factories.ObjectiveFactory(enjeu=factories.EnjeuFactory(contract=other_contract))
    foreign = Commitment.objects.create(
        contract=other_contract, partner=tremplin, objective=objective, title="Ailleurs"
    )
    template = Template(xlsx_template.build_template_xlsx(contract=nantes, partner=tremplin))
    row = template.row_of(forum(tremplin))
    template.set(row, "Identifiant", foreign.pk)
    before = db_state()
    message = assert_refused(upload(nantes, tremplin, template.bytes()), "ne désigne aucun engagement")
    assert message.startswith(f"Feuille « Engagements », ligne {row}, colonne « Identifiant » : ")
    assert db_state() == before
    foreign.refresh_from_db()
    assert foreign.title == "Ailleurs"


def test_stale_version_is_reported_as_a_conflict_on_its_row(nantes, tremplin):
    template = template_for(nantes, tremplin)
    commitment = forum(tremplin)
    services.update_commitment(
        user=SYSTEM,
        commitment=commitment,
        expected_version=commitment.version,
        data={"target": "350 participants par an"},
    )
    row = template.row_of(commitment)
    template.set(row, "Intitulé", "Animer trois forums emploi par an")
    before = db_state()
    message = assert_refused(upload(nantes, tremplin, template.bytes()), "conflit")
    assert message.startswith(f"Feuille « Engagements », ligne {row} : conflit")
    assert "cible : « 350 participants par an »" in message
    assert db_state() == before


def test_new_row_repeating_an_existing_title_with_other_content_is_refused(nantes, tremplin):
    content, row = bad_cell(
        nantes, tremplin, "Intitulé", "Financer vingt permis de conduire par an", new=True
    )
    before = db_state()
    message = assert_refused(upload(nantes, tremplin, content), "porte déjà cet intitulé")
    assert message.startswith(f"Feuille « Engagements », ligne {row}, colonne « Intitulé » : ")
    assert db_state() == before


def test_missing_sheet_is_refused(nantes, tremplin):
    template = template_for(nantes, tremplin)
    template.ws.title = "Feuil1"
    message = assert_refused(
        upload(nantes, tremplin, template.bytes()), "Feuille « Engagements » : feuille introuvable"
    )
    assert "« Feuil1 »" in message


def test_missing_required_column_is_refused(nantes, tremplin):
    template = template_for(nantes, tremplin)
    template.ws.delete_cols(template.columns["Portée"])
    before = db_state()
    report = upload(nantes, tremplin, template.bytes())
    assert_refused(
        report, "Feuille « Engagements », ligne 1, colonne « Portée » : colonne obligatoire absente"
    )
    assert db_state() == before


def test_year_column_outside_the_contract_is_refused(nantes, tremplin):
    template = template_for(nantes, tremplin)
    column = template.columns["ETP droit commun 2030"]
    template.ws.cell(row=1, column=column, value="ETP droit commun 2031")
    report = upload(nantes, tremplin, template.bytes())
    assert_refused(
        report, "Feuille « Engagements », ligne 1, colonne « ETP droit commun 2031 »", "sort de la période"
    )


def test_every_error_is_reported_at_once_and_nothing_is_written(nantes, tremplin):
    template = template_for(nantes, tremplin)
    template.add(Intitulé="Un engagement valide à créer")
    bad1 = template.add(Intitulé="Deuxième", QPV="QN99999M")
    bad2 = template.add(Intitulé="Troisième", Objectif="8.8")
    template.set(template.row_of(forum(tremplin)), "€ droit commun 2025", "douze mille")
    before = db_state()
    report = upload(nantes, tremplin, template.bytes())
    assert not report.ok and len(report.errors) == 3
    assert f"ligne {bad1}, colonne « QPV »" in report.errors[1]
    assert f"ligne {bad2}, colonne « Objectif »" in report.errors[2]
    assert db_state() == before


def test_service_refusal_rolls_back_rows_already_written(nantes, tremplin, editor):
    # La ligne 1 (nouvel engagement) passe ; la modification d'un engagement « proposé » est
    # refusée par services.update_commitment : la création doit être annulée.
    template = template_for(nantes, tremplin)
    template.add(Intitulé="Créé puis annulé")
    row = template.row_of(forum(tremplin))
    template.set(row, "Cible", "500 participants")
    before = db_state()
    report = upload(nantes, tremplin, template.bytes(), user=editor)
    message = assert_refused(report, "vous ne pouvez pas modifier cet engagement")
    assert message.startswith(f"Feuille « Engagements », ligne {row} : ")
    assert db_state() == before
    assert not Commitment.objects.filter(title="Créé puis annulé").exists()


# --- fichiers hostiles ---------------------------------------------------------------------------


def test_file_over_the_size_limit_is_refused(nantes, tremplin, monkeypatch):
    monkeypatch.setattr(xlsx_import, "MAX_UPLOAD_BYTES", 1000)
    report = upload(nantes, tremplin, template_for(nantes, tremplin).bytes(), filename="gros.xlsx")
    assert_refused(report, "Fichier « gros.xlsx »", "taille maximale")
    assert xlsx_import.MAX_UPLOAD_BYTES == 1000


def test_django_uploaded_file_is_accepted_and_its_declared_size_checked(nantes, tremplin, monkeypatch):
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = template_for(nantes, tremplin).bytes()
    upload_file = SimpleUploadedFile("modele.xlsx", content, content_type="application/octet-stream")
    report = xlsx_import.import_commitments_xlsx(
        user=SYSTEM, contract=nantes, partner=tremplin, fileobj=upload_file, filename=upload_file.name
    )
    assert report.ok and report.unchanged == 2
    monkeypatch.setattr(xlsx_import, "MAX_UPLOAD_BYTES", len(content) - 1)
    report = xlsx_import.import_commitments_xlsx(
        user=SYSTEM, contract=nantes, partner=tremplin, fileobj=upload_file, filename=upload_file.name
    )
    assert_refused(report, "Fichier « modele.xlsx » : le fichier dépasse la taille maximale")


def test_real_size_limit_is_five_megabytes(nantes, tremplin):
    assert xlsx_import.MAX_UPLOAD_BYTES == 5 * 1024 * 1024
    report = upload(nantes, tremplin, b"PK\x03\x04" + b"\0" * xlsx_import.MAX_UPLOAD_BYTES)
    assert_refused(report, "taille maximale de 5 Mo")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"Intitule;Objectif\nForum;1.1\n", "n'est pas un classeur XLSX"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "Excel 97-2003"),
        (b"", "vide"),
    ],
)
def test_non_xlsx_content_is_refused_whatever_its_name(nantes, tremplin, content, expected):
    before = db_state()
    report = upload(nantes, tremplin, content, filename="cahier.xlsx")
    assert_refused(report, "Fichier « cahier.xlsx »", expected)
    assert db_state() == before


def zip_bytes(members: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_zip_that_is_not_a_workbook_is_refused(nantes, tremplin):
    report = upload(nantes, tremplin, zip_bytes({"word/document.xml": "<w/>"}))
    assert_refused(report, "archive ZIP mais pas un classeur XLSX")


def test_zip_bomb_is_refused_before_opening(nantes, tremplin):
    content = zip_bytes({"[Content_Types].xml": "<x/>", "xl/workbook.xml": b"\0" * (60 * 1024 * 1024)})
    assert len(content) < 200_000
    report = upload(nantes, tremplin, content)
    assert_refused(report, "volume anormalement grand")


def test_workbook_with_macros_is_refused(nantes, tremplin):
    source = zipfile.ZipFile(io.BytesIO(template_for(nantes, tremplin).bytes()))
    members = {name: source.read(name) for name in source.namelist()}
    members["xl/vbaProject.bin"] = b"macro"
    assert_refused(upload(nantes, tremplin, zip_bytes(members)), "macros")


def test_corrupted_workbook_is_refused(nantes, tremplin):
    content = zip_bytes({"[Content_Types].xml": "pas du xml", "xl/workbook.xml": "<pas du xml"})
    assert_refused(upload(nantes, tremplin, content), "n'a pas pu être lu")


def test_blank_workbook_from_a_spreadsheet_is_refused(nantes, tremplin):
    wb = Workbook()
    wb.active.title = "Engagements"
    wb.active["A1"] = "Intitulé"
    buffer = io.BytesIO()
    wb.save(buffer)
    report = upload(nantes, tremplin, buffer.getvalue())
    for column in ["Identifiant", "Version", "Objectif", "Portée", "QPV"]:
        assert_refused(report, f"colonne « {column} » : colonne obligatoire absente")
