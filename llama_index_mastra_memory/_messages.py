"""LlamaIndex ``ChatMessage`` ↔ Mastra's format-2 messages.

Mastra has no tool role: an agent turn's assistant side is *one* row whose parts hold every model
step (``step-start`` separators), the tool calls (``tool-invocation`` parts) and, once the tools
answered, their results (the same part, ``state: "result"``). LlamaIndex spreads that turn over
assistant messages (tool calls as ``ToolCallBlock`` blocks, or provider-style
``additional_kwargs["tool_calls"]``) and ``role="tool"`` messages (``additional_kwargs["tool_call_id"]``).
:func:`to_mastra` folds each run of consecutive assistant/tool messages into one assistant row, as
Mastra stores it, so a Mastra agent reading the thread sees its own shape; :func:`from_mastra`
unfolds rows back.

What parts cannot say (``additional_kwargs``, roles such as ``developer``/``chatbot``, blocks that
have no natural part, tool-result blocks other than one text) goes in ``content.metadata.llama_index``,
and only when it differs from what the parts give anyway. So LlamaIndex → Mastra → LlamaIndex is
exact, and rows Mastra wrote read as the messages a ``FunctionAgent`` would have produced.

``ChatMessage`` has no id field, so row ids are fresh UUIDs (saving the same messages twice adds
them twice); tool call ids are kept exactly. Ids are never put into ``additional_kwargs``, because
LLM integrations forward that dict to the provider.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from llama_index.core.base.llms.types import (
    AudioBlock,
    ChatMessage,
    ContentBlock,
    DocumentBlock,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from pydantic import TypeAdapter

from mastra_memory import Message, MessageContent, Role

__all__ = ["from_mastra", "to_mastra"]

_META = "llama_index"
_DATA_BLOCK = "data-llama-index-block"
_BLOCKS: TypeAdapter[Any] = TypeAdapter(ContentBlock)
_TURN_ROLES = frozenset({MessageRole.ASSISTANT, MessageRole.CHATBOT, MessageRole.MODEL, MessageRole.TOOL})


# --------------------------------------------------------------------------- blocks ↔ parts


def _dump(block: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = block.model_dump(mode="json")
    return dumped


def _load(data: Any) -> Any:
    return _BLOCKS.validate_python(data)


def _jsonable(value: Any) -> Any:
    """``additional_kwargs`` as JSON: provider objects (e.g. OpenAI's tool-call models, which some
    integrations put in ``additional_kwargs["tool_calls"]``) become their JSON dump. That is the one
    lossy case: they read back as dicts, which the same integrations accept."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _args(kwargs: dict[str, Any] | str) -> dict[str, Any]:
    if isinstance(kwargs, dict):
        return kwargs
    try:
        parsed = json.loads(kwargs)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _block_to_part(block: Any) -> dict[str, Any]:
    """One LlamaIndex block as its natural format-2 part (exactness is checked by the caller)."""
    if isinstance(block, TextBlock):
        return {"type": "text", "text": block.text}
    if isinstance(block, ThinkingBlock) and isinstance(block.content, str):
        text = block.content
        return {"type": "reasoning", "reasoning": text, "details": [{"type": "text", "text": text}]}
    if isinstance(block, ToolCallBlock):
        return {
            "type": "tool-invocation",
            "toolInvocation": {
                "state": "call",
                "toolCallId": block.tool_call_id or str(uuid.uuid4()),
                "toolName": block.tool_name,
                "args": _args(block.tool_kwargs),
            },
        }
    media = _media(block)
    if media is not None:
        payload, url, mime = media
        if url is not None and payload is None:
            return {"type": "file", "data": url, "mimeType": mime}
        if isinstance(payload, bytes):
            return {"type": "file", "data": f"data:{mime};base64,{payload.decode('ascii')}", "mimeType": mime}
    return {"type": _DATA_BLOCK, "data": _dump(block)}


def _media(block: Any) -> tuple[Any, str | None, str] | None:
    """(base64 payload, url, MIME type) of an image, audio or document block held inline or by URL."""
    if getattr(block, "path", None) is not None:
        return None  # a local file: only meaningful on this machine, kept as a LlamaIndex block
    if isinstance(block, ImageBlock):
        return block.image, None if block.url is None else str(block.url), block.image_mimetype or "image/*"
    if isinstance(block, AudioBlock):
        mime = f"audio/{block.format}" if block.format else "audio/*"
        return block.audio, None if block.url is None else str(block.url), mime
    if isinstance(block, DocumentBlock):
        return block.data, block.url, block.document_mimetype or "application/octet-stream"
    return None


def _kept(part: dict[str, Any]) -> dict[str, Any]:
    meta = part.get("providerMetadata")
    found = meta.get(_META) if isinstance(meta, dict) else None
    return found if isinstance(found, dict) else {}


def _file_block(part: dict[str, Any]) -> Any:
    data, mime = str(part.get("data", "")), str(part.get("mimeType", ""))
    inline = data.startswith("data:") and ";base64," in data
    payload = data.split(";base64,", 1)[1].encode("ascii") if inline else None
    url = None if inline else data
    family = mime.split("/", 1)[0]
    if family == "image":
        return ImageBlock(image=payload, url=url, image_mimetype=mime)
    if family == "audio":
        return AudioBlock(audio=payload, url=url, format=mime.split("/", 1)[-1] or None)
    return DocumentBlock(data=payload, url=url, document_mimetype=mime or None)


def _part_to_block(part: dict[str, Any]) -> Any:
    """One format-2 part as a LlamaIndex block (None: the part shows nothing to a model)."""
    kept = _kept(part)
    if kept.get("hidden"):
        return None
    if "block" in kept:
        return _load(kept["block"])
    kind = part.get("type")
    if kind == "text":
        return TextBlock(text=str(part.get("text", "")))
    if kind == "reasoning":
        return ThinkingBlock(content=str(part.get("reasoning", "")))
    if kind == "tool-invocation" and isinstance(part.get("toolInvocation"), dict):
        call = part["toolInvocation"]
        args = call.get("args")
        return ToolCallBlock(
            tool_call_id=str(call.get("toolCallId")),
            tool_name=str(call.get("toolName")),
            tool_kwargs=args if isinstance(args, (dict, str)) else {},
        )
    if kind == "file":
        return _file_block(part)
    if kind == _DATA_BLOCK:
        return _load(part.get("data"))
    return None  # step-start, source, Mastra's own data-* parts


def _exact_part(block: Any) -> dict[str, Any]:
    """The part for ``block``, carrying the block itself when the part alone would not restore it."""
    part = _block_to_part(block)
    if part["type"] != _DATA_BLOCK and _part_to_block(part) != block:
        part["providerMetadata"] = {_META: {"block": _dump(block)}}
    return part


def _blocks_of(parts: list[dict[str, Any]]) -> list[Any]:
    return [b for b in (_part_to_block(p) for p in parts) if b is not None]


# --------------------------------------------------------------------------- tool results


def _result_of(text: str) -> Any:
    """A tool's text as Mastra's ``result``: its JSON value when the text is exactly that value's
    canonical JSON (so Mastra sees ``{"tempC": 14}`` and not a quoted string), else the text."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(value, str) or json.dumps(value, ensure_ascii=False) != text:
        return text
    return value


def _text_of(result: Any) -> str:
    return result if isinstance(result, str) else json.dumps(result, ensure_ascii=False)


def _provider_calls(message: ChatMessage) -> list[dict[str, Any]]:
    """Provider-style ``additional_kwargs["tool_calls"]`` (OpenAI dicts or objects) as invocations."""
    calls = message.additional_kwargs.get("tool_calls")
    out: list[dict[str, Any]] = []
    for call in calls if isinstance(calls, list) else []:
        data = call.model_dump() if hasattr(call, "model_dump") else call
        if not isinstance(data, dict):
            continue
        nested = data.get("function")
        function: dict[str, Any] = nested if isinstance(nested, dict) else data
        name = function.get("name") or data.get("tool_name")
        raw = function.get("arguments", data.get("tool_kwargs", {}))
        if not isinstance(name, str) or not name:
            continue
        out.append(
            {
                "state": "call",
                "toolCallId": str(data.get("id") or data.get("tool_id") or uuid.uuid4()),
                "toolName": name,
                "args": _args(raw if isinstance(raw, (dict, str)) else {}),
            }
        )
    return out


# --------------------------------------------------------------------------- LlamaIndex → Mastra


def _plain_row(message: ChatMessage, thread_id: str, resource_id: str | None) -> Message:
    role: Role = "user" if message.role == MessageRole.USER else "system"
    meta: dict[str, Any] = {}
    if message.role not in (MessageRole.USER, MessageRole.SYSTEM):
        meta["role"] = message.role.value
    if message.additional_kwargs:
        meta["additional_kwargs"] = _jsonable(message.additional_kwargs)
    content = MessageContent(parts=[_exact_part(b) for b in message.blocks])
    if meta:
        content.extra["metadata"] = {_META: meta}
    return Message(role=role, content=content, id=str(uuid.uuid4()), thread_id=thread_id, resource_id=resource_id)


class _Turn:
    """Builds one assistant row from a run of assistant and tool messages."""

    def __init__(self) -> None:
        self.row_id = str(uuid.uuid4())
        self.parts: list[dict[str, Any]] = []
        self.steps: list[dict[str, Any]] = []
        self.calls: dict[str, dict[str, Any]] = {}  # tool call id -> its toolInvocation (mutable)
        self.call_step: dict[str, int] = {}

    def add_assistant(self, message: ChatMessage) -> None:
        step = len(self.steps)
        meta: dict[str, Any] = {}
        if message.role != MessageRole.ASSISTANT:
            meta["role"] = message.role.value
        if message.additional_kwargs:
            meta["additional_kwargs"] = _jsonable(message.additional_kwargs)
        self.parts.append({"type": "step-start"})
        for block in message.blocks:
            part = _exact_part(block)
            self.parts.append(part)
            if part["type"] == "tool-invocation":
                self._register(part["toolInvocation"], step)
        if not any(isinstance(b, ToolCallBlock) for b in message.blocks):
            for invocation in _provider_calls(message):  # Mastra sees them; LlamaIndex keeps its kwargs
                self.parts.append(
                    {
                        "type": "tool-invocation",
                        "toolInvocation": invocation,
                        "providerMetadata": {_META: {"hidden": True}},
                    }
                )
                self._register(invocation, step)
        meta["results"] = []
        self.steps.append(meta)

    def _register(self, invocation: dict[str, Any], step: int) -> None:
        self.calls[invocation["toolCallId"]] = invocation
        self.call_step[invocation["toolCallId"]] = step

    def add_tool(self, message: ChatMessage) -> None:
        kwargs = dict(message.additional_kwargs)
        raw_id = kwargs.pop("tool_call_id", None)
        call_id = raw_id if isinstance(raw_id, str) and raw_id else None
        meta: dict[str, Any] = {}
        if call_id is None:
            meta["no_id"] = raw_id if raw_id is not None else True
        invocation = self.calls.get(call_id or "")
        if invocation is None:  # a result without its call (cut history): a hidden invocation holds it
            invocation = {
                "state": "call",
                "toolCallId": call_id or str(uuid.uuid4()),
                "toolName": str(kwargs.get("name") or "unknown"),
                "args": {},
            }
            if not self.steps:
                self.steps.append({"results": [], "orphan": True})
                self.parts.append({"type": "step-start"})
            self.parts.append(
                {"type": "tool-invocation", "toolInvocation": invocation, "providerMetadata": {_META: {"hidden": True}}}
            )
            self._register(invocation, len(self.steps) - 1)
        invocation["state"] = "result"
        blocks = message.blocks
        if len(blocks) == 1 and isinstance(blocks[0], TextBlock):
            invocation["result"] = _result_of(blocks[0].text)
        else:
            invocation["result"] = "\n".join(b.text for b in blocks if isinstance(b, TextBlock))
            meta["blocks"] = [_dump(b) for b in blocks]
        if kwargs:
            meta["additional_kwargs"] = _jsonable(kwargs)
        if message.role != MessageRole.TOOL:
            meta["role"] = message.role.value
        self.steps[self.call_step[invocation["toolCallId"]]]["results"].append(
            {"call": invocation["toolCallId"], **meta}
        )

    def row(self, thread_id: str, resource_id: str | None) -> Message:
        steps: list[dict[str, Any]] = []
        for index, step in enumerate(self.steps):
            default_order = [
                p["toolInvocation"]["toolCallId"]
                for p in self.parts
                if p.get("type") == "tool-invocation"
                and p["toolInvocation"]["state"] == "result"
                and self.call_step[p["toolInvocation"]["toolCallId"]] == index
            ]
            results = step["results"]
            compact = dict(step)
            if [r["call"] for r in results] == default_order and all(set(r) == {"call"} for r in results):
                del compact["results"]
            steps.append(compact)
        parts = self.parts
        if len(self.steps) == 1 and not self.calls and parts and parts[0].get("type") == "step-start":
            parts = parts[1:]  # a plain one-step reply: Mastra writes just its parts
        content = MessageContent(parts=parts)
        if any(steps):
            content.extra["metadata"] = {_META: {"steps": steps}}
        return Message(role="assistant", content=content, id=self.row_id, thread_id=thread_id, resource_id=resource_id)


def to_mastra(messages: Sequence[ChatMessage], thread_id: str, resource_id: str | None = None) -> list[Message]:
    """Convert LlamaIndex messages to Mastra format-2 messages for ``thread_id``, in order.

    - user → user; system and developer → system (text → text parts, inline or URL images →
      file parts, other blocks kept verbatim in a ``data-llama-index-block`` part).
    - each run of assistant/tool messages → one assistant row (Mastra's shape for an agent turn):
      a ``step-start`` per assistant message (none for a plain one-step reply), its text,
      reasoning and a ``tool-invocation`` part per ``ToolCallBlock`` (or per provider-style
      ``additional_kwargs["tool_calls"]`` entry), turned into ``state: "result"`` by the tool
      message naming that ``tool_call_id``.

    Rows get fresh UUIDs and no ``created_at``: the store gives each a time after the thread's
    last message, which keeps their order.

    Raises:
        TypeError: a ``function``-role message (legacy OpenAI functions; Mastra has no place for it).
    """
    out: list[Message] = []
    turn: _Turn | None = None
    for message in messages:
        if message.role in _TURN_ROLES:
            turn = turn or _Turn()
            if message.role == MessageRole.TOOL:
                turn.add_tool(message)
            else:
                turn.add_assistant(message)
            continue
        if turn is not None:
            out.append(turn.row(thread_id, resource_id))
            turn = None
        if message.role == MessageRole.FUNCTION:
            raise TypeError(
                "cannot store a function-role message in Mastra's format (use tool calls and tool messages)"
            )
        out.append(_plain_row(message, thread_id, resource_id))
    if turn is not None:
        out.append(turn.row(thread_id, resource_id))
    return out


# --------------------------------------------------------------------------- Mastra → LlamaIndex


def _llama_meta(content: MessageContent) -> dict[str, Any]:
    found = (content.metadata or {}).get(_META)
    return found if isinstance(found, dict) else {}


def _split_steps(parts: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    steps: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] | None = None
    for part in parts:
        if part.get("type") == "step-start":
            current = []
            steps.append(current)
            continue
        if current is None:
            current = []
            steps.append(current)
        current.append(part)
    return steps or [[]]


def _tool_message(invocation: dict[str, Any], meta: dict[str, Any]) -> ChatMessage:
    call_id = str(invocation.get("toolCallId"))
    if "blocks" in meta:
        blocks = [_load(b) for b in meta["blocks"]]
    else:
        blocks = [TextBlock(text=_text_of(invocation.get("result")))]
    kwargs: dict[str, Any] = {}
    if "no_id" not in meta:
        kwargs["tool_call_id"] = call_id
    elif meta["no_id"] is not True:
        kwargs["tool_call_id"] = meta["no_id"]
    kwargs.update(meta.get("additional_kwargs") or {})
    return ChatMessage(role=meta.get("role", MessageRole.TOOL), blocks=blocks, additional_kwargs=kwargs)


def _assistant(message: Message) -> list[ChatMessage]:
    steps_meta = _llama_meta(message.content).get("steps")
    steps_meta = steps_meta if isinstance(steps_meta, list) else []
    out: list[ChatMessage] = []
    for index, parts in enumerate(_split_steps(message.content.parts)):
        meta: dict[str, Any] = (
            steps_meta[index] if index < len(steps_meta) and isinstance(steps_meta[index], dict) else {}
        )
        if not meta.get("orphan"):
            out.append(
                ChatMessage(
                    role=meta.get("role", MessageRole.ASSISTANT),
                    blocks=_blocks_of(parts),
                    additional_kwargs=meta.get("additional_kwargs") or {},
                )
            )
        done = {
            str(inv.get("toolCallId")): inv
            for p in parts
            if p.get("type") == "tool-invocation"
            and isinstance(inv := p.get("toolInvocation"), dict)
            and inv.get("state") == "result"
        }
        results = {r["call"]: r for r in meta.get("results", []) if isinstance(r, dict) and r.get("call") in done}
        order = list(results) + [cid for cid in done if cid not in results]
        for call_id in order:
            out.append(_tool_message(done[call_id], {k: v for k, v in results.get(call_id, {}).items() if k != "call"}))
    return out


def from_mastra(messages: Sequence[Message]) -> list[ChatMessage]:
    """Convert Mastra messages (as read from the store, or written by Mastra) to LlamaIndex messages.

    User → user, system → system, assistant → per step an assistant message (text, reasoning as
    ``ThinkingBlock``, tool calls as ``ToolCallBlock``) followed by a ``role="tool"`` message per
    answered call (``additional_kwargs={"tool_call_id": ...}``, as ``FunctionAgent`` writes them).
    A JSON tool result becomes its JSON text. Parts with nothing for a model (``step-start``,
    ``source``, Mastra's ``data-*``) are skipped. Every call returns new objects.
    """
    out: list[ChatMessage] = []
    for message in messages:
        if message.role == "assistant":
            out.extend(_assistant(message))
            continue
        meta = _llama_meta(message.content)
        role = meta.get("role", MessageRole.USER if message.role == "user" else MessageRole.SYSTEM)
        out.append(
            ChatMessage(
                role=role,
                blocks=_blocks_of(message.content.parts),
                additional_kwargs=meta.get("additional_kwargs") or {},
            )
        )
    return out
