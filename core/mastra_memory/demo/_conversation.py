"""The demo's conversation (package data) and what the demo does with it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from typing import Any, Literal

import orjson

from .._config import MemoryConfig, SemanticRecall
from .._memory import Memory
from .._types import Message
from ..recall import MemoryContext
from ..working_memory import WorkingMemory

DEMO_SCHEMA = "mastra_memory_demo"
"""Where the demo writes unless told otherwise: its own schema, away from real data."""


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    title: str
    started_at: datetime
    messages: list[tuple[Literal["user", "assistant"], str]]


@dataclass(frozen=True, slots=True)
class Question:
    question: str
    facts: list[str]


@dataclass(frozen=True, slots=True)
class Conversation:
    resource_id: str
    today_thread: str
    working_memory: str
    sessions: list[Session]
    questions: list[Question]

    @property
    def message_count(self) -> int:
        return sum(len(s.messages) for s in self.sessions)

    def titles(self) -> dict[str, str]:
        return {s.id: s.title for s in self.sessions}


def load_conversation() -> Conversation:
    """The conversation shipped as ``mastra_memory/demo/conversation.json``."""
    raw: dict[str, Any] = orjson.loads(resources.files(__package__).joinpath("conversation.json").read_bytes())
    return Conversation(
        resource_id=raw["resource_id"],
        today_thread=raw["today_thread"],
        working_memory=raw["working_memory"],
        sessions=[
            Session(s["id"], s["title"], datetime.fromisoformat(s["started_at"]), [(r, t) for r, t in s["messages"]])
            for s in raw["sessions"]
        ],
        questions=[Question(q["question"], list(q["facts"])) for q in raw["questions"]],
    )


def demo_config() -> MemoryConfig:
    """Mastra's defaults for history and recall sizes, with working memory on (resource scope)."""
    return MemoryConfig(
        last_messages=10,
        semantic_recall=SemanticRecall(top_k=4, message_range=1),
        working_memory=WorkingMemory(enabled=True),
    )


def ingest(memory: Memory, conversation: Conversation) -> int:
    """Store every session as a thread of the resource, plus the resource's working memory.

    Ids and times are fixed, and saving upserts, so running the demo again rewrites the same
    rows instead of piling up copies. Returns the number of messages saved."""
    saved = 0
    for session in conversation.sessions:
        memory.save_thread(session.id, conversation.resource_id, title=session.title, created_at=session.started_at,
                           updated_at=session.started_at)
        messages = [
            Message.of(role, text, id=f"{session.id}-{i:02d}", thread_id=session.id,
                       created_at=session.started_at + timedelta(minutes=2 * i))
            for i, (role, text) in enumerate(session.messages)
        ]
        saved += len(memory.save_messages(messages))
        # Saving bumps the thread's updatedAt to now; date it by its last message, as it was.
        memory.save_thread(session.id, conversation.resource_id, title=session.title, created_at=session.started_at,
                           updated_at=messages[-1].created_at)
    memory.update_resource(conversation.resource_id, working_memory=conversation.working_memory)
    memory.save_thread(conversation.today_thread, conversation.resource_id, title="Today")
    return saved


@dataclass(frozen=True, slots=True)
class FactCheck:
    """Whether one fact reached the context, and which parts of the context carry it."""

    fact: str
    found: bool
    where: list[str]


def check_facts(ctx: MemoryContext, facts: list[str], titles: dict[str, str]) -> list[FactCheck]:
    """Look for each fact (case-insensitive) in what the model would be sent: working memory and
    every recalled or history message, naming the thread and day it came from."""
    carriers: list[tuple[str, str]] = []
    if ctx.working_memory:
        carriers.append(("working memory", ctx.working_memory))
    seen: set[str] = set()
    recalled = [m for hit in ctx.hits for m in hit.window] + list(ctx.messages)
    for m in recalled:
        if m.id in seen:
            continue
        seen.add(m.id or "")
        thread = titles.get(m.thread_id or "", m.thread_id or "?")
        day = f"{m.created_at:%d %b %Y}" if m.created_at else ""
        carriers.append((f"{thread} ({day})", m.text))
    everything = "\n".join([*ctx.system, *(m.text for m in ctx.messages)]).lower()
    checks = []
    for fact in facts:
        where = list(dict.fromkeys(label for label, text in carriers if fact.lower() in text.lower()))
        checks.append(FactCheck(fact, fact.lower() in everything, where))
    return checks
