"""Fixtures for the LangChain adapter: memories with semantic recall (HashEmbedder) on the real database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from mastra_memory import Memory, MemoryConfig, Message, SemanticRecall
from mastra_memory.embedding import HashEmbedder
from tests.conftest import _sync_pool
from tests.support import drop_schema, fresh_schema

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)

PETS = [
    "I adopted a beagle puppy named Biscuit last week",
    "Beagles are lovely dogs, congratulations on Biscuit",
    "My beagle Biscuit chewed my hiking boots",
    "We are going hiking in the Alps in July",
    "Pack good boots for the Alps",
    "Biscuit the beagle loves long walks",
    "I started learning the cello",
]


def recall_config(**settings: Any) -> MemoryConfig:
    return MemoryConfig(last_messages=10, semantic_recall=SemanticRecall(**settings))


def seed(memory: Memory, thread_id: str = "pets", resource_id: str = "ada") -> None:
    memory.create_thread(resource_id, thread_id=thread_id)
    memory.save_messages(
        [
            Message.of("user" if i % 2 == 0 else "assistant", text, id=f"{thread_id}-{i}", thread_id=thread_id,
                       created_at=T0 + timedelta(minutes=i))
            for i, text in enumerate(PETS)
        ]
    )


@pytest.fixture
def sync_recall_memory(pg_dsn: str, _resources: None) -> Iterator[Memory]:
    """A blocking Memory with hybrid recall (top_k 4, range 0) on a fresh schema, seeded with PETS."""
    schema = fresh_schema()
    memory = Memory(_sync_pool(pg_dsn), schema=schema, config=recall_config(message_range=0),
                    embedder=HashEmbedder())
    memory.migrate()
    seed(memory)
    yield memory
    drop_schema(pg_dsn, schema)


@pytest.fixture
def sync_memory(pg_dsn: str, _resources: None) -> Iterator[Callable[..., Memory]]:
    """Make blocking, migrated Memory objects on fresh schemas (dropped after the test)."""
    schemas: list[str] = []

    def make(**kwargs: Any) -> Memory:
        schemas.append(fresh_schema())
        memory = Memory(_sync_pool(pg_dsn), schema=schemas[-1], **kwargs)
        memory.migrate()
        return memory

    yield make
    for schema in schemas:
        drop_schema(pg_dsn, schema)
