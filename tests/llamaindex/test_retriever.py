"""MastraMessageRetriever on the real database (HashEmbedder), retrieve and aretrieve."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

pytest.importorskip("llama_index.core", reason="llama-index is not installed: pip install 'mastra-memory[llama-index]'")

from llama_index.core.schema import MetadataMode

from llama_index_mastra_memory import MastraMessageRetriever
from mastra_memory import InvalidInputError, MemoryConfig, Message, SemanticRecall
from mastra_memory.embedding import HashEmbedder

from .conftest import Pair


async def seeded(pair_factory: Any) -> Pair:
    from tests.langchain.conftest import PETS, T0

    pair: Pair = await pair_factory(
        config=MemoryConfig(semantic_recall=SemanticRecall(message_range=0, top_k=4)), embedder=HashEmbedder()
    )
    pair.sync.create_thread("ada", thread_id="pets")
    pair.sync.save_messages(
        [
            Message.of("user", text, id=f"p{i}", thread_id="pets", created_at=T0 + timedelta(minutes=i))
            for i, text in enumerate(PETS)
        ]
    )
    pair.sync.create_thread("bob", thread_id="bobs")
    pair.sync.save_messages([Message.of("user", "My beagle Rex", id="b0", thread_id="bobs")])
    return pair


@pytest.mark.parametrize("flavour", ["sync", "async"])
async def test_hits_are_nodes_of_this_resource_only(pair_factory: Any, flavour: str) -> None:
    pair = await seeded(pair_factory)
    retriever = MastraMessageRetriever("ada", memory=pair.sync, async_memory=pair.aio, top_k=2)
    query = "beagle named Biscuit"
    nodes = retriever.retrieve(query) if flavour == "sync" else await retriever.aretrieve(query)
    assert len(nodes) == 2
    assert all(n.node.metadata["resource_id"] == "ada" and n.node.metadata["thread_id"] == "pets" for n in nodes)
    assert "Biscuit" in nodes[0].node.get_content()
    assert nodes[0].node.node_id.startswith("p") and nodes[0].score is not None
    shown = nodes[0].node.get_content(metadata_mode=MetadataMode.LLM)
    assert "role: user" in shown and "thread_id" not in shown


async def test_recall_off_and_bad_arguments_are_refused(pair: Pair) -> None:
    with pytest.raises(InvalidInputError, match="semantic recall is off"):
        MastraMessageRetriever("ada", memory=pair.sync).retrieve("x")
    with pytest.raises(InvalidInputError, match="top_k"):
        MastraMessageRetriever("ada", memory=pair.sync, top_k=0)
    with pytest.raises(TypeError, match="needs memory"):
        MastraMessageRetriever("ada")
