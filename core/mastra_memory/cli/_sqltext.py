"""The plain migration as a SQL script, for teams that apply DDL through their own tooling.

The statements come from the migrate plan itself, run against a recorder instead of a
database, so the script cannot drift from what ``mastra-memory migrate`` does on an empty schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from psycopg import sql

from .._plan import Begin, Commit, Plan, Query
from ..storage import _vectors as sql_vectors
from ..storage._migrations import migrate as migrate_plan
from ..storage._tables import tables


def _literal(value: Any) -> str:
    return sql.Literal(value).as_string(None)


def render(statement: sql.SQL | sql.Composed, params: Any) -> str:
    """One statement as text, parameters inlined as SQL literals."""
    text = statement.as_string(None)
    if params is None:
        return text
    if isinstance(params, Mapping):
        for name, value in params.items():
            text = text.replace(f"%({name})s", _literal(value))
        return text.replace("%%", "%")
    pieces = text.split("%s")
    if len(pieces) != len(params) + 1:
        raise ValueError(f"cannot inline {len(params)} parameter(s) into: {text}")
    out = pieces[0]
    for value, piece in zip(params, pieces[1:], strict=True):
        out += _literal(value) + piece
    return out.replace("%%", "%")


def _record(plan: Plan[Any]) -> list[str]:
    """Drive a plan as if every query returned no rows, keeping the statements that change things.

    Reads are dropped (they only decide what a live migration skips), except the advisory lock,
    which keeps two people applying the script at once from interleaving."""
    lines: list[str] = []
    try:
        request = next(plan)
        while True:
            if isinstance(request, Begin):
                lines.append("BEGIN;")
            elif isinstance(request, Commit):
                lines.append("COMMIT;")
            elif isinstance(request, Query):
                text = render(request.statement, request.params)
                if not text.lstrip().upper().startswith("SELECT") or "pg_advisory" in text:
                    lines.append(text.rstrip() + ";")
            request = plan.send([])
    except StopIteration:
        pass
    return lines


def migration_script(schema: str, dimension: int | None = None, vector_schema: str = "public") -> str:
    """The SQL that migrates an empty ``schema``; with ``dimension``, also Mastra's vector table
    of that size with our indexes and search functions (pgvector in ``vector_schema``)."""
    t = tables(schema)
    lines = [f"-- mastra-memory migration for schema {schema!r} (what `mastra-memory migrate` runs on an empty one)"]
    lines += _record(migrate_plan(t))
    if dimension is not None:
        v = sql_vectors.VectorTable(schema, sql_vectors.table_name(dimension), dimension, vector_schema)
        lines.append(f"-- the vector table for {dimension}-dimensional embeddings (semantic recall)")
        lines.append("BEGIN;")
        lines.append(render(*sql_vectors.lock(t)) + ";")
        lines.append(sql_vectors.create_extension().as_string(None) + ";")
        lines += [s.as_string(None).rstrip() + ";" for s in sql_vectors.create_statements(v, None)]
        lines.append("COMMIT;")
    return "\n".join(lines) + "\n"
