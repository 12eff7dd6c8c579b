"""MastraMemoryRetriever: LangChain's standard retriever suite plus scope, metadata and async, on real PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("langchain_core", reason="langchain is not installed: pip install 'mastra-memory[langchain]'")
pytest.importorskip("langchain_tests", reason="langchain-tests is not installed")

from langchain_core.retrievers import BaseRetriever
from langchain_tests.integration_tests import RetrieversIntegrationTests

from langchain_mastra_memory import MastraMemoryRetriever
from mastra_memory import InvalidInputError, Memory, MemoryConfig, Message
from mastra_memory.embedding import HashEmbedder

from .conftest import recall_config, seed


class TestMastraMemoryRetrieverStandard(RetrieversIntegrationTests):
    """langchain-tests' contract: k as a field and as an invoke kwarg, Documents from invoke/ainvoke."""

    @pytest.fixture(autouse=True)
    def _memory(self, sync_recall_memory: Memory) -> None:
        self._mem = sync_recall_memory

    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return MastraMemoryRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"memory": self._mem, "resource_id": "ada"}

    @property
    def retriever_query_example(self) -> str:
        return "what is the name of my beagle"


def test_documents_carry_message_ids_and_metadata(sync_recall_memory: Memory) -> None:
    docs = MastraMemoryRetriever(memory=sync_recall_memory, resource_id="ada", k=2).invoke("beagle Biscuit")
    assert len(docs) == 2
    assert all(d.id and d.id.startswith("pets-") for d in docs)
    meta = docs[0].metadata
    assert meta["thread_id"] == "pets"
    assert meta["resource_id"] == "ada"
    assert meta["role"] in ("user", "assistant")
    assert meta["created_at"].startswith("2025-03-01T09:")
    assert isinstance(meta["score"], float)
    assert "Biscuit" in docs[0].page_content


def test_other_resources_are_never_searched(sync_recall_memory: Memory) -> None:
    seed(sync_recall_memory, thread_id="bob-pets", resource_id="bob")
    docs = MastraMemoryRetriever(memory=sync_recall_memory, resource_id="ada", k=10).invoke("beagle Biscuit")
    assert docs and all(d.metadata["resource_id"] == "ada" for d in docs)


def test_thread_scope_from_the_memory_config(sync_memory: Callable[..., Memory]) -> None:
    memory = sync_memory(config=recall_config(scope="thread", message_range=0), embedder=HashEmbedder())
    seed(memory, thread_id="pets")
    seed(memory, thread_id="pets-2")
    docs = MastraMemoryRetriever(memory=memory, resource_id="ada", thread_id="pets-2", k=10).invoke("beagle")
    assert docs and {d.metadata["thread_id"] for d in docs} == {"pets-2"}


def test_recall_off_says_how_to_turn_it_on(sync_memory: Callable[..., Memory]) -> None:
    memory = sync_memory(config=MemoryConfig())
    with pytest.raises(InvalidInputError, match="semantic recall is off"):
        MastraMemoryRetriever(memory=memory, resource_id="ada").invoke("x")


async def test_async_memory_through_ainvoke(mem_factory: Any) -> None:
    mem = await mem_factory(config=recall_config(message_range=0), embedder=HashEmbedder())
    memory = getattr(mem, "memory", mem)  # the sync flavour comes wrapped for awaiting
    await mem.create_thread("ada", thread_id="pets")
    await mem.save_messages([Message.user("my beagle is called Biscuit", id="m1", thread_id="pets"),
                             Message.user("I play the cello", id="m2", thread_id="pets")])
    retriever = MastraMemoryRetriever(memory=memory, resource_id="ada", k=1)
    docs = await retriever.ainvoke("beagle")
    assert [d.id for d in docs] == ["m1"]
