"""Contours déjà chargés : anneaux orientés selon la RFC 7946 (extérieur antihoraire, trous
horaires) et sommets répétés consécutifs retirés, comme le fait désormais le chargement."""

import json

import shapely
from django.db import migrations
from shapely.geometry import mapping, shape

BATCH = 200


def conform(geojson: dict) -> dict:
    geom = shapely.orient_polygons(shapely.remove_repeated_points(shape(geojson)), exterior_cw=False)
    return json.loads(json.dumps(mapping(geom)))


def orient_geometries(apps, schema_editor):
    Territory = apps.get_model("territories", "Territory")
    # Les identifiants d'abord : SQLite ne doit pas relire une table qu'on réécrit en la parcourant.
    pks = list(Territory.objects.filter(geometry__isnull=False).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(pks), BATCH):
        batch = Territory.objects.filter(pk__in=pks[start : start + BATCH]).only("pk", "geometry")
        changed = []
        for territory in batch:
            try:
                fixed = conform(territory.geometry)
            except (shapely.errors.GEOSException, ValueError, TypeError, KeyError, AttributeError):
                continue  # contour illisible ou dégénéré : laissé tel quel, clean() le signale
            if fixed != territory.geometry:
                territory.geometry = fixed
                changed.append(territory)
        Territory.objects.bulk_update(changed, ["geometry"])


class Migration(migrations.Migration):
    dependencies = [
        ("territories", "0002_population_year"),
    ]

    operations = [
        migrations.RunPython(orient_geometries, migrations.RunPython.noop, elidable=True),
    ]
