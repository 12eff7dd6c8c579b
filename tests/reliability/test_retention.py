"""Retention: sweep_threads (old or idle threads) and delete_resource (account deletion), on real PostgreSQL.

Vector rows are written raw in both of Mastra's shapes (the agent path's ``vector_id = message id``
and ``saveMessages``' random ids), so the pg15 flavours without pgvector check the deletes too;
one test at the end uses real embeddings (HashEmbedder, for mechanics) through semantic recall.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest

from mastra_memory import (
    InvalidInputError,
    MemoryConfig,
    Message,
    NotFoundError,
    ResourceDeletion,
    SweepResult,
    WorkingMemory,
)
from mastra_memory.embedding import HashEmbedder
from tests.storage._raw import add_vector, count, create_vector_table, run
from tests.support import fresh_schema, run_example

from ._helpers import start, wait_for_lock_waiters

UTC = timezone.utc
LONG_AGO = datetime(2024, 1, 1, tzinfo=UTC)
VECTORS = "memory_messages_384"


def add_observation(mem: Any, row_id: str, lookup_key: str, resource_id: str, thread_id: str | None) -> None:
    """A ``mastra_observational_memory`` row as Mastra writes one (only the NOT NULL columns filled)."""
    run(
        mem,
        'INSERT INTO mastra_observational_memory (id, "lookupKey", scope, "resourceId", "threadId",'
        ' "activeObservations", "originType", config, "generationCount", "pendingMessageTokens",'
        ' "totalTokensObserved", "observationTokenCount", "isObserving", "isReflecting",'
        ' "isBufferingObservation", "isBufferingReflection", "lastBufferedAtTokens", "createdAt", "updatedAt")'
        " VALUES (%s, %s, %s, %s, %s, 'obs', 'initial', '{}', 0, 0, 0, 0, false, false, false, false, 0,"
        " now(), now())",
        (row_id, lookup_key, lookup_key.split(":")[0], resource_id, thread_id),
    )


async def populate(mem: Any, thread_id: str, resource_id: str, *, old: bool, messages: int = 2) -> list[str]:
    """A thread with messages, their vectors (one per Mastra shape), a backlog entry and a
    thread-scoped observation row; ``old`` backdates its creation and last update."""
    when = LONG_AGO if old else None
    await mem.save_thread(thread_id, resource_id, title=thread_id, created_at=when, updated_at=when)
    saved = await mem.save_messages(
        [Message.user(f"{thread_id} message {i}", id=f"{thread_id}-m{i}", thread_id=thread_id) for i in range(messages)]
    )
    ids = [m.id for m in saved]
    if old:  # saving bumped updatedAt; put it back in the past
        await mem.save_thread(thread_id, resource_id, title=thread_id, created_at=when, updated_at=when)
    meta = {"thread_id": thread_id, "resource_id": resource_id}
    add_vector(mem, VECTORS, ids[0], {**meta, "message_id": ids[0], "role": "user", "content": "x"})  # agent path
    add_vector(mem, VECTORS, f"random-{thread_id}", {**meta, "message_id": ids[1]})  # saveMessages' random id
    run(mem, "INSERT INTO mastra_memory_embedding_backlog (message_id) VALUES (%s)", (ids[0],))
    add_observation(mem, f"om-{thread_id}", f"thread:{thread_id}", resource_id, thread_id)
    return ids


def rows_of(mem: Any, thread_id: str) -> dict[str, int]:
    """Everything of a thread still stored, by kind."""

    def n(statement: str, *params: Any) -> int:
        return int(run(mem, statement, params)[0]["n"])

    return {
        "thread": n("SELECT count(*) AS n FROM mastra_threads WHERE id = %s", thread_id),
        "messages": n("SELECT count(*) AS n FROM mastra_messages WHERE thread_id = %s", thread_id),
        "vectors": n(f"SELECT count(*) AS n FROM {VECTORS} WHERE metadata->>'thread_id' = %s", thread_id),
        "backlog": n(
            "SELECT count(*) AS n FROM mastra_memory_embedding_backlog WHERE message_id LIKE %s", f"{thread_id}-%"
        ),
        "observations": n('SELECT count(*) AS n FROM mastra_observational_memory WHERE "threadId" = %s', thread_id),
    }


GONE = {"thread": 0, "messages": 0, "vectors": 0, "backlog": 0, "observations": 0}
KEPT = {"thread": 1, "messages": 2, "vectors": 2, "backlog": 1, "observations": 1}


async def test_sweep_by_age_deletes_old_threads_with_everything_of_theirs(mem: Any) -> None:
    create_vector_table(mem, VECTORS)
    await populate(mem, "old-a", "ada", old=True)
    await populate(mem, "old-b", "bob", old=True)
    await populate(mem, "new-a", "ada", old=False)
    result = await mem.sweep_threads(older_than=datetime(2025, 1, 1, tzinfo=UTC))
    assert isinstance(result, SweepResult)
    assert (result.thread_ids, result.threads, result.messages, result.vectors, result.observations) == (
        ["old-a", "old-b"],
        2,
        4,
        4,
        2,
    )
    assert not result.dry_run
    assert rows_of(mem, "old-a") == GONE
    assert rows_of(mem, "old-b") == GONE
    assert rows_of(mem, "new-a") == KEPT
    assert [m.id for m in (await mem.list_messages("new-a")).messages] == ["new-a-m0", "new-a-m1"]


async def test_sweep_by_idleness_uses_the_last_update_not_the_creation(mem: Any) -> None:
    create_vector_table(mem, VECTORS)
    await populate(mem, "idle", "ada", old=True)
    await populate(mem, "busy", "ada", old=True)
    await mem.save_messages([Message.user("still here", thread_id="busy")])  # an old thread, active today
    result = await mem.sweep_threads(idle_for=timedelta(days=30))
    assert result.thread_ids == ["idle"]
    assert rows_of(mem, "idle") == GONE
    assert rows_of(mem, "busy")["messages"] == 3


async def test_both_conditions_must_hold_and_resource_narrows_the_sweep(mem: Any) -> None:
    create_vector_table(mem, VECTORS)
    await populate(mem, "old-idle-ada", "ada", old=True)
    await populate(mem, "old-idle-bob", "bob", old=True)
    await populate(mem, "old-busy-ada", "ada", old=True)
    await mem.update_thread("old-busy-ada", title="renamed today")  # bumps updatedAt
    result = await mem.sweep_threads(
        older_than=datetime(2025, 1, 1, tzinfo=UTC), idle_for=timedelta(days=1), resource_id="ada"
    )
    assert result.thread_ids == ["old-idle-ada"]
    assert rows_of(mem, "old-idle-bob") == KEPT  # another resource
    assert rows_of(mem, "old-busy-ada")["thread"] == 1  # old but not idle


async def test_a_dry_run_reports_the_same_and_deletes_nothing(mem: Any) -> None:
    create_vector_table(mem, VECTORS)
    await populate(mem, "old-1", "ada", old=True)
    await populate(mem, "old-2", "ada", old=True)
    await populate(mem, "new", "ada", old=False)
    before = {t: count(mem, t) for t in ("mastra_threads", "mastra_messages", VECTORS, "mastra_observational_memory")}
    preview = await mem.sweep_threads(older_than=datetime(2025, 1, 1, tzinfo=UTC), dry_run=True)
    assert preview.dry_run
    after = {t: count(mem, t) for t in before}
    assert after == before
    done = await mem.sweep_threads(older_than=datetime(2025, 1, 1, tzinfo=UTC))
    assert (preview.thread_ids, preview.messages, preview.vectors, preview.observations) == (
        done.thread_ids,
        done.messages,
        done.vectors,
        done.observations,
    )
    assert done.thread_ids == ["old-1", "old-2"]


async def test_a_sweep_larger_than_one_batch_deletes_every_match(mem: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from mastra_memory._ops import retention

    monkeypatch.setattr(retention, "SWEEP_BATCH", 3)  # 7 threads: batches of 3, 3 and 1
    for i in range(7):
        await mem.save_thread(f"t{i}", "ada", created_at=LONG_AGO, updated_at=LONG_AGO)
    await mem.save_thread("fresh", "ada")
    result = await mem.sweep_threads(idle_for=timedelta(hours=1))
    assert result.thread_ids == [f"t{i}" for i in range(7)]
    assert [t.id for t in (await mem.list_threads()).threads] == ["fresh"]


async def test_sweeping_when_nothing_matches_is_an_empty_result(mem: Any) -> None:
    await mem.save_thread("fresh", "ada")
    result = await mem.sweep_threads(older_than=LONG_AGO, idle_for=timedelta(days=3650))
    assert result == SweepResult([], 0, 0, 0)
    assert count(mem, "mastra_threads") == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "older_than"),
        ({"resource_id": "ada"}, "older_than"),
        ({"older_than": "2024-01-01"}, "datetime"),
        ({"idle_for": 3600}, "timedelta"),
        ({"idle_for": timedelta(seconds=-1)}, "between 0"),
        ({"idle_for": timedelta.max}, "between 0"),
        ({"older_than": LONG_AGO, "resource_id": " "}, "resource_id"),
    ],
)
async def test_bad_sweep_arguments_are_refused_before_anything_is_deleted(
    mem: Any, kwargs: dict[str, Any], message: str
) -> None:
    await mem.save_thread("old", "ada", created_at=LONG_AGO, updated_at=LONG_AGO)
    with pytest.raises(InvalidInputError, match=message):
        await mem.sweep_threads(**kwargs)
    assert count(mem, "mastra_threads") == 1


async def test_naive_and_far_away_times_are_accepted(mem: Any) -> None:
    await mem.save_thread("old", "ada", created_at=LONG_AGO, updated_at=LONG_AGO)
    assert (await mem.sweep_threads(older_than=datetime(1, 1, 1))).thread_ids == []
    assert (await mem.sweep_threads(idle_for=timedelta(days=999_999))).thread_ids == []
    naive = datetime(2025, 1, 1)  # taken as UTC, like Mastra's naive columns
    assert (await mem.sweep_threads(older_than=naive)).thread_ids == ["old"]


async def test_delete_resource_removes_everything_of_one_resource_only(mem: Any) -> None:
    create_vector_table(mem, VECTORS)
    for resource in ("ada", "bob"):
        await populate(mem, f"{resource}-1", resource, old=False)
        await populate(mem, f"{resource}-2", resource, old=True)
        await mem.update_resource(resource, working_memory=f"# {resource}", metadata={"plan": "pro"})
        add_observation(mem, f"om-res-{resource}", f"resource:{resource}", resource, None)
        add_vector(mem, VECTORS, f"loose-{resource}", {"resource_id": resource, "message_id": "elsewhere"})
    bob_before = {t: rows_of(mem, t) for t in ("bob-1", "bob-2")}
    deleted = await mem.delete_resource("ada")
    assert deleted == ResourceDeletion("ada", threads=2, messages=4, vectors=5, observations=3, resource=True)
    for thread in ("ada-1", "ada-2"):
        assert rows_of(mem, thread) == GONE
    assert await mem.get_resource("ada") is None
    assert run(mem, "SELECT count(*) AS n FROM mastra_observational_memory WHERE \"resourceId\" = 'ada'")[0]["n"] == 0
    assert run(mem, f"SELECT count(*) AS n FROM {VECTORS} WHERE metadata->>'resource_id' = 'ada'")[0]["n"] == 0
    assert (await mem.list_threads(resource_id="ada")).total == 0
    # bob is untouched, down to his working memory and his resource-scoped observations
    assert {t: rows_of(mem, t) for t in ("bob-1", "bob-2")} == bob_before
    bob = await mem.get_resource("bob")
    assert bob is not None and bob.working_memory == "# bob"
    assert count(mem, "mastra_observational_memory") == 3
    assert count(mem, VECTORS) == 5
    # deleting again finds nothing, and is not an error
    assert await mem.delete_resource("ada") == ResourceDeletion("ada", 0, 0, 0, 0, False)


async def test_delete_resource_also_takes_its_messages_in_other_threads(mem: Any) -> None:
    """A message naming the resource in a thread it does not own (only Mastra writes these) goes too."""
    await mem.save_thread("shared", "org")
    await mem.save_messages([Message.user("org note", id="keep", thread_id="shared")])
    run(
        mem,
        'INSERT INTO mastra_messages (id, thread_id, content, role, type, "createdAt", "resourceId")'
        " VALUES ('ada-note', 'shared', '{\"format\":2,\"parts\":[]}', 'user', 'v2', now(), 'ada')",
    )
    deleted = await mem.delete_resource("ada")
    assert (deleted.threads, deleted.messages, deleted.resource) == (0, 1, False)
    assert [m.id for m in (await mem.list_messages("shared")).messages] == ["keep"]


async def test_delete_resource_refuses_an_empty_id(mem: Any) -> None:
    await mem.save_thread("t", "ada")
    with pytest.raises(InvalidInputError, match="resource_id"):
        await mem.delete_resource("")
    assert count(mem, "mastra_threads") == 1


async def test_a_save_racing_delete_resource_either_lands_first_or_fails_leaving_no_orphans(mem: Any) -> None:
    """The deletion locks the resource's threads first; a save that comes second waits, then
    finds its thread gone (NotFoundError); one that came first is deleted with the rest."""
    await mem.save_thread("t", "ada")
    with psycopg.connect(str(mem.pool.conninfo)) as blocker:  # hold the thread's lock so both queue up
        blocker.execute(psycopg.sql.SQL("SET search_path TO {}").format(psycopg.sql.Identifier(mem.schema)))
        blocker.execute("SELECT id FROM mastra_threads WHERE id = 't' FOR UPDATE")
        save = start(mem, lambda m: m.save_messages([Message.user("racing", id="race", thread_id="t")]))
        delete = start(mem, lambda m: m.delete_resource("ada"))
        await wait_for_lock_waiters(
            str(mem.pool.conninfo), 2, mem.schema
        )  # both parked; the server picks who goes first
        blocker.rollback()
    saved, deleted = await asyncio.gather(save, delete, return_exceptions=True)
    assert isinstance(deleted, ResourceDeletion)
    if isinstance(saved, NotFoundError):  # the deletion went first
        assert deleted.messages == 0
    else:  # the save went first: its message was deleted with the thread
        assert [m.id for m in saved] == ["race"]
        assert deleted.messages == 1
    assert count(mem, "mastra_messages") == 0
    assert count(mem, "mastra_threads") == 0


async def test_a_thread_written_to_while_the_sweep_waits_for_it_is_kept(mem: Any) -> None:
    """The sweep locks its threads and re-checks them: a save that bumps a thread first wins."""
    create_vector_table(mem, VECTORS)
    await populate(mem, "idle", "ada", old=True)
    await populate(mem, "also-idle", "ada", old=True)
    blocker = psycopg.connect(str(mem.pool.conninfo))
    try:
        blocker.execute(psycopg.sql.SQL("SET search_path TO {}").format(psycopg.sql.Identifier(mem.schema)))
        blocker.execute(  # what a save does first: bump the thread's updatedAt, under its row lock
            'UPDATE mastra_threads SET "updatedAtZ" = now(), "updatedAt" = now() AT TIME ZONE \'UTC\''
            " WHERE id = 'idle'"
        )
        sweeping = start(mem, lambda m: m.sweep_threads(idle_for=timedelta(days=30)))
        await wait_for_lock_waiters(str(mem.pool.conninfo), 1, mem.schema)
        blocker.commit()
    finally:
        blocker.close()
    swept = await sweeping
    assert swept.thread_ids == ["also-idle"]
    assert rows_of(mem, "idle") == KEPT


async def test_with_semantic_recall_the_real_vectors_go_with_the_threads(mem_factory: Any) -> None:
    schema = fresh_schema()
    config = MemoryConfig(semantic_recall=True, working_memory=WorkingMemory(enabled=True))
    mem = await mem_factory(schema, config=config, embedder=HashEmbedder())
    for resource in ("ada", "bob"):
        thread = f"{resource}-t"
        await mem.create_thread(resource, thread_id=thread)
        await mem.save_messages(
            [Message.user(f"{resource} likes tea", thread_id=thread), Message.assistant("ok", thread_id=thread)]
        )
        await mem.update_working_memory(f"{resource}-t", working_memory=f"# {resource}\n- likes tea")
    await mem.create_thread("bob", thread_id="bob-new")
    assert int(run(mem, f"SELECT count(*) AS n FROM {VECTORS}")[0]["n"]) == 4
    deleted = await mem.delete_resource("ada")
    assert (deleted.threads, deleted.messages, deleted.vectors, deleted.resource) == (1, 2, 2, True)
    assert run(mem, f"SELECT DISTINCT metadata->>'resource_id' AS r FROM {VECTORS}") == [{"r": "bob"}]
    assert {h.message.thread_id for h in (await mem.context("bob-new", "bob", query="tea")).hits} == {"bob-t"}
    assert await mem.get_working_memory("bob-t") == "# bob\n- likes tea"
    swept = await mem.sweep_threads(older_than=datetime.now(UTC) + timedelta(days=1), resource_id="bob")
    assert (swept.thread_ids, swept.messages, swept.vectors) == (["bob-new", "bob-t"], 2, 2)
    assert int(run(mem, f"SELECT count(*) AS n FROM {VECTORS}")[0]["n"]) == 0


def test_the_retention_example_runs(tmp_path: Path) -> None:
    out = run_example("retention.py", tmp_path)
    assert "swept 1 thread(s)" in out
    assert "deleted resource user-ada" in out
