"""SQL for Mastra's message-vector tables (``memory_messages`` / ``memory_messages_<dim>``).

The table and the indexes Mastra names are created exactly as ``@mastra/pg`` creates them. The
rest is ours and additive:

- an HNSW cosine index, under the name Mastra gives its ANN index, so Mastra keeps it;
- a ``message_id`` index, for deletes of either vector shape;
- a stored, generated ``mastra_memory_tsv`` column (the embedded text's tsvector) and its GIN
  index, for BM25 keyword search in hybrid recall. Mastra names its columns in every statement,
  so it never sees this one;
- one search function per scope. A small scope (resource or thread) is searched exactly: its
  rows are read through the metadata index and sorted by distance. A big one goes to HNSW with
  ``SET hnsw.iterative_scan``, carried by the function itself, so a filtered search keeps
  scanning the graph until it has ``k`` hits (the setting lives in the function, not the
  session, so Supabase's transaction pooler cannot drop it). The planner cannot make this choice
  itself: pgvector costs a filtered HNSW scan as if the scope's rows were spread evenly through
  the graph, and picks it for a 1 % resource where it is both slower (100 ms against 17 ms at 1M
  rows) and wrong (8 % agreement with the exact top 5). See :func:`exact_search`;
- per-scope document statistics (rows and total tsvector length) in ``mastra_memory_recall_stats``
  (created by a migration), kept exact by statement-level triggers on the vector table, so they
  follow every writer, Mastra's included. BM25 needs them on every keyword search, and the search
  functions use the row count to choose exact or HNSW without a scan.

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
STATS_TABLE, STATS_TRIGGER_FN = "mastra_memory_recall_stats", "mastra_memory_recall_stats_sync"
# The triggers that keep the statistics: (name, event, transition tables).
STATS_TRIGGERS = (
    ("mastra_memory_recall_stats_ins", "INSERT", "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT"),
    (
        "mastra_memory_recall_stats_upd",
        "UPDATE",
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT",
    ),
    ("mastra_memory_recall_stats_del", "DELETE", "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT"),
    ("mastra_memory_recall_stats_trunc", "TRUNCATE", "FOR EACH STATEMENT"),
)
# Written into the search functions' bodies: functions without it are an older version, replaced.
SEARCH_VERSION = "mastra_memory:search:v3"
# The scopes a vector row counts in, and the metadata key that names each.
SCOPES = (("resource", "resource_id"), ("thread", "thread_id"))


# An exact scan costs about 1.7 µs per scope row (256-d; 10 µs at 1,536-d, read from TOAST); a
# filtered HNSW scan about 1 ms divided by the scope's share of the table (it walks the graph
# until it has met enough of the scope's rows). Measured on this project's 2-core machine:
# 10,000 rows of a 1M-row table, 17 ms exact against about 100 ms HNSW; a 10,000-row table of
# one resource, about 17 ms exact against 1 ms HNSW. Exact is cheaper while
# rows² <= EXACT_SCAN_K * table rows (at 1M rows: up to about 24,000 rows, at 10k: 2,400).
EXACT_SCAN_K = 600


def exact_search(rows: sql.Composable, v: VectorTable) -> sql.Composed:
    """SQL truth value: should a scope of ``rows`` vector rows be searched exactly?

    The table's size is the planner's estimate (``reltuples`` scaled to the table's current
    pages), and never less than the scope's. Both costs grow alike with the dimension (each
    reads whole vectors), so the bound does not depend on it (an assumption: only 256-d was
    timed both ways). Past the bound HNSW stays fast, at the price of accuracy when the scope is
    a small share of a huge table: a 1 % resource goes to HNSW only above 6M rows.
    """
    table_rows = sql.SQL(
        "(SELECT CASE WHEN c.relpages > 0 AND c.reltuples > 0 THEN c.reltuples / c.relpages"
        " * (pg_relation_size(c.oid) / current_setting('block_size')::float8) ELSE 0 END"
        " FROM pg_class c WHERE c.oid = {}::regclass)"
    ).format(sql.Literal(v.table.as_string()))
    return sql.SQL("(({rows})::float8 ^ 2 <= {k} * GREATEST({table}, ({rows})::float8))").format(
        rows=rows, k=sql.Literal(EXACT_SCAN_K), table=table_rows
    )


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

    @property
    def stats(self) -> sql.Identifier:
        return sql.Identifier(self.schema, STATS_TABLE)

    def stats_row(self, scope: str, scope_id: sql.Composable) -> sql.Composed:
        """The statistics row of one scope (none until the scope has a vector row)."""
        return sql.SQL(
            "SELECT s.docs, s.lexemes FROM {} s WHERE s.vector_table = {} AND s.scope = {} AND s.scope_id = {}"
        ).format(self.stats, sql.Literal(self.name), sql.Literal(scope), scope_id)


def _scope_rows(rows: sql.Composable, sign: int) -> sql.Composed:
    """One ``(scope, scope_id, docs, lexemes)`` row per vector row of ``rows`` and scope, signed."""
    return sql.SQL(
        "SELECT s.scope, s.scope_id, {sign}::bigint AS docs, {sign} * length(r.{tsv})::bigint AS lexemes"
        " FROM {rows} r CROSS JOIN LATERAL (VALUES {scopes}) AS s(scope, scope_id)"
    ).format(
        sign=sql.Literal(sign),
        tsv=sql.Identifier(TSV_COLUMN),
        rows=rows,
        scopes=sql.SQL(", ").join(
            sql.SQL("({}, r.metadata->>{})").format(sql.Literal(scope), sql.Literal(key)) for scope, key in SCOPES
        ),
    )


def stats_objects(t: Tables) -> list[sql.Composed]:
    """The statistics table and the trigger function that keeps it (a migration; no pgvector needed).

    The trigger adds each statement's net change per scope in one upsert. Increments commute and
    the upsert locks the row it adds to, so concurrent writers never lose a change; rows are
    upserted in key order, so two writers lock them in the same order. The function runs as its
    owner (SECURITY DEFINER, empty search path), so a writer needs no rights on the table,
    e.g. Supabase's ``authenticated`` saving through RLS.
    """
    stats = sql.Identifier(t.schema, STATS_TABLE)

    def apply(*parts: sql.Composable) -> sql.Composed:
        return sql.SQL(
            "INSERT INTO {stats} AS s (vector_table, scope, scope_id, docs, lexemes)"
            " SELECT TG_TABLE_NAME, d.scope, d.scope_id, sum(d.docs), sum(d.lexemes) FROM ({parts}) d"
            " WHERE d.scope_id IS NOT NULL GROUP BY d.scope, d.scope_id"
            " HAVING sum(d.docs) <> 0 OR sum(d.lexemes) <> 0 ORDER BY d.scope, d.scope_id"
            " ON CONFLICT (vector_table, scope, scope_id)"
            " DO UPDATE SET docs = s.docs + EXCLUDED.docs, lexemes = s.lexemes + EXCLUDED.lexemes;"
        ).format(stats=stats, parts=sql.SQL(" UNION ALL ").join(parts))

    new_rows, old_rows = sql.Identifier("new_rows"), sql.Identifier("old_rows")
    return [
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (vector_table text NOT NULL, scope text NOT NULL, scope_id text NOT NULL,"
            " docs bigint NOT NULL, lexemes bigint NOT NULL, PRIMARY KEY (vector_table, scope, scope_id))"
        ).format(stats),
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger"
            " LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $fn$ BEGIN"
            # Statement triggers fire for zero rows too (our save's DELETE of stale chunks, the
            # UPDATE side of every INSERT … ON CONFLICT): those return before the upsert.
            " IF TG_OP = 'TRUNCATE' THEN DELETE FROM {stats} WHERE vector_table = TG_TABLE_NAME;"
            " ELSIF TG_OP = 'INSERT' THEN {ins}"
            " ELSIF TG_OP = 'DELETE' THEN IF EXISTS (SELECT FROM old_rows) THEN {del_} END IF;"
            " ELSIF EXISTS (SELECT FROM old_rows) THEN {upd} END IF; RETURN NULL; END $fn$"
        ).format(
            fn=sql.Identifier(t.schema, STATS_TRIGGER_FN),
            stats=stats,
            ins=apply(_scope_rows(new_rows, 1)),
            del_=apply(_scope_rows(old_rows, -1)),
            upd=apply(_scope_rows(new_rows, 1), _scope_rows(old_rows, -1)),
        ),
    ]


def inspect(t: Tables, dimension: int) -> tuple[sql.SQL, dict[str, Any]]:
    """What exists already: pgvector's schema, the table's vector dimension, our objects."""
    stmt = sql.SQL(
        "SELECT (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
        "  WHERE e.extname = 'vector') AS extension_schema,"
        " (SELECT a.atttypmod FROM pg_attribute a WHERE a.attrelid = to_regclass(%(qualified)s)"
        "  AND a.attname = 'embedding' AND NOT a.attisdropped) AS table_dimension,"
        " (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        "  WHERE n.nspname = %(schema)s AND p.proname = ANY(%(functions)s)"
        "  AND strpos(p.prosrc, %(version)s) > 0) AS functions,"
        " (SELECT count(*) FROM pg_indexes WHERE schemaname = %(schema)s AND indexname = %(fts)s)"
        "  + (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = to_regclass(%(qualified)s)"
        "  AND a.attname = %(tsv)s AND NOT a.attisdropped) AS fts,"
        " to_regclass(%(stats)s) IS NOT NULL AS stats,"
        " (SELECT count(*) FROM pg_trigger g WHERE g.tgrelid = to_regclass(%(qualified)s)"
        "  AND g.tgname = ANY(%(triggers)s)) AS triggers"
    )
    name = table_name(dimension)
    params = {
        "qualified": sql.Identifier(t.schema, name).as_string(),
        "schema": t.schema,
        "functions": [f"mastra_memory_search_{name}_resource", f"mastra_memory_search_{name}_thread"],
        "fts": f"mastra_memory_{name}_tsv_idx",
        "tsv": TSV_COLUMN,
        "version": SEARCH_VERSION,
        "stats": sql.Identifier(t.schema, STATS_TABLE).as_string(),
        "triggers": [name for name, _, _ in STATS_TRIGGERS],
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
    statements += _stats_statements(v)
    for scope, key in SCOPES:
        statements.append(
            sql.SQL(
                # $1 the query vector, $2 the scope's id, $3 k. "size" is the scope's row count:
                # from the statistics, or counted if the row is missing (or hidden by RLS).
                # Each branch is gated by a one-time filter on "small", so only one of them runs.
                "CREATE OR REPLACE FUNCTION {fn}(q {vtype}, scope_id text, k integer)"
                " RETURNS TABLE (message_id text, thread_id text, distance double precision)"
                " LANGUAGE sql STABLE SECURITY INVOKER"
                " SET hnsw.iterative_scan = 'relaxed_order' SET hnsw.ef_search = {ef} AS $fn$ /* {version} */"
                " WITH size AS (SELECT COALESCE((SELECT st.docs FROM ({stats_row}) st),"
                "  (SELECT count(*) FROM (SELECT 1 FROM {tbl} v WHERE v.metadata->>{key} = $2 LIMIT 100001) c)) AS n),"
                " small AS (SELECT {small} AS yes FROM size),"
                # Materialised, so no index can order it: the scope's rows, each distance computed once.
                " exact AS MATERIALIZED (SELECT v.metadata->>'message_id' AS message_id,"
                "  v.metadata->>'thread_id' AS thread_id, v.embedding {op} $1 AS distance FROM {tbl} v"
                "  WHERE v.metadata->>{key} = $2 AND (SELECT yes FROM small))"
                " (SELECT * FROM exact ORDER BY distance LIMIT $3)"
                " UNION ALL"
                " (SELECT v.metadata->>'message_id', v.metadata->>'thread_id', v.embedding {op} $1 FROM {tbl} v"
                "  WHERE v.metadata->>{key} = $2 AND NOT (SELECT yes FROM small)"
                "  ORDER BY v.embedding {op} $1 LIMIT $3) $fn$"
            ).format(
                fn=v.search_fn(scope),
                vtype=v.vector_type,
                ef=sql.Literal(HNSW_EF_SEARCH),
                version=sql.SQL(SEARCH_VERSION),
                stats_row=v.stats_row(scope, sql.SQL("$2")),
                small=exact_search(sql.SQL("size.n"), v),
                op=v.cosine,
                tbl=tbl,
                key=sql.Literal(key),
            )
        )
    return statements


def _stats_statements(v: VectorTable) -> list[sql.Composed]:
    """Attach the statistics triggers and rebuild the table's statistics from its rows.

    Under the table lock (taken before the triggers exist), no write can fall between the
    rebuild and the triggers, so the statistics start exact. Rebuilding also repairs them after
    Mastra dropped and re-created the table.
    """
    tbl = v.table
    statements = [sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(tbl)]
    for name, event, referencing in STATS_TRIGGERS:
        statements += [
            sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(sql.Identifier(name), tbl),
            sql.SQL("CREATE TRIGGER {} AFTER {} ON {} {} EXECUTE FUNCTION {}()").format(
                sql.Identifier(name),
                sql.SQL(event),
                tbl,
                sql.SQL(referencing),
                sql.Identifier(v.schema, STATS_TRIGGER_FN),
            ),
        ]
    statements += [
        sql.SQL("DELETE FROM {} WHERE vector_table = {}").format(v.stats, sql.Literal(v.name)),
        sql.SQL(
            "INSERT INTO {stats} (vector_table, scope, scope_id, docs, lexemes)"
            " SELECT {name}, d.scope, d.scope_id, sum(d.docs), sum(d.lexemes) FROM ({rows}) d"
            " WHERE d.scope_id IS NOT NULL GROUP BY d.scope, d.scope_id"
        ).format(stats=v.stats, name=sql.Literal(v.name), rows=_scope_rows(tbl, 1)),
    ]
    return statements


def ann_index_named(v: VectorTable) -> tuple[sql.SQL, dict[str, Any]]:
    """Whether Mastra's ANN index name is taken (by an ivfflat of Mastra's, or by our HNSW)."""
    stmt = sql.SQL("SELECT indexdef FROM pg_indexes WHERE schemaname = %(schema)s AND indexname = %(name)s")
    return stmt, {"schema": v.schema, "name": f"{v.name}_vector_idx"}
