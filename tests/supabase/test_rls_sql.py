"""The attack matrix at the SQL level: every table of the migrated schema, as user B against rows of
user A, as anon and as the service role. This is what a bug in our code (or raw SQL written by an
app sharing the database) would meet: the database itself must refuse.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from psycopg import sql

from mastra_memory import AuthContext
from mastra_memory._auth import acting_as
from mastra_memory.embedding import HashEmbedder
from mastra_memory.recall._vectors import vector_literal
from mastra_memory.supabase._migration import MEMBERS_TABLE

from ..support import drop_schema, fresh_schema
from .conftest import DIMENSION, USER_A, USER_B, Supa, apply_migration, empty_schema

VECTORS = f"memory_messages_{DIMENSION}"
NOW = "now()::timestamp"


@contextmanager
def acting(dsn: str, auth: AuthContext) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(dsn, autocommit=True, prepare_threshold=None) as conn, acting_as(conn, auth):
        yield conn


def vec(text: str) -> str:
    return vector_literal(HashEmbedder(DIMENSION).embed_query(text))


def om_row(row_id: str, resource: str | None, thread: str | None) -> str:
    """An observational-memory row as Mastra writes one (every NOT NULL column set)."""
    return (
        'INSERT INTO @s.mastra_observational_memory (id, "lookupKey", scope, "resourceId", "threadId",'
        ' "activeObservations", "originType", config, "generationCount", "pendingMessageTokens",'
        ' "totalTokensObserved", "observationTokenCount", "isObserving", "isReflecting",'
        ' "isBufferingObservation", "isBufferingReflection", "lastBufferedAtTokens", "createdAt", "updatedAt")'
        f" VALUES ('{row_id}', 'k-{row_id}', 'thread', {_lit(resource)}, {_lit(thread)}, 'observed secret',"
        f" 'initial', '{{}}', 0, 0, 0, 0, false, false, false, false, 0, {NOW}, {NOW})"
    )


def _lit(value: str | None) -> str:
    return "NULL" if value is None else f"'{value}'"


def message_row(row_id: str, thread: str, resource: str | None) -> str:
    return (
        'INSERT INTO @s.mastra_messages (id, thread_id, content, role, type, "createdAt", "resourceId")'
        f" VALUES ('{row_id}', '{thread}', '{{\"format\":2,\"parts\":[]}}', 'user', 'v2', {NOW}, {_lit(resource)})"
    )


def vector_row(vector_id: str, message: str, thread: str, resource: str, text: str) -> str:
    meta = f'{{"message_id":"{message}","thread_id":"{thread}","resource_id":"{resource}","content":"{text}"}}'
    return f"INSERT INTO @s.{VECTORS} (vector_id, embedding, metadata) VALUES ('{vector_id}', '{vec(text)}', '{meta}')"


def seed(owner: str, tag: str) -> list[str]:
    """Rows of every table for one user (``tag`` distinguishes ids)."""
    thread = f"t{tag}"
    return [
        'INSERT INTO @s.mastra_threads (id, "resourceId", title, "createdAt", "updatedAt")'
        f" VALUES ('{thread}', '{owner}', 'secret of {tag}', {NOW}, {NOW})",
        'INSERT INTO @s.mastra_resources (id, "workingMemory", "createdAt", "updatedAt")'
        f" VALUES ('{owner}', 'secret of {tag}', {NOW}, {NOW})",
        message_row(f"m{tag}", thread, owner),
        message_row(f"m{tag}-legacy", thread, None),  # an old Mastra row without resourceId
        om_row(f"om{tag}", owner, thread),
        om_row(f"om{tag}-thread", None, thread),
        f"INSERT INTO @s.mastra_memory_embedding_backlog (message_id) VALUES ('m{tag}')",
        vector_row(f"v{tag}", f"m{tag}", thread, owner, f"secret of {tag}"),
    ]


# Per table: how to pick A's rows, and a harmless SET for updates.
A_ROWS = {
    "mastra_threads": ("id = 'tA'", "title = title"),
    "mastra_resources": (f"id = '{USER_A}'", "\"workingMemory\" = 'pwned'"),
    "mastra_messages": ("thread_id = 'tA'", "content = content"),
    "mastra_observational_memory": ("\"threadId\" = 'tA'", "\"activeObservations\" = 'pwned'"),
    "mastra_memory_embedding_backlog": ("message_id = 'mA'", "queued_at = now()"),
    VECTORS: ("metadata->>'thread_id' = 'tA'", "namespace = namespace"),
    "mastra_memory_recall_stats": (f"scope_id IN ('tA', '{USER_A}')", "docs = docs"),
    "mastra_memory_migrations": ("true", "name = name"),
}


@pytest.fixture(scope="module")
def seeded(supa: Supa, supa_schema: str) -> str:
    empty_schema(supa.superuser, supa_schema)
    with psycopg.connect(supa.superuser, autocommit=True) as conn:
        for statement in seed(USER_A, "A") + seed(USER_B, "B"):
            conn.execute(q(supa_schema, statement))
    return supa_schema


def q(schema: str, text: str) -> sql.SQL:
    """A statement with ``@s`` standing for the quoted schema name."""
    return sql.SQL(text.replace("@s", sql.Identifier(schema).as_string()))  # type: ignore[arg-type]


def test_every_table_of_the_schema_is_in_the_matrix(supa: Supa, seeded: str) -> None:
    with psycopg.connect(supa.superuser) as conn:
        found = {
            r
            for (r,) in conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = %s AND c.relkind IN ('r', 'p')",
                (seeded,),
            )
        }
        no_rls = [
            r
            for (r,) in conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND NOT c.relrowsecurity",
                (seeded,),
            )
        ]
    assert found == set(A_ROWS), "a table was added: give it policies and a row in this matrix"
    assert no_rls == []


@pytest.mark.parametrize("table", sorted(A_ROWS))
def test_b_reads_updates_and_deletes_none_of_a_rows(supa: Supa, admin_dsn: str, seeded: str, table: str) -> None:
    where, change = A_ROWS[table]
    with psycopg.connect(supa.superuser) as conn:
        before = conn.execute(q(seeded, f"SELECT count(*) FROM @s.{table} WHERE {where}")).fetchone()
    assert before is not None and before[0] > 0  # A's rows are there to attack
    if table == "mastra_memory_migrations":  # not the users' business at all
        with pytest.raises(psycopg.errors.InsufficientPrivilege), acting(admin_dsn, AuthContext.user(USER_B)) as c:
            c.execute(q(seeded, f"SELECT count(*) FROM @s.{table}"))
        return
    with acting(admin_dsn, AuthContext.user(USER_B)) as conn:
        assert conn.execute(q(seeded, f"SELECT count(*) FROM @s.{table} WHERE {where}")).fetchone() == (0,)
        if table == "mastra_memory_recall_stats":  # read-only to users
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(q(seeded, f"UPDATE @s.{table} SET {change} WHERE {where}"))
            return
        assert conn.execute(q(seeded, f"UPDATE @s.{table} SET {change} WHERE {where}")).rowcount == 0
        assert conn.execute(q(seeded, f"DELETE FROM @s.{table} WHERE {where}")).rowcount == 0
    with psycopg.connect(supa.superuser) as conn:
        assert conn.execute(q(seeded, f"SELECT count(*) FROM @s.{table} WHERE {where}")).fetchone() == before


def test_users_see_their_own_rows_of_each_table(supa: Supa, admin_dsn: str, seeded: str) -> None:
    mine = {
        "mastra_threads": "id = 'tB'",
        "mastra_resources": f"id = '{USER_B}'",
        "mastra_messages": "thread_id = 'tB'",
        "mastra_observational_memory": "\"threadId\" = 'tB'",
        "mastra_memory_embedding_backlog": "message_id = 'mB'",
        VECTORS: "metadata->>'thread_id' = 'tB'",
        "mastra_memory_recall_stats": f"scope_id IN ('tB', '{USER_B}')",
    }
    with acting(admin_dsn, AuthContext.user(USER_B)) as conn:
        for table, where in mine.items():
            total = conn.execute(q(seeded, f"SELECT count(*) FROM @s.{table}")).fetchone()
            own = conn.execute(q(seeded, f"SELECT count(*) FROM @s.{table} WHERE {where}")).fetchone()
            assert total == own and own is not None and own[0] > 0, table
        # Messages without resourceId (older Mastra rows) are visible through their thread.
        assert conn.execute(q(seeded, "SELECT id FROM @s.mastra_messages ORDER BY id")).fetchall() == [
            ("mB",),
            ("mB-legacy",),
        ]


INSERTS_AS_A = {
    "thread owned by A": 'INSERT INTO @s.mastra_threads (id, "resourceId", title, "createdAt", "updatedAt")'
    f" VALUES ('planted', '{USER_A}', 'x', {NOW}, {NOW})",
    "A's resource row": 'INSERT INTO @s.mastra_resources (id, "createdAt", "updatedAt")'
    f" VALUES ('{USER_A}-2', {NOW}, {NOW})",
    "message in A's resource": message_row("planted", "tB", USER_A),
    "message attached to A's thread": message_row("planted", "tA", USER_B),
    "message without resource": message_row("planted", "tB", None),
    "observation of A's resource": om_row("planted", USER_A, None),
    "observation attached to A's thread": om_row("planted", None, "tA"),
    "observation naming B but A's thread": om_row("planted", USER_B, "tA"),
    "A's message queued by B": "INSERT INTO @s.mastra_memory_embedding_backlog (message_id) VALUES ('mA')",
    "vector in A's resource": vector_row("planted", "mB", "tB", USER_A, "x"),
    "vector attached to A's thread": vector_row("planted", "mB", "tA", USER_B, "x"),
    "statistics row": "INSERT INTO @s.mastra_memory_recall_stats VALUES ('x', 'resource', 'x', 1, 1)",
}


@pytest.mark.parametrize("attack", sorted(INSERTS_AS_A))
def test_b_cannot_insert_as_a_or_attach_to_a_thread(supa: Supa, admin_dsn: str, seeded: str, attack: str) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege), acting(admin_dsn, AuthContext.user(USER_B)) as conn:
        conn.execute(q(seeded, INSERTS_AS_A[attack]))


def test_b_cannot_move_own_rows_to_a(supa: Supa, admin_dsn: str, seeded: str) -> None:
    moves = [
        f"UPDATE @s.mastra_threads SET \"resourceId\" = '{USER_A}' WHERE id = 'tB'",
        "UPDATE @s.mastra_messages SET thread_id = 'tA' WHERE id = 'mB'",
        f"UPDATE @s.mastra_messages SET \"resourceId\" = '{USER_A}' WHERE id = 'mB'",
        "UPDATE @s.mastra_observational_memory SET \"threadId\" = 'tA' WHERE id = 'omB'",
        f"UPDATE @s.{VECTORS} SET metadata = metadata || '{{\"thread_id\":\"tA\"}}' WHERE vector_id = 'vB'",
        f"UPDATE @s.{VECTORS} SET metadata = metadata || '{{\"resource_id\":\"{USER_A}\"}}' WHERE vector_id = 'vB'",
    ]
    for move in moves:
        with pytest.raises(psycopg.errors.InsufficientPrivilege), acting(admin_dsn, AuthContext.user(USER_B)) as conn:
            conn.execute(q(seeded, move))


def test_vector_search_functions_return_only_the_callers_rows(supa: Supa, admin_dsn: str, seeded: str) -> None:
    fn = f"mastra_memory_search_{VECTORS}_resource"
    query = q(seeded, f"SELECT message_id FROM @s.{fn}(%s::extensions.vector, %s, 10)")
    with acting(admin_dsn, AuthContext.user(USER_B)) as conn:
        assert conn.execute(query, (vec("secret of A"), USER_A)).fetchall() == []
        assert conn.execute(query, (vec("secret of A"), USER_B)).fetchall() == [("mB",)]
        thread_fn = q(seeded, f"SELECT message_id FROM @s.mastra_memory_search_{VECTORS}_thread(%s, %s, 10)")
        assert conn.execute(thread_fn, (vec("secret of A"), "tA")).fetchall() == []
        # An unfiltered nearest-neighbour query over the whole table sees B's rows only.
        everything = conn.execute(
            q(
                seeded,
                f"SELECT vector_id FROM @s.{VECTORS}"
                " ORDER BY embedding OPERATOR(extensions.<=>) %s::extensions.vector LIMIT 10",
            ),
            (vec("secret of A"),),
        ).fetchall()
        assert everything == [("vB",)]
    with acting(admin_dsn, AuthContext.user(USER_A)) as conn:
        assert conn.execute(query, (vec("secret of A"), USER_A)).fetchall() == [("mA",)]


@pytest.mark.parametrize("table", sorted(A_ROWS))
def test_anon_is_refused_every_table(supa: Supa, admin_dsn: str, seeded: str, table: str) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege), acting(admin_dsn, AuthContext.anonymous()) as conn:
        conn.execute(q(seeded, f"SELECT 1 FROM @s.{table} LIMIT 1"))


def test_anon_cannot_call_our_functions(supa: Supa, admin_dsn: str, seeded: str) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege), acting(admin_dsn, AuthContext.anonymous()) as conn:
        conn.execute(q(seeded, "SELECT @s.mastra_memory_may_use_thread('tA')"))


def test_service_role_sees_every_row(supa: Supa, admin_dsn: str, seeded: str) -> None:
    with acting(admin_dsn, AuthContext.service()) as conn:
        for table in A_ROWS:
            if table == "mastra_memory_migrations":
                continue
            where = A_ROWS[table][0]
            count = conn.execute(q(seeded, f"SELECT count(*) FROM @s.{table} WHERE {where}")).fetchone()
            assert count is not None and count[0] > 0, table


def test_membership_shares_a_resource_with_its_members_only(supa: Supa, admin_dsn: str) -> None:
    schema = fresh_schema()
    try:
        apply_migration(supa.admin, schema, dimension=None, membership=True)
        apply_migration(supa.admin, schema, dimension=None, membership=True)
        members = sql.Identifier(schema, MEMBERS_TABLE)
        with acting(admin_dsn, AuthContext.service()) as conn:
            conn.execute(
                sql.SQL("INSERT INTO {} (resource_id, user_id) VALUES ('org-1', %s)").format(members), (USER_A,)
            )
            conn.execute(
                q(
                    schema,
                    'INSERT INTO @s.mastra_threads (id, "resourceId", title, "createdAt", "updatedAt")'
                    f" VALUES ('t-org', 'org-1', 'org plans', {NOW}, {NOW})",
                )
            )
        with acting(admin_dsn, AuthContext.user(USER_A)) as conn:
            assert conn.execute(q(schema, "SELECT id FROM @s.mastra_threads")).fetchall() == [("t-org",)]
            conn.execute(q(schema, message_row("m-org", "t-org", "org-1")))
        with acting(admin_dsn, AuthContext.user(USER_B)) as conn:
            assert conn.execute(q(schema, "SELECT count(*) FROM @s.mastra_threads")).fetchone() == (0,)
            assert conn.execute(q(schema, "SELECT count(*) FROM @s.mastra_messages")).fetchone() == (0,)
        for attack in (
            sql.SQL("INSERT INTO {} (resource_id, user_id) VALUES ('org-1', %s)").format(members),
            q(schema, message_row("m-b", "t-org", "org-1")),
        ):
            with (
                pytest.raises(psycopg.errors.InsufficientPrivilege),
                acting(admin_dsn, AuthContext.user(USER_B)) as conn,
            ):
                conn.execute(attack, (USER_B,) if "mastra_memory_members" in attack.as_string() else None)
    finally:
        drop_schema(supa.superuser, schema)
