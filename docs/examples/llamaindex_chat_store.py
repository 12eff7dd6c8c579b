"""Mastra threads behind LlamaIndex's chat-store APIs, and recall as a retriever.

- `MastraChatStore` (a `BaseChatStore`) under `ChatMemoryBuffer`: key = thread id;
- `MastraMessageRetriever`: semantic recall over the user's messages as `NodeWithScore`s.

Run: python docs/examples/llamaindex_chat_store.py   (embedded PostgreSQL, offline embedder; no model).
Needs ``pip install "mastra-memory[llama-index]"``.
"""

from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.memory import ChatMemoryBuffer

from llama_index_mastra_memory import MastraChatStore, MastraMessageRetriever
from mastra_memory import Memory, MemoryConfig, SemanticRecall

config = MemoryConfig(semantic_recall=SemanticRecall(top_k=2, message_range=0))
with Memory.connect(config=config) as memory:  # no DSN: the embedded PostgreSQL
    store = MastraChatStore(resource_id="user-ada", memory=memory, title="Trip planning")
    buffer = ChatMemoryBuffer.from_defaults(chat_store=store, chat_store_key="trip", token_limit=1000)
    buffer.put(ChatMessage(role="user", content="I'm flying to Lisbon on May 3rd."))
    buffer.put(ChatMessage(role="assistant", content="Great, Lisbon in May is lovely."))
    buffer.put(ChatMessage(role="user", content="Book a table for two at a fado house."))
    buffer.put(ChatMessage(role="assistant", content="Done: dinner and fado at 20:30."))

    # One row per message in Mastra's table (an append never rewrites the history).
    rows = memory.list_messages("trip").messages
    print("Mastra rows:", [(m.role, m.text) for m in rows])
    print("Newest two:", [m.content for m in store.get_messages("trip", limit=2)])

    removed = store.delete_message("trip", 1)  # positional, atomic
    print("Removed:", removed.content if removed else None)
    print("Keys (threads of user-ada):", store.get_keys())

    retriever = MastraMessageRetriever("user-ada", memory=memory, top_k=1)
    for hit in retriever.retrieve("fado dinner booking"):
        print("Recalled:", hit.node.get_content(), "| thread:", hit.node.metadata["thread_id"])
