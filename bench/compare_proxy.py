"""A counting PostgreSQL proxy for bench/compare.py: statements and round trips, whatever the client.

Each peer talks to PostgreSQL through a different driver (psycopg, SQLAlchemy on psycopg or asyncpg,
node-postgres), so counting in a client-side wrapper would count different things. The proxy sits on a Unix socket in
front of the real server and reads the wire protocol instead:

- a **statement** is one CommandComplete message from the server (``BEGIN``, ``INSERT 0 2``, ``COMMIT``
  and ``SELECT 20`` each count one), so transaction control counts like any other statement;
- a **round trip** is one turn of the conversation: the client sending after the server said it is ready
  for the next query (ReadyForQuery), so a pipeline flushed in several writes is still one trip.
  Statements sent together (a pipeline, or several in one simple query) are one round trip.

It adds a hop and competes for the GIL, so bench/compare.py uses it only in an untimed pass.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import struct
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field

from psycopg.conninfo import conninfo_to_dict

_SSL_REQUEST = 80877103
_GSSENC_REQUEST = 80877104
_PORT = 5432


@dataclass
class Counts:
    statements: int = 0
    round_trips: int = 0
    tags: Counter[str] = field(default_factory=Counter)  # first word of each CommandComplete tag

    def minus(self, before: Counts) -> Counts:
        return Counts(
            self.statements - before.statements, self.round_trips - before.round_trips, self.tags - before.tags
        )


class CountingProxy:
    """Forwards every connection to ``upstream_dsn``'s server and counts what passes.

    Clients connect to the Unix socket in ``host`` (port ``port``) with the upstream's user,
    password and any database; ``snapshot()`` gives the counts so far. Runs its own event loop
    in a daemon thread; ``close()`` stops it.
    """

    def __init__(self, upstream_dsn: str) -> None:
        info = conninfo_to_dict(upstream_dsn)
        host = str(info.get("host") or "/tmp")
        port = int(str(info.get("port") or _PORT).split(",")[0])
        self._upstream: tuple[str, int] | str = (
            os.path.join(host, f".s.PGSQL.{port}") if host.startswith("/") else (host, port)
        )
        self.host = tempfile.mkdtemp(prefix="pgproxy-")
        self.port = _PORT
        self._counts = Counts()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._server: asyncio.AbstractServer | None = None
        self._thread = threading.Thread(target=self._run, name="pg-counting-proxy", daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def snapshot(self) -> Counts:
        with self._lock:
            return Counts(self._counts.statements, self._counts.round_trips, Counter(self._counts.tags))

    def close(self) -> None:
        """Stop serving, end the open connections, remove the socket directory."""
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        shutil.rmtree(self.host, ignore_errors=True)

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        path = os.path.join(self.host, f".s.PGSQL.{_PORT}")
        self._server = self._loop.run_until_complete(asyncio.start_unix_server(self._serve, path=path))
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            if isinstance(self._upstream, str):
                server_r, server_w = await asyncio.open_unix_connection(self._upstream)
            else:
                server_r, server_w = await asyncio.open_connection(*self._upstream)
        except OSError:
            client_w.close()
            return
        answered = [False]  # has the server spoken since the client last sent?
        try:
            # The startup message has no type byte. Decline SSL/GSS ourselves, so that every byte
            # the server sends afterwards is a typed message.
            while True:
                head = await client_r.readexactly(8)
                length, code = struct.unpack("!ii", head)
                body = await client_r.readexactly(length - 8)
                if code in (_SSL_REQUEST, _GSSENC_REQUEST):
                    client_w.write(b"N")
                    await client_w.drain()
                    continue
                server_w.write(head + body)
                await server_w.drain()
                break
            await asyncio.gather(
                self._upward(client_r, server_w, answered), self._downward(server_r, client_w, answered)
            )
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            for w in (client_w, server_w):
                w.close()

    async def _upward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, answered: list[bool]) -> None:
        while chunk := await reader.read(65536):
            if answered[0]:
                answered[0] = False
                with self._lock:
                    self._counts.round_trips += 1
            writer.write(chunk)
            await writer.drain()
        writer.close()

    async def _downward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, answered: list[bool]) -> None:
        while True:
            head = await reader.readexactly(5)
            kind, length = head[:1], struct.unpack("!i", head[1:])[0]
            body = await reader.readexactly(length - 4)
            if kind == b"C":  # CommandComplete: one statement done
                tag = body.rstrip(b"\0").decode(errors="replace").split(" ", 1)[0]
                with self._lock:
                    self._counts.statements += 1
                    self._counts.tags[tag] += 1
            if kind == b"Z":  # ReadyForQuery: the server waits for the client, so its next send is a new trip
                answered[0] = True
            writer.write(head + body)
            await writer.drain()
