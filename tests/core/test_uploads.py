"""La lecture commune des fichiers déposés (cdv/core/uploads.py) : taille, encodage, séparateur,
classeurs XLSX (bombes ZIP, macros), erreurs situées et bornées, rapport d'import."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from cdv.core import uploads
from cdv.core.uploads import ErrorCollector, UploadError

# --- taille et fichier vide --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [b"a;b\n1;2\n", io.BytesIO(b"a;b\n1;2\n"), SimpleUploadedFile("t.csv", b"a;b\n1;2\n")],
    ids=["bytes", "file", "django upload"],
)
def test_read_upload_returns_the_bytes_of_any_source(source):
    assert uploads.read_upload(source, max_bytes=100) == b"a;b\n1;2\n"


def test_read_upload_rereads_a_file_from_its_start():
    handle = io.BytesIO(b"a;b\n1;2\n")
    handle.read()
    assert uploads.read_upload(handle, max_bytes=100) == b"a;b\n1;2\n"


class CountingFile(io.BytesIO):
    def __init__(self, data):
        super().__init__(data)
        self.asked = []

    def read(self, size=-1):
        self.asked.append(size)
        return super().read(size)


def test_read_upload_refuses_a_file_over_the_limit_in_french_without_reading_it_all():
    handle = CountingFile(b"x" * 10_000)
    with pytest.raises(UploadError) as refused:
        uploads.read_upload(handle, max_bytes=2048, too_large=" : découpez-le.")
    assert refused.value.message == "le fichier dépasse la taille maximale de 2 Ko : découpez-le."
    assert handle.asked == [2049]


def test_read_upload_refuses_a_django_upload_on_its_declared_size():
    upload = SimpleUploadedFile("gros.xlsx", b"x" * 300)
    with pytest.raises(UploadError, match="taille maximale de 100 octets"):
        uploads.read_upload(upload, max_bytes=100)


@pytest.mark.parametrize("content", [b"", b"  \r\n\n"])
def test_read_upload_refuses_an_empty_file(content):
    with pytest.raises(UploadError, match="^le fichier est vide.$"):
        uploads.read_upload(content, max_bytes=100)


@pytest.mark.parametrize(
    ("size", "text"),
    [(100, "100 octets"), (2048, "2 Ko"), (5 * 1024 * 1024, "5 Mo"), (1536 * 1024, "1.5 Mo")],
)
def test_format_size(size, text):
    assert uploads.format_size(size) == text


# --- encodage --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("Quartier;Académie\n".encode(), "utf-8"),
        ("\ufeffQuartier;Académie\n".encode(), "utf-8-sig"),
        ("Quartier;Académie – œuvre\n".encode("cp1252"), "cp1252"),
        ("Quartier;Académie\n".encode("utf-16"), "utf-16-le"),
        ("Quartier;Académie\n".encode("utf-16-le"), "utf-16-le"),  # sans BOM : un octet nul sur deux
        (b"Quartier;Acad\xe9mie \x81\n", "latin-1"),  # 0x81 : inconnu de Windows-1252
    ],
    ids=["utf-8", "utf-8 bom", "windows-1252", "utf-16 bom", "utf-16 sans bom", "latin-1"],
)
def test_detect_encoding(data, encoding):
    assert uploads.detect_encoding(data)[0] == encoding


@pytest.mark.parametrize(
    "data",
    [
        "Quartier;Académie\n".encode(),
        "\ufeffQuartier;Académie\n".encode(),
        "Quartier;Académie\n".encode("cp1252"),
        "Quartier;Académie\n".encode("utf-16"),
    ],
    ids=["utf-8", "utf-8 bom", "windows-1252", "utf-16"],
)
def test_decode_text_reads_accents_whatever_the_encoding(data):
    assert uploads.decode_text(data) == "Quartier;Académie\n"


def test_a_utf8_character_cut_at_the_end_of_a_sample_is_still_utf8():
    sample = "Académie".encode()[:5]  # « Acad » puis le premier octet de « é »
    assert uploads.detect_encoding(sample, complete=False)[0] == "utf-8"
    assert uploads.detect_encoding(sample)[0] == "cp1252"


def test_binary_content_is_refused_in_french():
    with pytest.raises(UploadError, match="données binaires"):
        uploads.detect_encoding(b"\x00\x01\x02binaire\x00\x00\x00\x05" * 20)


# --- séparateur ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "separator"),
    [
        ("a;b;c\n1;2;3\n", ";"),
        ("a,b,c\n1,2,3\n", ","),
        ("a\tb\tc\n1\t2\t3\n", "\t"),
        ("a|b|c\n1|2|3\n", "|"),
        ('"x;y",b,c\n"1;2",2,3\n', ","),  # les séparateurs entre guillemets ne comptent pas
        ("nom;adresse;ville\nA;1 rue, Nantes;Nantes\n", ";"),
        ("seule\n1\n", ";"),
    ],
    ids=[
        "point-virgule",
        "virgule",
        "tabulation",
        "barre",
        "guillemets",
        "virgule dans les cellules",
        "aucun",
    ],
)
def test_detect_separator(text, separator):
    assert uploads.detect_separator(text) == separator


def test_detect_separator_prefers_the_one_regular_on_the_following_lines():
    text = "a,b;c;d\n1,5;2;3\n4,5;6;7\n"
    assert uploads.detect_separator(text) == ";"


def test_detect_separator_breaks_ties_in_the_order_given():
    assert uploads.detect_separator("a;b,c", candidates=(";", "\t", ","), default=",") == ";"
    assert uploads.detect_separator("abc", candidates=(";", "\t", ","), default=",") == ","


# --- classeurs XLSX --------------------------------------------------------------------------------


def zip_bytes(members, compression=zipfile.ZIP_DEFLATED):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


LIMITS = uploads.XlsxLimits(max_members=50, max_uncompressed=5 * 1024 * 1024, max_ratio=100)


def test_a_real_workbook_opens():
    saved = Workbook()
    saved.active.append(["a", "b"])
    saved.active.append([1, 2])
    data = io.BytesIO()
    saved.save(data)
    data = data.getvalue()
    assert uploads.check_xlsx(data, limits=LIMITS)
    workbook = uploads.read_workbook(data, max_bytes=1024 * 1024, limits=LIMITS)
    try:
        assert [list(row) for row in workbook.active.iter_rows(values_only=True)] == [["a", "b"], [1, 2]]
    finally:
        workbook.close()


def test_zip_bomb_is_refused_before_decompressing():
    bomb = zip_bytes(
        {"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>", "xl/big.xml": b"0" * (8 << 20)}
    )
    with pytest.raises(UploadError) as refused:
        uploads.check_xlsx(bomb, limits=LIMITS)
    assert refused.value.message == (
        "ce classeur se décompresse en un volume anormalement grand (plus de 5 Mo ou taux de compression "
        "suspect) : il est refusé par sécurité."
    )


def test_highly_compressed_member_is_refused_even_under_the_total_limit():
    limits = uploads.XlsxLimits(max_members=50, max_uncompressed=100 * 1024 * 1024, max_ratio=100)
    members = {
        "[Content_Types].xml": "<Types/>",
        "xl/workbook.xml": "<workbook/>",
        "xl/a.xml": b"0" * (3 << 20),
    }
    with pytest.raises(UploadError, match="volume anormalement grand"):
        uploads.check_xlsx(zip_bytes(members), limits=limits)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"PK\x03\x04 pas une archive",
            "ce fichier n'est pas un classeur XLSX lisible (archive endommagée).",
        ),
        (
            zip_bytes({f"f{i}.xml": "x" for i in range(60)}),
            "ce classeur contient trop d'éléments : il est refusé par sécurité.",
        ),
        (
            zip_bytes({"word/document.xml": "<w/>"}),
            "ce fichier est une archive ZIP mais pas un classeur XLSX.",
        ),
        (
            zip_bytes({"[Content_Types].xml": "<T/>", "xl/workbook.xml": "<w/>", "xl/vbaProject.bin": "x"}),
            "les classeurs avec macros ne sont pas acceptés : enregistrez-le au format .xlsx.",
        ),
    ],
    ids=["endommagé", "trop d'éléments", "autre archive", "macros"],
)
def test_hostile_archives_are_refused_in_french(data, message):
    with pytest.raises(UploadError) as refused:
        uploads.check_xlsx(data, limits=LIMITS)
    assert refused.value.message == message


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "Excel 97-2003 (.xls)"),
        (b"<!DOCTYPE html><html><script>alert(1)</script>", "c'est une page web"),
        (b"a;b\n1;2\n", "n'est pas un classeur XLSX (quel que soit son nom). Repartez du modèle."),
    ],
    ids=["xls", "html", "csv"],
)
def test_read_workbook_refuses_what_is_not_a_workbook(data, fragment):
    with pytest.raises(UploadError) as refused:
        uploads.read_workbook(data, max_bytes=1024 * 1024, limits=LIMITS, advice=" Repartez du modèle.")
    assert fragment in refused.value.message


# --- erreurs et rapport ----------------------------------------------------------------------------


def test_errors_name_file_sheet_row_and_column_in_order():
    errors = ErrorCollector("plan.xlsx")
    errors.at("valeur illisible.", sheet="Actions", row=3, column="État", column_index=2)
    errors.at("code manquant.", sheet="Actions", row=3, column="Code", column_index=1)
    errors.at("feuille absente.", sheet="Enjeux")
    errors.file("le fichier est vide.")
    assert errors.sorted() == [
        "Fichier « plan.xlsx » : le fichier est vide.",
        "Feuille « Enjeux » : feuille absente.",
        "Feuille « Actions », ligne 3, colonne « Code » : code manquant.",
        "Feuille « Actions », ligne 3, colonne « État » : valeur illisible.",
    ]


def test_errors_without_sheet_start_with_the_row():
    errors = ErrorCollector("valeurs.csv")
    errors.header_row = 1
    errors.at("colonne obligatoire absente.", row=1, column="valeur")
    errors.at("« x » n'est pas un nombre.", row=4, column="valeur")
    assert errors.sorted() == [
        "Ligne 1, colonne « valeur » : colonne obligatoire absente.",
        "Ligne 4, colonne « valeur » : « x » n'est pas un nombre.",
    ]
    assert errors.rows == {4}  # la ligne d'en-tête n'est pas une ligne de données refusée


def test_errors_beyond_the_cap_are_counted_not_listed():
    errors = ErrorCollector("gros.csv", limit=3)
    for row in range(2, 12):
        errors.at("valeur manquante.", row=row, column="valeur")
    assert errors.total == 10
    listed = errors.sorted()
    assert len(listed) == 4
    assert listed[:3] == [f"Ligne {row}, colonne « valeur » : valeur manquante." for row in (2, 3, 4)]
    assert listed[-1] == "… et 7 autres erreurs non affichées."
    assert errors.details()[-1] == (None, "", "… et 7 autres erreurs non affichées.")
    assert errors.rows == set(range(2, 12))


def test_report_counts_then_refusal_zeroes_them():
    report = uploads.ImportReport(created=2, updated=1, unchanged=0)
    assert report.ok
    assert report.summary == "Import terminé : 2 éléments créés, 1 modifié, 0 inchangé."
    assert uploads.ImportReport(created=1, dry_run=True).summary == (
        "Simulation, rien n'a été enregistré : 1 élément serait créé, 0 modifié, 0 inchangé."
    )
    errors = ErrorCollector("f.xlsx")
    errors.at("erreur.", row=3)
    errors.at("autre erreur.", row=5)
    report.refuse(errors)
    assert (report.created, report.updated, report.unchanged, report.refused) == (0, 0, 0, 2)
    assert report.summary == "Import refusé : 2 erreurs. La base de données n'a pas été modifiée."
