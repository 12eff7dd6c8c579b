"""The context statement: everything an agent needs before a model call, in one SQL statement.

Parts, each a CTE, all evaluated in one snapshot:

- ``guard``: the thread, if it exists, must belong to the resource (else the statement aborts);
- ``hist``: the thread's newest N messages;
- ``vhits`` / ``khits``: vector and full-text candidates in the resource (or thread). The
  vector search is a per-scope SQL function (exact for small scopes, HNSW above a bound; see
  ``_vectors.py``); the keyword search is BM25, whose document count and mean length come from
  the scope's statistics row (kept by triggers) or, when there is none, from counting;
- ``fused``: reciprocal-rank fusion of both lists, minus what history already holds, top k;
- windows: each hit plus its neighbours from the hit's own thread;
- working memory: the resource row (resource scope) and the thread's ``metadata.workingMemory``.

Rows come back tagged by ``src``: ``h`` history, ``r`` recalled (with ``hit_id``, ``score``,
``rank``), ``m`` working memory, ``t`` the thread's metadata.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from psycopg import sql

from .._errors import SQLSTATE_OWNERSHIP
from . import _observational as om_sql
from ._rows import MESSAGE_COLUMNS, prefixed
from ._tables import Tables
from ._vectors import TEXT_SEARCH_CONFIG, TSV_COLUMN, VectorTable, exact_search

RRF_K = 60  # reciprocal-rank fusion constant (Cormack et al.), the usual choice
BM25_K1, BM25_B = 1.2, 0.75
# Bounds that keep a keyword search cheap in a huge resource: documents matching any query term
# (beyond this, an arbitrary subset is scored) and documents counted for IDF.
BM25_MAX_CANDIDATES, BM25_MAX_DOCS = 5000, 200_000


@dataclass(frozen=True, slots=True)
class ContextQuery:
    thread_id: str
    resource_id: str
    last_messages: int | None  # None: no limit (observational memory's unobserved tail)
    vector: str | None = None  # the query embedding in pgvector's text form
    keywords: str | None = None  # an OR tsquery of the query's words
    top_k: int = 0
    before: int = 0
    after: int = 0
    scope: str = "resource"
    threshold: float | None = None
    candidates: int = 0  # per list, before fusion
    vector_weight: float = 1.0  # weight of the vector list in the fusion (the keyword list has 1)
    om_key: str | None = None  # observational memory's lookup key: history is then the unobserved tail


_NULLS = sql.SQL(
    "NULL::text AS id, NULL::text AS thread_id, NULL::text AS content, NULL::text AS role, NULL::text AS type,"
    ' NULL::timestamp AS "createdAt", NULL::timestamptz AS "createdAtZ", NULL::text AS "resourceId"'
)


def context(t: Tables, q: ContextQuery, vectors: VectorTable | None) -> tuple[sql.SQL, dict[str, Any]]:
    """The statement and its parameters. The text depends only on the query's shape (scope, which
    lists, threshold or not, observational memory or not), so it is composed once per shape and
    kept: composing it with ``psycopg.sql`` cost about 0.5 ms a call."""
    return _cached(t, _shape(q), vectors), _params(q)


def _shape(q: ContextQuery) -> ContextQuery:
    """``q`` with every value that is only a parameter blanked; what is left decides the SQL text."""

    def present(value: str | None) -> str | None:
        return None if value is None else ""

    return replace(
        q,
        thread_id="",
        resource_id="",
        last_messages=0,
        vector=present(q.vector),
        keywords=present(q.keywords),
        top_k=min(q.top_k, 1),
        before=0,
        after=0,
        threshold=None if q.threshold is None else 0.0,
        candidates=0,
        vector_weight=1.0,
        om_key=present(q.om_key),
    )


@lru_cache(maxsize=256)
def _cached(t: Tables, shape: ContextQuery, vectors: VectorTable | None) -> sql.SQL:
    return sql.SQL(_compose(t, shape, vectors).as_string())


def _compose(t: Tables, q: ContextQuery, vectors: VectorTable | None) -> sql.Composed:
    cols = prefixed(MESSAGE_COLUMNS, "m")
    om_filter = sql.SQL(" AND {}").format(om_sql.unobserved()) if q.om_key is not None else sql.SQL("")
    ctes: list[sql.Composable] = [
        sql.SQL(
            "hist AS (SELECT {cols} FROM {messages} m WHERE m.thread_id = %(thread)s{om}"
            ' ORDER BY m."createdAt" DESC, m.id DESC LIMIT %(last)s)'
        ).format(cols=cols, messages=t.messages, om=om_filter)
    ]
    if q.om_key is not None:  # observational memory: its record and cursor, before hist uses them
        ctes[:0] = om_sql.context_ctes(t)
    branches: list[sql.Composable] = [
        sql.SQL(
            "SELECT 'g' AS src, {nulls}, NULL::text AS hit_id, NULL::float8 AS score, NULL::int AS rank,"
            " NULL::text AS extra"
            ' FROM {threads} o WHERE o.id = %(thread)s AND CASE WHEN o."resourceId" <> %(resource)s'
            " THEN {fail}(%(owner_state)s, 'thread ' || o.id || ' belongs to another resource, not ' || %(resource)s)"
            " ELSE false END"
        ).format(nulls=_NULLS, threads=t.threads, fail=t.raise_fn),
        sql.SQL("SELECT 'h', {cols}, NULL, NULL, NULL, NULL FROM hist m").format(cols=cols),
    ]
    recall = vectors is not None and q.top_k > 0 and (q.vector is not None or q.keywords is not None)
    if recall:
        assert vectors is not None
        key = "resource_id" if q.scope == "resource" else "thread_id"
        scope_id = sql.SQL("%(resource)s" if q.scope == "resource" else "%(thread)s")
        lists: list[sql.Composable] = []
        if q.vector is not None:
            ctes.append(
                sql.SQL(
                    "vhits AS (SELECT message_id, row_number() OVER (ORDER BY min(distance)) AS rank"
                    " FROM {fn}(%(vector)s::{vtype}, {scope_id}, %(candidates)s) GROUP BY message_id)"
                ).format(fn=vectors.search_fn(q.scope), vtype=vectors.vector_type, scope_id=scope_id)
            )
            lists.append(sql.SQL("SELECT message_id, rank, %(vector_weight)s::float8 AS weight FROM vhits"))
        if q.keywords is not None:
            ctes.append(
                sql.SQL(
                    # BM25 over the resource's (or thread's) documents. The query's lexemes come from
                    # to_tsvector, so they are stemmed and stop-word-free exactly as the stored ones.
                    "qlex AS (SELECT lexeme FROM unnest(to_tsvector({cfg}::regconfig, %(keywords)s))),"
                    " kq AS (SELECT string_agg(quote_literal(lexeme), ' | ')::tsquery AS q FROM qlex),"
                    # N and the mean length: the scope's statistics row (kept by triggers), else counted.
                    # The count is gated on the row's absence, so it only runs when there is none.
                    " kstat AS MATERIALIZED ({stats_row}),"
                    " kn AS (SELECT st.docs::float8 AS n,"
                    "  COALESCE(NULLIF(st.lexemes, 0)::float8 / NULLIF(st.docs, 0), 1) AS avglen FROM kstat st"
                    "  UNION ALL SELECT count(*)::float8, COALESCE(avg(length(d.tsv)), 1)::float8 FROM ("
                    "  SELECT v.{tsv} AS tsv FROM {tbl} v WHERE v.metadata->>{key} = {scope_id}"
                    "  AND NOT EXISTS (SELECT 1 FROM kstat) LIMIT {max_docs}) d"
                    "  HAVING NOT EXISTS (SELECT 1 FROM kstat)),"
                    # Candidates: in a small scope (as for the vector search), its own rows, filtered
                    # (the OFFSET 0 fence keeps the planner from the GIN index, whose bitmap would
                    # cover every scope's matches first); in a big one, through the GIN index.
                    " kcand AS ((SELECT s.message_id, s.tsv FROM (SELECT v.metadata->>'message_id' AS message_id,"
                    "  v.{tsv} AS tsv FROM {tbl} v WHERE v.metadata->>{key} = {scope_id}"
                    "  AND (SELECT {small} FROM kn) OFFSET 0) s, kq WHERE s.tsv @@ kq.q"
                    "  LIMIT {max_candidates})"
                    " UNION ALL (SELECT v.metadata->>'message_id', v.{tsv} FROM {tbl} v, kq"
                    "  WHERE v.metadata->>{key} = {scope_id} AND v.{tsv} @@ kq.q AND NOT (SELECT {small} FROM kn)"
                    "  LIMIT {max_candidates})),"
                    # Each candidate's query lexemes with their term frequencies. Only those are
                    # unnested: setweight marks the query's lexemes (exact matches, like an IN on the
                    # lexeme) and ts_filter keeps the marked ones, both in C, so a candidate gives
                    # one row per query term it holds, not one per distinct word (1.4 rows instead of
                    # 8.3 per candidate in bench/recall.py's workload A). Stored tsvectors carry weight
                    # D only, so the weight is a free marker; positions, hence tf, are untouched. The
                    # length part of the denominator is computed here, once per candidate.
                    " kqa AS (SELECT array_agg(lexeme) AS a FROM qlex),"
                    " kterms AS (SELECT c.message_id, u.lexeme,"
                    "  COALESCE(array_length(u.positions, 1), 1)::float8 AS tf,"
                    "  {k1} * (1 - {b} + {b} * length(c.tsv)::float8 / kn.avglen) AS norm"
                    "  FROM kcand c CROSS JOIN kqa CROSS JOIN kn"
                    "  CROSS JOIN unnest(ts_filter(setweight(c.tsv, 'A', kqa.a), '{{a}}')) u),"
                    # A tsvector holds each lexeme once, so count(*) counts documents, without a sort.
                    # In float8, not numeric: ln() on numeric was most of the keyword part's time.
                    # GREATEST keeps the logarithm defined even if the statistics were stale. IDF
                    # once per query term, not per row.
                    " kdf AS (SELECT d.lexeme, ln(1 + (GREATEST(kn.n, d.df) - d.df + 0.5) / (d.df + 0.5)) AS idf"
                    "  FROM (SELECT lexeme, count(*)::float8 AS df FROM kterms GROUP BY lexeme) d CROSS JOIN kn),"
                    # The top candidates by score first (a top-N sort), then their ranks: numbering
                    # every candidate would sort them all. The arithmetic is the one of the plain
                    # BM25 formula, operation for operation, so scores (and ties) are the same.
                    " kscore AS (SELECT t.message_id, sum(d.idf * t.tf * ({k1} + 1) / (t.tf + t.norm)) AS score"
                    "  FROM kterms t JOIN kdf d USING (lexeme) GROUP BY t.message_id"
                    "  ORDER BY score DESC, t.message_id LIMIT %(candidates)s),"
                    " khits AS (SELECT s.message_id, row_number() OVER (ORDER BY s.score DESC, s.message_id) AS rank"
                    "  FROM kscore s)"
                ).format(
                    cfg=sql.Literal(TEXT_SEARCH_CONFIG),
                    tsv=sql.Identifier(TSV_COLUMN),
                    tbl=vectors.table,
                    key=sql.Literal(key),
                    scope_id=scope_id,
                    stats_row=vectors.stats_row(q.scope, scope_id),
                    max_candidates=sql.Literal(BM25_MAX_CANDIDATES),
                    max_docs=sql.Literal(BM25_MAX_DOCS),
                    small=exact_search(sql.SQL("kn.n"), vectors),
                    k1=sql.SQL("{}::float8").format(sql.Literal(BM25_K1)),
                    b=sql.SQL("{}::float8").format(sql.Literal(BM25_B)),
                )
            )
            lists.append(sql.SQL("SELECT message_id, rank, 1.0::float8 AS weight FROM khits"))
        similarity = (
            sql.SQL(
                "(SELECT max(1 - (v.embedding {op} %(vector)s::{vtype})) FROM {tbl} v"
                " WHERE v.metadata->>'message_id' = d.message_id)"
            ).format(op=vectors.cosine, vtype=vectors.vector_type, tbl=vectors.table)
            if q.vector is not None
            else sql.SQL("NULL::float8")
        )
        threshold = (
            sql.SQL(" WHERE f.similarity IS NULL OR f.similarity >= %(threshold)s")
            if q.threshold is not None
            else sql.SQL(" WHERE f.similarity IS NULL OR f.similarity > 0")
            if q.keywords is None
            else sql.SQL("")
        )
        ctes.append(
            sql.SQL(
                "fused AS (SELECT f.*, row_number() OVER (ORDER BY f.rrf DESC, f.message_id) AS rank FROM ("
                "  SELECT d.*, {similarity} AS similarity FROM ("
                "   SELECT l.message_id, sum(l.weight / ({rrf} + l.rank)) AS rrf FROM ({lists}) l"
                "   WHERE l.message_id NOT IN (SELECT id FROM hist) GROUP BY l.message_id"
                "   ORDER BY rrf DESC LIMIT %(top_k)s) d) f{threshold}),"
                ' targets AS (SELECT f.message_id, f.rank, f.similarity, f.rrf, m.thread_id, m."createdAt"'
                "  FROM fused f JOIN {messages} m ON m.id = f.message_id)"
            ).format(
                similarity=similarity,
                rrf=sql.Literal(RRF_K),
                lists=sql.SQL(" UNION ALL ").join(lists),
                threshold=threshold,
                messages=t.messages,
            )
        )
        branches.append(
            sql.SQL(
                "SELECT 'r', w.*, tg.message_id, COALESCE(tg.similarity, tg.rrf), tg.rank::int, NULL FROM targets tg"
                " CROSS JOIN LATERAL ("
                ' (SELECT {cols} FROM {messages} m WHERE m.thread_id = tg.thread_id AND m."createdAt" <= tg."createdAt"'
                '  AND (m."createdAt" < tg."createdAt" OR m.id <= tg.message_id)'
                '  ORDER BY m."createdAt" DESC, m.id DESC LIMIT %(before)s + 1)'
                " UNION ALL"
                ' (SELECT {cols} FROM {messages} m WHERE m.thread_id = tg.thread_id AND m."createdAt" >= tg."createdAt"'
                '  AND (m."createdAt" > tg."createdAt" OR m.id > tg.message_id)'
                '  ORDER BY m."createdAt", m.id LIMIT %(after)s)) AS w'
            ).format(cols=cols, messages=t.messages)
        )
    branches.append(
        sql.SQL(
            "SELECT 'm', {nulls}, NULL, NULL, NULL, r.\"workingMemory\" FROM {resources} r WHERE r.id = %(resource)s"
        ).format(nulls=_NULLS, resources=t.resources)
    )
    branches.append(
        sql.SQL(
            "SELECT 't', {nulls}, NULL, NULL, NULL, th.metadata::text FROM {threads} th WHERE th.id = %(thread)s"
        ).format(nulls=_NULLS, threads=t.threads)
    )
    if q.om_key is not None:
        branches.append(om_sql.context_branch(_NULLS))
    return sql.SQL("WITH {ctes} {body}").format(
        ctes=sql.SQL(", ").join(ctes), body=sql.SQL(" UNION ALL ").join(branches)
    )


def _params(q: ContextQuery) -> dict[str, Any]:
    return {
        "thread": q.thread_id,
        "resource": q.resource_id,
        "last": q.last_messages,
        "owner_state": SQLSTATE_OWNERSHIP,
        "vector": q.vector,
        "keywords": q.keywords,
        "top_k": q.top_k,
        "before": q.before,
        "after": q.after,
        "threshold": q.threshold,
        "candidates": q.candidates,
        "vector_weight": q.vector_weight,
        "om_key": q.om_key,
    }
