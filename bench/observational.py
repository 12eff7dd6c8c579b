"""Observational memory over a long scripted conversation: context size before and after observing
and after reflecting, with a deterministic fake Observer/Reflector (no network, no LLM cost).

    .venv/bin/python bench/observational.py                # embedded PostgreSQL, scaled thresholds
    .venv/bin/python bench/observational.py --observation-tokens 30000 --reflection-tokens 40000 --turns 4000

The fake models are mechanical, not smart: the Observer keeps each message's first words as one
note (about a third of its tokens), the Reflector keeps every third note. Real models compress far
more (Mastra reports 5-40x); what this measures is the mechanism — when observation and reflection
fire, what the context costs around them, and how long ``context()`` takes.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import database, summary
from psycopg import sql

from mastra_memory import Memory, MemoryConfig, Message, ObservationalMemory
from mastra_memory.models import ChatTurn
from mastra_memory.observational._prompts import messages_tokens

TOPICS = ["bees", "hives", "honey", "queens", "winter", "pollen", "swarms", "varroa", "roof", "Ghent", "frames"]


class MechanicalModel:
    """Fake Observer + Reflector (deterministic): first words of each message; every third note."""

    model_id = "mechanical-fake"

    def __init__(self) -> None:
        self.calls = {"observer": 0, "reflector": 0}

    def complete(self, messages: Sequence[ChatTurn], *, max_tokens: int | None = None) -> str:
        if messages[-1].content.startswith("## New Message History to Observe"):
            self.calls["observer"] += 1
            notes = []
            for block in messages[-1].content.split("\n\n---\n\n"):
                lines = block.splitlines()
                if len(lines) >= 2 and lines[0].startswith("**"):
                    role = lines[0][2:].split(" (")[0]
                    notes.append(f"* 🟡 (09:00) {role}: {' '.join(lines[1].split()[:8])}")
            body = "\n".join(notes)
            return f"<observations>\nDate: May 1, 2025\n{body}\n</observations>\n<current-task>\nchat\n</current-task>"
        self.calls["reflector"] += 1
        text = messages[-1].content.split("## OBSERVATIONS TO REFLECT ON\n\n", 1)[1].split("\n\nProduce a refined")[0]
        notes = [line for line in text.splitlines() if line.startswith("*")]
        kept = [line for i, line in enumerate(notes) if i % 3 == 0]
        return "<observations>\nDate: May 1, 2025\n" + "\n".join(kept) + "\n</observations>"


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(TOPICS) if i % 4 == 0 else f"word{rng.randint(0, 500)}" for i in range(words))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", default=None, help="PostgreSQL DSN (default: a temporary embedded server)")
    parser.add_argument("--turns", type=int, default=600, help="user+assistant exchanges")
    parser.add_argument("--words", type=int, default=30, help="words per message")
    parser.add_argument("--observation-tokens", type=int, default=3000)
    parser.add_argument("--reflection-tokens", type=int, default=4000)
    args = parser.parse_args()

    model = MechanicalModel()
    om = ObservationalMemory(
        model=model, observation_tokens=args.observation_tokens, reflection_tokens=args.reflection_tokens
    )
    config = MemoryConfig(observational_memory=om)
    rng = random.Random(7)
    schema = f"bench_om_{uuid.uuid4().hex[:8]}"
    latencies: list[float] = []
    events: list[tuple[int, str, int, int, int, int]] = []
    peak = previous = raw_tokens = 0
    with database(args.dsn) as dsn, Memory.connect(dsn, schema=schema, config=config) as memory:
        memory.create_thread("bee-keeper", thread_id="long")
        for turn in range(args.turns):
            pair = [Message.user(sentence(rng, args.words), thread_id="long"),
                    Message.assistant(sentence(rng, args.words), thread_id="long")]
            saved = memory.save_messages(pair)
            added = messages_tokens(saved)
            raw_tokens += added
            t0 = time.perf_counter()
            ctx = memory.context("long", "bee-keeper")
            latencies.append((time.perf_counter() - t0) * 1000)
            obs = ctx.observations
            assert obs is not None and obs.error is None, obs
            if obs.observed_now or obs.reflected_now:
                assert obs.record is not None
                kind = "observe+reflect" if obs.observed_now and obs.reflected_now else (
                    "observe" if obs.observed_now else "reflect")
                events.append((turn, kind, previous + added, ctx.tokens, obs.record.observation_tokens,
                               obs.record.generation))
            previous = ctx.tokens
            peak = max(peak, ctx.tokens)
        generations = len(memory.get_observation_history("long", "bee-keeper", limit=None))
        with memory.pool.connection() as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))

    print(f"conversation: {args.turns} exchanges, {2 * args.turns} messages, {raw_tokens} message tokens; "
          f"observe at {args.observation_tokens}, reflect at {args.reflection_tokens} tokens")
    print(f"model calls: {model.calls['observer']} observer, {model.calls['reflector']} reflector; "
          f"generations stored: {generations}")
    print("events: turn, kind, context tokens before -> after, observation tokens, generation")
    for turn, kind, before, after, obs_tokens, generation in events[:15]:
        print(f"  {turn:5d}  {kind:16s} {before:7d} -> {after:6d}   obs={obs_tokens:6d}  gen={generation}")
    if len(events) > 15:
        print(f"  ... {len(events) - 15} more")
    print(f"context tokens: peak {peak}, at the end {previous} (the whole conversation: {raw_tokens})")
    lat = summary(latencies)
    busy = {ev[0] for ev in events}
    quiet = [ms for turn, ms in enumerate(latencies) if turn not in busy]
    print(f"context() latency: p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms (all turns); "
          f"median without model calls {statistics.median(quiet):.2f} ms")


if __name__ == "__main__":
    main()
