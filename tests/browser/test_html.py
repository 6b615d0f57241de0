"""HTML valide : le validateur Nu du W3C (``vnu.jar``, paquet npm ``vnu-jar`` épinglé dans
``tests/browser/vnu/``, installé par ``make vnu``) sur chaque type de page que vérifie axe-core.

Le HTML tel que le serveur l'envoie (pas le DOM après JavaScript) de toutes les pages retenues
est écrit dans un dossier temporaire, puis validé par un seul lancement de Java (une seule JVM) :
``java -jar vnu.jar --errors-only --format json dossier``. Zéro erreur attendue ; les
avertissements sont permis.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from .conftest import browser_required, new_context
from .pages import ALL_PAGES, params

VNU_DIR = Path(__file__).resolve().parent / "vnu"
VNU_JAR = Path(
    os.environ.get("CDV_VNU_JAR", VNU_DIR / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar")
)
JAVA = os.environ.get("CDV_JAVA", "java")


def missing_validator_reason() -> str | None:
    if not VNU_JAR.is_file():
        return f"validateur Nu introuvable ({VNU_JAR}) : lancer « make vnu » (npm ci dans tests/browser/vnu/)"
    if not shutil.which(JAVA):
        return f"Java introuvable ({JAVA}) : apt-get install default-jre-headless"
    return None


def require_validator() -> None:
    if reason := missing_validator_reason():
        if browser_required():
            pytest.fail(f"{reason} ; obligatoire avec CDV_REQUIRE_BROWSER=1.")
        pytest.skip(f"TEST NAVIGATEUR SAUTÉ : {reason}")


def validate(folder: Path) -> dict[str, list[dict]]:
    """Valide tous les fichiers ``*.html`` de ``folder`` en un lancement ; erreurs par nom de fichier."""
    result = subprocess.run(
        [JAVA, "-jar", str(VNU_JAR), "--errors-only", "--format", "json", "--skip-non-html", str(folder)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    try:
        messages = json.loads(result.stderr or result.stdout)["messages"]
    except (ValueError, KeyError):
        pytest.fail(
            f"Sortie illisible du validateur Nu (code {result.returncode}) :\n{result.stderr[-4000:]}"
        )
    errors: dict[str, list[dict]] = {}
    for message in messages:
        name = Path(unquote(urlparse(message.get("url", "")).path)).stem or "?"
        errors.setdefault(name, []).append(message)
    if result.returncode != 0 and not errors:
        pytest.fail(f"Le validateur Nu a échoué (code {result.returncode}) :\n{result.stderr[-4000:]}")
    return errors


def describe(messages: list[dict]) -> str:
    lines = []
    for m in messages:
        where = f"ligne {m.get('lastLine', m.get('firstLine', '?'))}, colonne {m.get('firstColumn', '?')}"
        extract = " ".join((m.get("extract") or "").split())[:160]
        lines.append(f"- {where} : {m.get('message')}" + (f"\n    « {extract} »" if extract else ""))
    return "\n".join(lines)


@pytest.fixture(scope="session")
def html_errors(request, browser, site, login_state, tmp_path_factory):
    """Les erreurs du validateur Nu pour chaque page que la session va tester (id de page → erreurs).

    Seules les pages sélectionnées (``-k``) sont récupérées, toutes validées en un seul lancement."""
    require_validator()
    wanted = {
        item.callspec.params["spec"].id
        for item in request.session.items
        if item.originalname == "test_html_valide" and hasattr(item, "callspec")
    }
    specs = [spec for spec in ALL_PAGES if spec.id in wanted]
    folder = tmp_path_factory.mktemp("html")
    contexts = {}
    try:
        for spec in specs:
            if spec.user not in contexts:
                options = {"storage_state": login_state(spec.user)} if spec.user else {}
                contexts[spec.user] = new_context(browser, **options)
            url = spec.url(site)
            response = contexts[spec.user].request.get(url, max_redirects=0)
            if response.status != spec.status:
                pytest.fail(f"{spec.id} : {url} répond {response.status}, {spec.status} attendu.")
            (folder / f"{spec.id}.html").write_bytes(response.body())
    finally:
        for context in contexts.values():
            context.close()
    return validate(folder)


@pytest.mark.parametrize("spec", params(ALL_PAGES))
def test_html_valide(html_errors, spec):
    """Zéro erreur du validateur Nu (W3C) dans le HTML servi de chaque type de page."""
    errors = html_errors.get(spec.id, [])
    assert not errors, f"{spec.id} : {len(errors)} erreur(s) du validateur Nu (W3C) :\n{describe(errors)}"


def test_le_validateur_html_detecte_les_erreurs(tmp_path):
    """Garde-fou : le validateur tourne vraiment et signale, avec sa ligne, une page fautive (ici un
    tableau de données replié après la légende d'une figure)."""
    require_validator()
    (tmp_path / "fautive.html").write_text(
        '<!DOCTYPE html>\n<html lang="fr"><head><title>Essai</title></head><body><main>\n'
        "<figure><svg></svg><figcaption>Légende</figcaption>\n"
        "<details><summary>Tableau</summary><table><tr><td>1</td></tr></table></details></figure>\n"
        "</main></body></html>\n",
        encoding="utf-8",
    )
    (tmp_path / "valide.html").write_text(
        '<!DOCTYPE html>\n<html lang="fr"><head><title>Essai</title></head><body><main><p>Bien.</p></main>'
        "</body></html>\n",
        encoding="utf-8",
    )
    errors = validate(tmp_path)
    assert "valide" not in errors, errors
    assert any("details" in m["message"] and m["lastLine"] == 4 for m in errors.get("fautive", [])), errors
