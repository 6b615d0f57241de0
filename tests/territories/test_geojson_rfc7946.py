"""Contours servis en GeoJSON : règle de la main droite de la RFC 7946, sans sommet répété.

Vérifié avec geojson-validator (l'outil que les réutilisateurs passent sur nos fichiers) et, en
plus, par l'aire signée de chaque anneau : extérieur dans le sens antihoraire, trous dans le sens
horaire, jamais deux sommets consécutifs identiques.
"""

import importlib
import json

import geojson_validator
import pytest
import shapely
from django.apps import apps
from shapely.geometry import LinearRing, shape

from cdv.territories import geometry as geo
from cdv.territories.models import Territory
from tests import factories

geojson_validator.configure_logging(enabled=False)  # son rapport est vérifié, pas affiché

SLUG = "nantes-metropole-2024-2030"
CRITERIA_INVALID = ("unclosed", "less_three_unique_nodes", "exterior_not_ccw", "interior_not_cw")
CRITERIA_PROBLEMATIC = (
    "duplicate_nodes",
    "self_intersection",
    "inner_and_exterior_ring_intersect",
    "3d_coordinates",
    "outside_lat_lon_boundaries",
)

# Carré troué (0,0)-(4,4), trou (1,1)-(2,2), écrit à l'envers : extérieur horaire, trou antihoraire,
# avec des sommets répétés.
CLOCKWISE = {
    "type": "MultiPolygon",
    "coordinates": [
        [
            [[0, 0], [0, 4], [0, 4], [4, 4], [4, 0], [0, 0]],
            [[1, 1], [2, 1], [2, 1], [2, 2], [1, 2], [1, 1]],
        ]
    ],
}


def ring_problems(geometry: dict) -> list[str]:
    """Les écarts à la RFC 7946 d'un Polygon ou MultiPolygon GeoJSON, calculés sur ses coordonnées."""
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    problems = []
    for p, rings in enumerate(polygons):
        for r, ring in enumerate(rings):
            if any(a == b for a, b in zip(ring, ring[1:], strict=False)):
                problems.append(f"polygone {p}, anneau {r} : sommets consécutifs répétés")
            ccw = LinearRing(ring).is_ccw
            if (r == 0) != ccw:
                problems.append(f"polygone {p}, anneau {r} : mauvais sens")
    return problems


def assert_rfc7946(collection: dict):
    report = geojson_validator.validate_geometries(
        collection, criteria_invalid=CRITERIA_INVALID, criteria_problematic=CRITERIA_PROBLEMATIC
    )
    assert report["invalid"] == {} and report["problematic"] == {}, report
    assert not report["skipped_validation"], report
    for feature in collection["features"]:
        assert ring_problems(feature["geometry"]) == [], feature["properties"]


def test_repair_orients_rings_and_drops_repeated_vertices():
    fixed, repaired = geo.repair(CLOCKWISE)
    fixed = geo.to_geojson_dict(fixed)
    assert not repaired  # la source était valide : seul l'ordre des sommets change
    assert ring_problems(fixed) == []
    assert shape(fixed).equals(shape(CLOCKWISE))
    assert_rfc7946(
        {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": fixed}]}
    )


@pytest.mark.django_db
def test_migration_reorients_geometries_already_loaded():
    qpv = factories.QpvFactory(geometry=CLOCKWISE)
    unchanged = factories.QpvFactory(geometry=factories.territories.SQUARE)
    migration = importlib.import_module("cdv.territories.migrations.0003_geometry_rfc7946_orientation")
    migration.orient_geometries(apps, None)
    qpv.refresh_from_db()
    assert ring_problems(qpv.geometry) == []
    assert shapely.equals(shape(qpv.geometry), shape(CLOCKWISE))
    unchanged.refresh_from_db()
    assert ring_problems(unchanged.geometry) == []


@pytest.mark.parametrize("path", ["donnees/quartiers.geojson", "carte.geojson"])
def test_served_geojson_files_follow_the_right_hand_rule(client, nantes, path):
    response = client.get(f"/contrats/{SLUG}/{path}")
    assert response.status_code == 200
    collection = response.json()
    assert collection["features"]
    assert_rfc7946(collection)


def test_api_qpv_geometries_follow_the_right_hand_rule(client, nantes):
    features = []
    for code in nantes.qpvs.values_list("code", flat=True):
        data = client.get(f"/api/v1/qpv/{code}").json()
        features.append({"type": "Feature", "properties": {"code": code}, "geometry": data["geometry"]})
    assert features
    assert_rfc7946({"type": "FeatureCollection", "features": features})


def test_every_loaded_outline_follows_the_right_hand_rule(nantes):
    outlines = Territory.objects.filter(geometry__isnull=False).values_list("code", "geometry")
    bad = {code: problems for code, geometry in outlines if (problems := ring_problems(geometry))}
    assert bad == {}


@pytest.mark.django_db
def test_outline_typed_in_the_admin_is_oriented_like_a_loaded_one(client):
    client.force_login(factories.UserFactory(superuser=True))
    commune = factories.CommuneFactory()
    response = client.post(
        f"/admin/territories/commune/{commune.pk}/change/",
        {"code": commune.code, "name": commune.name, "geometry": json.dumps(CLOCKWISE), "source": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    commune.refresh_from_db()
    assert ring_problems(commune.geometry) == []
    assert shape(commune.geometry).equals(shape(CLOCKWISE))
