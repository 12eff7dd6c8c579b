"""Checks on caller input, run before anything reaches the database.

Decision on NUL characters: PostgreSQL ``text`` and ``jsonb`` cannot hold U+0000, so ids,
titles, working memory and metadata that contain it are refused with :class:`InvalidInputError`.
Message content is different: it is stored as JSON text, where a NUL is the escape ``\\u0000``,
so message text round-trips exactly, NUL included. Lone surrogates cannot be encoded as UTF-8
and are refused everywhere.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import orjson

from ._errors import InvalidInputError

_METADATA_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_MAX_KEY_LENGTH = 128
_MAX_ID_LENGTH = 1024
_MIN_INT, _MAX_INT = -(2**63), 2**64 - 1
# orjson refuses more than 255 levels (with a bare TypeError); stop well before, with a clear error.
MAX_JSON_DEPTH = 200
# Counts (page sizes, windows, history lengths) must fit PostgreSQL's integer once one is added,
# and page * per_page must fit a bigint OFFSET; nothing real comes near.
MAX_COUNT = 2**31 - 2


def check_text(value: str, what: str, *, nul_ok: bool = False) -> str:
    """A string PostgreSQL ``text`` can hold: no NUL, valid Unicode.

    ``nul_ok`` allows NUL for strings stored inside message content, which is JSON text.
    """
    if not isinstance(value, str):
        raise InvalidInputError(f"{what} must be a string, got {type(value).__name__}")
    if not nul_ok and "\x00" in value:
        raise InvalidInputError(f"{what} contains a NUL character (\\x00), which PostgreSQL cannot store; remove it")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInputError(
            f"{what} is not valid Unicode ({exc.reason} at position {exc.start}); fix the text"
        ) from exc
    return value


def check_id(value: Any, what: str) -> str:
    """A non-empty id without surrounding whitespace problems."""
    if not isinstance(value, str):
        raise InvalidInputError(f"{what} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise InvalidInputError(f"{what} must be a non-empty string, got {value!r}")
    if len(value) > _MAX_ID_LENGTH:
        raise InvalidInputError(f"{what} is {len(value)} characters long; ids are limited to {_MAX_ID_LENGTH}")
    return check_text(value, what)


def check_ids(values: Any, what: str) -> list[str]:
    if isinstance(values, str) or not hasattr(values, "__iter__"):
        raise InvalidInputError(f"{what} must be a list of ids, got {type(values).__name__}")
    return [check_id(v, f"{what}[{i}]") for i, v in enumerate(values)]


def check_json_number(value: Any, what: str) -> None:
    """Numbers JSON can carry exactly: finite floats (orjson would write NaN as null) and integers
    in the 64-bit range orjson writes (others would fail deep inside the encoder)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInputError(f"{what} is {value!r}, which JSON cannot hold; use a finite number or null")
    if isinstance(value, int) and not isinstance(value, bool) and not _MIN_INT <= value <= _MAX_INT:
        raise InvalidInputError(
            f"{what} is an integer outside [-2**63, 2**64 - 1], which the JSON encoder cannot write; store it as text"
        )


def check_json_depth(depth: int, what: str) -> None:
    if depth > MAX_JSON_DEPTH:
        raise InvalidInputError(f"{what[:80]}… is nested more than {MAX_JSON_DEPTH} levels deep; flatten it")


def _check_json(value: Any, what: str, nul_ok: bool, depth: int = 0) -> None:
    if isinstance(value, str):
        check_text(value, what, nul_ok=nul_ok)
    elif isinstance(value, Mapping):
        check_json_depth(depth, what)
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInputError(f"{what} has a non-string key {key!r}; JSON object keys are strings")
            check_text(key, f"{what} key {key[:40]!r}", nul_ok=nul_ok)
            _check_json(item, f"{what}.{key}", nul_ok, depth + 1)
    elif isinstance(value, list | tuple):
        check_json_depth(depth, what)
        for i, item in enumerate(value):
            _check_json(item, f"{what}[{i}]", nul_ok, depth + 1)
    elif value is not None and not isinstance(value, bool | int | float):
        raise InvalidInputError(f"{what} holds a {type(value).__name__}, which is not a JSON value")
    else:
        check_json_number(value, what)


def check_metadata(value: Any, what: str = "metadata", *, nul_ok: bool = False) -> dict[str, Any]:
    """A JSON object that jsonb can store (no NUL anywhere, valid Unicode, JSON types only).

    ``nul_ok`` is for message content, stored as JSON text, where NUL is the escape ``\\u0000``.
    """
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"{what} must be a JSON object (a dict), got {type(value).__name__}")
    _check_json(value, what, nul_ok)
    return dict(value)


def check_metadata_filter(value: Any) -> dict[str, Any]:
    """Filter keys as Mastra allows them: identifiers of at most 128 characters."""
    meta = check_metadata(value, "metadata filter")
    for key in meta:
        if len(key) > _MAX_KEY_LENGTH or not _METADATA_KEY.match(key):
            raise InvalidInputError(
                f"metadata filter key {key[:60]!r} is not allowed: keys must match ^[A-Za-z_][A-Za-z0-9_]*$ "
                f"and be at most {_MAX_KEY_LENGTH} characters"
            )
    return meta


def check_page(page: Any, per_page: Any) -> tuple[int, int | None]:
    """``page`` ≥ 0; ``per_page`` ≥ 0 or None for everything (which needs page 0)."""
    if isinstance(page, bool) or not isinstance(page, int) or page < 0:
        raise InvalidInputError(f"page must be an integer >= 0, got {page!r}")
    if per_page is None:
        if page != 0:
            raise InvalidInputError("per_page=None returns everything, so page must be 0")
        return page, None
    if isinstance(per_page, bool) or not isinstance(per_page, int) or per_page < 0:
        raise InvalidInputError(f"per_page must be >= 0 (or None for everything), got {per_page!r}")
    check_count(page, "page")
    check_count(per_page, "per_page")
    return page, per_page


def check_count(value: int, what: str) -> int:
    """An integer already known to be >= 0 that must also stay within :data:`MAX_COUNT`."""
    if value > MAX_COUNT:
        raise InvalidInputError(f"{what} is {value}, more than the largest count allowed ({MAX_COUNT})")
    return value


def check_direction(direction: Any) -> str:
    upper = str(direction).upper()
    if upper not in ("ASC", "DESC"):
        raise InvalidInputError(f"direction must be 'ASC' or 'DESC', got {direction!r}")
    return upper


def to_utc(value: Any, what: str) -> datetime:
    """An aware UTC datetime. Naive datetimes are taken to be UTC, as Mastra's columns are."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise InvalidInputError(f"{what} is not an ISO 8601 time: {value!r}") from exc
    if not isinstance(value, datetime):
        raise InvalidInputError(f"{what} must be a datetime or ISO 8601 string, got {type(value).__name__}")
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    try:
        return value.astimezone(timezone.utc)
    except OverflowError as exc:  # e.g. datetime.min with a positive offset: before year 1 in UTC
        raise InvalidInputError(f"{what} is out of range once moved to UTC: {value!r}") from exc


def to_utc_ms(value: Any, what: str) -> datetime:
    """:func:`to_utc`, cut to whole milliseconds: Mastra reads times as JavaScript Dates, so a
    finer time would order differently on the two sides."""
    moment = to_utc(value, what)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def dumps(value: Any) -> str:
    """JSON text for a jsonb parameter (already validated)."""
    return orjson.dumps(value).decode()
