"""LlamaIndex ``ChatMessage`` ↔ Mastra's format-2 messages.

LlamaIndex spreads an agent turn over assistant messages (tool calls as ``ToolCallBlock`` blocks, or
provider-style ``additional_kwargs["tool_calls"]``) and ``role="tool"`` messages
(``additional_kwargs["tool_call_id"]``); Mastra stores it as one assistant row. :func:`to_mastra`
folds each run of consecutive assistant/tool messages into that row and :func:`from_mastra` unfolds
rows back, both through :mod:`mastra_memory._turns` (shared with the LangChain adapter); this module
maps LlamaIndex's messages and blocks onto parts.

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
from mastra_memory.integration import TurnBuilder, keep_meta, kept_meta, unfold_turn

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
    keep_meta(content, _META, meta)
    return Message(role=role, content=content, id=str(uuid.uuid4()), thread_id=thread_id, resource_id=resource_id)


def _add_assistant(turn: TurnBuilder, message: ChatMessage) -> None:
    meta: dict[str, Any] = {}
    if message.role != MessageRole.ASSISTANT:
        meta["role"] = message.role.value
    if message.additional_kwargs:
        meta["additional_kwargs"] = _jsonable(message.additional_kwargs)
    has_call_blocks = any(isinstance(b, ToolCallBlock) for b in message.blocks)
    # provider-style calls: Mastra sees them; LlamaIndex shows them through the kwargs it keeps
    hidden = [] if has_call_blocks else _provider_calls(message)
    turn.add_step([_exact_part(block) for block in message.blocks], meta, hidden_calls=hidden)


def _add_tool(turn: TurnBuilder, message: ChatMessage) -> None:
    kwargs = dict(message.additional_kwargs)
    raw_id = kwargs.pop("tool_call_id", None)
    call_id = raw_id if isinstance(raw_id, str) and raw_id else None
    meta: dict[str, Any] = {}
    if call_id is None:
        meta["no_id"] = raw_id if raw_id is not None else True
    blocks = message.blocks
    if len(blocks) == 1 and isinstance(blocks[0], TextBlock):
        result = _result_of(blocks[0].text)
    else:
        result = "\n".join(b.text for b in blocks if isinstance(b, TextBlock))
        meta["blocks"] = [_dump(b) for b in blocks]
    if kwargs:
        meta["additional_kwargs"] = _jsonable(kwargs)
    if message.role != MessageRole.TOOL:
        meta["role"] = message.role.value
    name = kwargs.get("name")
    # without an id it answers no call: a fresh id makes it a lone result
    _, record = turn.add_result(call_id or str(uuid.uuid4()), result, tool_name=str(name) if name else None)
    record.update(meta)


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
    turn: TurnBuilder | None = None
    for message in messages:
        if message.role in _TURN_ROLES:
            turn = turn or TurnBuilder(_META, str(uuid.uuid4()), hide_lone_calls=True)
            if message.role == MessageRole.TOOL:
                _add_tool(turn, message)
            else:
                _add_assistant(turn, message)
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


def _tool_message(call_id: str, invocation: dict[str, Any], meta: dict[str, Any]) -> ChatMessage:
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
    out: list[ChatMessage] = []
    for step in unfold_turn(message.content, _META):
        meta = step.meta or {}
        if not step.orphan:
            out.append(
                ChatMessage(
                    role=meta.get("role", MessageRole.ASSISTANT),
                    blocks=_blocks_of(step.parts),
                    additional_kwargs=meta.get("additional_kwargs") or {},
                )
            )
        out.extend(_tool_message(*result) for result in step.results)
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
        meta = kept_meta(message.content, _META)
        role = meta.get("role", MessageRole.USER if message.role == "user" else MessageRole.SYSTEM)
        out.append(
            ChatMessage(
                role=role,
                blocks=_blocks_of(message.content.parts),
                additional_kwargs=meta.get("additional_kwargs") or {},
            )
        )
    return out
