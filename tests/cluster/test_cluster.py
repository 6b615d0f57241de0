"""Deux serveurs d'application et deux exécuteurs de tâches sur une base PostgreSQL, un Redis et un
stockage S3 communs (tests/cluster/harness.py) : ce qu'une personne fait sur un nœud vaut sur
l'autre, chaque tâche n'est exécutée qu'une fois, et la perte d'un nœud ne perd rien d'acquis.

Les requêtes passent par le « répartiteur » de conftest.Browser (même hôte public, HTTPS annoncé) ;
les vérifications lisent la base commune directement (Cluster.sql).
"""

import datetime
import email
import email.policy
import io
import secrets
import signal
import subprocess
import threading
import time

import openpyxl
import pytest
import requests

from .probe import TABLE as PROBE_TABLE

TASKS = "django_tasks_database_dbtaskresult"
LOGIN = "/connexion/"


def _wait(check, what: str, timeout: float = 90, every: float = 0.3):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"{what} : toujours pas après {timeout} s")


def _local_files(cluster) -> list[str]:
    """Les fichiers laissés sous le MEDIA_ROOT d'un nœud : un autre nœud ne les verrait pas."""
    return [
        str(path)
        for node in cluster.nodes.values()
        if node.media_root.exists()
        for path in node.media_root.rglob("*")
        if path.is_file()
    ]


def _partner(world, n=0) -> dict:
    return world["partners"][n]


# --- Session --------------------------------------------------------------------------------------


def test_session_opened_on_a_is_valid_on_b(cluster, browser):
    world = cluster.world
    referent = _partner(world)["referent"]
    anonymous = browser.get("B", "/espace/")
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith(LOGIN)

    browser.log_in("A", referent, world["password"])

    on_b = browser.get("B", "/espace/")
    assert on_b.status_code == 200 and referent in on_b.text
    # La déconnexion sur B ferme aussi la session sur A.
    assert browser.post("B", "/deconnexion/", {}, form_path="/espace/").status_code == 302
    again = browser.get("A", "/espace/")
    assert again.status_code == 302 and again.headers["Location"].startswith(LOGIN)


# --- Cache des pages publiques --------------------------------------------------------------------


def test_commitment_changed_through_a_is_public_on_b_at_once(cluster, new_browser):
    world = cluster.world
    partner = _partner(world)
    page = f"/contrats/{world['contract']}/partenaires/{partner['slug']}/"
    visitor = new_browser()
    before = visitor.get("B", page)
    assert before.status_code == 200
    cached = visitor.get("B", page)
    assert cached.headers.get("X-Cache") == "hit", "la page publique de B n'est pas gardée en cache"
    old_title = _commitment_title(cluster, partner["commitment"])
    assert old_title in cached.text

    new_title = f"Permanences renforcées {secrets.token_hex(3)}"
    api = requests.Session()
    api.headers.update({"Authorization": f"Bearer {world['api_key']}", "X-Forwarded-Proto": "https"})
    path = f"/api/v1/contracts/{world['contract']}/commitments/{partner['commitment']}"
    node_a = cluster.nodes["A"].url
    version = api.get(node_a + path, timeout=30).json()["version"]
    changed = api.patch(
        node_a + path,
        json={"version": version, "title": new_title, "amendment_reason": "Test de grappe"},
        timeout=30,
    )
    assert changed.status_code == 200, changed.text

    after = visitor.get("B", page)
    assert after.status_code == 200
    assert new_title in after.text and old_title not in after.text
    assert after.headers.get("X-Cache") != "hit"


def _commitment_title(cluster, pk) -> str:
    return cluster.sql("SELECT title FROM commitments_commitment WHERE id = %s", [pk])[0][0]


# --- Pièce jointe d'un bilan ----------------------------------------------------------------------

PDF = b"%PDF-1.4\n% piece jointe du test de grappe\n" + secrets.token_bytes(2048) + b"\n%%EOF\n"


def test_report_attachment_uploaded_through_a_downloads_through_b(cluster, new_browser):
    world = cluster.world
    partner = _partner(world)
    report_page = f"/contrats/{world['contract']}/suivi/{world['campaign_year']}/bilans/{partner['report']}/"
    referent = new_browser()
    referent.log_in("A", partner["referent"], world["password"])
    form = referent.get("A", report_page)
    assert form.status_code == 200
    version = _hidden(form.text, "version")
    sent = referent.post(
        "A",
        report_page,
        {"action": "save", "version": version, "what_worked": "Ateliers suivis"},
        files={"attachment": ("preuve-grappe.pdf", PDF, "application/pdf")},
    )
    assert sent.status_code == 302, sent.text[-2000:]
    rows = cluster.sql(
        "SELECT id FROM monitoring_reportattachment WHERE report_id = %s AND original_name = %s",
        [partner["report"], "preuve-grappe.pdf"],
    )
    assert len(rows) == 1
    download = f"{report_page}pieces/{rows[0][0]}/"

    on_b = referent.get("B", download)
    assert on_b.status_code == 200, on_b.status_code
    assert on_b.content == PDF

    # Les mêmes refus sur les deux nœuds : sans connexion, la page de connexion ; le référent d'un
    # autre partenaire et une personne extérieure au contrat, un refus.
    anonymous = new_browser()
    other = new_browser()
    other.log_in("B", _partner(world, 1)["referent"], world["password"])
    outsider = new_browser()
    outsider.log_in("A", world["outsider"], world["password"])
    for who, person in (("anonyme", anonymous), ("autre partenaire", other), ("extérieur", outsider)):
        answers = {node: person.get(node, download) for node in ("A", "B")}
        statuses = {node: answer.status_code for node, answer in answers.items()}
        assert statuses["A"] == statuses["B"], (who, statuses)
        assert statuses["A"] in {302, 403, 404}, (who, statuses)
        if who == "anonyme":
            assert all(a.headers["Location"].startswith(LOGIN) for a in answers.values())
        assert all(PDF not in answer.content for answer in answers.values())
    assert _local_files(cluster) == []


def _hidden(html: str, name: str) -> str:
    import re

    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    return found.group(1) if found else ""


# --- Géoréférencement par la file de tâches ------------------------------------------------------


def _coordinates_file() -> tuple[bytes, int, int]:
    """Un fichier de coordonnées de plus de 256 Kio, résultat demandé en XLSX : il part dans la file
    (cdv/georef/tasks.py, SYNC_MAX_BYTES_XLSX), il n'est pas traité pendant la requête. Des points
    dans le QPV du test (carré 0–0,01° E, 45–45,01° N) et d'autres dehors."""
    lines, inside, outside = ["id;longitude;latitude"], 0, 0
    n = 0
    while sum(len(line) + 1 for line in lines) < 300_000:
        n += 1
        if n % 3:
            lines.append(f"p{n};{0.0005 + (n % 89) * 0.0001:.6f};{45.0005 + (n % 83) * 0.0001:.6f}")
            inside += 1
        else:
            lines.append(f"p{n};{1.2 + (n % 97) * 0.001:.6f};{46.1:.6f}")
            outside += 1
    return ("\n".join(lines) + "\n").encode(), inside, outside


def test_georef_job_submitted_on_a_runs_once_and_downloads_from_b(cluster, new_browser):
    world = cluster.world
    data, inside, outside = _coordinates_file()
    person = new_browser()
    person.log_in("A", world["outsider"], world["password"])
    sent = person.post(
        "A",
        "/georeferencement/",
        {"mode": "lonlat", "col_lon": "longitude", "col_lat": "latitude", "geographie": "2024"}
        | {"score_min": "0,5", "format_sortie": "xlsx"},
        files={"fichier": ("beneficiaires.csv", data, "text/csv")},
    )
    assert sent.status_code == 302, sent.text[-3000:]
    job_id = int(sent.headers["Location"].rstrip("/").split("/")[-1])

    status = _wait(
        lambda: _done(cluster.sql("SELECT status FROM georef_georefjob WHERE id = %s", [job_id])),
        "traitement de géoréférencement terminé",
        timeout=180,
    )
    error = cluster.sql("SELECT error_message FROM georef_georefjob WHERE id = %s", [job_id])[0][0]
    assert status == "TERMINE", error
    runs = cluster.sql(
        f"SELECT status, worker_ids, return_value FROM {TASKS} "
        "WHERE task_path LIKE %s AND args_kwargs -> 'args' ->> 0 = %s",
        ["%run_georef_job", str(job_id)],
    )
    assert len(runs) == 1 and runs[0][0] == "SUCCESSFUL"
    assert len(runs[0][1]) == 1 and runs[0][2] == "TERMINE"

    result = person.get("B", f"/georeferencement/traitements/{job_id}/resultat/")
    assert result.status_code == 200, result.status_code
    workbook = openpyxl.load_workbook(io.BytesIO(result.content), read_only=True)
    header, *rows = list(workbook.active.iter_rows(values_only=True))
    workbook.close()
    assert len(rows) == inside + outside
    status_column = header.index("statut_qpv")
    assert sum(row[status_column] == "DANS_QPV" for row in rows) == inside
    # Le résultat n'est qu'à la personne qui a lancé le traitement, sur chaque nœud.
    other = new_browser()
    other.log_in("B", world["pilot"], world["password"])
    for node in ("A", "B"):
        assert other.get(node, f"/georeferencement/traitements/{job_id}/resultat/").status_code == 404
    assert _local_files(cluster) == []


def _done(rows):
    return rows and rows[0][0] in {"TERMINE", "ECHEC"} and rows[0][0]


# --- 200 tâches à la fois -------------------------------------------------------------------------


def test_200_jobs_queued_at_once_each_run_exactly_once(cluster):
    cluster.execute(f"CREATE TABLE IF NOT EXISTS {PROBE_TABLE} (key integer NOT NULL, pid integer NOT NULL)")
    node = cluster.nodes["A"]
    node.manage("shell", "-c", "from tests.cluster.probe import enqueue; enqueue(200)")
    path = "tests.cluster.probe.record_run"

    def finished():
        (count,) = cluster.sql(
            f"SELECT count(*) FROM {TASKS} WHERE task_path = %s AND status IN ('SUCCESSFUL', 'FAILED')",
            [path],
        )[0]
        return count == 200

    _wait(finished, "200 sondes exécutées", timeout=180)
    results = cluster.sql(f"SELECT status, worker_ids FROM {TASKS} WHERE task_path = %s", [path])
    assert len(results) == 200
    assert {status for status, _ in results} == {"SUCCESSFUL"}
    assert all(len(workers) == 1 for _, workers in results), "une tâche prise par deux exécuteurs"
    runs = cluster.sql(f"SELECT key, count(*) FROM {PROBE_TABLE} GROUP BY key")
    assert sorted(key for key, _ in runs) == list(range(200))
    assert [key for key, count in runs if count != 1] == [], "des tâches exécutées plusieurs fois"
    # Les deux exécuteurs ont travaillé (sinon l'épreuve ne prouverait rien).
    assert len({workers[0] for _, workers in results}) == 2


# --- Perte d'un nœud pendant une charge ----------------------------------------------------------


def test_stopping_a_during_load_loses_no_acknowledged_write(cluster):
    world = cluster.world
    path = f"/api/v1/contracts/{world['contract']}/commitments"
    headers = {"Authorization": f"Bearer {world['api_key']}", "X-Forwarded-Proto": "https"}
    run = secrets.token_hex(3)
    outcomes = []  # (nœud, intitulé, statut ou None, instant)
    lock = threading.Lock()
    stop = threading.Event()
    killed_at = []

    def writer(node_name: str, number: int):
        session = requests.Session()
        session.headers.update(headers)
        n = 0
        while not stop.is_set():
            n += 1
            title = f"Charge {run} {node_name}{number}-{n}"
            payload = {
                "partner": _partner(world)["slug"],
                "objective": world["objective"],
                "title": title,
                "scope": "QPV",
                "qpvs": [world["qpv"]],
            }
            try:
                status = session.post(
                    cluster.nodes[node_name].url + path, json=payload, timeout=30
                ).status_code
            except requests.RequestException:
                status = None
                time.sleep(0.05)  # nœud injoignable : le répartiteur réessaierait, sans tourner à vide
            with lock:
                outcomes.append((node_name, title, status, time.monotonic()))

    threads = [threading.Thread(target=writer, args=(name, k)) for name in ("A", "B") for k in range(2)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(3)
        # Panne franche de A : le maître gunicorn et ses workers tués d'un coup, requêtes en cours.
        cluster.nodes["A"].server.signal_group(signal.SIGKILL)
        killed_at.append(time.monotonic())
        time.sleep(4)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        cluster.nodes["A"].server.stop()
        cluster.nodes["A"].start_server()  # les tests suivants retrouvent deux nœuds

    acknowledged = [title for _, title, status, _ in outcomes if status is not None and status < 400]
    stored = {
        title
        for (title,) in cluster.sql(
            "SELECT title FROM commitments_commitment WHERE title LIKE %s", [f"Charge {run} %"]
        )
    }
    assert acknowledged, "aucune écriture acquittée"
    assert [title for title in acknowledged if title not in stored] == []
    on_b = [(status, at) for node, _, status, at in outcomes if node == "B"]
    assert [status for status, _ in on_b if status != 201] == [], "B a refusé ou perdu des requêtes"
    assert sum(at > killed_at[0] for _, at in on_b) >= 5, "B n'a presque rien servi après la panne de A"
    on_a = [(status, at) for node, _, status, at in outcomes if node == "A"]
    assert any(status == 201 and at < killed_at[0] for status, at in on_a), (
        "A n'a rien acquitté avant la panne"
    )
    assert any(status is None for status, _ in on_a), "A n'a pas été arrêté"


# --- Relances lancées sur les deux nœuds à la fois ------------------------------------------------


def _sent_mails(cluster) -> list:
    messages = []
    for node in cluster.nodes.values():
        if not node.mail_dir.exists():
            continue
        for path in node.mail_dir.iterdir():
            for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
                if chunk.strip():
                    messages.append(email.message_from_bytes(chunk, policy=email.policy.default))
    return messages


def test_reminders_started_on_both_nodes_at_once_are_sent_once(cluster):
    world = cluster.world
    deadline = datetime.date.fromisoformat(world["campaign_deadline"])
    day = (deadline - datetime.timedelta(days=7)).isoformat()  # créneau « J-7 »
    commands = [
        node.popen_manage("send_review_reminders", f"--date={day}") for node in cluster.nodes.values()
    ]
    for command in commands:
        try:
            _, errors = command.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            command.kill()
            raise
        assert command.returncode == 0, errors[-2000:]
    reminders = [
        message for message in _sent_mails(cluster) if message["Subject"].strip().startswith("Bilans ")
    ]
    recipients = sorted(address.addr_spec for message in reminders for address in message["To"].addresses)
    per_node = {name: len(list(node.mail_dir.glob("*"))) for name, node in cluster.nodes.items()}
    assert recipients == sorted(partner["referent"] for partner in world["partners"]), (
        f"chaque référent doit être relancé une fois ; fichiers de courriels par nœud : {per_node}"
    )
