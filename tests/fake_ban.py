"""Un faux géocodeur BAN (API Adresse) servi sur 127.0.0.1 pour les tests : aucun test ne sort.

Il répond à ``POST /search/csv/`` (formulaire multipart : ``data`` = CSV, ``columns`` multiples,
``postcode``/``citycode`` = colonnes de filtre) et à ``GET /search/?q=…`` comme le vrai service,
de façon déterministe, à partir d'une petite table d'adresses : une recherche trouve l'entrée dont
la clé (sans accents ni majuscules) figure dans le texte recherché, la plus longue d'abord.

Des interrupteurs simulent les incidents : ``fail(n, status=429, retry_after="1")`` fait échouer
les n requêtes suivantes, ``delay`` ralentit chaque réponse ; ``requests`` garde ce qui a été reçu.
"""

import csv
import email.parser
import email.policy
import functools
import io
import json
import threading
import time
import unicodedata
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

RESULT_HEADERS = [
    "latitude",
    "longitude",
    "result_label",
    "result_score",
    "result_score_next",
    "result_type",
    "result_id",
    "result_housenumber",
    "result_name",
    "result_street",
    "result_postcode",
    "result_city",
    "result_context",
    "result_citycode",
    "result_oldcitycode",
    "result_oldcity",
    "result_district",
    "result_status",
]

# Adresses connues par défaut : (longitude, latitude, score, libellé, code postal, code INSEE).
DEFAULT_ADDRESSES = {
    "8 bd du port": (2.290084, 49.897443, 0.93, "8 Boulevard du Port 80000 Amiens", "80000", "80021"),
    "1 place du commerce nantes": (
        -1.5594,
        47.2130,
        0.91,
        "1 Place du Commerce 44000 Nantes",
        "44000",
        "44109",
    ),
    "rue floue": (-1.55, 47.21, 0.31, "Rue Floue 44000 Nantes", "44000", "44109"),
}


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(text.replace(",", " ").split())


class FakeBan:
    def __init__(self, addresses=None):
        self.addresses = dict(DEFAULT_ADDRESSES)
        self.addresses.update(addresses or {})
        self.delay = 0.0
        self.failures = []  # [(statut, Retry-After)] à servir avant toute réponse normale
        self.requests = []  # (méthode, chemin, {paramètres}, nombre de lignes du CSV)
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # silence
                pass

            def _send(self, status, body, content_type="application/json", headers=None):
                data = body.encode() if isinstance(body, str) else body
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # le client a abandonné (délai)
                    pass

            def _incident(self):
                if fake.delay:
                    time.sleep(fake.delay)
                with fake.lock:
                    failure = fake.failures.pop(0) if fake.failures else None
                if failure is None:
                    return False
                status, retry_after = failure
                headers = {"Retry-After": retry_after} if retry_after is not None else {}
                self._send(
                    status, json.dumps({"code": status, "message": "incident simulé"}), headers=headers
                )
                return True

            def do_GET(self):
                url = urlsplit(self.path)
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                with fake.lock:
                    fake.requests.append(("GET", url.path, params, None))
                if self._incident():
                    return
                if url.path != "/search/":
                    return self._send(404, "{}")
                q = params.get("q", "")
                if not 3 <= len(q.strip()) <= 200:
                    return self._send(
                        400, json.dumps({"code": 400, "message": "q must contain 3 to 200 chars"})
                    )
                found = fake.lookup(q, params.get("postcode"), params.get("citycode"))
                features = []
                if found:
                    lon, lat, score, label, postcode, citycode = found
                    features.append(
                        {
                            "type": "Feature",
                            "geometry": {"type": "Point", "coordinates": [lon, lat]},
                            "properties": {
                                "label": label,
                                "score": score,
                                "postcode": postcode,
                                "citycode": citycode,
                                "type": "housenumber",
                            },
                        }
                    )
                body = {"type": "FeatureCollection", "version": "draft", "features": features, "query": q}
                return self._send(200, json.dumps(body))

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                url = urlsplit(self.path)
                fields, data = _multipart(self.headers.get("Content-Type", ""), raw)
                rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")))) if data else []
                with fake.lock:
                    fake.requests.append(("POST", url.path, fields, len(rows)))
                if self._incident():
                    return
                if url.path != "/search/csv/":
                    return self._send(404, "{}")
                if data is None:
                    return self._send(400, json.dumps({"code": 400, "message": "data field is required"}))
                columns = fields.get("columns", [])
                postcode_col = (fields.get("postcode") or [None])[0]
                citycode_col = (fields.get("citycode") or [None])[0]
                out = io.StringIO()
                header = list(rows[0].keys()) if rows else []
                writer = csv.writer(out, lineterminator="\r\n")
                writer.writerow(header + RESULT_HEADERS)
                for row in rows:
                    query = " ".join(row.get(c, "") for c in (columns or header))
                    found = fake.lookup(
                        query,
                        row.get(postcode_col) if postcode_col else None,
                        row.get(citycode_col) if citycode_col else None,
                    )
                    result = [""] * len(RESULT_HEADERS)
                    if found:
                        lon, lat, score, label, postcode, citycode = found
                        result[:4] = [f"{lat}", f"{lon}", label, f"{score}"]
                        result[5] = "housenumber"
                        result[10], result[13] = postcode, citycode
                        result[-1] = "ok"
                    else:
                        result[-1] = "not-found"
                    writer.writerow([row[h] for h in header] + result)
                return self._send(200, out.getvalue().encode("utf-8"), "text/csv; charset=utf-8")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        # Arrêt rapide : shutdown() attend la fin d'une attente de poll_interval (0,5 s par défaut).
        self.thread = threading.Thread(
            target=functools.partial(self.server.serve_forever, poll_interval=0.02), daemon=True
        )

    def lookup(self, query, postcode=None, citycode=None):
        text = normalize(query)
        for key in sorted(self.addresses, key=len, reverse=True):
            if normalize(key) in text:
                entry = self.addresses[key]
                if postcode and postcode.strip() != entry[4]:
                    continue
                if citycode and citycode.strip() != entry[5]:
                    continue
                return entry
        return None

    def fail(self, count, *, status=429, retry_after=None):
        with self.lock:
            self.failures.extend([(status, retry_after)] * count)

    def csv_requests(self):
        return [r for r in self.requests if r[0] == "POST"]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _multipart(content_type, raw):
    """Champs d'un formulaire multipart : ({nom: [valeurs texte]}, contenu du fichier ``data``)."""
    if not content_type.startswith("multipart/form-data"):
        return {}, None
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
    )
    fields, data = {}, None
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if name == "data":
            data = payload
        else:
            fields.setdefault(name, []).append(payload.decode("utf-8"))
    return fields, data
