"""Fixtures for the LlamaIndex adapter: a blocking and an asyncio memory on one fresh schema, and a sample turn."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from mastra_memory import AsyncMemory, Memory
from tests.conftest import _async_pool, _sync_pool
from tests.support import drop_schema, fresh_schema

if TYPE_CHECKING:
    from llama_index.core.base.llms.types import ChatMessage


def turn(n: int) -> list[ChatMessage]:
    """Question ``n``, a tool call and its result, and the answer: one agent turn as FunctionAgent writes it."""
    from llama_index.core.base.llms.types import ChatMessage, ToolCallBlock  # here: llama-index is optional

    return [
        ChatMessage(role="user", content=f"question {n}"),
        ChatMessage(
            role="assistant", blocks=[ToolCallBlock(tool_call_id=f"c{n}", tool_name="calc", tool_kwargs={"n": n})]
        ),
        ChatMessage(role="tool", content=f"result {n}", additional_kwargs={"tool_call_id": f"c{n}"}),
        ChatMessage(role="assistant", content=f"answer {n}"),
    ]


@dataclass
class Pair:
    """The same schema through both shells (``ChatMemoryBuffer`` calls sync and async methods)."""

    sync: Memory
    aio: AsyncMemory
    schema: str
    dsn: str


@pytest.fixture
async def pair_factory(pg_dsn: str, _resources: None) -> AsyncIterator[Any]:
    """Make migrated (Memory, AsyncMemory) pairs on fresh schemas, dropped after the test."""
    made: list[str] = []

    async def make(**kwargs: Any) -> Pair:
        schema = fresh_schema()
        made.append(schema)
        sync = Memory(_sync_pool(pg_dsn), schema=schema, **kwargs)
        sync.migrate()
        aio = AsyncMemory(await _async_pool(pg_dsn), schema=schema, **kwargs)
        return Pair(sync, aio, schema, pg_dsn)

    yield make
    for schema in made:
        drop_schema(pg_dsn, schema)


@pytest.fixture
async def pair(pair_factory: Any) -> Pair:
    made: Pair = await pair_factory()
    return made
