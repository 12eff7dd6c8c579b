"""generate_title against a rename that commits while the title is being written.

The title is written only while the thread still has its default title; a rename made by someone
else in the meantime must win, even one that commits between generate_title's last read and its
write. The race is made deterministic with a second session: it renames the thread and keeps its
transaction open, generate_title parks on the row, then the rename commits. The chat model is a
scripted fake (mechanics only).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from mastra_memory import Message

from ..processors.fakes import ScriptedChatModel
from ..support import fresh_schema
from ._helpers import start, wait_for_lock_waiters


async def seed(mem: Any) -> None:
    await mem.create_thread("ada", thread_id="t1")
    await mem.save_messages([Message.user("Packing for Lisbon in May?", thread_id="t1", resource_id="ada")])


async def test_a_rename_committed_while_the_title_is_written_wins(mem_factory: Any, pg_dsn: str) -> None:
    schema = fresh_schema()
    mem = await mem_factory(schema)
    await seed(mem)
    with psycopg.connect(pg_dsn) as renamer:  # not autocommit: the rename stays open until we commit
        renamer.execute(
            sql.SQL("UPDATE {} SET title = 'Chosen by Ada' WHERE id = 't1'").format(
                sql.Identifier(schema, "mastra_threads")
            )
        )
        titling = start(mem, lambda m: m.generate_title("t1", ScriptedChatModel("Packing for Lisbon")))
        # generate_title has read "" (the rename is not committed) and now waits for the row.
        await wait_for_lock_waiters(pg_dsn, 1, schema)
        renamer.commit()
    returned = await titling
    assert (await mem.get_thread("t1")).title == "Chosen by Ada"
    assert returned.title == "Chosen by Ada"

