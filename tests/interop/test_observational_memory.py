"""Mastra's observational-memory writes land in the ``mastra_observational_memory`` table we migrate.

Only the table is checked here (raw SQL); reading and writing observations from Python is later work.
"""

from __future__ import annotations

import json
from datetime import timezone

from . import iso_ms, op, parse_iso
from .conftest import Db, Mastra, Ours

OM_COLUMNS = (
    "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns "
    "WHERE table_schema = current_schema() AND table_name = 'mastra_observational_memory' ORDER BY ordinal_position"
)
CONFIG = {"observation": {"messageTokens": 30000}, "reflection": {"observationTokens": 40000}, "scope": "resource"}
OBSERVED_AT = "2025-05-01T09:30:00.250Z"


async def test_mastra_observational_memory_rows_fit_our_migrated_table(
    mastra: Mastra, ours: Ours, db: Db, schema: str
) -> None:
    await ours(schema)
    ours_columns = await db(schema, OM_COLUMNS)
    got = await mastra(
        schema,
        [
            op("init"),
            op("createThread", threadId="t-1", resourceId="alice"),
            op(
                "initializeObservationalMemory",
                resourceId="alice",
                scope="resource",
                config=CONFIG,
                observedTimezone="Europe/Paris",
            ),
            op(
                "updateActiveObservations",
                resourceId="alice",
                observations="- 🟢 Alice likes night trains",
                tokenCount=12.4,
                lastObservedAt=OBSERVED_AT,
                observedMessageIds=["m-1", "m-2"],
            ),
            op("createReflectionGeneration", resourceId="alice", reflection="- Alice: trains, Vienna", tokenCount=7),
            op("initializeObservationalMemory", threadId="t-1", resourceId="alice", scope="thread"),
            op("getObservationalMemoryHistory", resourceId="alice"),
            op("getObservationalMemory", threadId="t-1", resourceId="alice"),
        ],
    )
    # Mastra's init left our table as we made it, so every write below went into our columns.
    assert await db(schema, OM_COLUMNS) == ours_columns

    rows = await db(schema, 'SELECT * FROM mastra_observational_memory ORDER BY "lookupKey", "generationCount"')
    assert [
        (r["lookupKey"], r["scope"], r["resourceId"], r["threadId"], r["generationCount"], r["originType"])
        for r in rows
    ] == [
        ("resource:alice", "resource", "alice", None, 0, "initial"),
        ("resource:alice", "resource", "alice", None, 1, "reflection"),
        ("thread:t-1", "thread", "alice", "t-1", 0, "initial"),
    ]
    initial, reflection, thread = rows
    assert initial["id"] == got[2]["id"]
    assert thread["id"] == got[5]["id"]
    assert initial["activeObservations"] == "- 🟢 Alice likes night trains"
    tokens = ("observationTokenCount", "totalTokensObserved", "pendingMessageTokens")
    assert [initial[k] for k in tokens] == [12, 12, 0]  # Mastra rounds 12.4
    assert initial["observedMessageIds"] == ["m-1", "m-2"]  # jsonb
    assert json.loads(initial["config"]) == CONFIG  # a text column holding JSON
    assert initial["observedTimezone"] == "Europe/Paris"
    assert initial["lastObservedAtZ"] == parse_iso(OBSERVED_AT)
    assert initial["lastObservedAt"] == parse_iso(OBSERVED_AT).astimezone(timezone.utc).replace(tzinfo=None)
    flags = ("isObserving", "isReflecting", "isBufferingObservation", "isBufferingReflection")
    assert [initial[k] for k in flags] == [False] * 4
    assert (reflection["activeObservations"], reflection["observationTokenCount"]) == ("- Alice: trains, Vienna", 7)
    assert thread["activeObservations"] == ""
    assert json.loads(thread["config"]) == {}
    for r in rows:  # naive columns hold the UTC instant of their timestamptz twins, to the millisecond
        assert r["createdAt"] == r["createdAtZ"].astimezone(timezone.utc).replace(tzinfo=None)
        assert r["updatedAt"] == r["updatedAtZ"].astimezone(timezone.utc).replace(tzinfo=None)
        assert r["createdAtZ"].microsecond % 1000 == 0

    # What Mastra reads back from those rows is what the rows hold.
    history = got[6]
    assert [h["id"] for h in history] == [reflection["id"], initial["id"]]  # newest generation first
    assert history[1]["activeObservations"] == initial["activeObservations"]
    assert history[1]["lastObservedAt"] == OBSERVED_AT
    assert history[1]["config"] == CONFIG
    assert history[1]["createdAt"] == iso_ms(initial["createdAtZ"])
    assert got[7]["id"] == thread["id"]
    assert got[7]["scope"] == "thread"
