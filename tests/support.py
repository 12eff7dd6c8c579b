"""Helpers for tests (schemas per test); fixtures are in conftest.py."""

from __future__ import annotations

import uuid

import psycopg


def fresh_schema() -> str:
    return "t_" + uuid.uuid4().hex[:16]


def drop_schema(dsn: str, schema: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(psycopg.sql.Identifier(schema)))
