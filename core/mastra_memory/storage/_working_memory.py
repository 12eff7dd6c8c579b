"""SQL for working memory, where Mastra keeps it: ``mastra_resources."workingMemory"`` (resource
scope) or the thread's ``metadata.workingMemory`` (thread scope), always a string.

Every update is ONE statement that reads the stored document under the row lock it writes with
(``INSERT … ON CONFLICT DO UPDATE`` or ``UPDATE``), so parallel updates never lose each other's
changes: schema-mode merges happen in jsonb inside that statement, not in Python.

The merge (Mastra's ``deepMergeWorkingMemory``) is a jsonb expression shaped like the update
(see :func:`_merge`). It must stay a plain expression: a subquery or CTE inside ``SET`` is not
recomputed when ``UPDATE`` re-checks a row that a parallel statement changed (PostgreSQL reuses
the CTE it already materialised), which loses that statement's keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from psycopg import sql

from .._errors import SQLSTATE_OWNERSHIP
from ._tables import Tables
from ._threads import NOW, NOW_NAIVE, Statement, stored_object

_AS_OBJECT = sql.SQL("""'strict $ ? (@.type() == "object")'""")


class _Literal(sql.Composable):
    """``sql.Literal`` for values of the caller's (merge keys and values): its ``%`` signs are
    doubled, because these statements also carry ``%(name)s`` parameters and psycopg would read a
    ``%`` inside the literal as a placeholder (a key like ``"50%"`` failed; ``"%(wm_thread)s"``
    was filled with a parameter)."""

    def as_bytes(self, context: Any = None) -> bytes:
        return sql.Literal(self._obj).as_bytes(context).replace(b"%", b"%%")


def _object(value: sql.Composable) -> sql.Composed:
    """``value`` if it is a jsonb object, else ``{}`` (one reference to ``value``: no blow-up when nested)."""
    return sql.SQL("COALESCE(jsonb_path_query_first({v}, {p}), '{{}}'::jsonb)").format(v=value, p=_AS_OBJECT)


def _child(parent: sql.Composable, key: str) -> sql.Composed:
    return sql.SQL("({} -> {}::text)").format(parent, _Literal(key))


def _merge(existing: sql.Composable, update: dict[str, Any]) -> sql.Composed:
    """Mastra's ``deepMergeWorkingMemory`` as one jsonb expression built from the update's shape:
    ``(existing - removed keys) || {scalars and lists} || {key: merge(existing->key, sub-object)}``.

    A plain expression over the row's column, with no subquery, so PostgreSQL recomputes it on
    the newest row version when a parallel update got there first (READ COMMITTED re-check).
    """
    base = _object(existing)
    removed = [k for k, v in update.items() if v is None]
    plain = {k: v for k, v in update.items() if v is not None and not isinstance(v, dict)}
    nested = [(k, v) for k, v in update.items() if isinstance(v, dict)]
    parts: list[sql.Composable] = [base]
    if removed:
        parts = [sql.SQL("({} - {}::text[])").format(base, _Literal(removed))]
    if plain:
        parts.append(sql.SQL("{}::jsonb").format(_Literal(orjson.dumps(plain).decode())))
    for start in range(0, len(nested), 50):  # jsonb_build_object takes at most 100 arguments
        pairs = [
            sql.SQL("{}::text, {}").format(_Literal(k), _merge(_child(base, k), v))
            for k, v in nested[start : start + 50]
        ]
        parts.append(sql.SQL("jsonb_build_object({})").format(sql.SQL(", ").join(pairs)))
    return sql.SQL("({})").format(sql.SQL(" || ").join(parts))


def _merged(existing: sql.Composable, update: dict[str, Any]) -> sql.Composed:
    """The stored JSON text ``existing`` (NULL, not JSON, or not an object: ``{}``) merged, as text."""
    parsed = sql.SQL(
        "CASE WHEN {e} IS NOT DISTINCT FROM %(wm_broken)s THEN NULL ELSE NULLIF(btrim({e}), '')::jsonb END"
    ).format(e=existing)
    return sql.SQL("({})::text").format(_merge(parsed, update))


def _normalized(text: sql.Composable) -> sql.Composed:
    """Whitespace runs folded to one space and trimmed, as Mastra compares documents."""
    return sql.SQL("COALESCE(btrim(regexp_replace({t}, '[[:space:]]+', ' ', 'g')), '')").format(t=text)


@dataclass(frozen=True, slots=True)
class Change:
    """How the new document is made from the stored one.

    - ``replace``: ``text`` is the new document (Markdown); with ``is_template`` it never
      overwrites a document that holds more than the empty template (``template`` normalised).
    - ``merge``: ``update`` (a JSON object, already validated) is deep-merged; ``broken`` is a
      stored text known not to be JSON, which is then treated as empty.
    - ``search``: Mastra's vnext — replace the first ``search`` in the document with ``text``,
      else append ``text`` on a new line; duplicates and the empty template are refused.
    """

    kind: Literal["replace", "merge", "search"]
    text: str | None = None
    update: dict[str, Any] | None = None
    search: str | None = None
    is_template: bool = False
    template: str = ""
    broken: str | None = None

    def params(self) -> dict[str, Any]:
        return {
            "wm_text": self.text,
            "wm_search": self.search,
            "wm_is_template": self.is_template,
            "wm_template": self.template,
            "wm_broken": self.broken,
        }

    def new_value(self, existing: sql.Composable) -> sql.Composed:
        if self.kind == "merge":
            assert self.update is not None
            return _merged(existing, self.update)
        if self.kind == "search":
            return sql.SQL(
                "CASE WHEN COALESCE({e}, '') = '' THEN %(wm_text)s"
                " WHEN %(wm_search)s::text <> '' AND strpos({e}, %(wm_search)s) > 0"
                "  THEN overlay({e} PLACING %(wm_text)s FROM strpos({e}, %(wm_search)s) FOR length(%(wm_search)s))"
                " ELSE {e} || E'\\n' || %(wm_text)s END"
            ).format(e=existing)
        return sql.SQL("%(wm_text)s::text").format()

    def allowed(self, existing: sql.Composable) -> sql.Composed:
        """Whether the write may happen (false: skipped, the stored document stays)."""
        if self.kind == "merge":
            return sql.SQL("true").format()
        if self.kind == "search":
            return sql.SQL(
                "CASE WHEN COALESCE({e}, '') = '' THEN NOT %(wm_is_template)s"
                " WHEN %(wm_search)s::text <> '' AND strpos({e}, %(wm_search)s) > 0 THEN true"
                " ELSE NOT %(wm_is_template)s AND strpos({e}, %(wm_text)s) = 0 END"
            ).format(e=existing)
        return sql.SQL("NOT (%(wm_is_template)s AND {n} NOT IN ('', %(wm_template)s))").format(n=_normalized(existing))


def _with(ctes: Sequence[sql.Composable]) -> sql.Composable:
    return sql.SQL("WITH {} ").format(sql.SQL(", ").join(ctes)) if ctes else sql.SQL("")


def _owner_check(t: Tables, owner: sql.Composable, resource: sql.Composable, then: sql.Composable) -> sql.Composed:
    """``then``, unless the thread belongs to another resource: then the statement aborts."""
    return sql.SQL(
        "CASE WHEN {resource} IS NOT NULL AND {owner} <> {resource} THEN {fail}(%(wm_owner_state)s,"
        " 'thread ' || %(wm_thread)s || ' belongs to resource ' || {owner} || ', not ' || {resource}) ELSE {then} END"
    ).format(owner=owner, resource=resource, fail=t.raise_fn, then=then)


def _base_params(thread_id: str, resource_id: str | None, change: Change) -> dict[str, Any]:
    return {"wm_thread": thread_id, "wm_resource": resource_id, "wm_owner_state": SQLSTATE_OWNERSHIP, **change.params()}


def select(t: Tables, scope: str, thread_id: str, resource_id: str | None) -> Statement:
    """The stored document (``wm``) and the resource it belongs to (``resource_id``: None when
    neither given nor the thread's). Aborts when the thread belongs to another resource."""
    meta = stored_object(sql.SQL("th.metadata"))
    stmt = sql.SQL(
        "SELECT k.id AS resource_id, CASE WHEN %(scope)s = 'resource' THEN r.\"workingMemory\""
        " ELSE ({meta})->>'workingMemory' END AS wm"
        " FROM (SELECT COALESCE(%(wm_resource)s,"
        "  (SELECT \"resourceId\" FROM {threads} WHERE id = %(wm_thread)s)) AS id) k"
        " LEFT JOIN {resources} r ON r.id = k.id AND %(scope)s = 'resource'"
        " LEFT JOIN {threads} th ON th.id = %(wm_thread)s"
        " WHERE {check}"
    ).format(
        meta=meta, threads=t.threads, resources=t.resources,
        check=_owner_check(t, sql.SQL('th."resourceId"'), sql.SQL("%(wm_resource)s::text"), sql.SQL("true")),
    )
    params = {"scope": scope, "wm_thread": thread_id, "wm_resource": resource_id, "wm_owner_state": SQLSTATE_OWNERSHIP}
    return stmt, params


def update_resource_scope(
    t: Tables, thread_id: str, resource_id: str | None, change: Change, *, ensure_thread: bool
) -> Statement:
    """Write the resource's document (creating the row lazily, as Mastra's ``updateResource``).

    ``resource_id`` None means the thread's owner. One row: ``resource_id`` (None when it could
    not be found) and ``saved``/``wm`` (no write: the change was refused, the document stays).
    ``ensure_thread`` also creates the thread when missing, as Mastra's tool does.
    """
    key = sql.SQL("k.id")
    ctes = [
        sql.SQL(
            "k AS (SELECT COALESCE(%(wm_resource)s, (SELECT \"resourceId\" FROM {threads} WHERE id = %(wm_thread)s))"
            " AS id)"
        ).format(threads=t.threads),
    ]
    if ensure_thread:
        ctes.append(
            sql.SQL(
                "mk AS (INSERT INTO {threads} (id, \"resourceId\", title, metadata, \"createdAt\", \"updatedAt\","
                " \"createdAtZ\", \"updatedAtZ\") SELECT %(wm_thread)s, k.id, '', NULL, {naive}, {naive}, {now}, {now}"
                " FROM k WHERE k.id IS NOT NULL ON CONFLICT (id) DO NOTHING)"
            ).format(threads=t.threads, naive=NOW_NAIVE, now=NOW)
        )
    stored = sql.SQL('r."workingMemory"')
    ctes.append(
        sql.SQL(
            "w AS (INSERT INTO {resources} AS r (id, \"workingMemory\", metadata, \"createdAt\", \"updatedAt\","
            " \"createdAtZ\", \"updatedAtZ\")"
            " SELECT k.id, CASE WHEN {first_ok} THEN {first} END, '{{}}'::jsonb, {naive}, {naive}, {now}, {now}"
            " FROM k WHERE k.id IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM {threads} th WHERE th.id = %(wm_thread)s AND {check})"
            " ON CONFLICT (id) DO UPDATE SET \"workingMemory\" = {new}, \"updatedAt\" = EXCLUDED.\"updatedAt\","
            " \"updatedAtZ\" = EXCLUDED.\"updatedAtZ\" WHERE {allowed}"
            " RETURNING r.\"workingMemory\" AS wm)"
        ).format(
            resources=t.resources, threads=t.threads, naive=NOW_NAIVE, now=NOW,
            first=change.new_value(sql.SQL("NULL::text")), first_ok=change.allowed(sql.SQL("NULL::text")),
            check=_owner_check(t, sql.SQL('th."resourceId"'), key, sql.SQL("false")),
            new=change.new_value(stored), allowed=change.allowed(stored),
        )
    )
    stmt = sql.SQL(
        "{with_}SELECT k.id AS resource_id, w.wm, w.wm IS NOT NULL AS saved FROM k LEFT JOIN w ON true"
    ).format(with_=_with(ctes))
    return stmt, _base_params(thread_id, resource_id, change)


def update_thread_scope(
    t: Tables, thread_id: str, resource_id: str | None, change: Change, *, ensure_thread: bool
) -> Statement:
    """Write ``metadata.workingMemory`` of the thread (other metadata keys stay); bumps ``updatedAt``
    as Mastra's ``updateThread`` does. One row when the thread exists (``found``), with ``saved``/
    ``wm``. ``ensure_thread`` (needs ``resource_id``) creates the thread when missing."""
    meta = stored_object(sql.SQL("th.metadata"))
    stored = sql.SQL("({meta})->>'workingMemory'").format(meta=meta)
    set_meta = sql.SQL(
        "metadata = COALESCE({meta}, '{{}}'::jsonb) || jsonb_build_object('workingMemory', {new}),"
        ' "updatedAt" = {naive}, "updatedAtZ" = {now}'
    ).format(meta=meta, new=change.new_value(stored), naive=NOW_NAIVE, now=NOW)
    guard = _owner_check(t, sql.SQL('th."resourceId"'), sql.SQL("%(wm_resource)s::text"), change.allowed(stored))
    if ensure_thread:
        write = sql.SQL(
            "w AS (INSERT INTO {threads} AS th (id, \"resourceId\", title, metadata, \"createdAt\", \"updatedAt\","
            " \"createdAtZ\", \"updatedAtZ\") SELECT %(wm_thread)s, %(wm_resource)s, '',"
            " CASE WHEN {first_ok} THEN jsonb_build_object('workingMemory', {first}) END,"
            " {naive}, {naive}, {now}, {now}"
            " ON CONFLICT (id) DO UPDATE SET {set_meta} WHERE {guard} RETURNING {stored} AS wm)"
        ).format(
            threads=t.threads, first=change.new_value(sql.SQL("NULL::text")),
            first_ok=change.allowed(sql.SQL("NULL::text")), naive=NOW_NAIVE, now=NOW,
            set_meta=set_meta, guard=guard, stored=stored,
        )
        found = sql.SQL("(SELECT true) f").format()
    else:
        write = sql.SQL("w AS (UPDATE {threads} th SET {set_meta} WHERE th.id = %(wm_thread)s AND {guard}"
                        " RETURNING {stored} AS wm)").format(
            threads=t.threads, set_meta=set_meta, guard=guard, stored=stored
        )
        found = sql.SQL("(SELECT 1 FROM {threads} WHERE id = %(wm_thread)s) f").format(threads=t.threads)
    ctes = [write]
    stmt = sql.SQL("{with_}SELECT w.wm, w.wm IS NOT NULL AS saved FROM {found} LEFT JOIN w ON true").format(
        with_=_with(ctes), found=found
    )
    return stmt, _base_params(thread_id, resource_id, change)


def also_set_resource_working_memory(stmt: Statement, t: Tables, working_memory: str) -> Statement:
    """Wrap a thread statement (``INSERT``/``UPDATE … RETURNING`` the thread's columns) so the same
    statement also writes ``working_memory`` into the thread's resource row, created lazily.

    This is Mastra's ``saveThread``/``updateThread``: a string ``metadata.workingMemory`` lands in
    the resource when working memory is resource-scoped. Nothing is written when the thread
    statement writes nothing (a conflict, a missing thread).
    """
    inner, params = stmt
    wrapped = sql.SQL(
        "WITH th AS ({inner}), wm_res AS (INSERT INTO {resources} AS r (id, \"workingMemory\", metadata, \"createdAt\","
        " \"updatedAt\", \"createdAtZ\", \"updatedAtZ\") SELECT th.\"resourceId\", %(wm_from_metadata)s, '{{}}'::jsonb,"
        " {naive}, {naive}, {now}, {now} FROM th ON CONFLICT (id) DO UPDATE SET \"workingMemory\" ="
        " EXCLUDED.\"workingMemory\", \"updatedAt\" = EXCLUDED.\"updatedAt\", \"updatedAtZ\" = EXCLUDED.\"updatedAtZ\")"
        " SELECT * FROM th"
    ).format(inner=inner, resources=t.resources, naive=NOW_NAIVE, now=NOW)
    return wrapped, {**params, "wm_from_metadata": working_memory}
