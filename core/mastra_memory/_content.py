"""Message content in Mastra's "format 2", and the legacy v1 shapes Mastra still reads.

``mastra_messages.content`` is JSON *text*: ``{"format": 2, "parts": [...], ...}``. Parts we know
are checked on write; parts we do not know (``data-om-*`` markers, future AI-SDK part types) are
kept verbatim, as are every top-level key besides ``format`` and ``parts``, so a row written by
Mastra survives a load/save cycle unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from ._errors import InvalidInputError
from ._validate import check_json_depth, check_json_number

__all__ = ["MessageContent", "Part"]

Part = dict[str, Any]
"""One entry of ``content.parts``: a JSON object with a string ``type``."""

_TOOL_STATES = frozenset({"partial-call", "call", "result"})


def _need(part: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> None:
    if not isinstance(part.get(key), kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise InvalidInputError(f"{where}: a {part.get('type')!r} part needs {key!r} as {names}")


def _check_part(part: Any, where: str) -> None:
    if not isinstance(part, Mapping):
        raise InvalidInputError(f"{where}: each part must be a JSON object, got {type(part).__name__}")
    kind = part.get("type")
    if not isinstance(kind, str) or not kind:
        raise InvalidInputError(f"{where}: each part needs a non-empty string 'type'")
    if kind == "text":
        _need(part, "text", str, where)
    elif kind == "tool-invocation":
        _need(part, "toolInvocation", Mapping, where)
        call = part["toolInvocation"]
        if call.get("state") not in _TOOL_STATES:
            raise InvalidInputError(
                f"{where}: toolInvocation.state must be one of {sorted(_TOOL_STATES)}, got {call.get('state')!r}"
            )
        for key in ("toolCallId", "toolName"):
            if not isinstance(call.get(key), str) or not call[key]:
                raise InvalidInputError(f"{where}: toolInvocation.{key} must be a non-empty string")
        if call["state"] == "result" and "result" not in call:
            raise InvalidInputError(f"{where}: a toolInvocation in state 'result' needs a 'result'")
    elif kind == "reasoning":
        _need(part, "reasoning", str, where)
    elif kind == "file":
        _need(part, "data", str, where)
        _need(part, "mimeType", str, where)
    elif kind == "source":
        _need(part, "source", Mapping, where)
    # step-start, data-* and part types we do not know are kept as they are.


@dataclass(slots=True)
class MessageContent:
    """The ``content`` of a message: its parts plus every other format-2 key, kept verbatim.

    ``extra`` holds the optional keys Mastra writes beside ``parts`` (``content``, ``metadata``,
    ``toolInvocations``, ``reasoning``, ``experimental_attachments``, ``providerMetadata``, …).
    """

    parts: list[Part]
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of_text(cls, text: str) -> MessageContent:
        """Content holding one text part."""
        return cls(parts=[{"type": "text", "text": text}])

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "content") -> MessageContent:
        """Validate a format-2 object (as stored by Mastra) and wrap it.

        Raises:
            InvalidInputError: ``format`` is not 2, ``parts`` is not a list, or a known part
                lacks a field it needs.
        """
        if not isinstance(data, Mapping):
            raise InvalidInputError(f"{where} must be a format-2 JSON object, got {type(data).__name__}")
        if data.get("format") != 2:
            raise InvalidInputError(f"{where}.format must be 2 (Mastra's message format), got {data.get('format')!r}")
        parts = data.get("parts")
        if not isinstance(parts, list):
            raise InvalidInputError(f"{where}.parts must be a list of part objects")
        for i, part in enumerate(parts):
            _check_part(part, f"{where}.parts[{i}]")
        extra = {k: v for k, v in data.items() if k not in ("format", "parts")}
        return cls(parts=[dict(p) for p in parts], extra=extra)

    def to_dict(self) -> dict[str, Any]:
        """The format-2 object, as Mastra stores and reads it."""
        return {"format": 2, "parts": self.parts, **self.extra}

    @property
    def metadata(self) -> dict[str, Any] | None:
        """Message-level metadata (``content.metadata``), if any."""
        meta = self.extra.get("metadata")
        return meta if isinstance(meta, dict) else None

    @property
    def text(self) -> str:
        """The message's text: ``content.content`` when set, else its text parts joined by newlines."""
        mirror = self.extra.get("content")
        if isinstance(mirror, str) and mirror:
            return mirror
        return "\n".join(p["text"] for p in self.parts if p.get("type") == "text" and isinstance(p.get("text"), str))

    def tool_invocations(self) -> list[dict[str, Any]]:
        """The ``toolInvocation`` objects of this message's tool parts, in order."""
        return [p["toolInvocation"] for p in self.parts if p.get("type") == "tool-invocation"]


def encode_content(content: MessageContent) -> str:
    """Serialise content for the ``content`` text column.

    Raises:
        InvalidInputError: the content is not JSON-serialisable (e.g. a lone surrogate).
    """
    data = content.to_dict()
    _check_numbers(data, "content")  # orjson would write NaN as null: a silent change, not a round trip
    try:
        return orjson.dumps(data).decode()
    except TypeError as exc:  # orjson raises JSONEncodeError, a TypeError subclass
        raise InvalidInputError(
            f"message content cannot be stored as JSON ({exc}); text must be valid Unicode "
            "(no lone surrogates) and values JSON types"
        ) from exc


def _check_numbers(value: Any, where: str, depth: int = 0) -> None:
    if isinstance(value, Mapping):
        check_json_depth(depth, where)
        for key, item in value.items():
            _check_numbers(item, f"{where}.{key}", depth + 1)
    elif isinstance(value, list | tuple):
        check_json_depth(depth, where)
        for i, item in enumerate(value):
            _check_numbers(item, f"{where}[{i}]", depth + 1)
    else:
        check_json_number(value, where)


def decode_content(raw: str, row_type: str) -> tuple[MessageContent, str | None]:
    """Parse a stored ``content`` column into format 2.

    Returns the content and, for legacy v1 rows, the role the v1 row implies (``tool`` rows
    become assistant messages, since format 2 has no tool role). Rows Mastra wrote long ago may
    hold a bare string, a JSON string, or an AI-SDK ``CoreMessage`` content array.
    """
    try:
        data: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return MessageContent.of_text(raw), None
    if isinstance(data, dict) and data.get("format") == 2 and isinstance(data.get("parts"), list):
        extra = {k: v for k, v in data.items() if k not in ("format", "parts")}
        return MessageContent(parts=data["parts"], extra=extra), None
    if isinstance(data, str):
        return MessageContent.of_text(data), None
    if isinstance(data, list):
        return MessageContent(parts=[_v1_part(p) for p in data if isinstance(p, dict)]), (
            "assistant" if row_type in ("tool-call", "tool-result") else None
        )
    if isinstance(data, dict) and isinstance(data.get("parts"), list):  # format-less v2-like object
        return MessageContent(parts=data["parts"], extra={k: v for k, v in data.items() if k != "parts"}), None
    return MessageContent.of_text(raw), None


def _v1_part(part: dict[str, Any]) -> Part:
    """Map one AI-SDK CoreMessage content part (legacy v1 rows) onto its format-2 part."""
    kind = part.get("type")
    if kind == "text":
        return {"type": "text", "text": part.get("text", "")}
    if kind == "tool-call":
        return {
            "type": "tool-invocation",
            "toolInvocation": {
                "state": "call",
                "toolCallId": part.get("toolCallId"),
                "toolName": part.get("toolName"),
                "args": part.get("args", {}),
            },
        }
    if kind == "tool-result":
        return {
            "type": "tool-invocation",
            "toolInvocation": {
                "state": "result",
                "toolCallId": part.get("toolCallId"),
                "toolName": part.get("toolName"),
                "args": part.get("args", {}),
                "result": part.get("result"),
            },
        }
    if kind == "reasoning":
        text = part.get("text", "")
        return {"type": "reasoning", "reasoning": text, "details": [{"type": "text", "text": text}]}
    if kind in ("image", "file"):
        data = part.get("image", part.get("data"))
        return {"type": "file", "data": data if isinstance(data, str) else "", "mimeType": part.get("mimeType", "")}
    return dict(part)


def coerce_content(value: MessageContent | str | Mapping[str, Any] | Sequence[Part], where: str) -> MessageContent:
    """Accept the forms callers naturally write: text, a format-2 dict, a parts list, or content."""
    if isinstance(value, MessageContent):
        return MessageContent.from_dict(value.to_dict(), where=where)
    if isinstance(value, str):
        return MessageContent.of_text(value)
    if isinstance(value, Mapping):
        return MessageContent.from_dict(value, where=where)
    if isinstance(value, Sequence):
        return MessageContent.from_dict({"format": 2, "parts": list(value)}, where=where)
    raise InvalidInputError(f"{where} must be text, a format-2 object or a list of parts, got {type(value).__name__}")
