"""Observational memory: old messages become dated notes, and the context stays small.

Run: python docs/examples/observational_memory.py   (embedded PostgreSQL, offline)

The Observer here is a scripted stand-in so the example runs without a network; with a real model
use ``ObservationalMemory(model=OpenAIChatModel("gpt-4o-mini"))`` (see docs/observational-memory.md).
"""

from collections.abc import Sequence

from mastra_memory import Memory, MemoryConfig, Message, ObservationalMemory
from mastra_memory.models import ChatTurn


class ScriptedObserver:
    """A stand-in chat model: answers the Observer's prompt with fixed notes (no LLM involved)."""

    model_id = "scripted-observer"

    def complete(self, messages: Sequence[ChatTurn], *, max_tokens: int | None = None) -> str:
        return (
            "<observations>\n"
            "Date: May 1, 2025\n"
            "* 🔴 (09:30) User stated they are flying to Lisbon on May 3 (meaning May 3, 2025).\n"
            "* 🔴 (09:31) User stated they are vegetarian.\n"
            "* 🟡 (09:32) Assistant suggested booking a fado show in Alfama.\n"
            "</observations>\n"
            "<current-task>\nPrimary: planning the Lisbon trip; waiting for the user to pick a day.\n</current-task>\n"
            "<suggested-response>\nOffer two fado venues with vegetarian dinner options.\n</suggested-response>"
        )


# Tiny thresholds so a few messages trigger it; Mastra's defaults are 30 000 / 40 000 tokens.
options = ObservationalMemory(model=ScriptedObserver(), observation_tokens=60, reflection_tokens=2000)

with Memory.connect(config=MemoryConfig(observational_memory=options)) as memory:
    memory.create_thread("user-ada", thread_id="lisbon")
    memory.save_messages(
        [
            Message.user("I'm flying to Lisbon on May 3rd.", thread_id="lisbon"),
            Message.assistant("Great choice! Anything you would like to do there?", thread_id="lisbon"),
            Message.user("I'm vegetarian, and I'd love some music in the evening.", thread_id="lisbon"),
            Message.assistant("A fado show in Alfama would be perfect; there are veggie-friendly tascas.",
                              thread_id="lisbon"),
        ]
    )
    ctx = memory.context("lisbon", "user-ada")  # past the threshold: the Observer runs now
    assert ctx.observations is not None
    print(f"observed now: {ctx.observations.observed_now}; raw messages left: {len(ctx.messages) - 1}")
    print("\n".join(ctx.system[1:]))  # what the model reads instead of the four messages

    record = memory.get_observations("lisbon", "user-ada")
    assert record is not None
    print(f"generation {record.generation}, {record.observation_tokens} observation tokens, "
          f"{len(record.observed_message_ids)} messages observed")
