"""The offline demo: a shipped multi-session conversation, ingested and then asked about.

``mastra-memory demo`` (see :mod:`mastra_memory.cli`) renders it; this package holds the data
and the parts worth testing on their own: loading the conversation, ingesting it idempotently,
and checking whether each answer's facts reached the context an agent would receive.
"""

from ._conversation import (
    DEMO_SCHEMA,
    Conversation,
    FactCheck,
    Question,
    Session,
    check_facts,
    demo_config,
    ingest,
    load_conversation,
)

__all__ = [
    "DEMO_SCHEMA",
    "Conversation",
    "FactCheck",
    "Question",
    "Session",
    "check_facts",
    "demo_config",
    "ingest",
    "load_conversation",
]
