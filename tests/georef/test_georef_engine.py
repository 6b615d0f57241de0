"""Moteur « point → QPV » : justesse sur les contours réels de la géographie 2024.

Les cas limites (bord, trou, plusieurs parties, contour réparé, chevauchement, frontière commune)
sont pris dans les vrais contours, et 100 000 points tirés au hasard sont comparés à un test
« covers » de chaque point contre chaque contour, écrit ici indépendamment du moteur.
"""

import os
import shutil

import numpy as np
import pytest
import shapely
from django.test import override_settings
from shapely.geometry import MultiPolygon, Polygon, box

from cdv.georef import coords, engine
from cdv.georef.engine import GeorefError, QpvIndex

pytestmark = pytest.mark.reference


@pytest.fixture(autouse=True)
def no_disk_cache(settings):
    """Ces tests construisent l'index (sans le cache sur disque des autres tests, config/settings/test.py) ;
    ceux du cache sur disque choisissent leur dossier (``cache_dir``)."""
    settings.GEOREF_CACHE_DIR = None


@pytest.fixture(scope="module")
def index(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), override_settings(GEOREF_CACHE_DIR=None):
        engine.clear_cache()
        return engine.get_index("2024")


def position(index, code):
    return list(index.codes).index(code)


def brute_force(index, lon, lat):
    """Test de chaque point contre chaque contour (covers), le plus petit code l'emportant."""
    out = np.full(len(lon), -1, np.int32)
    bounds = shapely.bounds(index.geometries)
    by_lon = np.argsort(lon, kind="stable")  # les points de l'emprise en longitude : une tranche
    sorted_lon = lon[by_lon]
    for i in range(len(index.geometries) - 1, -1, -1):  # du plus grand code au plus petit
        west, south, east, north = bounds[i]
        rows = by_lon[np.searchsorted(sorted_lon, west, "left") : np.searchsorted(sorted_lon, east, "right")]
        rows = rows[(lat[rows] >= south) & (lat[rows] <= north)]
        if rows.size:
            geometry = shapely.from_wkb(shapely.to_wkb(index.geometries[i]))  # copie non préparée
            hits = shapely.covers(geometry, shapely.points(lon[rows], lat[rows]))
            out[rows[hits]] = i
    return out


def test_index_holds_every_qpv_2024_sorted_by_code(index, national_qpv_count):
    assert len(index) == national_qpv_count
    assert list(index.codes) == sorted(index.codes)
    assert index.repaired.sum() > 500  # beaucoup de contours source ont été réparés


def test_point_inside_outside_and_nan(index):
    malakoff = index.geometries[position(index, "QN04413M")]
    inside = shapely.get_coordinates(malakoff.representative_point())[0]
    lon = np.array([inside[0], 6.8652, np.nan, -1.55, 200.0])
    lat = np.array([inside[1], 45.8326, 47.2, np.nan, 47.2])
    found = index.locate(lon, lat)
    assert index.codes[found[0]] == "QN04413M"
    assert index.names[found[0]] == "Malakoff"
    assert list(found[1:]) == [-1, -1, -1, -1]  # mont Blanc, NaN, hors de la grille
    assert index.locate(np.array([]), np.array([])).shape == (0,)


def test_point_on_boundary_is_inside(index):
    i = position(index, "QN04413M")
    vertices = shapely.get_coordinates(shapely.get_exterior_ring(index.geometries[i].geoms[0]))
    found = index.locate(vertices[:, 0], vertices[:, 1])
    assert (found == i).all()


def test_shared_boundary_and_overlap_go_to_smallest_code(index):
    # QN01332M et QN01350M (Marseille) se touchent le long d'une ligne ;
    # QN03107M et QN03119N (Toulouse) se chevauchent.
    a, b = index.geometries[position(index, "QN01332M")], index.geometries[position(index, "QN01350M")]
    shared = shapely.get_coordinates(shapely.intersection(a, b))
    assert len(shared)
    assert set(index.codes[index.locate(shared[:, 0], shared[:, 1])]) == {"QN01332M"}
    c, d = index.geometries[position(index, "QN03107M")], index.geometries[position(index, "QN03119N")]
    overlap = shapely.intersection(c, d)
    assert overlap.area > 0
    point = shapely.get_coordinates(overlap.representative_point())
    assert index.codes[index.locate(point[:, 0], point[:, 1])[0]] == "QN03107M"


def test_point_in_a_hole_is_outside(index):
    i = position(index, "QN04908M")  # Le Grand Bellevue (Angers) : un trou
    polygon = index.geometries[i].geoms[0]
    assert len(polygon.interiors) == 1
    hole = Polygon(polygon.interiors[0])
    inside_hole = shapely.get_coordinates(hole.representative_point())
    assert index.locate(inside_hole[:, 0], inside_hole[:, 1])[0] == -1
    ring = shapely.get_coordinates(polygon.interiors[0])  # le bord du trou est dans le QPV
    assert (index.locate(ring[:, 0], ring[:, 1]) == i).all()


def test_multi_part_and_repaired_qpv(index):
    i = position(index, "QN00103M")  # Les Courbes de l'Albarine : 4 parties, contour réparé
    geometry = index.geometries[i]
    assert len(geometry.geoms) == 4 and index.repaired[i]
    points = np.array([shapely.get_coordinates(p.representative_point())[0] for p in geometry.geoms])
    assert (index.locate(points[:, 0], points[:, 1]) == i).all()
    rng = np.random.default_rng(7)
    west, south, east, north = geometry.bounds
    lon, lat = rng.uniform(west, east, 20_000), rng.uniform(south, north, 20_000)
    assert (index.locate(lon, lat) == brute_force(index, lon, lat)).all()


def test_every_repaired_qpv_finds_its_own_point(index):
    repaired = np.flatnonzero(index.repaired)
    points = shapely.get_coordinates(shapely.point_on_surface(index.geometries[repaired]))
    found = index.locate(points[:, 0], points[:, 1])
    # un point de surface d'un QPV est dans ce QPV, ou dans un QPV de plus petit code qui le chevauche
    assert ((found == repaired) | ((found >= 0) & (found < repaired))).all()
    assert (found == repaired).mean() > 0.99


def test_agrees_with_brute_force_on_100000_random_points(index):
    rng = np.random.default_rng(2024)
    n = 100_000
    regions = np.array(list(coords.FRANCE_REGIONS.values())[:7])  # métropole et outre-mer des QPV
    weights = np.array([0.8] + [0.2 / 6] * 6)
    pick = rng.choice(len(regions), n // 2, p=weights)
    west, south, east, north = regions[pick].T
    lon1, lat1 = rng.uniform(west, east), rng.uniform(south, north)
    # l'autre moitié autour des QPV (emprise élargie de moitié) : beaucoup de points près des bords
    bounds = shapely.bounds(index.geometries)
    pick = rng.integers(0, len(bounds), n - n // 2)
    width, height = bounds[pick, 2] - bounds[pick, 0], bounds[pick, 3] - bounds[pick, 1]
    lon2 = bounds[pick, 0] - width / 4 + rng.random(len(pick)) * 1.5 * width
    lat2 = bounds[pick, 1] - height / 4 + rng.random(len(pick)) * 1.5 * height
    lon, lat = np.concatenate([lon1, lon2]), np.concatenate([lat1, lat2])
    found = index.locate(lon, lat)
    expected = brute_force(index, lon, lat)
    assert (found == expected).all(), f"{(found != expected).sum()} désaccords"
    assert (found >= 0).sum() > 10_000  # le tirage met bien beaucoup de points dans des QPV
    # et les sommets des contours (sur le bord) : dedans, au plus petit code
    vertices = shapely.get_coordinates(index.geometries)[::20]
    assert (
        index.locate(vertices[:, 0], vertices[:, 1]) == brute_force(index, vertices[:, 0], vertices[:, 1])
    ).all()


def test_synthetic_index_rules():
    # deux carrés qui se touchent, un troisième avec un trou, un en deux parties, un qui en chevauche un autre
    left, right = box(0, 0, 1, 1), box(1, 0, 2, 1)
    holed = Polygon(
        [(3, 0), (4, 0), (4, 1), (3, 1)], [[(3.25, 0.25), (3.75, 0.25), (3.75, 0.75), (3.25, 0.75)]]
    )
    two_parts = MultiPolygon([box(5, 0, 5.5, 0.5), box(6, 0, 6.5, 0.5)])
    over = box(0.5, 0.5, 1.5, 1.5)
    index = QpvIndex(
        ["QB", "QA", "QC", "QD", "Q0"],
        ["droite", "gauche", "trou", "deux", "dessus"],
        [right, left, holed, two_parts, over],
        coarse_step=1.0,
    )
    assert list(index.codes) == ["Q0", "QA", "QB", "QC", "QD"]
    lon = np.array([0.5, 1.0, 1.0, 1.5, 3.5, 3.1, 3.25, 5.25, 6.25, 5.75, 0.75, 10])
    lat = np.array([0.25, 0.25, 0.75, 0.25, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.75, 10])
    found = [str(index.codes[i]) if i >= 0 else None for i in index.locate(lon, lat)]
    assert found == ["QA", "QA", "Q0", "QB", None, "QC", "QC", "QD", "QD", None, "Q0", None]


def test_locate_one_and_cache(django_db_blocker, django_db_setup):
    with django_db_blocker.unblock():
        engine.clear_cache()
        first = engine.get_index()
        assert engine.get_index() is first
        assert engine.locate_one(6.8652, 45.8326) is None
        point = shapely.get_coordinates(first.geometries[position(first, "QN04413M")].representative_point())[
            0
        ]
        assert engine.locate_one(point[0], point[1], "2024") == ("QN04413M", "Malakoff")
        engine.clear_cache()
        assert engine.get_index() is not first


@pytest.mark.django_db
def test_index_is_rebuilt_when_qpvs_change(index):
    from cdv.territories.models import Territory

    before = engine.get_index()  # celui du module, gardé dans le processus (contours inchangés)
    Territory.objects.create(
        kind="QPV",
        code="QN04499M",
        name="Quartier d'essai",
        geography="2024",
        geometry={"type": "MultiPolygon", "coordinates": [[[[-3, 46], [-2.9, 46], [-2.9, 46.1], [-3, 46]]]]},
    )
    after = engine.get_index()
    assert after is not before and len(after) == len(before) + 1
    assert engine.locate_one(-2.95, 46.02) == ("QN04499M", "Quartier d'essai")


@pytest.mark.django_db
def test_geography_2015_without_contours_and_unknown_geography():
    with pytest.raises(GeorefError, match="contours des QPV de la géographie 2015 ne sont pas chargés"):
        engine.get_index("2015")
    with pytest.raises(GeorefError, match="inconnue « 2020 »"):
        engine.get_index("2020")


def test_every_qpv_lies_in_the_french_territories_known_to_coords(index):
    vertices = shapely.get_coordinates(index.geometries)
    assert coords.in_france(vertices[:, 0], vertices[:, 1]).all()


# --- cache de l'index sur disque (GEOREF_CACHE_DIR) -------------------------------------------------


@pytest.fixture
def cache_dir(tmp_path, settings):
    settings.GEOREF_CACHE_DIR = str(tmp_path / "cache")
    engine.clear_cache()
    yield tmp_path / "cache"
    engine.clear_cache()


def cache_files(directory):
    return sorted(directory.glob("qpv-2024-*.npz"))


@pytest.fixture(scope="module")
def index_file(index, tmp_path_factory):
    """Le fichier de cache de l'index du module, écrit une fois comme l'écrit ``get_index`` : les
    tests qui partent d'un cache déjà là le copient au lieu de reconstruire l'index (0,5 s chacun)."""
    path = engine.cache_path(tmp_path_factory.mktemp("index"), "2024", index.fingerprint)
    engine._write_cache(path, index, index.fingerprint)
    return path


def copy_index_file(index_file, cache_dir):
    """Le cache tel que ``get_index`` l'aurait laissé : le fichier de l'index du module."""
    cache_dir.mkdir(exist_ok=True)
    shutil.copyfile(index_file, cache_dir / index_file.name)
    return cache_dir / index_file.name


def no_geojson_parsing(monkeypatch):
    """Relire l'index du disque ne doit pas analyser un seul contour GeoJSON."""

    def refuse(*args, **kwargs):
        raise AssertionError("index reconstruit au lieu d'être relu du cache")

    monkeypatch.setattr(engine.shapely, "from_geojson", refuse)


def same_index(a, b):
    assert list(a.codes) == list(b.codes) and list(a.names) == list(b.names)
    assert list(a.ids) == list(b.ids) and list(a.repaired) == list(b.repaired)
    assert list(shapely.to_wkb(a.geometries)) == list(shapely.to_wkb(b.geometries))
    for name in ("coarse", "blocks", "cand_ptr", "cand_idx"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert (a.x0, a.y0, a.fine_step, a.nx_coarse, a.ny_coarse, a.k) == (
        b.x0,
        b.y0,
        b.fine_step,
        b.nx_coarse,
        b.ny_coarse,
        b.k,
    )
    assert a.stats == b.stats


def random_points(n=50_000, seed=11):
    """Points autour des QPV de métropole (beaucoup près d'un contour)."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(-1.65, -1.45, n)  # Nantes et alentours
    lat = rng.uniform(47.15, 47.3, n)
    return lon, lat


@pytest.mark.django_db
def test_disk_cache_hit_gives_the_same_index_and_answers(cache_dir, monkeypatch):
    built = engine.get_index("2024")
    (path,) = cache_files(cache_dir)
    assert path.name == f"qpv-2024-{built.fingerprint}.npz"
    assert not list(cache_dir.glob(".qpv-*"))  # écrit à côté puis renommé : pas de reste

    engine.clear_cache()  # comme un nouveau processus
    with monkeypatch.context() as patch:
        no_geojson_parsing(patch)
        loaded = engine.get_index("2024")
    assert loaded is not built and loaded.fingerprint == built.fingerprint
    same_index(loaded, built)
    lon, lat = random_points()
    assert np.array_equal(loaded.locate(lon, lat), built.locate(lon, lat))
    assert (loaded.locate(lon, lat) >= 0).sum() > 500  # bien des points dans un QPV
    # et un point sur un bord, dans un trou : mêmes règles qu'à la construction
    i = position(loaded, "QN04908M")
    ring = shapely.get_coordinates(loaded.geometries[i].geoms[0].interiors[0])
    assert (loaded.locate(ring[:, 0], ring[:, 1]) == i).all()
    assert cache_files(cache_dir) == [path]


@pytest.mark.django_db
def test_disk_cache_is_not_used_once_a_contour_changes(cache_dir, monkeypatch, index_file):
    from cdv.territories.models import Territory

    copy_index_file(index_file, cache_dir)
    with monkeypatch.context() as patch:
        no_geojson_parsing(patch)
        before = engine.get_index("2024")  # relu du cache
    (old,) = cache_files(cache_dir)
    # Malakoff devient un petit carré au large de la Vendée : mêmes identifiants, même nombre de QPV.
    square = {
        "type": "MultiPolygon",
        "coordinates": [[[[-3, 46], [-2.9, 46], [-2.9, 46.1], [-3, 46.1], [-3, 46]]]],
    }
    malakoff = Territory.objects.qpvs("2024").get(code="QN04413M")
    old_point = shapely.get_coordinates(
        before.geometries[position(before, "QN04413M")].representative_point()
    )
    Territory.objects.filter(pk=malakoff.pk).update(geometry=square)

    engine.clear_cache()  # un autre processus, ou après une modification des contours
    after = engine.get_index("2024")
    assert after.fingerprint != before.fingerprint
    assert engine.locate_one(-2.95, 46.05) == ("QN04413M", "Malakoff")
    assert after.locate(old_point[:, 0], old_point[:, 1])[0] != position(after, "QN04413M")
    new = [p for p in cache_files(cache_dir) if p != old]
    assert len(new) == 1 and after.fingerprint in new[0].name

    # le nouveau fichier sert au processus suivant, et redonne la même réponse
    engine.clear_cache()
    with monkeypatch.context() as patch:
        no_geojson_parsing(patch)
        again = engine.get_index("2024")
    same_index(again, after)
    # un nom de QPV changé change aussi l'empreinte
    Territory.objects.filter(pk=malakoff.pk).update(name="Malakoff renommé")
    engine.clear_cache()
    assert engine.locate_one(-2.95, 46.05) == ("QN04413M", "Malakoff renommé")


def _tamper_grid(path, **changes):
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    arrays.update(changes)
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "damage",
    [
        "empty",
        "garbage",
        "truncated",
        "flipped-byte",
        "foreign-header",
        "candidate-out-of-range",
        "cell-out-of-range",
        "bad-wkb",
        "pickle",
    ],
)
def test_a_damaged_cache_file_is_rebuilt_not_trusted(cache_dir, damage, caplog, index, index_file):
    built = index
    path = copy_index_file(index_file, cache_dir)
    assert cache_files(cache_dir) == [path]
    raw = path.read_bytes()
    if damage == "empty":
        path.write_bytes(b"")
    elif damage == "garbage":
        path.write_bytes(b"\x00garbage" * 1000)
    elif damage == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "flipped-byte":  # au milieu des données : le CRC de l'archive ne correspond plus
        middle = len(raw) // 2
        path.write_bytes(raw[:middle] + bytes([raw[middle] ^ 0xFF]) + raw[middle + 1 :])
    elif damage == "foreign-header":
        _tamper_grid(path, meta=np.array(["cdv-georef-index-0", "2024", built.fingerprint]))
    elif damage == "candidate-out-of-range":
        _tamper_grid(path, cand_idx=np.full_like(built.cand_idx, len(built) + 5))
    elif damage == "cell-out-of-range":
        blocks = built.blocks.copy()
        blocks[blocks >= 0] = len(built)
        _tamper_grid(path, blocks=blocks)
    elif damage == "bad-wkb":
        _tamper_grid(path, wkb=np.frombuffer(b"\x01\x02" * (len(raw) // 8), np.uint8))
    elif damage == "pickle":  # un objet Python dans le fichier n'est jamais chargé
        _tamper_grid(path, meta=np.array([object()], dtype=object))

    engine.clear_cache()
    with caplog.at_level("WARNING", logger="cdv.georef.engine"):
        rebuilt = engine.get_index("2024")
    assert "illisible" in caplog.text
    same_index(rebuilt, built)
    lon, lat = random_points(5_000)
    assert np.array_equal(rebuilt.locate(lon, lat), built.locate(lon, lat))
    # le fichier abîmé a été remplacé par un bon : le processus suivant le relit
    engine.clear_cache()
    caplog.clear()
    with caplog.at_level("WARNING", logger="cdv.georef.engine"):
        engine.get_index("2024")
    assert "illisible" not in caplog.text
    assert cache_files(cache_dir) == [path]


@pytest.mark.django_db
def test_cache_directory_unwritable_or_disabled(tmp_path, settings, caplog, national_qpv_count):
    blocker = tmp_path / "un-fichier"
    blocker.write_text("pas un dossier")
    settings.GEOREF_CACHE_DIR = str(blocker / "cache")
    engine.clear_cache()
    with caplog.at_level("WARNING", logger="cdv.georef.engine"):
        index = engine.get_index("2024")  # le cache ne s'écrit pas : l'index sert quand même
    assert len(index) == national_qpv_count and "non écrit" in caplog.text
    settings.GEOREF_CACHE_DIR = None
    engine.clear_cache()
    assert len(engine.get_index("2024")) == national_qpv_count
    engine.clear_cache()


@pytest.mark.django_db
def test_old_cache_files_are_pruned(cache_dir, index_file):
    from cdv.territories.models import Territory

    # Les fichiers d'états antérieurs des contours (CACHE_KEEP + 1, du plus ancien au plus récent),
    # une écriture interrompue il y a longtemps, une autre en cours, et le fichier d'une autre géographie.
    cache_dir.mkdir()
    older = []
    for k in range(engine.CACHE_KEEP + 1):
        path = cache_dir / f"qpv-2024-{k:032x}.npz"
        shutil.copyfile(index_file, path)
        os.utime(path, (1_000_000 + k, 1_000_000 + k))
        older.append(path)
    stale, recent_tmp = cache_dir / ".qpv-abandonne.tmp", cache_dir / ".qpv-en-cours.tmp"
    stale.write_bytes(b"x")
    os.utime(stale, (0, 0))
    recent_tmp.write_bytes(b"x")
    other = cache_dir / "qpv-2015-0.npz"
    other.write_bytes(b"x")
    os.utime(other, (0, 0))

    malakoff = Territory.objects.qpvs("2024").get(code="QN04413M")
    Territory.objects.filter(pk=malakoff.pk).update(name="Malakoff encore")
    engine.clear_cache()
    current = engine.cache_path(cache_dir, "2024", engine.get_index("2024").fingerprint)
    # le nouveau fichier et les CACHE_KEEP - 1 plus récents des anciens ; rien d'autre n'est touché
    assert cache_files(cache_dir) == sorted([current, *older[-(engine.CACHE_KEEP - 1) :]])
    assert not stale.exists() and recent_tmp.exists() and other.exists()


def test_georef_does_not_import_pandas():
    """pandas (0,2 s au démarrage) n'est pas chargé par le géoréférencement d'un fichier."""
    import subprocess
    import sys

    code = """
import sys
import os

import numpy as np
from cdv.georef import coords, engine, pipeline
from cdv.georef.engine import QpvIndex
from shapely.geometry import box
index = QpvIndex(["Q1"], ["carré"], [box(0, 40, 1, 41)])
lon = coords.arrow_strings(["0.5", "2", "x"])
block = pipeline.Block(n=3, columns={"a": lon, "b": ["40.5", "40.5", " 1,5 "]})
result = pipeline.compute_block(block, pipeline.GeorefOptions(mode="lonlat", lon="a", lat="b"), index)
writer = pipeline.CsvWriter(";", index, False, [])
block.lines = coords.arrow_strings(["l1", "\\nl2", "\\nl3"])
assert b"".join(bytes(c) for c in writer.render(block, result)).count(b"DANS_QPV") == 1
print(result.status.tolist(), "pandas" in sys.modules)
"""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "False", done.stdout
