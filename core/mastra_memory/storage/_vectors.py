"""SQL for Mastra's message-vector tables (``memory_messages`` / ``memory_messages_<dim>``).

The table and the indexes Mastra names are created exactly as ``@mastra/pg`` creates them. The
rest is ours and additive:

- an HNSW cosine index, under the name Mastra gives its ANN index, so Mastra keeps it;
- a ``message_id`` index, for deletes of either vector shape;
- a stored, generated ``mastra_memory_tsv`` column (the embedded text's tsvector) and its GIN
  index, for BM25 keyword search in hybrid recall. Mastra names its columns in every statement,
  so it never sees this one;
- one search function per scope. It carries ``SET hnsw.iterative_scan`` itself, so a filtered
  search keeps scanning the graph until it has ``k`` hits. The setting lives in the function, not
  the session, so Supabase's transaction pooler cannot drop it.

pgvector's type and operators are named through the schema pgvector lives in. On Supabase that
is ``extensions``, which is often not on a role's search path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg import sql

from ._tables import Tables

# @mastra/pg names metadata indexes "<table>_md_<xxh32 hex of the field>_idx" (seen in its dump).
MASTRA_METADATA_INDEX = {"thread_id": "57d95f6b", "resource_id": "5a823b81"}
TEXT_SEARCH_CONFIG = "english"
TSV_COLUMN = "mastra_memory_tsv"
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 16, 64, 100


def table_name(dimension: int) -> str:
    """Mastra's name for the message-vector table of a dimension."""
    return "memory_messages" if dimension == 1536 else f"memory_messages_{dimension}"


@dataclass(frozen=True, slots=True)
class VectorTable:
    """A ready vector table: its name, dimension and where pgvector's objects live."""

    schema: str
    name: str
    dimension: int
    extension_schema: str

    @property
    def table(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)

    @property
    def vector_type(self) -> sql.Composed:
        return sql.SQL("{}.vector({})").format(sql.Identifier(self.extension_schema), sql.Literal(self.dimension))

    @property
    def cosine(self) -> sql.Composed:
        """pgvector's cosine-distance operator, schema-qualified."""
        return sql.SQL("OPERATOR({}.<=>)").format(sql.Identifier(self.extension_schema))

    def search_fn(self, scope: str) -> sql.Identifier:
        return sql.Identifier(self.schema, f"mastra_memory_search_{self.name}_{scope}")


def inspect(t: Tables, dimension: int) -> tuple[sql.SQL, dict[str, Any]]:
    """What exists already: pgvector's schema, the table's vector dimension, our objects."""
    stmt = sql.SQL(
        "SELECT (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
        "  WHERE e.extname = 'vector') AS extension_schema,"
        " (SELECT a.atttypmod FROM pg_attribute a WHERE a.attrelid = to_regclass(%(qualified)s)"
        "  AND a.attname = 'embedding' AND NOT a.attisdropped) AS table_dimension,"
        " (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        "  WHERE n.nspname = %(schema)s AND p.proname = ANY(%(functions)s)) AS functions,"
        " (SELECT count(*) FROM pg_indexes WHERE schemaname = %(schema)s AND indexname = %(fts)s)"
        "  + (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = to_regclass(%(qualified)s)"
        "  AND a.attname = %(tsv)s AND NOT a.attisdropped) AS fts"
    )
    name = table_name(dimension)
    params = {
        "qualified": sql.Identifier(t.schema, name).as_string(),
        "schema": t.schema,
        "functions": [f"mastra_memory_search_{name}_resource", f"mastra_memory_search_{name}_thread"],
        "fts": f"mastra_memory_{name}_tsv_idx",
        "tsv": TSV_COLUMN,
    }
    return stmt, params


def create_extension() -> sql.SQL:
    return sql.SQL("CREATE EXTENSION IF NOT EXISTS vector")


def lock(t: Tables) -> tuple[sql.SQL, dict[str, Any]]:
    """The migrations' advisory lock, so concurrent first uses create the table once."""
    return sql.SQL("SELECT pg_advisory_xact_lock(hashtextextended(%(key)s, 0))"), {
        "key": f"mastra_memory:migrate:{t.schema}"
    }


def create_statements(v: VectorTable, existing_ann: str | None) -> list[sql.Composed]:
    """Idempotent DDL for the table, its indexes and the search functions.

    ``existing_ann`` is the definition of an index already named ``<table>_vector_idx``: Mastra's
    ivfflat (then our HNSW gets a name of ours beside it), our HNSW, or None.
    """
    tbl, name = v.table, v.name
    ident = sql.Identifier
    statements = [
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (id SERIAL PRIMARY KEY, vector_id TEXT NOT NULL, embedding {},"
            " metadata JSONB DEFAULT '{{}}'::jsonb, namespace character varying(255) NOT NULL DEFAULT 'default')"
        ).format(tbl, v.vector_type),
        sql.SQL("CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} (namespace, vector_id)").format(
            ident(f"{name}_namespace_vector_id_idx"), tbl
        ),
    ]
    for field, digest in MASTRA_METADATA_INDEX.items():
        statements.append(
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ((metadata->>{}))").format(
                ident(f"{name}_md_{digest}_idx"), tbl, sql.Literal(field)
            )
        )
    if existing_ann is None or "USING hnsw" not in existing_ann:
        ann_name = f"{name}_vector_idx" if existing_ann is None else f"mastra_memory_{name}_hnsw"
        statements.append(
            sql.SQL(
                "CREATE INDEX IF NOT EXISTS {} ON {} USING hnsw (embedding {}.vector_cosine_ops)"
                " WITH (m = {}, ef_construction = {})"
            ).format(
                ident(ann_name), tbl, ident(v.extension_schema), sql.Literal(HNSW_M), sql.Literal(HNSW_EF_CONSTRUCTION)
            )
        )
    statements += [
        sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ((metadata->>'message_id'))").format(
            ident(f"mastra_memory_{name}_message_idx"), tbl
        ),
        # The searchable text's tsvector, stored: BM25 reads term frequencies from it for every
        # candidate. Mastra writes its columns by name, so a generated column of ours is invisible to it.
        sql.SQL(
            "ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} tsvector"
            " GENERATED ALWAYS AS (to_tsvector({}::regconfig, COALESCE(metadata->>'content', ''))) STORED"
        ).format(tbl, ident(TSV_COLUMN), sql.Literal(TEXT_SEARCH_CONFIG)),
        sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} USING gin ({})").format(
            ident(f"mastra_memory_{name}_tsv_idx"), tbl, ident(TSV_COLUMN)
        ),
    ]
    for scope, key in (("resource", "resource_id"), ("thread", "thread_id")):
        statements.append(
            sql.SQL(
                "CREATE OR REPLACE FUNCTION {fn}(q {vtype}, scope_id text, k integer)"
                " RETURNS TABLE (message_id text, thread_id text, distance double precision)"
                " LANGUAGE sql STABLE SECURITY INVOKER"
                " SET hnsw.iterative_scan = 'relaxed_order' SET hnsw.ef_search = {ef} AS $fn$"
                " SELECT v.metadata->>'message_id', v.metadata->>'thread_id', v.embedding {op} q FROM {tbl} v"
                " WHERE v.metadata->>{key} = scope_id ORDER BY v.embedding {op} q LIMIT k $fn$"
            ).format(
                fn=v.search_fn(scope),
                vtype=v.vector_type,
                ef=sql.Literal(HNSW_EF_SEARCH),
                op=v.cosine,
                tbl=tbl,
                key=sql.Literal(key),
            )
        )
    return statements


def ann_index_named(v: VectorTable) -> tuple[sql.SQL, dict[str, Any]]:
    """Whether Mastra's ANN index name is taken (by an ivfflat of Mastra's, or by our HNSW)."""
    stmt = sql.SQL("SELECT indexdef FROM pg_indexes WHERE schemaname = %(schema)s AND indexname = %(name)s")
    return stmt, {"schema": v.schema, "name": f"{v.name}_vector_idx"}
