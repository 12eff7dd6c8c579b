"""``demo``: the library's real job on the embedded defaults, offline, in about a minute.

It stores a shipped multi-session conversation (threads of one user, plus working memory),
then for each question shows what an agent would receive before its model call and checks that
the answer's facts are in it. With an OpenAI key (or a compatible server) a LangChain agent then
answers the same questions from the same memory.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from typing import Annotated, Any

import typer
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table

from ..demo import DEMO_SCHEMA, Question, check_facts, demo_config, ingest, load_conversation
from ..demo._agent import agent_answers, model_settings
from ..embedded import default_data_dir
from . import _common as c
from ._app import app
from ._render import context_record, hits_table, tokens_line

OK, NO = "[green]✓[/]", "[red]✗[/]"


def _say(text: str) -> None:
    if not c.settings.json:
        c.out.print(text)


@app.command()
def demo(
    question: Annotated[
        list[str] | None, typer.Option("--question", "-q", help="Ask your own question (repeatable; no fact check).")
    ] = None,
    agent: Annotated[
        bool, typer.Option("--agent/--no-agent", help="Run the LangChain agent when OPENAI_API_KEY is set.")
    ] = True,
) -> None:
    """Ingest a sample conversation, then show what an agent receives for each question."""
    started = time.perf_counter()
    conversation = load_conversation()
    schema = c.settings.schema_or(DEMO_SCHEMA)
    place = f"the embedded PostgreSQL in {default_data_dir()}" if c.settings.dsn is None else "the database"
    _say(f"[bold]mastra-memory demo[/] on {place}, schema {schema!r}, offline 256-d embedder")
    record: dict[str, Any] = {"schema": schema, "embedded": c.settings.dsn is None}
    with ExitStack() as stack:
        with c.status("starting PostgreSQL and loading the embedder…"):
            opened = time.perf_counter()
            memory = stack.enter_context(c.open_memory(demo_config(), schema=schema, migrate=True))
        record["ready_seconds"] = round(time.perf_counter() - opened, 2)
        _say(f"{OK} database ready, tables migrated ({record['ready_seconds']} s)")
        t = time.perf_counter()
        with c.status("ingesting the conversation (embedding every message)…"):
            saved = ingest(memory, conversation)
        record["ingested"] = {"sessions": len(conversation.sessions), "messages": saved,
                              "seconds": round(time.perf_counter() - t, 2)}
        _say(f"{OK} stored {len(conversation.sessions)} sessions ({saved} messages) as threads of resource "
             f"{conversation.resource_id!r}, with its working memory ({record['ingested']['seconds']} s)")
        if not c.settings.json:
            sessions = Table("thread", "title", "date", "messages", title="the sessions", title_justify="left")
            for s in conversation.sessions:
                sessions.add_row(c.safe(s.id), c.safe(s.title), f"{s.started_at:%a %d %b %Y}", str(len(s.messages)))
            c.out.print(sessions)
            c.out.print(Panel(conversation.working_memory.strip(), title="working memory (part of every context)",
                              title_align="left", expand=False))
        asked = [Question(q, []) for q in question] if question else conversation.questions
        record["questions"] = _ask_all(memory, conversation, asked)
        passed = sum(1 for q in record["questions"] if q["ok"] and q["facts"])
        checked = sum(1 for q in record["questions"] if q["facts"])
        record["passed"], record["checked"] = passed, checked
        record["seconds"] = round(time.perf_counter() - started, 2)
        if not c.settings.json:
            c.out.print(Rule())
            mean = sum(q["context"]["tokens"].get("total", 0) for q in record["questions"]) / max(len(asked), 1)
            if checked:
                mark = OK if passed == checked else NO
                c.out.print(f"{mark} [bold]{passed}/{checked}[/] questions: every fact of the answer is in the "
                            f"context the agent receives (about {mean:.0f} tokens each, one SQL statement each). "
                            f"Total time {record['seconds']} s.")
            else:
                c.out.print(f"Your questions have no known answers to check; the contexts average {mean:.0f} "
                            f"tokens. Total time {record['seconds']} s.")
        record["agent"] = _run_agent(memory, conversation, asked, enabled=agent)
    if c.settings.json:
        c.print_json(record)
    else:
        _go_further(schema, conversation.resource_id)
    if passed != checked:
        raise c.ChecksFailedError(f"{checked - passed} of {checked} question(s) miss a fact in their context")


def _ask_all(memory: Any, conversation: Any, questions: list[Question]) -> list[dict[str, Any]]:
    titles = conversation.titles() | {conversation.today_thread: "Today"}
    results = []
    for number, q in enumerate(questions, start=1):
        ctx = memory.context(conversation.today_thread, conversation.resource_id, query=q.question)
        checks = check_facts(ctx, q.facts, titles)
        ok = all(k.found for k in checks)
        results.append({
            "question": q.question, "ok": ok,
            "facts": [{"fact": k.fact, "found": k.found, "where": k.where} for k in checks],
            "context": context_record(ctx),
        })
        if c.settings.json:
            continue
        c.out.print(Rule(style="dim"))
        mark = "" if not checks else (OK if ok else NO) + " "
        c.out.print(f"{mark}[bold]Q{number}. {c.safe(q.question)}[/]")
        c.out.print(hits_table(ctx, titles))
        for k in checks:
            where = "; ".join(k.where) if k.where else "not in the context"
            c.out.print(f"   {OK if k.found else NO} {c.safe(repr(k.fact))}: {c.safe(where)}")
        c.out.print(tokens_line(ctx))
    return results


def _run_agent(
    memory: Any, conversation: Any, questions: list[Question], *, enabled: bool
) -> list[dict[str, Any]] | None:
    settings = model_settings()
    if not enabled:
        return None
    if settings is None:
        _say("\n[bold]A real agent on this memory:[/] set OPENAI_API_KEY (or OPENAI_BASE_URL for any OpenAI-compatible "
             "server, e.g. a local one) and run `mastra-memory demo` again: a LangChain agent with "
             "MastraMemoryMiddleware then answers these questions from the same memory. It needs "
             "`pip install 'mastra-memory\\[demo]'`; MASTRA_MEMORY_DEMO_MODEL picks the model (default gpt-4o-mini).")
        return None
    model, base_url, key = settings
    _say(f"\n[bold]A LangChain agent ({model}) with MastraMemoryMiddleware answers from the same memory:[/]")
    answers = []
    with c.status(f"asking {model}…"):
        for q, answer in agent_answers(memory, conversation, questions, model, base_url, key):
            hit = [f for f in q.facts if f.lower() in answer.lower()]
            answers.append({"question": q.question, "answer": answer, "facts_mentioned": hit})
            if not c.settings.json:
                mark = "" if not q.facts else f" [dim]({len(hit)}/{len(q.facts)} facts named)[/]"
                c.out.print(f"[bold]{c.safe(q.question)}[/]\n  → {c.safe(answer)}{mark}")
    return answers


def _go_further(schema: str, resource: str) -> None:
    lines = [
        "",
        "[bold]Go further[/] (the demo's data stays in its own schema; run it again any time):",
        f"  mastra-memory --schema {schema} threads list",
        f"  mastra-memory --schema {schema} recall demo-today \"Where does Maya live?\"",
        f"  mastra-memory --schema {schema} export -o demo.jsonl",
        "  docs/quickstart.md, docs/concepts.md, docs/cli.md, docs/langchain.md, docs/llamaindex.md",
    ]
    c.out.print("\n".join(lines), soft_wrap=True)
