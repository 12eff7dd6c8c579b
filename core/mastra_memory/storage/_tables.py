"""Names of everything we touch, for one configurable schema, always as ``sql.Identifier``."""

from __future__ import annotations

import re
from functools import cache

from psycopg import sql

from .._errors import InvalidInputError

_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,62}\Z")


class Tables:
    """Qualified identifiers of the memory tables in one schema (``public`` by default)."""

    __slots__ = (
        "backlog",
        "ledger",
        "messages",
        "observational_memory",
        "raise_fn",
        "resources",
        "schema",
        "schema_id",
        "threads",
    )

    def __init__(self, schema: str) -> None:
        self.schema = schema
        self.schema_id = sql.Identifier(schema)
        self.threads = sql.Identifier(schema, "mastra_threads")
        self.messages = sql.Identifier(schema, "mastra_messages")
        self.resources = sql.Identifier(schema, "mastra_resources")
        self.observational_memory = sql.Identifier(schema, "mastra_observational_memory")
        self.ledger = sql.Identifier(schema, "mastra_memory_migrations")
        self.raise_fn = sql.Identifier(schema, "mastra_memory_raise")
        self.backlog = sql.Identifier(schema, "mastra_memory_embedding_backlog")

    def mastra_index(self, name: str) -> sql.Identifier:
        """An index name as @mastra/pg spells it: prefixed with the schema outside ``public``."""
        return sql.Identifier(name if self.schema == "public" else f"{self.schema}_{name}")


def check_schema_name(schema: str) -> str:
    """Schema names are plain identifiers (they are quoted anyway; this keeps them sane).

    At most one ``$``: function bodies that name the schema are dollar-quoted (``$fn$ … $fn$``),
    and a name holding ``$fn$`` would end such a body early. With one ``$`` no tag can occur.
    """
    if not isinstance(schema, str) or not _SCHEMA_NAME.match(schema) or schema.count("$") > 1:
        raise InvalidInputError(
            f"schema name {schema!r} is not allowed: use letters, digits, _ or one $, start with a letter or _, "
            "at most 63 characters"
        )
    return schema


def tables(schema: str) -> Tables:
    """The (cached) identifiers for ``schema``."""
    return _tables(check_schema_name(schema))  # checked first: a cache cannot take unhashable input


@cache
def _tables(schema: str) -> Tables:
    return Tables(schema)
