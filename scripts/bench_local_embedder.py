#!/usr/bin/env python3
"""Throughput of the offline LocalEmbedder on the first 1,000 LoCoMo turns (sentences/s).

Why: the default embedder runs inside the caller's process on every save and every recall, so
its speed is part of the library's latency budget. This prints comparable figures (the same text
set as the peer benchmark in shared/peers/bench) without copying the data into the repository.

usage (from the repository root, any venv where mastra_memory imports):
    python scripts/bench_local_embedder.py [--data PATH/locomo_dev.json] [--rounds 3]

Default data path: ../shared/data/locomo_dev.json next to the repository (read-only, LoCoMo is
CC BY-NC 4.0; never commit it). Texts are the raw turn texts (no speaker, no caption).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "core"))

from mastra_memory.embedding import LocalEmbedder  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "locomo_dev.json"


def first_turns(path: Path, limit: int) -> list[str]:
    """Turn texts in conversation and session order, as the peer benchmark reads them."""
    turns: list[str] = []
    for sample in json.loads(path.read_text(encoding="utf-8")):
        conv = sample["conversation"]
        session = 1
        while f"session_{session}" in conv:
            turns.extend(t["text"] for t in conv[f"session_{session}"])
            session += 1
    return turns[:limit]


def rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1) if seconds > 0 else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not args.data.is_file():
        sys.exit(f"{args.data} not found; pass --data PATH/locomo_dev.json")
    turns = first_turns(args.data, args.limit)

    for round_no in range(1, args.rounds + 1):
        embedder = LocalEmbedder()  # fresh instance: cold model load and cold word cache each round
        t0 = time.perf_counter()
        embedder.embed_query("warm up")
        load_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        embedder.embed_documents(turns)
        cold = rate(len(turns), time.perf_counter() - t0)

        by_batch: dict[str, float] = {}
        for size in (32, 64, len(turns)):
            t0 = time.perf_counter()
            for i in range(0, len(turns), size):
                embedder.embed_documents(turns[i : i + size])
            by_batch[str(size)] = rate(len(turns), time.perf_counter() - t0)

        t0 = time.perf_counter()
        for text in turns:
            embedder.embed_query(text)
        single = rate(len(turns), time.perf_counter() - t0)

        print(
            json.dumps(
                {
                    "round": round_no,
                    "turns": len(turns),
                    "dim": embedder.dimension,
                    "load_s": round(load_s, 3),
                    "first_batch_sent_per_s": cold,
                    "warm_sent_per_s_by_batch": by_batch,
                    "single_query_per_s": single,
                    "loadavg_1m": round(os.getloadavg()[0], 2),
                }
            )
        )


if __name__ == "__main__":
    main()
