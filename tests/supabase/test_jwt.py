"""SupabaseJWTVerifier against keys made here and a JWKS served on 127.0.0.1 (no network)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator

import jwt
import pytest

from mastra_memory import AuthError, InvalidInputError
from mastra_memory.supabase import SupabaseJWTVerifier

from .jwks import JwksServer, serve_jwks

USER = "aaaaaaaa-0000-4000-8000-00000000000a"


@pytest.fixture(scope="module")
def server() -> Iterator[JwksServer]:
    with serve_jwks() as running:
        yield running


@pytest.fixture
def verifier(server: JwksServer) -> SupabaseJWTVerifier:
    return SupabaseJWTVerifier(project_url=server.url)


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_a_good_token_gives_its_claims_and_a_user_context(
    server: JwksServer, verifier: SupabaseJWTVerifier, alg: str
) -> None:
    token = server.token(alg=alg)
    assert verifier.verify(token)["sub"] == USER
    ctx = verifier.auth_context(token)
    assert ctx.role == "authenticated" and ctx.subject == USER and ctx.claims["email"] == "a@example.com"


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "bbbbbbbb-0000-4000-8000-00000000000b"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def _unsigned(server: JwksServer) -> str:
    return jwt.encode(
        {"sub": USER, "role": "authenticated", "aud": "authenticated", "iss": server.issuer,
         "exp": int(time.time()) + 60},
        key=None,
        algorithm="none",
    )


@pytest.mark.parametrize(
    ("case", "make"),
    [
        ("expired", lambda s: s.token(exp=int(time.time()) - 3600)),
        ("no expiry", lambda s: s.token(exp=None)),
        ("another audience", lambda s: s.token(aud="someone-else")),
        ("no audience", lambda s: s.token(aud=None)),
        ("another issuer", lambda s: s.token(iss="https://evil.example/auth/v1")),
        ("tampered payload", lambda s: _tampered(s.token())),
        ("alg none", _unsigned),
        ("unpublished key", lambda s: s.token(key=s.keys.stranger, kid="ec-1")),
        ("unknown kid", lambda s: s.token(key=s.keys.stranger, kid="nobody")),
        ("HS256 without a configured secret", lambda s: s.token(alg="HS256", key="x" * 32)),
        ("service role", lambda s: s.token(role="service_role", sub=None)),
        ("garbage", lambda s: "not.a.token"),
        ("empty", lambda s: ""),
    ],
)
def test_bad_tokens_are_refused(server: JwksServer, verifier: SupabaseJWTVerifier, case: str, make: object) -> None:
    token = make(server)  # type: ignore[operator]
    with pytest.raises(AuthError):
        verifier.auth_context(token)


def test_a_service_role_token_passes_only_when_allowed(server: JwksServer) -> None:
    token = server.token(role="service_role", sub=None)
    ctx = SupabaseJWTVerifier(project_url=server.url, allow_service_role=True).auth_context(token)
    assert ctx.role == "service_role"


def test_hs256_works_only_with_the_configured_secret(server: JwksServer) -> None:
    secret = "s" * 40
    verifier = SupabaseJWTVerifier(issuer=server.issuer, hs256_secret=secret)
    assert verifier.auth_context(server.token(alg="HS256", key=secret)).subject == USER
    with pytest.raises(AuthError):
        verifier.verify(server.token(alg="HS256", key="t" * 40))
    with pytest.raises(AuthError):  # no JWKS configured: asymmetric tokens cannot be checked
        verifier.verify(server.token())


def test_keys_are_cached_for_a_bounded_time(server: JwksServer) -> None:
    verifier = SupabaseJWTVerifier(project_url=server.url, cache_seconds=1)
    before = len(server.fetches)
    for _ in range(3):
        verifier.verify(server.token())
    assert len(server.fetches) - before == 1
    time.sleep(1.2)
    verifier.verify(server.token())
    assert len(server.fetches) - before == 2


def test_unreachable_keys_fail_closed() -> None:
    with serve_jwks() as gone:
        token = gone.token()
        url = gone.url
    with pytest.raises(AuthError, match="could not fetch"):
        SupabaseJWTVerifier(project_url=url, timeout=2).verify(token)


def test_configuration_mistakes_are_refused() -> None:
    with pytest.raises(InvalidInputError):
        SupabaseJWTVerifier()
    with pytest.raises(InvalidInputError):
        SupabaseJWTVerifier(hs256_secret="x" * 40)  # no issuer to check
    with pytest.raises(InvalidInputError):
        SupabaseJWTVerifier(project_url="https://x.supabase.co", cache_seconds=86400)
