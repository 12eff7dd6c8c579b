"""What every command shares: the global options, opening memory, printing, and exit codes.

Commands raise; :func:`mastra_memory.cli.main` turns exceptions into one line on stderr and an
exit code from :class:`Exit`, so a script can tell "not found" from "database down"
without parsing text.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any

import orjson
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from .._config import MemoryConfig
from .._errors import (
    ConflictError,
    InvalidInputError,
    MastraMemoryError,
    NotFoundError,
    OwnershipError,
    ProviderError,
    SchemaError,
    StorageError,
)
from .._memory import Memory


class Exit(IntEnum):
    """The CLI's exit codes (documented in docs/cli.md)."""

    OK = 0
    CHECKS_FAILED = 1
    USAGE = 2
    NOT_FOUND = 3
    DATABASE = 4
    SCHEMA = 5
    PROVIDER = 6
    UNAVAILABLE = 7
    ERROR = 8
    INTERRUPTED = 130


class FeatureMissingError(MastraMemoryError):
    """A command needs a component that this installation does not have (an extra, a module)."""


class ChecksFailedError(MastraMemoryError):
    """The command ran, and what it checked is not all right (demo facts, doctor checks)."""


def exit_code(exc: BaseException) -> Exit:
    """The exit code that tells a script what kind of failure ``exc`` is."""
    ordered: list[tuple[type[BaseException], Exit]] = [
        (ChecksFailedError, Exit.CHECKS_FAILED),
        (FeatureMissingError, Exit.UNAVAILABLE),
        (NotFoundError, Exit.NOT_FOUND),
        (InvalidInputError, Exit.USAGE),
        (OwnershipError, Exit.USAGE),
        (ConflictError, Exit.USAGE),
        (SchemaError, Exit.SCHEMA),
        (ProviderError, Exit.PROVIDER),
        (StorageError, Exit.DATABASE),
    ]
    for kind, code in ordered:
        if isinstance(exc, kind):
            return code
    if isinstance(exc, MastraMemoryError) and isinstance(exc.__cause__, ImportError):
        return Exit.UNAVAILABLE  # e.g. the embedded server's package is not installed
    if isinstance(exc, KeyboardInterrupt):
        return Exit.INTERRUPTED
    return Exit.ERROR


@dataclass(slots=True)
class Settings:
    """The global options of one invocation."""

    dsn: str | None = None
    schema: str | None = None
    json: bool = False
    debug: bool = False

    def schema_or(self, default: str = "public") -> str:
        return self.schema if self.schema is not None else default


settings = Settings()
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)


def reset(fresh: Settings) -> None:
    """Start an invocation with these options (main() is also called in-process by tests)."""
    global settings, out, err
    settings = fresh
    out = Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False)


def where() -> str:
    return "the embedded PostgreSQL" if settings.dsn is None else "the database"


@contextmanager
def open_memory(
    config: MemoryConfig | None = None,
    *,
    migrate: bool | None = None,
    schema: str | None = None,
    embedder: Any = None,
) -> Iterator[Memory]:
    """Memory on the chosen database. Reads migrate only the embedded server (our own database);
    on a DSN they never change the schema, so they work with a read-only role."""
    auto = settings.dsn is None if migrate is None else migrate
    with Memory.connect(
        settings.dsn, config=config, schema=schema or settings.schema_or(), embedder=embedder, migrate=auto,
        min_size=0, max_size=2,
    ) as memory:
        yield memory


def jsonable(value: Any) -> Any:
    """orjson default: datetimes are handled natively; anything else falls back to its string."""
    return str(value)


def print_json(value: Any) -> None:
    """One JSON document on stdout, for scripts."""
    sys.stdout.write(orjson.dumps(value, default=jsonable, option=orjson.OPT_INDENT_2).decode() + "\n")
    sys.stdout.flush()


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def short(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment:%Y-%m-%d %H:%M}"


def safe(text: object) -> str:
    """Data shown through rich: brackets in it must not be read as markup."""
    return escape(str(text))


def clip(text: str, width: int = 90) -> str:
    """One line of at most ``width`` characters, escaped for rich."""
    flat = " ".join(text.split())
    return safe(flat if len(flat) <= width else flat[: width - 1] + "…")


def status(text: str) -> AbstractContextManager[Any]:
    """A spinner on stderr for work of unknown length; nothing when not on a terminal."""
    if settings.json or not err.is_terminal:
        return nullcontext()
    return err.status(text)


def progress() -> Progress:
    """A progress bar on stderr; silent when stderr is no terminal or output is JSON."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=settings.json or not err.is_terminal,
    )
