"""Plans that find or create the vector table, write vectors with messages, and backfill."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

import orjson

from .._errors import ExtensionMissingError, SchemaError, StorageError
from .._plan import Begin, Commit, Request, embed, query, query_one
from .._store import Store
from ..embedding import EmbeddingMatrix
from ..storage import _vectors as sql_vectors
from ..storage._messages import VectorRows
from ..storage._migrations import migrate
from ..storage._vectors import VectorTable


def vector_table(s: Store) -> Generator[Request, Any, VectorTable]:
    """The vector table for the embedder's dimension, created (with pgvector) on first need.

    Raises:
        ExtensionMissingError: pgvector is missing and this role may not create it.
        SchemaError: the table exists with another dimension.
    """
    if s.vectors.table is not None:
        return s.vectors.table
    dimension = int(s.embedder.dimension)
    name = sql_vectors.table_name(dimension)
    info = yield from query_one(*sql_vectors.inspect(s.tables, dimension))
    assert info is not None
    if info["extension_schema"] is None:
        try:
            yield from query(sql_vectors.create_extension())
        except StorageError as exc:
            raise ExtensionMissingError(
                f"semantic recall needs the pgvector extension, which is not installed and could not be created "
                f"({exc}); run `CREATE EXTENSION vector;` as a superuser (on Supabase: Database → Extensions → "
                "vector, or `create extension vector with schema extensions;`)"
            ) from exc
        info = yield from query_one(*sql_vectors.inspect(s.tables, dimension))
        assert info is not None
    existing = info["table_dimension"]
    if existing is not None and existing != dimension:
        raise SchemaError(
            f"table {s.tables.schema}.{name} stores {existing}-dimensional vectors, but the embedder "
            f"{s.embedder.model_id!r} makes {dimension}-dimensional ones; use an embedder of dimension {existing}, "
            f"or move the table aside (ALTER TABLE … RENAME) so a new one is made"
        )
    if not info["stats"]:  # a schema migrated by an older version: the statistics table comes first
        yield from migrate(s.tables)
    table = VectorTable(s.tables.schema, name, dimension, info["extension_schema"])
    if (
        existing is None
        or info["functions"] != 2
        or info["fts"] != 2
        or info["triggers"] != len(sql_vectors.STATS_TRIGGERS)
    ):
        yield Begin()
        yield from query(*sql_vectors.lock(s.tables))
        ann = yield from query_one(*sql_vectors.ann_index_named(table))
        for statement in sql_vectors.create_statements(table, None if ann is None else str(ann["indexdef"])):
            yield from query(statement)
        yield Commit()
    s.vectors.table = table
    return table


def vector_literal(vector: EmbeddingMatrix) -> str:
    """pgvector's text form (``[0.1,0.2,…]``), exact for float32 values."""
    return orjson.dumps(vector.tolist()).decode()


def embed_texts(s: Store, pieces: Sequence[tuple[str, str, str]]) -> Generator[Request, Any, VectorRows]:
    """Embed ``(vector_id, message_id, text)`` pieces; the plan catches ProviderError itself."""
    table = yield from vector_table(s)
    matrix = yield from embed(s.embedder, [text for _, _, text in pieces])
    return VectorRows(
        table=table,
        vector_ids=[v for v, _, _ in pieces],
        message_ids=[m for _, m, _ in pieces],
        contents=[text for _, _, text in pieces],
        embeddings=[vector_literal(row) for row in matrix],
    )
