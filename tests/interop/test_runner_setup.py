"""Without Node or its packages the interop tests skip, saying what to do; under CI=true they fail instead."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from . import conftest


@pytest.fixture
def no_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)


@pytest.mark.usefixtures("no_ci")
def test_without_node_on_path_the_tests_skip_saying_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.skip.Exception, match=r"`node` is not on PATH.*cd tests/interop && npm ci"):
        conftest.require_node_setup()


@pytest.mark.usefixtures("no_ci")
def test_without_node_modules_the_tests_skip_saying_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(conftest, "NODE_MODULES", tmp_path / "node_modules")
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/node")
    with pytest.raises(pytest.skip.Exception, match=r"node_modules is missing: run `cd tests/interop && npm ci`"):
        conftest.require_node_setup()


@pytest.mark.parametrize("value", ["true", "TRUE", "1"])
def test_under_ci_a_missing_setup_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str) -> None:
    monkeypatch.setenv("CI", value)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match=r"cannot run under CI=true: `node` is not on PATH"):
        conftest.require_node_setup()
    monkeypatch.setattr(conftest, "NODE_MODULES", tmp_path / "node_modules")
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/node")
    with pytest.raises(pytest.fail.Exception, match=r"cannot run under CI=true: .*node_modules is missing"):
        conftest.require_node_setup()


@pytest.mark.usefixtures("no_ci")
def test_a_partial_install_skips_naming_what_is_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "node_modules" / "@mastra" / "core").mkdir(parents=True)
    (tmp_path / "node_modules" / "@mastra" / "core" / "package.json").write_text("{}")
    monkeypatch.setattr(conftest, "NODE_MODULES", tmp_path / "node_modules")
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/node")
    with pytest.raises(pytest.skip.Exception, match=r"lacks @mastra/memory, @mastra/pg, pg: run `cd tests/interop"):
        conftest.require_node_setup()
