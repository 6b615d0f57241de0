"""Le test de grappe : une grappe (tests/cluster/harness.py) lancée une fois pour la session, et un
« navigateur » qui passe par un répartiteur de charge imaginaire devant les deux nœuds.

Hors de ``make test`` (``norecursedirs`` de pyproject.toml) : il se lance à part,
``.venv/bin/pytest tests/cluster -p no:cacheprovider`` (voir docs/tests.md), et par .ci/run.
"""

import re
import shutil
import tempfile
from pathlib import Path

import pytest
import requests

from .harness import FORWARDED, HOST, Cluster

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(scope="session")
def cluster(request):
    import os

    root = Path(tempfile.mkdtemp(prefix="cdv-grappe-"))
    grappe = Cluster(root=root)
    try:
        grappe.start()
    except BaseException:
        grappe.stop()
        raise
    summary = request.config.stash.setdefault(_SUMMARY, [])
    timings = ", ".join(f"{name} {seconds} s" for name, seconds in grappe.timings.items())
    summary.append(f"Grappe démarrée : {timings}.")
    yield grappe
    grappe.stop()
    if request.session.testsfailed or os.environ.get("CDV_CLUSTER_KEEP"):
        summary.append(f"Journaux de la grappe gardés : {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)


_SUMMARY = pytest.StashKey[list]()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    for line in config.stash.get(_SUMMARY, []):
        terminalreporter.write_line(line)


class Browser:
    """Une personne et ses cookies. Chaque requête vise un nœud (« A » ou « B ») comme le ferait le
    répartiteur : même hôte public (``Host: 127.0.0.1``), HTTPS annoncé par X-Forwarded-Proto."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.session = requests.Session()
        self.session.headers.update(FORWARDED)

    def _headers(self, extra: dict) -> dict:
        """Le répartiteur parle HTTPS au navigateur : ses cookies « Secure » (session, CSRF) lui sont
        rendus, bien que les nœuds soient joints en HTTP (requests, lui, les garderait pour HTTPS)."""
        cookies = "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.session.cookies)
        return {**({"Cookie": cookies} if cookies else {}), **extra}

    def url(self, node: str, path: str) -> str:
        return self.cluster.nodes[node].url + path

    def get(self, node: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", 60)
        headers = self._headers(kwargs.pop("headers", {}))
        return self.session.get(self.url(node, path), headers=headers, **kwargs)

    def csrf_token(self, node: str, path: str) -> str:
        page = self.get(node, path)
        assert page.status_code == 200, (path, page.status_code)
        found = CSRF.search(page.text)
        assert found, f"pas de jeton CSRF dans {path}"
        return found.group(1)

    def post(self, node: str, path: str, data: dict, *, form_path: str | None = None, **kwargs):
        """Envoie un formulaire comme un navigateur : le jeton CSRF lu sur la page du formulaire
        (``form_path``, par défaut ``path``), l'en-tête Referer de cette page."""
        form_path = form_path or path
        data = {"csrfmiddlewaretoken": self.csrf_token(node, form_path), **data}
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", 60)
        headers = self._headers({"Referer": f"https://{HOST}{form_path}", **kwargs.pop("headers", {})})
        return self.session.post(self.url(node, path), data=data, headers=headers, **kwargs)

    def log_in(self, node: str, email: str, password: str) -> None:
        response = self.post(node, "/connexion/", {"username": email, "password": password})
        assert response.status_code == 302, f"connexion de {email} sur {node} : {response.status_code}"


@pytest.fixture
def browser(cluster):
    return Browser(cluster)


@pytest.fixture
def new_browser(cluster):
    return lambda: Browser(cluster)
