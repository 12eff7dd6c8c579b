"""JSON Schema for schema-mode working memory: conversion, the tool's input, and validation.

The core depends on pydantic but not on a JSON Schema library, so updates are checked here
against the common subset of JSON Schema that pydantic emits and people write by hand: ``type``,
``properties``, ``required``, ``additionalProperties``, ``items``, ``enum``, ``const``,
``anyOf``/``oneOf``/``allOf``, local ``$ref``, string/number/array bounds and ``pattern``.
Other keywords (``format``…) are accepted without a check.

Updates are *partial*: they are deep-merged into what is stored, so ``required`` is not enforced
on objects that merge, and ``None`` (JSON ``null``) is always allowed there because it removes a
key. Inside lists, which replace what is stored, values are checked in full.
"""

from __future__ import annotations

import copy
import math
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from .._errors import InvalidInputError

__all__ = ["empty_object", "json_schema_of", "partial_schema", "validate_update"]

_MAX_ERRORS = 20


def json_schema_of(schema: Any) -> dict[str, Any]:
    """A JSON Schema dict from a pydantic model class or a JSON Schema mapping.

    Raises:
        InvalidInputError: anything else, or a schema that does not describe a JSON object.
    """
    if isinstance(schema, type) and hasattr(schema, "model_json_schema"):
        result: dict[str, Any] = schema.model_json_schema()
    elif isinstance(schema, Mapping):
        try:
            result = orjson.loads(orjson.dumps(dict(schema)))
        except TypeError as exc:
            raise InvalidInputError(f"working_memory.schema is not JSON-serialisable: {exc}") from exc
    else:
        raise InvalidInputError(
            f"working_memory.schema must be a pydantic model class or a JSON Schema dict, got {schema!r}"
        )
    kind = result.get("type")
    if kind not in ("object", None) or (kind is None and "properties" not in result):
        raise InvalidInputError(
            "working_memory.schema must describe a JSON object (type 'object' with 'properties'), "
            f"got type {kind!r}"
        )
    return result


def partial_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema as the tool's ``memory`` argument: no ``required`` anywhere (updates are partial)."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if not (k == "required" and isinstance(v, list))}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return strip(copy.deepcopy(schema))  # type: ignore[no-any-return]


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while isinstance(node.get("$ref"), str) and seen < 32:
        ref: str = node["$ref"]
        if not ref.startswith("#"):
            return {}  # remote references are not followed
        target: Any = root
        for part in filter(None, ref[1:].split("/")):
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part) if isinstance(target, dict) else None
        if not isinstance(target, dict):
            return {}
        extra = {k: v for k, v in node.items() if k != "$ref"}
        node = {**target, **extra}
        seen += 1
    return node


def _type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _is_type(value: Any, kind: str) -> bool:
    actual = _type_of(value)
    if kind == "number":
        return actual in ("integer", "number")
    if kind == "integer":
        return actual == "integer" or (actual == "number" and math.isfinite(value) and float(value).is_integer())
    return actual == kind


class _Checker:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.errors: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def ok(self, value: Any, node: Any, path: str, partial: bool) -> bool:
        """Check quietly (for anyOf/oneOf branches)."""
        sub = _Checker(self.root)
        sub.check(value, node, path, partial)
        return not sub.errors

    def check(self, value: Any, node: Any, path: str, partial: bool) -> None:
        if node is True or node is None:
            return
        if node is False:
            self.fail(path, "is not allowed here")
            return
        if not isinstance(node, dict):
            return
        node = _resolve(node, self.root)
        kinds = node.get("type")
        if kinds is not None:
            wanted = [kinds] if isinstance(kinds, str) else list(kinds)
            if not any(_is_type(value, k) for k in wanted):
                self.fail(path, f"expected {' or '.join(wanted)}, got {_type_of(value)} {_short(value)}")
                return
        if "enum" in node and value not in node["enum"]:
            self.fail(path, f"must be one of {_short(node['enum'])}, got {_short(value)}")
        if "const" in node and value != node["const"]:
            self.fail(path, f"must be {_short(node['const'])}, got {_short(value)}")
        for branch_key in ("anyOf", "oneOf"):
            branches = node.get(branch_key)
            if isinstance(branches, list) and branches:
                self.check_branches(value, branches, path, partial, exactly_one=branch_key == "oneOf")
        for sub_node in node.get("allOf") or []:
            self.check(value, sub_node, path, partial)
        if isinstance(value, dict):
            self.check_object(value, node, path, partial)
        elif isinstance(value, list):
            self.check_array(value, node, path)
        elif isinstance(value, str):
            self.check_string(value, node, path)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            self.check_number(value, node, path)

    def check_branches(self, value: Any, branches: list[Any], path: str, partial: bool, exactly_one: bool) -> None:
        matches = sum(self.ok(value, b, path, partial) for b in branches)
        if matches == 1 or (matches > 1 and not exactly_one):
            return
        if matches > 1:
            self.fail(path, "matches more than one of the allowed shapes (oneOf)")
            return
        real = [b for b in branches if not (isinstance(b, dict) and _resolve(b, self.root).get("type") == "null")]
        if len(real) == 1:  # Optional[X]: report what is wrong against X
            self.check(value, real[0], path, partial)
            return
        self.fail(path, f"matches none of the allowed shapes, got {_type_of(value)} {_short(value)}")

    def check_object(self, value: dict[str, Any], node: dict[str, Any], path: str, partial: bool) -> None:
        props: dict[str, Any] = node.get("properties") or {}
        if not partial:
            for key in node.get("required") or []:
                if key not in value:
                    self.fail(f"{path}.{key}", "is required")
        extra = node.get("additionalProperties", True)
        for key, item in value.items():
            where = f"{path}.{key}"
            if partial and item is None:
                continue  # None removes the key when merged
            if key in props:
                self.check(item, props[key], where, partial)
            elif extra is False:
                self.fail(where, f"is not a field of the schema (fields: {', '.join(sorted(props)) or 'none'})")
            else:
                self.check(item, extra, where, partial)

    def check_array(self, value: list[Any], node: dict[str, Any], path: str) -> None:
        items = node.get("items")
        if isinstance(items, list):  # tuple form
            for i, (item, sub) in enumerate(zip(value, items, strict=False)):
                self.check(item, sub, f"{path}[{i}]", False)
        elif items is not None:
            for i, item in enumerate(value):
                self.check(item, items, f"{path}[{i}]", False)  # lists are replaced: check in full
        if isinstance(node.get("minItems"), int) and len(value) < node["minItems"]:
            self.fail(path, f"needs at least {node['minItems']} items, got {len(value)}")
        if isinstance(node.get("maxItems"), int) and len(value) > node["maxItems"]:
            self.fail(path, f"allows at most {node['maxItems']} items, got {len(value)}")

    def check_string(self, value: str, node: dict[str, Any], path: str) -> None:
        if isinstance(node.get("minLength"), int) and len(value) < node["minLength"]:
            self.fail(path, f"needs at least {node['minLength']} characters")
        if isinstance(node.get("maxLength"), int) and len(value) > node["maxLength"]:
            self.fail(path, f"allows at most {node['maxLength']} characters")
        pattern = node.get("pattern")
        if isinstance(pattern, str):
            try:
                if re.search(pattern, value) is None:
                    self.fail(path, f"does not match the pattern {pattern!r}")
            except re.error:
                pass  # a pattern Python cannot compile is not checked

    def check_number(self, value: float, node: dict[str, Any], path: str) -> None:
        bounds: tuple[tuple[str, Callable[[float, float], bool], str], ...] = (
            ("minimum", operator.ge, ">="),
            ("maximum", operator.le, "<="),
            ("exclusiveMinimum", operator.gt, ">"),
            ("exclusiveMaximum", operator.lt, "<"),
        )
        for key, test, sign in bounds:
            bound = node.get(key)
            if isinstance(bound, int | float) and not isinstance(bound, bool) and not test(value, bound):
                self.fail(path, f"must be {sign} {bound}, got {value}")


def _short(value: Any) -> str:
    text = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode() if value is not None else "null"
    return text if len(text) <= 60 else text[:57] + "..."


def validate_update(update: Any, schema: dict[str, Any]) -> None:
    """Check a partial update against the schema; nothing is written when it fails.

    Raises:
        InvalidInputError: the update is not an object, or fields do not fit (all listed).
    """
    if not isinstance(update, dict):
        raise InvalidInputError(
            f"a schema-mode working memory update must be a JSON object (a dict), got {_type_of(update)}"
        )
    checker = _Checker(schema)
    checker.check(update, schema, "memory", True)
    if checker.errors:
        shown = checker.errors[:_MAX_ERRORS]
        more = len(checker.errors) - len(shown)
        raise InvalidInputError(
            "working memory update does not fit the schema, nothing was saved: "
            + "; ".join(shown)
            + (f"; and {more} more" if more > 0 else "")
        )


_EMPTY: dict[str, Any] = {"string": "", "array": [], "number": 0, "integer": 0, "boolean": False}


def empty_object(schema: dict[str, Any], root: dict[str, Any] | None = None, depth: int = 0) -> dict[str, Any]:
    """An empty instance of the schema, the template shown to the model (as Mastra generates it)."""
    root = root or schema
    node = _resolve(schema, root)
    result: dict[str, Any] = {}
    for key, raw in (node.get("properties") or {}).items():
        prop = _resolve(raw, root) if isinstance(raw, dict) else {}
        options = [_resolve(o, root) for o in prop.get("anyOf") or [] if isinstance(o, dict)]
        non_null = [o for o in options if o.get("type") != "null"]
        if len(non_null) == 1 and "default" not in prop:
            prop = non_null[0]
        kind = prop.get("type")
        if "default" in prop:
            result[key] = copy.deepcopy(prop["default"])
        elif kind == "object" and depth < 8:
            result[key] = empty_object(prop, root, depth + 1)
        else:
            result[key] = _EMPTY.get(kind if isinstance(kind, str) else "")
    return result
