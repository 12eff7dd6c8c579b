"""The ``mastra-memory`` command line (typer + rich).

``main()`` is the console-script entry point. It runs the typer app without click's own
error handling, so every failure becomes one readable line on stderr and an exit code that
says what kind of failure it was (see :class:`~mastra_memory.cli._common.Exit` and docs/cli.md).
"""

from __future__ import annotations

import sys
import traceback

import typer

from . import _admin, _bench, _browse, _demo, _transfer  # noqa: F401  (they register their commands)
from ._app import app
from ._common import Exit, exit_code

__all__ = ["Exit", "app", "main"]

_VALUED = ("--dsn", "--schema")
_FLAGS = ("--json", "--debug")


def hoist_global_options(args: list[str]) -> list[str]:
    """Move global options written after the command to the front, where click expects them,
    so ``threads list --json`` works like ``--json threads list``. ``--`` stops the search."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        token = args[i]
        if token == "--":
            rest += args[i:]
            break
        if token in _FLAGS or token.startswith(tuple(f"{name}=" for name in _VALUED)):
            front.append(token)
        elif token in _VALUED and i + 1 < len(args):
            front += [token, args[i + 1]]
            i += 1
        else:
            rest.append(token)
        i += 1
    return front + rest


def _is_usage_error(exc: BaseException) -> bool:
    """Click's usage errors (typer vendors click, so matched by shape rather than by class)."""
    return callable(getattr(exc, "format_message", None)) and isinstance(getattr(exc, "exit_code", None), int)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (the console script exits with it)."""
    args = hoist_global_options(list(sys.argv[1:] if argv is None else argv))
    debug = "--debug" in args
    try:
        result = app(args=args, prog_name="mastra-memory", standalone_mode=False)
    except typer.Abort:
        sys.stderr.write("mastra-memory: interrupted\n")
        return int(Exit.INTERRUPTED)
    except (Exception, KeyboardInterrupt) as exc:
        if _is_usage_error(exc):  # unknown option, missing argument, bad value
            text = _one_line(getattr(exc, "format_message")())  # noqa: B009 - click's errors, matched by shape
            sys.stderr.write(f"mastra-memory: error: {text} (see --help)\n")
            return int(Exit.USAGE)
        if debug:
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        message = _one_line(str(exc)) or type(exc).__name__
        if not debug and exit_code(exc) == Exit.ERROR:
            message += " (run with --debug for the traceback)"
        sys.stderr.write(f"mastra-memory: error: {message}\n")
        return int(exit_code(exc))
    return int(result or 0)
