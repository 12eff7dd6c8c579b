"""LoCoMo recall benchmark: how much of each question's evidence the assembled context contains.

Each conversation becomes one resource and each session one thread, ingested through the public
API. Every turn is a message ("Speaker: text", plus the photo caption when the turn shared one),
timed at its session's date, with its ``dia_id`` kept in the message metadata. Then every
question is asked as an agent would ask it: from a new thread of that resource, with
``context(query=question)``. The score is the share of the question's evidence turns present
in the context (system blocks and messages), and the context's size in tokens.

    python bench/locomo.py --data ../shared/data/locomo_dev.json                  # every configuration
    python bench/locomo.py --data … --config mastra-default --config hybrid --json

The data (LoCoMo, CC BY-NC 4.0) is read from --data and never copied. Categories are reported by
number (1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop, 5 adversarial); "overall" averages
categories 1-4, as the Mem0 paper does.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
from _common import database, pct

from mastra_memory import Memory, MemoryConfig, Message
from mastra_memory._config import SemanticRecall

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "locomo_dev.json"

CONFIGS: dict[str, MemoryConfig] = {
    # Mastra's defaults with semantic recall on: vectors only, top 4, one neighbour each side.
    "mastra-default": MemoryConfig(semantic_recall=SemanticRecall(top_k=4, message_range=1, hybrid=False)),
    # Our defaults: Mastra's sizes, hybrid recall.
    "hybrid-default": MemoryConfig(semantic_recall=SemanticRecall()),
    # A larger budget, vectors only and hybrid: what hybrid adds at the same size.
    "vector-9x2": MemoryConfig(semantic_recall=SemanticRecall(top_k=9, message_range=2, hybrid=False)),
    "hybrid-9x2": MemoryConfig(semantic_recall=SemanticRecall(top_k=9, message_range=2)),
    "hybrid-10x1-2": MemoryConfig(semantic_recall=SemanticRecall(top_k=10, message_range=(1, 2))),
}


def session_time(text: str) -> datetime:
    """'1:56 pm on 8 May, 2023' → an aware UTC datetime."""
    return datetime.strptime(text.strip(), "%I:%M %p on %d %B, %Y").replace(tzinfo=timezone.utc)


def evidence_ids(raw: list[Any], valid: set[str]) -> list[str]:
    """Repair the malformed ids of the release ("D8:6; D9:17", "D:11:26", "D30:05"); drop unknown ones."""
    out: list[str] = []
    for item in raw:
        for piece in re.split(r"[;,\s]+", str(item)):
            m = re.match(r"^D:?(\d+):0*(\d+)$", piece.strip())
            if m:
                did = f"D{int(m.group(1))}:{int(m.group(2))}"
                if did in valid and did not in out:
                    out.append(did)
    return out


def ingest(memory: Memory, sample: dict[str, Any]) -> tuple[str, set[str]]:
    conv = sample["conversation"]
    resource = f"locomo-{sample['sample_id']}"
    valid: set[str] = set()
    i = 1
    while f"session_{i}" in conv:
        start = session_time(conv[f"session_{i}_date_time"])
        thread = memory.create_thread(resource, thread_id=f"{resource}-s{i}", title=f"Session {i}")
        batch = []
        for n, turn in enumerate(conv[f"session_{i}"]):
            text = f"{turn['speaker']}: {turn['text']}"
            if turn.get("blip_caption"):
                text += f" [shares a photo: {turn['blip_caption']}]"
            role = "user" if turn["speaker"] == conv["speaker_a"] else "assistant"
            content = {"format": 2, "parts": [{"type": "text", "text": text}], "metadata": {"dia_id": turn["dia_id"]}}
            batch.append(Message.of(role, content, thread_id=thread.id, created_at=start + timedelta(seconds=30 * n)))
            valid.add(turn["dia_id"])
        for k in range(0, len(batch), 50):
            memory.save_messages(batch[k : k + 50])
        i += 1
    return resource, valid


def dia_ids_in(context: Any) -> set[str]:
    found = set()
    for hit in context.hits:
        for message in hit.window:
            meta = message.content.metadata or {}
            if "dia_id" in meta:
                found.add(meta["dia_id"])
    for message in context.messages:
        meta = message.content.metadata or {}
        if "dia_id" in meta:
            found.add(meta["dia_id"])
    return found


def run(dsn: str, data: list[dict[str, Any]], name: str, config: MemoryConfig) -> dict[str, Any]:
    schema = f"locomo_{re.sub(r'[^a-z0-9]', '_', name)}_{os.getpid()}"
    with Memory.connect(dsn, schema=schema, config=config) as memory:
        t0 = time.perf_counter()
        corpora = [ingest(memory, sample) for sample in data]
        ingest_s = time.perf_counter() - t0
        per_cat: dict[int, list[float]] = defaultdict(list)
        tokens: list[int] = []
        latency: list[float] = []
        for sample, (resource, valid) in zip(data, corpora, strict=True):
            for qa in sample["qa"]:
                evidence = evidence_ids(qa.get("evidence", []), valid)
                if not evidence:
                    continue
                thread = memory.create_thread(resource)
                t = time.perf_counter()
                ctx = memory.context(thread.id, resource, query=qa["question"])
                latency.append((time.perf_counter() - t) * 1000)
                found = dia_ids_in(ctx)
                per_cat[int(qa["category"])].append(sum(e in found for e in evidence) / len(evidence))
                if int(qa["category"]) != 5:
                    tokens.append(ctx.tokens)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    overall = [c for cat in (1, 2, 3, 4) for c in per_cat[cat]]
    return {
        "config": name,
        "coverage_pct": round(100 * statistics.fmean(overall), 1),
        "mean_context_tokens": round(statistics.fmean(tokens), 1),
        "per_category_pct": {str(c): round(100 * statistics.fmean(v), 1) for c, v in sorted(per_cat.items())},
        "questions": {str(c): len(v) for c, v in sorted(per_cat.items())},
        "context_latency_ms": {"p50": round(pct(latency, 50), 2), "p95": round(pct(latency, 95), 2)},
        "ingest_seconds": round(ingest_s, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="locomo_dev.json (default: ../shared/data)")
    parser.add_argument(
        "--config", action="append", choices=sorted(CONFIGS), help="configurations to run (default: all)"
    )
    parser.add_argument("--dsn", help="PostgreSQL with pgvector (default: an embedded server in a temporary directory)")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args()
    if not args.data.exists():
        parser.error(f"{args.data} does not exist; pass --data PATH to locomo_dev.json")
    data = json.loads(args.data.read_text())
    names = args.config or list(CONFIGS)
    with database(args.dsn) as dsn:
        results = [run(dsn, data, name, CONFIGS[name]) for name in names]
    for r in results:
        cats = " ".join(f"c{c}={v}" for c, v in r["per_category_pct"].items())
        print(
            f"{r['config']:>15}: coverage {r['coverage_pct']}% at {r['mean_context_tokens']} tokens; {cats}; "
            f"context p50 {r['context_latency_ms']['p50']} ms p95 {r['context_latency_ms']['p95']} ms",
            file=sys.stderr,
        )
    if args.json:
        base = next((r for r in results if r["config"] == "mastra-default"), None)
        summary = {"results": results}
        if base:
            summary["points_over_mastra_default"] = {
                r["config"]: round(r["coverage_pct"] - base["coverage_pct"], 1) for r in results
            }
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
