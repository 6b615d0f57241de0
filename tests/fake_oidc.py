"""Un faux fournisseur OpenID Connect (type ProConnect) servi sur 127.0.0.1 pour les tests.

Il répond aux points d'accès jeton, userinfo (JWT signé, comme ProConnect) et JWKS, avec une clé
RSA créée au démarrage. Le vrai client (mozilla-django-oidc et notre backend) lui parle en HTTP :
aucun test ne sort de la machine.
"""

import functools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa


@functools.cache
def signing_key():
    """Une clé RSA par lancement : la générer coûte plus que le reste d'un test de connexion."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeProvider:
    def __init__(self, *, client_id="client-test", email="agent@prefecture.example"):
        self.key = signing_key()
        self.published_key = self.key  # la clé annoncée par le JWKS (un test peut la faire diverger)
        self.kid = "cle-test"
        self.client_id = client_id
        self.claims = {"email": email, "given_name": "Agnès", "usual_name": "Préfète"}
        self.id_token_claims = {"acr": "eidas1"}  # ajoutés à l'ID token (acr, amr…)
        self.nonce = None
        self.token_requests = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # silence
                pass

            def _send(self, status, body, content_type="application/json"):
                data = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                provider.token_requests.append(form)
                if self.path != "/token" or form.get("code") != "code-valide":
                    return self._send(400, json.dumps({"error": "invalid_grant"}))
                id_token = provider.sign(
                    {
                        "sub": "agent-1",
                        "aud": provider.client_id,
                        "nonce": provider.nonce,
                        **provider.id_token_claims,
                    }
                )
                return self._send(
                    200,
                    json.dumps({"access_token": "jeton-acces", "id_token": id_token, "token_type": "Bearer"}),
                )

            def do_GET(self):
                if self.path == "/jwks":
                    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(provider.published_key.public_key()))
                    jwk.update({"kid": provider.kid, "alg": "RS256", "use": "sig"})
                    return self._send(200, json.dumps({"keys": [jwk]}))
                if self.path == "/userinfo":
                    if self.headers.get("Authorization") != "Bearer jeton-acces":
                        return self._send(401, "{}")
                    return self._send(
                        200, provider.sign({"sub": "agent-1", **provider.claims}), "application/jwt"
                    )
                return self._send(404, "{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        # Arrêt rapide à la fin du test (shutdown attend jusqu'à poll_interval, 0,5 s par défaut).
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    def sign(self, claims):
        now = int(time.time())
        payload = {
            "iss": self.base_url,
            "iat": now,
            "exp": now + 300,
            **{k: v for k, v in claims.items() if v is not None},
        }
        return jwt.encode(payload, self.key, algorithm="RS256", headers={"kid": self.kid})

    def settings(self):
        return {
            "OIDC_ENABLED": True,
            "OIDC_RP_CLIENT_ID": self.client_id,
            "OIDC_RP_CLIENT_SECRET": "secret-test",
            "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{self.base_url}/authorize",
            "OIDC_OP_TOKEN_ENDPOINT": f"{self.base_url}/token",
            "OIDC_OP_USER_ENDPOINT": f"{self.base_url}/userinfo",
            "OIDC_OP_JWKS_ENDPOINT": f"{self.base_url}/jwks",
        }

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
