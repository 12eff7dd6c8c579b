"""The Python peers of bench/compare.py, each behind the same small interface (Mastra's: compare_mastra.py).

A peer opens one database, creates and seeds its tables (``create``), appends turns and reads
the last 20 messages of threads, timing each call around the library call only (messages are
built before the clock starts, for every peer alike). Async peers run their coroutines on one
event loop of their own, so the same driver loop in compare.py times them all.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote

from psycopg.conninfo import conninfo_to_dict, make_conninfo

T = TypeVar("T")
RESOURCE = "bench-user"
HISTORY = 20  # messages read per history read


@dataclass(frozen=True)
class Msg:
    id: str
    thread_id: str
    role: str  # "user" | "assistant"
    text: str
    created_at: datetime


Turn = tuple[Msg, Msg]


@dataclass(frozen=True)
class Db:
    """One database on the bench server, in the forms the different drivers want."""

    name: str
    user: str
    password: str
    host: str
    port: str
    conninfo: str  # libpq, for psycopg

    @classmethod
    def of(cls, dsn: str, name: str, *, host: str | None = None, port: int | None = None) -> Db:
        """``dsn``'s server and credentials, database ``name``; ``host``/``port`` reroute it (the proxy)."""
        info: dict[str, Any] = conninfo_to_dict(dsn)
        info["dbname"] = name
        if host is not None:
            info.update(host=host, port=str(port))
            info.pop("hostaddr", None)
        return cls(
            name,
            str(info.get("user") or "postgres"),
            str(info.get("password") or ""),
            str(info.get("host") or "/tmp"),
            str(info.get("port") or "5432"),
            make_conninfo(**info),
        )

    def url(self, scheme: str = "postgresql") -> str:
        """A URL: SQLAlchemy and node-postgres take Unix sockets as ``?host=<dir>``."""
        auth = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}@"
        if self.host.startswith("/"):
            port = "" if self.port == "5432" else f"&port={self.port}"
            return f"{scheme}://{auth}/{self.name}?host={quote(self.host)}{port}"
        return f"{scheme}://{auth}{self.host}:{self.port}/{self.name}"


class Peer:
    """What compare.py drives. ``label`` is what the report prints; recall peers add ``search``."""

    key = ""
    label = ""

    @staticmethod
    def missing() -> str | None:
        """Why this peer cannot run here (and how to fix it), or None."""
        return None

    def open(self, db: Db) -> None: ...
    def create(self, threads: dict[str, list[Msg]]) -> None: ...
    def append(self, turns: list[Turn]) -> list[float]:
        raise NotImplementedError

    def read(self, thread_ids: list[str]) -> tuple[list[float], int]:
        raise NotImplementedError

    def search(self, calls: list[tuple[str, str]]) -> tuple[list[float], int]:
        raise NotImplementedError

    def close(self) -> None: ...


def _timed(call: Callable[[], object]) -> float:
    t = time.perf_counter()
    call()
    return (time.perf_counter() - t) * 1000


async def _atimed(call: Callable[[], Awaitable[object]]) -> float:
    t = time.perf_counter()
    await call()
    return (time.perf_counter() - t) * 1000


class AsyncPeer(Peer):
    """Runs each block on the peer's own event loop (connections stay bound to it)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        self.loop.close()


def _missing_module(module: str) -> str | None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        return f"Python package for `{module}` not installed: pip install -e '.[bench]'"
    return None


# ----------------------------------------------------------------------------- mastra-memory


def _our_messages(msgs: list[Msg]) -> list[Any]:
    from mastra_memory import Message

    return [
        Message.of(m.role, m.text, id=m.id, thread_id=m.thread_id, resource_id=RESOURCE, created_at=m.created_at)  # type: ignore[arg-type]
        for m in msgs
    ]


class Ours(Peer):
    key, label = "ours", "mastra-memory Memory"

    def open(self, db: Db) -> None:
        from mastra_memory import Memory, MemoryConfig

        self.memory = Memory.connect(db.conninfo, config=MemoryConfig(last_messages=HISTORY), migrate=False, max_size=2)

    def create(self, threads: dict[str, list[Msg]]) -> None:
        self.memory.migrate()
        for tid, msgs in threads.items():
            self.memory.create_thread(RESOURCE, thread_id=tid)
            self.memory.save_messages(_our_messages(msgs))

    def append(self, turns: list[Turn]) -> list[float]:
        batches = [_our_messages(list(turn)) for turn in turns]
        return [_timed(partial(self.memory.save_messages, b)) for b in batches]

    def read(self, thread_ids: list[str]) -> tuple[list[float], int]:
        ms, returned = [], 0
        for tid in thread_ids:
            t = time.perf_counter()
            page = self.memory.recall(tid, resource_id=RESOURCE, last_messages=HISTORY)
            ms.append((time.perf_counter() - t) * 1000)
            returned += len(page.messages)
        return ms, returned

    def close(self) -> None:
        self.memory.close()


class OursAsync(AsyncPeer):
    key, label = "ours-async", "mastra-memory AsyncMemory"

    def open(self, db: Db) -> None:
        from mastra_memory import AsyncMemory, MemoryConfig

        config = MemoryConfig(last_messages=HISTORY)
        self.memory = self.run(AsyncMemory.connect(db.conninfo, config=config, migrate=False, max_size=2))

    def create(self, threads: dict[str, list[Msg]]) -> None:
        async def go() -> None:
            await self.memory.migrate()
            for tid, msgs in threads.items():
                await self.memory.create_thread(RESOURCE, thread_id=tid)
                await self.memory.save_messages(_our_messages(msgs))

        self.run(go())

    def append(self, turns: list[Turn]) -> list[float]:
        batches = [_our_messages(list(turn)) for turn in turns]

        async def go() -> list[float]:
            return [await _atimed(partial(self.memory.save_messages, b)) for b in batches]

        return self.run(go())

    def read(self, thread_ids: list[str]) -> tuple[list[float], int]:
        async def go() -> tuple[list[float], int]:
            ms, returned = [], 0
            for tid in thread_ids:
                t = time.perf_counter()
                page = await self.memory.recall(tid, resource_id=RESOURCE, last_messages=HISTORY)
                ms.append((time.perf_counter() - t) * 1000)
                returned += len(page.messages)
            return ms, returned

        return self.run(go())

    def close(self) -> None:
        self.run(self.memory.close())
        super().close()


# ----------------------------------------------------------------------------- langchain-postgres


def _session(thread_id: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, thread_id))  # PostgresChatMessageHistory wants UUIDs


def _lc_messages(msgs: list[Msg]) -> list[Any]:
    from langchain_core.messages import AIMessage, HumanMessage

    return [HumanMessage(m.text) if m.role == "user" else AIMessage(m.text) for m in msgs]


class LangChain(Peer):
    """``PostgresChatMessageHistory``: one row per message; a read fetches the whole session."""

    key, label = "langchain", "langchain-postgres PostgresChatMessageHistory"
    table = "chat_history"

    @staticmethod
    def missing() -> str | None:
        return _missing_module("langchain_postgres")

    def open(self, db: Db) -> None:
        import psycopg

        self.conn = psycopg.connect(db.conninfo)  # the class commits itself: a plain connection, as its docs show

    def _history(self, thread_id: str) -> Any:
        from langchain_postgres import PostgresChatMessageHistory

        return PostgresChatMessageHistory(self.table, _session(thread_id), sync_connection=self.conn)

    def create(self, threads: dict[str, list[Msg]]) -> None:
        from langchain_postgres import PostgresChatMessageHistory

        PostgresChatMessageHistory.create_tables(self.conn, self.table)
        for tid, msgs in threads.items():
            self._history(tid).add_messages(_lc_messages(msgs))

    def append(self, turns: list[Turn]) -> list[float]:
        calls = [(self._history(turn[0].thread_id), _lc_messages(list(turn))) for turn in turns]
        return [_timed(partial(h.add_messages, m)) for h, m in calls]

    def read(self, thread_ids: list[str]) -> tuple[list[float], int]:
        ms, returned = [], 0
        for history in [self._history(tid) for tid in thread_ids]:
            t = time.perf_counter()
            last = history.get_messages()[-HISTORY:]  # no "last N" read: the whole session, cut here
            ms.append((time.perf_counter() - t) * 1000)
            returned += len(last)
        return ms, returned

    def close(self) -> None:
        self.conn.close()


class LangChainAsync(AsyncPeer):
    key, label = "langchain-async", "langchain-postgres (async)"
    table = LangChain.table

    @staticmethod
    def missing() -> str | None:
        return _missing_module("langchain_postgres")

    def open(self, db: Db) -> None:
        import psycopg

        self.conn = self.run(psycopg.AsyncConnection.connect(db.conninfo))

    def _history(self, thread_id: str) -> Any:
        from langchain_postgres import PostgresChatMessageHistory

        return PostgresChatMessageHistory(self.table, _session(thread_id), async_connection=self.conn)

    def create(self, threads: dict[str, list[Msg]]) -> None:
        from langchain_postgres import PostgresChatMessageHistory

        async def go() -> None:
            await PostgresChatMessageHistory.acreate_tables(self.conn, self.table)
            for tid, msgs in threads.items():
                await self._history(tid).aadd_messages(_lc_messages(msgs))

        self.run(go())

    def append(self, turns: list[Turn]) -> list[float]:
        calls = [(self._history(turn[0].thread_id), _lc_messages(list(turn))) for turn in turns]

        async def go() -> list[float]:
            return [await _atimed(partial(h.aadd_messages, m)) for h, m in calls]

        return self.run(go())

    def read(self, thread_ids: list[str]) -> tuple[list[float], int]:
        histories = [self._history(tid) for tid in thread_ids]

        async def go() -> tuple[list[float], int]:
            ms, returned = [], 0
            for history in histories:
                t = time.perf_counter()
                last = (await history.aget_messages())[-HISTORY:]
                ms.append((time.perf_counter() - t) * 1000)
                returned += len(last)
            return ms, returned

        return self.run(go())

    def close(self) -> None:
        self.run(self.conn.close())
        super().close()


# ----------------------------------------------------------------------------- LlamaIndex


def _li_messages(msgs: list[Msg]) -> list[Any]:
    from llama_index.core.llms import ChatMessage

    return [ChatMessage(role=m.role, content=m.text) for m in msgs]


def _li_store(db: Db) -> Any:
    from llama_index.storage.chat_store.postgres import PostgresChatStore

    # from_uri() cannot express a Unix-socket URL, so both URLs are given (as the peer harness does).
    return PostgresChatStore.from_params(
        connection_string=db.url("postgresql+psycopg"),
        async_connection_string=db.url("postgresql+asyncpg"),
        table_name="chatstore",
    )


class LlamaIndex(Peer):
    """``PostgresChatStore``: the whole history of a key is one ``json[]`` value; adds are per message."""

    key, label = "llamaindex", "LlamaIndex PostgresChatStore"

    @staticmethod
    def missing() -> str | None:
        return _missing_module("llama_index.storage.chat_store.postgres")

    def open(self, db: Db) -> None:
        self.store = _li_store(db)  # creates its table on construction

    def create(self, threads: dict[str, list[Msg]]) -> None:
        for tid, msgs in threads.items():
            self.store.set_messages(tid, _li_messages(msgs))

    def append(self, turns: list[Turn]) -> list[float]:
        calls = [(turn[0].thread_id, _li_messages(list(turn))) for turn in turns]
        # No batch add: a turn is two add_message calls (two statements, two commits).
        return [_timed(partial(self._add, k, m)) for k, m in calls]

    def _add(self, key: str, msgs: list[Any]) -> None:
        for m in msgs:
            self.store.add_message(key, m)

    def read(self, thread_ids: list[str]) -> tuple[list[float], int]:
        ms, returned = [], 0
        for tid in thread_ids:
            t = time.perf_counter()
            last = self.store.get_messages(tid)[-HISTORY:]  # no "last N" read either
            ms.append((time.perf_counter() - t) * 1000)
            returned += len(last)
        return ms, returned

    def close(self) -> None:
        self.store._session.kw["bind"].dispose()


class LlamaIndexAsync(AsyncPeer):
    key, label = "llamaindex-async", "LlamaIndex PostgresChatStore (async)"

    @staticmethod
    def missing() -> str | None:
        return LlamaIndex.missing() or _missing_module("asyncpg")

    def open(self, db: Db) -> None:
        self.store = _li_store(db)

    def create(self, threads: dict[str, list[Msg]]) -> None:
        async def go() -> None:
            for tid, msgs in threads.items():
                await self.store.aset_messages(tid, _li_messages(msgs))

        self.run(go())

    def append(self, turns: list[Turn]) -> list[float]:
        calls = [(turn[0].thread_id, _li_messages(list(turn))) for turn in turns]

        async def add(key: str, msgs: list[Any]) -> None:
            for m in msgs:
                await self.store.async_add_message(key, m)

        async def go() -> list[float]:
            return [await _atimed(partial(add, k, m)) for k, m in calls]

        return self.run(go())

    def read(self, thread_ids: list[str]) -> tuple[list[float], int]:
        async def go() -> tuple[list[float], int]:
            ms, returned = [], 0
            for tid in thread_ids:
                t = time.perf_counter()
                last = (await self.store.aget_messages(tid))[-HISTORY:]
                ms.append((time.perf_counter() - t) * 1000)
                returned += len(last)
            return ms, returned

        return self.run(go())

    def close(self) -> None:
        self.run(self.store._async_session.kw["bind"].dispose())
        self.store._session.kw["bind"].dispose()
        super().close()


# ----------------------------------------------------------------------------- semantic recall


class OursRecall(Peer):
    """``context(query=…)`` with semantic recall: top 5, ±2 neighbours, resource scope, HashEmbedder(384)."""

    key, label = "ours-recall", "mastra-memory context(), vectors only"
    hybrid = False

    def open(self, db: Db) -> None:
        from mastra_memory import Memory, MemoryConfig, SemanticRecall
        from mastra_memory.embedding import HashEmbedder

        recall = SemanticRecall(top_k=5, message_range=2, scope="resource", hybrid=self.hybrid)
        config = MemoryConfig(last_messages=HISTORY, semantic_recall=recall)
        self.memory = Memory.connect(db.conninfo, config=config, embedder=HashEmbedder(384), migrate=False, max_size=2)

    def create(self, threads: dict[str, list[Msg]]) -> None:
        self.memory.migrate()
        for tid, msgs in threads.items():
            self.memory.create_thread(RESOURCE, thread_id=tid)
            for i in range(0, len(msgs), 50):
                self.memory.save_messages(_our_messages(msgs[i : i + 50]))

    def append(self, turns: list[Turn]) -> list[float]:
        batches = [_our_messages(list(turn)) for turn in turns]
        return [_timed(partial(self.memory.save_messages, b)) for b in batches]

    def search(self, calls: list[tuple[str, str]]) -> tuple[list[float], int]:
        ms, returned = [], 0
        for tid, query in calls:
            t = time.perf_counter()
            ctx = self.memory.context(tid, RESOURCE, query=query, last_messages=0)
            ms.append((time.perf_counter() - t) * 1000)
            returned += len(ctx.diagnostics.sources)
        return ms, returned

    def close(self) -> None:
        self.memory.close()


class OursRecallHybrid(OursRecall):
    key, label = "ours-recall-hybrid", "mastra-memory context(), hybrid (our default)"
    hybrid = True
