"""Plans for working memory: read, update (replace or merge), and the template.

Their docstrings are the public API docs of ``Memory``/``AsyncMemory``. Every update is one
statement (see :mod:`mastra_memory.storage._working_memory`), so parallel updates of one
document lose nothing, whichever process or language (Mastra included, through its rows) runs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson

from .._errors import InvalidInputError, NotFoundError, StorageError
from .._plan import Plan, query_one
from .._validate import check_id, check_metadata, check_text, dumps
from ..storage import _working_memory as sql_wm
from ._config import WorkingMemory, WorkingMemoryTemplate, WorkingMemoryUpdate
from ._schema import validate_update

if TYPE_CHECKING:
    from .._config import MemoryConfig
    from .._store import Store

_INVALID_TEXT_REPRESENTATION = "22P02"  # PostgreSQL could not parse the stored text as JSON
_PARSE_RETRIES = 5

TEMPLATE_REFUSED = (
    "the update is the empty template while the stored working memory holds data; nothing was changed "
    "(send the whole document with its data)"
)
VNEXT_REFUSED = "skipped: that text is already in working memory, or it is the empty template"


def enabled(config: MemoryConfig) -> WorkingMemory | None:
    """The working-memory settings when working memory is on, else None."""
    wm: WorkingMemory | None = getattr(config, "working_memory", None)
    return wm if wm is not None and wm.enabled else None


def required_config(s: Store) -> WorkingMemory:
    wm = enabled(s.config)
    if wm is None:
        raise InvalidInputError(
            "working memory is off for this memory; enable it with "
            "MemoryConfig(working_memory=WorkingMemory(enabled=True))"
        )
    return wm


def normalized(text: str) -> str:
    """Whitespace runs as one space, trimmed: how Mastra compares a document with its template."""
    return " ".join(text.split())


def metadata_working_memory(config: MemoryConfig, metadata: Mapping[str, Any] | None) -> str | None:
    """The ``workingMemory`` string of thread metadata that Mastra also writes to the resource row
    (working memory on, resource scope, a non-empty string), else None."""
    wm = enabled(config)
    value = None if metadata is None else metadata.get("workingMemory")
    if wm is None or wm.scope != "resource" or not isinstance(value, str) or not value:
        return None
    return value


def markdown_change(wm: WorkingMemory, value: Any, *, search: str | None = None) -> sql_wm.Change:
    """A whole-document replacement (or, with ``search``, a vnext search-and-replace).

    Raises:
        InvalidInputError: the value is not a string (an object, a list…), or holds a NUL.
    """
    if not isinstance(value, str):
        raise InvalidInputError(
            f"working memory is a Markdown document here, so it must be one string holding the whole "
            f"document, not a {type(value).__name__}; format the data as Markdown text"
        )
    check_text(value, "working_memory")
    template = normalized(wm.markdown_template)
    is_template = normalized(value) == template
    if search is not None:
        return sql_wm.Change("search", text=value, search=search or "", is_template=is_template, template=template)
    return sql_wm.Change("replace", text=value, is_template=is_template, template=template)


def merge_change(wm: WorkingMemory, value: Any) -> sql_wm.Change:
    """A deep merge of a partial object (a dict, or its JSON text) checked against the schema.

    Raises:
        InvalidInputError: not a JSON object, or fields that do not fit the schema (all listed).
    """
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise InvalidInputError(f"working memory update is not valid JSON ({exc}); send a JSON object") from exc
    if isinstance(value, Mapping):
        value = dict(value)
    assert wm.json_schema is not None
    validate_update(value, wm.json_schema)
    check_metadata(value, "working_memory")  # what jsonb can hold: no NUL, JSON types only
    try:
        return sql_wm.Change("merge", update=orjson.loads(dumps(value)))
    except TypeError as exc:
        raise InvalidInputError(f"working memory update holds a value JSON cannot carry: {exc}") from exc


def change_for(wm: WorkingMemory, value: Any) -> sql_wm.Change:
    return merge_change(wm, value) if wm.schema is not None else markdown_change(wm, value)


def write(
    s: Store, wm: WorkingMemory, thread_id: str, resource_id: str | None, change: sql_wm.Change, *, ensure_thread: bool
) -> Plan[WorkingMemoryUpdate]:
    """Run the one-statement update; on a stored text that is not JSON (schema mode), start over
    from an empty object, but only if that text is still the one seen (so no race loses data)."""
    build = sql_wm.update_resource_scope if wm.scope == "resource" else sql_wm.update_thread_scope
    for _ in range(_PARSE_RETRIES):
        try:
            row = yield from query_one(*build(s.tables, thread_id, resource_id, change, ensure_thread=ensure_thread))
            break
        except StorageError as exc:
            if change.kind != "merge" or exc.sqlstate != _INVALID_TEXT_REPRESENTATION:
                raise
            seen = yield from query_one(*sql_wm.select(s.tables, wm.scope, thread_id, resource_id))
            text = None if seen is None else seen["wm"]
            change = sql_wm.Change("merge", update=change.update, broken=None if _is_json(text) else text)
    else:
        raise StorageError("working memory kept changing to text that is not JSON; try again")
    if row is None or (wm.scope == "resource" and row["resource_id"] is None):
        if wm.scope == "thread":
            raise NotFoundError(f"thread {thread_id!r} does not exist, so it has no working memory to update")
        raise NotFoundError(
            f"thread {thread_id!r} does not exist, so it cannot name the resource whose working memory to "
            "update; pass resource_id"
        )
    if not row["saved"]:
        return WorkingMemoryUpdate(False, None, VNEXT_REFUSED if change.kind == "search" else TEMPLATE_REFUSED)
    return WorkingMemoryUpdate(True, row["wm"])


def _is_json(text: str | None) -> bool:
    if text is None:
        return True
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return True


def _ids(thread_id: str, resource_id: str | None) -> tuple[str, str | None]:
    return check_id(thread_id, "thread_id"), None if resource_id is None else check_id(resource_id, "resource_id")


def get_working_memory(s: Store, thread_id: str, resource_id: str | None = None) -> Plan[str | None]:
    """The working-memory document, or None when nothing is stored yet (or working memory is off).

    Resource scope reads ``mastra_resources."workingMemory"`` of ``resource_id`` (default: the
    thread's owner); thread scope reads the thread's ``metadata.workingMemory``. In schema mode
    the document is JSON text, as Mastra stores it.

    Raises:
        InvalidInputError: an empty id.
        OwnershipError: the thread belongs to another resource than ``resource_id``.
    """
    thread_id, resource_id = _ids(thread_id, resource_id)
    wm = enabled(s.config)
    if wm is None:
        return None
    row = yield from query_one(*sql_wm.select(s.tables, wm.scope, thread_id, resource_id))
    return None if row is None or not row["wm"] else str(row["wm"])


def update_working_memory(
    s: Store, thread_id: str, resource_id: str | None = None, *, working_memory: str | Mapping[str, Any]
) -> Plan[WorkingMemoryUpdate]:
    """Store working memory the way Mastra's ``updateWorkingMemory`` tool does, in one statement.

    - Markdown (template) mode: ``working_memory`` is the whole document and replaces the stored
      one. The empty template never overwrites a document with data (``saved`` is then False).
    - Schema mode: ``working_memory`` is a partial object (a dict or its JSON text), checked
      against the schema and deep-merged into the stored one in the database: objects merge,
      ``None`` removes a key, lists replace. Parallel updates of one document lose nothing.

    Resource scope writes the resource row (created when missing) of ``resource_id``, default
    the thread's owner; thread scope writes the thread's ``metadata.workingMemory``.

    Raises:
        InvalidInputError: working memory is off, an empty id, Markdown given as an object, or an
            update that does not fit the schema (every bad field listed; nothing is written).
        NotFoundError: the thread does not exist (thread scope, or no ``resource_id`` given).
        OwnershipError: the thread belongs to another resource than ``resource_id``.
    """
    thread_id, resource_id = _ids(thread_id, resource_id)
    wm = required_config(s)
    change = change_for(wm, working_memory)
    return (yield from write(s, wm, thread_id, resource_id, change, ensure_thread=False))


def get_working_memory_template(s: Store) -> Plan[WorkingMemoryTemplate | None]:
    """What the model is asked to keep: ``format`` "markdown" (the template) or "json" (the JSON
    Schema as JSON text), as Mastra's ``getWorkingMemoryTemplate``; None when working memory is off."""
    yield from ()
    wm = enabled(s.config)
    return None if wm is None else wm.describe()
