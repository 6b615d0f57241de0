"""Ce que partagent les bancs d'essai qui tournent dans leur propre processus Django
(annual_report.py, commitments.py, evaluation.py, indicators.py) : une base SQLite jetable dans un
dossier temporaire à eux, Django prêt, la base remplie comme une instance neuve, et le verdict
d'un temps mesuré contre sa cible.

Un banc l'importe avant tout import de Django ou de cdv (le dossier bench/ est celui du script) :

    from benchdb import start_django

    WORKDIR = start_django()
    from cdv… import …  # noqa: E402
"""

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start_django() -> Path:
    """Une base SQLite jetable dans un dossier temporaire neuf, les réglages de test, Django prêt :
    rend le dossier."""
    sys.path.insert(0, str(ROOT))
    workdir = Path(tempfile.mkdtemp(prefix="cdv-bench-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    return workdir


def load_data(*, demo: bool = True) -> None:
    """La base migrée, les données de référence (QPV, communes, contrat de Nantes) et, si ``demo``,
    la démonstration."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_reference_data", verbosity=0)
    if demo:
        call_command("load_demo_data", verbosity=0)


def verdict(seconds: float, target: float) -> str:
    return "OK" if seconds < target else "AU-DESSUS DE LA CIBLE"
