"""docs/examples/supabase_fastapi.py, driven with FastAPI's TestClient against the emulated Supabase
database: real tokens (signed here, keys served locally), real RLS, two users."""

from __future__ import annotations

import runpy
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mastra_memory.supabase import SupabaseJWTVerifier

from ..support import ROOT
from .conftest import USER_A, USER_B, Supa, empty_schema
from .jwks import JwksServer, serve_jwks

EXAMPLE = ROOT / "docs" / "examples" / "supabase_fastapi.py"


@pytest.fixture(scope="module")
def jwks() -> Iterator[JwksServer]:
    with serve_jwks() as server:
        yield server


@pytest.fixture
def client(supa: Supa, supa_schema: str, jwks: JwksServer) -> Iterator[TestClient]:
    assert EXAMPLE.name == "supabase_fastapi.py"
    empty_schema(supa.superuser, supa_schema)
    module: dict[str, Any] = runpy.run_path(str(EXAMPLE))  # as a module, not __main__: no server starts
    app = module["create_app"](supa.admin, SupabaseJWTVerifier(project_url=jwks.url), schema=supa_schema)
    with TestClient(app) as running:
        yield running


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_each_user_works_on_their_own_memory_only(client: TestClient, jwks: JwksServer) -> None:
    a, b = bearer(jwks.token(sub=USER_A)), bearer(jwks.token(sub=USER_B, email="b@example.com"))
    thread = client.post("/threads", json={"title": "A's trip"}, headers=a).json()
    saved = client.post(f"/threads/{thread['id']}/messages", json={"text": "my passport number is X123"}, headers=a)
    assert saved.status_code == 200, saved.text
    assert [m["text"] for m in client.get(f"/threads/{thread['id']}/messages", headers=a).json()] == [
        "my passport number is X123"
    ]
    assert client.get("/threads", headers=a).json() == [thread]

    # B: sees none of it, cannot write into it.
    assert client.get("/threads", headers=b).json() == []
    assert "X123" not in client.get(f"/threads/{thread['id']}/messages", headers=b).text
    planted = client.post(f"/threads/{thread['id']}/messages", json={"text": "planted"}, headers=b)
    assert planted.status_code in (403, 404)
    assert [m["text"] for m in client.get(f"/threads/{thread['id']}/messages", headers=a).json()] == [
        "my passport number is X123"
    ]


def test_requests_without_a_valid_user_token_are_refused(client: TestClient, jwks: JwksServer) -> None:
    assert client.get("/threads").status_code == 401
    assert client.get("/threads", headers=bearer("not-a-token")).status_code == 401
    assert client.get("/threads", headers=bearer(jwks.token(aud="other"))).status_code == 401
    assert client.get("/threads", headers=bearer(jwks.token(role="service_role", sub=None))).status_code == 401
    assert client.get("/threads", headers=bearer(jwks.token(role="anon", sub=None))).status_code == 403
