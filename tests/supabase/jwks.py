"""Signing keys made here and a JWKS served from a local thread: JWT tests need no network."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ISSUER_PATH = "/auth/v1"
JWKS_PATH = "/auth/v1/.well-known/jwks.json"


@dataclass
class Keys:
    """An ES256 and an RS256 key pair (public halves published), and one unpublished key."""

    ec_key: Any = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    rsa_key: Any = field(default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))
    stranger: Any = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, key, alg in (("ec-1", self.ec_key, "ES256"), ("rsa-1", self.rsa_key, "RS256")):
            jwk = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(key.public_key()))
            keys.append({**jwk, "kid": kid, "alg": alg, "use": "sig"})
        return {"keys": keys}


@dataclass
class JwksServer:
    url: str
    keys: Keys
    fetches: list[float]

    @property
    def issuer(self) -> str:
        return self.url + ISSUER_PATH

    def token(self, claims: dict[str, Any] | None = None, *, alg: str = "ES256", kid: str | None = None,
              key: Any = None, **overrides: Any) -> str:
        """A token as Supabase Auth issues one for a signed-in user, with ``overrides`` applied."""
        now = int(time.time())
        payload: dict[str, Any] = {
            "sub": "aaaaaaaa-0000-4000-8000-00000000000a",
            "role": "authenticated",
            "aud": "authenticated",
            "iss": self.issuer,
            "iat": now,
            "exp": now + 3600,
            "email": "a@example.com",
        }
        payload.update(claims or {})
        payload.update(overrides)
        payload = {k: v for k, v in payload.items() if v is not None}
        if alg == "ES256":
            signing, default_kid = key or self.keys.ec_key, "ec-1"
        elif alg == "RS256":
            signing, default_kid = key or self.keys.rsa_key, "rsa-1"
        else:
            signing, default_kid = key, None
        headers = {"kid": kid or default_kid} if (kid or default_kid) else {}
        return jwt.encode(payload, signing, algorithm=alg, headers=headers)


@contextmanager
def serve_jwks(keys: Keys | None = None) -> Iterator[JwksServer]:
    keys = keys or Keys()
    fetches: list[float] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != JWKS_PATH:
                self.send_error(404)
                return
            fetches.append(time.monotonic())
            body = json.dumps(keys.jwks()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield JwksServer(f"http://127.0.0.1:{server.server_address[1]}", keys, fetches)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
