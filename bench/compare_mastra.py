"""The Mastra peer of bench/compare.py: the npm packages, driven in Node by compare_mastra.mjs.

One Node process holds every Mastra stack of a run, by name; each command is one JSON line each
way, and the latencies are measured in Node, around the awaited Mastra call.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from compare_peers import RESOURCE, Db, Msg, Peer, Turn

INTEROP = Path(__file__).resolve().parent.parent / "tests" / "interop"
NODE_SCRIPT = Path(__file__).resolve().parent / "compare_mastra.mjs"


def mastra_missing(node_modules_root: Path = INTEROP) -> str | None:
    if shutil.which("node") is None:
        return "`node` is not on PATH: install Node.js >= 20, then run `npm ci` in tests/interop"
    for pkg in ("@mastra/core", "@mastra/memory", "@mastra/pg"):
        if not (node_modules_root / "node_modules" / pkg / "package.json").is_file():
            return f"{pkg} is not installed in {node_modules_root}/node_modules: run `npm ci` in tests/interop"
    return None


class Node:
    """One Node process running compare_mastra.mjs; every Mastra stack lives in it, by name."""

    def __init__(self, root: Path = INTEROP) -> None:
        self.proc = subprocess.Popen(
            ["node", str(NODE_SCRIPT), str(root)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.info: dict[str, Any] = {}

    def __call__(self, cmd: str, **args: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the Mastra peer (node) exited with {self.proc.wait()}; its stderr is above")
        reply: dict[str, Any] = json.loads(line)
        if not reply.pop("ok"):
            raise RuntimeError(f"Mastra peer, {cmd}: {reply['error']}")
        return reply

    def close(self) -> None:
        try:
            if self.proc.stdin:
                self.proc.stdin.close()  # the script closes its stacks and exits
            self.proc.wait(30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


def mastra_message(m: Msg) -> dict[str, Any]:
    return {
        "id": m.id,
        "threadId": m.thread_id,
        "resourceId": RESOURCE,
        "role": m.role,
        "type": "text",
        "createdAt": m.created_at.isoformat(),
        "content": {"format": 2, "parts": [{"type": "text", "text": m.text}]},
    }


class Mastra(Peer):
    """``@mastra/memory`` on ``@mastra/pg``: saveMessages for a turn, recall() for the last 20."""

    key, label = "mastra", "Mastra (@mastra/memory + @mastra/pg, Node)"
    node: Node | None = None  # shared by every Mastra peer; compare.py starts it
    root = INTEROP  # the folder whose node_modules holds the Mastra packages
    semantic = False

    @staticmethod
    def missing() -> str | None:
        return mastra_missing(Mastra.root)

    def open(self, db: Db) -> None:
        assert Mastra.node is not None
        self.name = f"{db.name}-{id(self)}"
        # pg.Client#query calls per operation, counted in Node (how Mastra's peer bench counts statements)
        self.pg_queries: dict[str, list[int]] = {}
        info = Mastra.node("open", name=self.name, url=db.url(), semantic=self.semantic)
        Mastra.node.info = {k: v for k, v in info.items() if k != "queries"}

    def call(self, cmd: str, op: str = "", **args: Any) -> dict[str, Any]:
        assert Mastra.node is not None
        reply = Mastra.node(cmd, name=self.name, **args)
        if op:
            seen = self.pg_queries.setdefault(op, [0, 0])
            seen[0] += reply["queries"]
            seen[1] += len(reply["ms"])
        return reply

    def queries_per_call(self, op: str) -> float | None:
        queries, calls = self.pg_queries.get(op, (0, 0))
        return round(queries / calls, 2) if calls else None

    def create(self, threads: dict[str, list[Msg]]) -> None:
        self.call("createThreads", threads=[{"threadId": t, "resourceId": RESOURCE} for t in threads])
        for msgs in threads.values():
            self.call("save", batches=[[mastra_message(m) for m in msgs]])

    def append(self, turns: list[Turn]) -> list[float]:
        batches = [[mastra_message(m) for m in turn] for turn in turns]
        ms: list[float] = self.call("save", "append_turn", batches=batches)["ms"]
        return ms

    def read(self, thread_ids: list[str]) -> tuple[list[float], int]:
        reply = self.call("recall", "read_last_20", calls=[{"threadId": t, "resourceId": RESOURCE} for t in thread_ids])
        return reply["ms"], reply["returned"]

    def close(self) -> None:
        self.call("close")


class MastraRecall(Mastra):
    """``recall({vectorSearchString, perPage: 0})``: Mastra's semantic recall alone, same embedder."""

    key, label = "mastra-recall", "Mastra recall(vectorSearchString)"
    semantic = True

    def create(self, threads: dict[str, list[Msg]]) -> None:
        self.call("createThreads", threads=[{"threadId": t, "resourceId": RESOURCE} for t in threads])
        for msgs in threads.values():
            batches = [[mastra_message(m) for m in msgs[i : i + 50]] for i in range(0, len(msgs), 50)]
            self.call("save", batches=batches)

    def search(self, calls: list[tuple[str, str]]) -> tuple[list[float], int]:
        recall = [{"threadId": t, "resourceId": RESOURCE, "perPage": 0, "vectorSearchString": q} for t, q in calls]
        reply = self.call("recall", "search", calls=recall)
        return reply["ms"], reply["returned"]


class MastraRecallSecond(MastraRecall):
    """Another Mastra instance on the same data, as after a restart or on a second server.

    Mastra's PgVector remembers per instance that it set up the vector table; an instance that
    did not create it repeats the set-up (CREATE … IF NOT EXISTS, in transactions) on every search.
    """

    key, label = "mastra-recall-second", "Mastra recall(), second instance"

    def create(self, threads: dict[str, list[Msg]]) -> None:
        pass  # reads MastraRecall's database
