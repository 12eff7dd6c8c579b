"""Concurrency on a real server: many writers on one thread, racing working-memory updates,
migrations and embedded-server start-ups from several threads and processes at once.

Sync memories race from OS threads, async ones from tasks (``tests.storage._raw.concurrently``).
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import psycopg
import pytest

from mastra_memory import AsyncMemory, Memory, MemoryConfig, Message, WorkingMemory
from tests.storage._raw import concurrently, count, run
from tests.support import ROOT, drop_schema, fresh_schema

from ..conftest import Awaitably

WRITERS = 20
TURNS = 3


def with_config(mem: Any, config: MemoryConfig) -> Any:
    """Another memory on ``mem``'s pool and schema, with this config, of the same flavour."""
    if isinstance(mem, AsyncMemory):
        return AsyncMemory(mem.pool, schema=mem.schema, config=config)
    return Awaitably(Memory(mem.pool, schema=mem.schema, config=config))


def writer(w: int) -> list[Any]:
    """One writer's calls: TURNS turns of (user, assistant), each saved as one batch, no ids or times."""
    return [
        (
            lambda m, t=t: m.save_messages(
                [
                    Message.user(f"w{w:02d} t{t} q", thread_id="shared"),
                    Message.assistant(f"w{w:02d} t{t} a", thread_id="shared"),
                ]
            )
        )
        for t in range(TURNS)
    ]


async def test_twenty_writers_on_one_thread_get_one_strict_order_all_readers_agree_on(mem: Any) -> None:
    await mem.create_thread("ada", thread_id="shared")
    results = await concurrently(mem, [writer(w) for w in range(WRITERS)])
    returned = [m.id for batches in results for batch in batches for m in batch]
    listed = (await mem.list_messages("shared", per_page=None)).messages
    texts = [m.text for m in listed]
    # every message stored once
    assert len(listed) == WRITERS * TURNS * 2 == len(set(returned))
    assert sorted(m.id for m in listed) == sorted(returned)
    # one strict order: times strictly increase, so no reader can order two messages differently
    times = [m.created_at for m in listed]
    assert all(a < b for a, b in itertools.pairwise(times)), "two messages share a time"
    # a turn is never split by another writer's, and each writer's turns keep their own order
    for i in range(0, len(texts), 2):
        assert texts[i].endswith(" q") and texts[i + 1] == texts[i][:-2] + " a"
    for w in range(WRITERS):
        mine = [t for t in texts if t.startswith(f"w{w:02d} ") and t.endswith(" q")]
        assert mine == [f"w{w:02d} t{t} q" for t in range(TURNS)]
    # every reader agrees
    ids = [m.id for m in listed]
    assert [m.id for m in (await mem.recall("shared", last_messages=len(ids))).messages] == ids
    assert [m.id for m in (await mem.list_messages("shared", per_page=None, direction="DESC")).messages] == ids[::-1]
    pages = [(await mem.list_messages("shared", page=p, per_page=7)).messages for p in range(len(ids) // 7 + 1)]
    assert [m.id for page in pages for m in page] == ids
    assert [m.id for m in (await mem.context("shared", "ada", last_messages=len(ids))).messages] == ids
    assert [m.id for m in (await mem.list_messages_by_resource("ada", per_page=None)).messages] == ids
    # the thread's updatedAt moved past every message
    thread = await mem.get_thread("shared")
    assert thread is not None and thread.updated_at >= times[-1]


async def test_twenty_writers_retrying_the_same_turn_store_it_once(mem: Any) -> None:
    """A retry storm: every writer saves the same two ids at once; upserts by id keep one copy."""
    await mem.create_thread("ada", thread_id="t")
    turn = [Message.user("hello", id="u1", thread_id="t"), Message.assistant("hi", id="a1", thread_id="t")]
    results = await concurrently(mem, [lambda m: m.save_messages(turn) for _ in range(WRITERS)])
    listed = (await mem.list_messages("t")).messages
    assert [(m.id, m.text) for m in listed] == [("u1", "hello"), ("a1", "hi")]
    # every writer was told the same stored times (a re-save never rewrites createdAt)
    assert {tuple(m.created_at for m in r) for r in results} == {tuple(m.created_at for m in listed)}
    assert count(mem, "mastra_messages") == 2


NESTED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"facts": {"type": "object", "additionalProperties": {"type": "integer"}}},
}


@pytest.mark.parametrize("scope", ["resource", "thread"])
async def test_twenty_nested_working_memory_merges_lose_nothing(mem: Any, scope: str) -> None:
    memory = with_config(
        mem, MemoryConfig(working_memory=WorkingMemory(enabled=True, scope=scope, schema=NESTED_SCHEMA))
    )
    await memory.create_thread("ada", thread_id="t", metadata={"keep": "me"})
    calls = [
        (lambda m, i=i: m.update_working_memory("t", working_memory={"facts": {f"k{i:02d}": i}}))
        for i in range(WRITERS)
    ]
    results = await concurrently(memory, calls)
    assert all(r.saved for r in results)
    stored = json.loads(await memory.get_working_memory("t"))
    assert stored == {"facts": {f"k{i:02d}": i for i in range(WRITERS)}}
    if scope == "thread":  # the thread's other metadata survived every write
        thread = await memory.get_thread("t")
        assert thread is not None and thread.metadata is not None and thread.metadata["keep"] == "me"


@pytest.mark.parametrize("scope", ["resource", "thread"])
async def test_twenty_markdown_replacements_leave_exactly_one_whole_document(mem: Any, scope: str) -> None:
    """Markdown working memory is replaced whole (Mastra's contract): the last writer wins, and
    what is stored is one writer's complete document, never a mix."""
    memory = with_config(mem, MemoryConfig(working_memory=WorkingMemory(enabled=True, scope=scope)))
    await memory.create_thread("ada", thread_id="t")
    docs = [f"# User\n- **First Name**: Ada {i}\n- **Notes**: {'x' * i}\n" for i in range(WRITERS)]
    results = await concurrently(
        memory, [(lambda m, d=d: m.update_working_memory("t", working_memory=d)) for d in docs]
    )
    assert all(r.saved for r in results)
    assert await memory.get_working_memory("t") in docs
    await memory.update_working_memory("t", working_memory=docs[3])  # a later write wins outright
    assert await memory.get_working_memory("t") == docs[3]
    assert count(mem, "mastra_resources") == (1 if scope == "resource" else 0)


async def test_thread_metadata_updates_racing_thread_working_memory_lose_nothing(mem: Any) -> None:
    """Both write the same jsonb column (thread-scoped working memory lives in metadata)."""
    memory = with_config(
        mem, MemoryConfig(working_memory=WorkingMemory(enabled=True, scope="thread", schema=NESTED_SCHEMA))
    )
    await memory.create_thread("ada", thread_id="t")
    calls: list[Any] = []
    for i in range(WRITERS // 2):
        calls.append(lambda m, i=i: m.update_thread("t", metadata={f"m{i:02d}": i}))
        calls.append(lambda m, i=i: m.update_working_memory("t", working_memory={"facts": {f"k{i:02d}": i}}))
    await concurrently(memory, calls)
    thread = await memory.get_thread("t")
    assert thread is not None and thread.metadata is not None
    assert {k: v for k, v in thread.metadata.items() if k.startswith("m")} == {
        f"m{i:02d}": i for i in range(WRITERS // 2)
    }
    assert json.loads(thread.metadata["workingMemory"]) == {"facts": {f"k{i:02d}": i for i in range(WRITERS // 2)}}


# --- migrations and start-ups from several processes ------------------------------------------------

_MIGRATE = textwrap.dedent(
    """
    import sys
    from mastra_memory import Memory, MemoryConfig
    from mastra_memory.embedding import HashEmbedder
    dsn, schema, recall = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
    config = MemoryConfig(semantic_recall=recall)
    with Memory.connect(dsn, schema=schema, config=config, embedder=HashEmbedder()) as memory:
        thread = memory.create_thread("r")
        print(memory.migrate(), thread.id)
    """
)


def test_concurrent_migrations_from_threads_and_processes_apply_each_version_once(pg_dsn: str) -> None:
    schema = fresh_schema()
    try:
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", _MIGRATE, pg_dsn, schema, str(i % 2)],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(3)
        ]
        from concurrent.futures import ThreadPoolExecutor

        def in_thread(_: int) -> list[int]:
            with Memory.connect(pg_dsn, schema=schema, migrate=False, max_size=1) as memory:
                return memory.migrate()

        with ThreadPoolExecutor(3) as pool:
            applied_in_threads = list(pool.map(in_thread, range(3)))
        outputs = [p.communicate(timeout=120) for p in processes]
        assert [p.returncode for p in processes] == [0] * 3, [err for _, err in outputs]
        # every process was told "nothing left to do" on its second migrate(), and created a thread
        assert all(out.startswith("[] ") for out, _ in outputs), outputs
        with psycopg.connect(pg_dsn) as conn:
            versions = conn.execute(
                psycopg.sql.SQL("SELECT version, count(*) FROM {} GROUP BY version ORDER BY version").format(
                    psycopg.sql.Identifier(schema, "mastra_memory_migrations")
                )
            ).fetchall()
            threads = conn.execute(
                psycopg.sql.SQL("SELECT count(*) FROM {}").format(psycopg.sql.Identifier(schema, "mastra_threads"))
            ).fetchone()
        from mastra_memory.storage._migrations import latest_version

        assert versions == [(v, 1) for v in range(1, latest_version() + 1)]
        assert threads == (3,)
        # whoever migrated, each version was applied by exactly one of the six
        applied_anywhere = [v for a in applied_in_threads for v in a]
        assert len(applied_anywhere) == len(set(applied_anywhere))
    finally:
        drop_schema(pg_dsn, schema)


_START = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from mastra_memory import Memory
    from mastra_memory.embedded import EmbeddedPostgres
    data_dir, go, name = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    while not go.exists():  # all processes start up together
        time.sleep(0.01)
    server = EmbeddedPostgres(data_dir)
    dsn = server.start()
    with Memory.connect(dsn, schema=name) as memory:
        memory.create_thread("r", thread_id=name)
        print(dsn, memory.get_thread(name).id)
    """
)


def test_concurrent_embedded_start_ups_share_one_server(tmp_path: Path) -> None:
    data_dir, go = tmp_path / "pgdata", tmp_path / "go"
    names = [f"p{i}" for i in range(3)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _START, str(data_dir), str(go), name],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    go.touch()
    try:
        outputs = [p.communicate(timeout=180) for p in processes]
    finally:
        from mastra_memory.embedded import EmbeddedPostgres

        server = EmbeddedPostgres(data_dir)
        dsn = server.start()
    try:
        assert [p.returncode for p in processes] == [0] * 3, [err for _, err in outputs]
        lines = [out.split() for out, _ in outputs]
        assert {dsn_ for dsn_, _ in lines} == {dsn}  # one server, one initialised directory
        assert [thread for _, thread in lines] == names
        with psycopg.connect(dsn) as conn:  # every process's data is in it
            found = [
                conn.execute(
                    psycopg.sql.SQL("SELECT id FROM {}").format(psycopg.sql.Identifier(name, "mastra_threads"))
                ).fetchone()
                for name in names
            ]
        assert found == [(name,) for name in names]
    finally:
        server.wipe()


async def test_readers_during_writes_never_see_a_half_saved_turn(mem: Any) -> None:
    """A turn is one statement: a reader sees both of its messages or neither."""
    await mem.create_thread("ada", thread_id="shared")
    seen: list[list[str]] = []

    def read_loop(n: int) -> list[Any]:
        return [(lambda m: m.list_messages("shared", per_page=None)) for _ in range(n)]

    writers = [writer(w) for w in range(6)]
    results = await concurrently(mem, [*writers, read_loop(15), read_loop(15)])
    for pages in results[len(writers) :]:
        seen += [[m.text for m in page.messages] for page in pages]
    for texts in seen:
        assert len(texts) % 2 == 0
        assert all(texts[i + 1] == texts[i][:-2] + " a" for i in range(0, len(texts), 2))
    assert count(mem, "mastra_messages") == 6 * TURNS * 2
    assert run(mem, "SELECT count(DISTINCT id) AS n FROM mastra_messages")[0]["n"] == 6 * TURNS * 2
