"""The examples behind docs/quickstart.md, concepts.md, configuration.md, scaling.md and cli.md,
run as a user runs them (each with its own embedded server under a temporary home)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from mastra_memory.embedded import EmbeddedPostgres
from tests.support import ROOT, run_example


def test_concepts_example_recalls_across_threads_with_working_memory(tmp_path: Path) -> None:
    out = run_example("concepts.py", tmp_path).splitlines()
    assert out[0] == "working memory: - **Location**: Ghent"
    assert "recalled #1 from thread lin-monday: user: My tomatoes keep splitting after rain." in out
    assert "parts of the assistant turn: ['tool-invocation', 'text']" in out
    assert out[-1].startswith("tokens: {'history': 0, 'recall': 0, 'system': ")


def test_configuration_example_prints_the_documented_defaults(tmp_path: Path) -> None:
    out = run_example("configuration.py", tmp_path)
    documented = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert "MemoryConfig {'last_messages': 10, 'semantic_recall': None, 'working_memory': None" in out
    assert "SemanticRecall {'top_k': 4, 'message_range': 1, 'scope': 'resource', 'threshold': None, " \
           "'hybrid': True, 'vector_weight': 0.1}" in out
    assert "WorkingMemory {'enabled': False, 'scope': 'resource', 'template': None, 'schema': None, " \
           "'read_only': False, 'version': 'stable'}" in out
    assert out.splitlines()[-1] == "recall window (before, after): (2, 1)"
    # every option the library has is in the configuration reference
    for line in out.splitlines()[:5]:
        cls, _, fields = line.partition(" ")
        for name in ast.literal_eval(fields):  # the example prints dict literals: name → default
            assert f"`{name}`" in documented, f"{cls}.{name} is not documented in docs/configuration.md"


def test_scaling_example_splits_writes_and_reads(tmp_path: Path) -> None:
    out = run_example("scaling.py", tmp_path)
    assert out.splitlines() == [
        "context on the primary: ['My invoice shows the wrong VAT number.']",
        "threads seen on the replica: 1",
    ]


def test_the_cli_tour_runs(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL")}
    env |= {"MASTRA_MEMORY_HOME": str(tmp_path), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}",
            "COLUMNS": "120"}
    try:
        result = subprocess.run(["bash", str(ROOT / "docs" / "examples" / "cli_tour.sh")], capture_output=True,
                                text=True, env=env, timeout=300)
    finally:
        EmbeddedPostgres(tmp_path / "pgdata").wipe()
    assert result.returncode == 0, result.stderr
    assert "exported 6 thread(s), 42 message(s), 1 resource(s)" in result.stdout
    assert "imported 6 thread(s), 42 message(s), 1 resource(s) into schema 'demo_copy'" in result.stdout
    assert "would delete 3 thread(s)" in result.stdout
    assert result.stdout.rstrip().endswith("exit code: 3")
    assert "mastra-memory: error: thread 'no-such-thread' does not exist" in result.stderr


PAGES = ["README.md", "docs/quickstart.md", "docs/concepts.md", "docs/configuration.md", "docs/scaling.md",
         "docs/cli.md", "docs/faq.md"]


def test_code_shown_in_these_pages_is_an_excerpt_of_a_tested_example() -> None:
    examples = "\n".join(
        p.read_text(encoding="utf-8") for p in (ROOT / "docs" / "examples").iterdir() if p.suffix in (".py", ".sh")
    )
    shown_lines = set(examples.splitlines())
    missing = []
    for page in PAGES:
        text = (ROOT / page).read_text(encoding="utf-8")
        for block in text.split("```")[1::2]:
            language, _, body = block.partition("\n")
            if language.strip() not in ("python", "sh"):
                continue  # output samples (```text) are not code
            for line in body.splitlines():
                if not line.strip() or line.strip() in ("...", "...,", "…") or line in shown_lines:
                    continue  # blank, an elision, or a line of an example
                if line.startswith("pip install") or (page == "README.md" and line.startswith("bash ")):
                    continue  # installing, and the README's two top-level commands
                missing.append(f"{page}: {line}")
    assert missing == []
