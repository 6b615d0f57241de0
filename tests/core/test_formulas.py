"""Une règle par format contre l'injection de formules, la même pour tous les exports
(``cdv.core.formulas``, docs/opendata.md) : en XLSX une cellule texte à la valeur inchangée, en CSV
une apostrophe en tête."""

import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from cdv.core.formulas import csv_text
from cdv.core.spreadsheets import append_row, set_text, unsafe_text
from cdv.plan.spreadsheet import export_plan_xlsx
from tests import factories

PAYLOADS = [
    '=HYPERLINK("https://example.org/vol","Cliquez ici")',
    "+33 6 12",
    "-2+3",
    "@SUM(A1)",
    "#N/A",
    "=1",
]


def read_back(content: bytes):
    return load_workbook(io.BytesIO(content)).worksheets[0]


def saved(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("write_only", [False, True], ids=["classeur", "ecriture-seule"])
def test_xlsx_text_cells_read_back_identical_and_are_never_formulas(write_only):
    workbook = Workbook(write_only=write_only)
    sheet = workbook.create_sheet("Feuille") if write_only else workbook.active
    append_row(sheet, [*PAYLOADS, 12])
    content = saved(workbook)
    cells = next(read_back(content).iter_rows())
    assert [c.value for c in cells] == [*PAYLOADS, 12]
    assert [c.data_type for c in cells[: len(PAYLOADS)]] == ["s"] * len(PAYLOADS)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()


def test_set_text_writes_a_text_cell_without_forbidden_characters():
    workbook = Workbook()
    set_text(workbook.active["A1"], "=1+1")
    set_text(workbook.active["A2"], "a\x01b")
    sheet = read_back(saved(workbook))
    assert (sheet["A1"].value, sheet["A1"].data_type) == ("=1+1", "s")
    assert sheet["A2"].value == "ab"


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\tx", "'\tx"),
        ("'=x", "''=x"),
        ("-1.5536", "-1.5536"),  # un nombre n'est pas une formule
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_csv_rule_prefixes_an_apostrophe_that_import_removes(text, written):
    assert csv_text(text) == written
    assert unsafe_text(csv_text(text)) == text


@pytest.mark.django_db
def test_the_plan_export_writes_titles_as_text_cells():
    contract = factories.ContractFactory()
    enjeu = factories.EnjeuFactory(contract=contract, title=PAYLOADS[0])
    factories.ActionFactory(objective=factories.ObjectiveFactory(enjeu=enjeu, title="@SUM(A1)"))
    workbook = load_workbook(io.BytesIO(export_plan_xlsx(contract=contract)))
    cells = [c for sheet in workbook.worksheets for row in sheet.iter_rows() for c in row]
    assert not [c for c in cells if c.data_type == "f"]
    found = [c for c in cells if c.value in (PAYLOADS[0], "@SUM(A1)")]
    assert {c.value for c in found} == {PAYLOADS[0], "@SUM(A1)"}
    assert {c.data_type for c in found} == {"s"}
