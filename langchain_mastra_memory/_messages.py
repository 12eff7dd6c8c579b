"""LangChain messages ↔ Mastra's format-2 messages.

LangChain spreads an agent turn over ``AIMessage`` / ``ToolMessage`` objects; Mastra stores it as
one assistant row. :func:`to_mastra` folds each run of consecutive AI/tool messages into that row
and :func:`from_mastra` unfolds rows back, both through :mod:`mastra_memory._turns` (shared with the
LlamaIndex adapter); this module maps LangChain's messages and content blocks onto parts.

What parts cannot say (LangChain ids of the later steps and of tool messages, names,
``additional_kwargs``, ``response_metadata``, usage, whether content was a string or a block
list) goes in ``content.metadata.langchain``, and only when it differs from what would be
derived from the parts anyway. So LangChain → Mastra → LangChain is exact, and a row Mastra wrote
comes back with stable ids derived from its own id (``<row id>:<step>`` for later steps,
``<row id>:<tool call id>`` for tool results).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any, cast

import orjson
from langchain_core.documents import Document
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolCall,
    ToolMessage,
)

from mastra_memory import Message, MessageContent
from mastra_memory.integration import TurnBuilder, keep_meta, kept_meta, unfold_turn

__all__ = ["from_mastra", "to_mastra"]

_META = "langchain"
_DATA_BLOCK = "data-langchain-block"


# --------------------------------------------------------------------------- blocks ↔ parts


def _block_to_part(block: Any) -> dict[str, Any]:
    """One LangChain content block as its natural format-2 part (exactness is checked by the caller)."""
    if isinstance(block, str):
        return {"type": "text", "text": block}
    kind = block.get("type") if isinstance(block, dict) else None
    if kind == "text" and isinstance(block.get("text"), str):
        return {"type": "text", "text": block["text"]}
    if kind == "reasoning" and isinstance(block.get("reasoning"), str):
        text = block["reasoning"]
        return {"type": "reasoning", "reasoning": text, "details": [{"type": "text", "text": text}]}
    if kind == "thinking" and isinstance(block.get("thinking"), str):  # Anthropic's reasoning block
        text = block["thinking"]
        return {"type": "reasoning", "reasoning": text, "details": [{"type": "text", "text": text}]}
    if kind in ("image", "file", "audio") and isinstance(block.get("mime_type"), str):
        if isinstance(block.get("base64"), str):
            return {"type": "file", "data": f"data:{block['mime_type']};base64,{block['base64']}",
                    "mimeType": block["mime_type"]}
        if isinstance(block.get("url"), str):
            return {"type": "file", "data": block["url"], "mimeType": block["mime_type"]}
    if kind == "image_url":  # OpenAI chat-completions shape
        image = block.get("image_url")
        url = image.get("url") if isinstance(image, dict) else image
        if isinstance(url, str):
            mime = url[5:].split(";", 1)[0] if url.startswith("data:") else "image/*"
            return {"type": "file", "data": url, "mimeType": mime}
    return {"type": _DATA_BLOCK, "data": block}


def _part_to_block(part: dict[str, Any]) -> Any:
    """One format-2 part as a LangChain standard content block (None: the part has no block)."""
    kept = (part.get("providerMetadata") or {}).get(_META) if isinstance(part.get("providerMetadata"), dict) else None
    if isinstance(kept, dict) and "block" in kept:
        return kept["block"]
    kind = part.get("type")
    if kind == "text":
        return {"type": "text", "text": part.get("text", "")}
    if kind == "reasoning":
        return {"type": "reasoning", "reasoning": part.get("reasoning", "")}
    if kind == "file":
        data, mime = str(part.get("data", "")), str(part.get("mimeType", ""))
        family = mime.split("/", 1)[0]
        block_type = family if family in ("image", "audio") else "file"
        if data.startswith("data:") and ";base64," in data:
            return {"type": block_type, "base64": data.split(";base64,", 1)[1], "mime_type": mime}
        return {"type": block_type, "url": data, "mime_type": mime}
    if kind == _DATA_BLOCK:
        return part.get("data")
    return None  # step-start, source, data-* of Mastra's own: nothing to show a model


def _exact_part(block: Any) -> dict[str, Any]:
    """The part for ``block``, carrying the block itself when the part alone would not restore it."""
    part = _block_to_part(block)
    if part["type"] != _DATA_BLOCK and _part_to_block(part) != block and not isinstance(block, str):
        part["providerMetadata"] = {_META: {"block": block}}
    return part


def _content_parts(content: str | list[Any]) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    return [_exact_part(block) for block in content]


def _content_of(parts: list[dict[str, Any]], as_blocks: bool | None) -> str | list[Any]:
    """LangChain content from parts: a string for plain text (Mastra's usual case), else blocks.

    ``as_blocks`` is what the LangChain side had (None for rows Mastra wrote: decide from the parts).
    """
    blocks = [b for b in (_part_to_block(p) for p in parts) if b is not None]
    plain = all(isinstance(b, dict) and b.get("type") == "text" and set(b) == {"type", "text"} for b in blocks)
    if as_blocks is False or (as_blocks is None and plain and len(blocks) <= 1):
        if plain and len(blocks) <= 1:
            return blocks[0]["text"] if blocks else ""
        if plain:
            return "".join(b["text"] for b in blocks)
    return blocks


def _extras(message: BaseMessage) -> dict[str, Any]:
    """Fields of a message its parts cannot express, only when they are set."""
    out: dict[str, Any] = {}
    if message.name is not None:
        out["name"] = message.name
    if message.additional_kwargs:
        out["additional_kwargs"] = message.additional_kwargs
    if message.response_metadata:
        out["response_metadata"] = message.response_metadata
    if isinstance(message, AIMessage):
        if message.usage_metadata:
            out["usage_metadata"] = dict(message.usage_metadata)
        if message.invalid_tool_calls:
            out["invalid_tool_calls"] = [dict(c) for c in message.invalid_tool_calls]
    if not isinstance(message.content, str):
        out["blocks"] = True
    return out


def _apply_extras(fields: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    for key in ("name", "additional_kwargs", "response_metadata", "usage_metadata", "invalid_tool_calls"):
        if key in meta:
            fields[key] = meta[key]
    return fields


def _artifact_out(artifact: Any) -> dict[str, Any]:
    """A tool message's artifact as JSON metadata: JSON values as they are, documents (what retriever
    tools return) as plain objects; anything else is not kept (artifacts never reach the model)."""
    docs = artifact if isinstance(artifact, list) else None
    if docs and all(isinstance(d, Document) for d in docs):
        return {"artifact_documents": [{"id": d.id, "page_content": d.page_content, "metadata": d.metadata}
                                       for d in docs]}
    try:
        orjson.dumps(artifact)
    except TypeError:
        return {}
    return {"artifact": artifact}


def _artifact_in(meta: dict[str, Any]) -> Any:
    if "artifact_documents" in meta:
        return [Document(**d) for d in meta["artifact_documents"]]
    return meta["artifact"]


# --------------------------------------------------------------------------- LangChain → Mastra


def _step_id(row_id: str, step: int) -> str:
    """The id a step's ``AIMessage`` gets unless it had its own: the row's id, then ``<row id>:<step>``."""
    return row_id if step == 0 else f"{row_id}:{step}"


def _result_id(row_id: str, call_id: str) -> str:
    return f"{row_id}:{call_id}"


def _plain_row(
    message: BaseMessage, role: str, thread_id: str, resource_id: str | None
) -> Message:
    content = MessageContent(parts=_content_parts(cast("str | list[Any]", message.content)))
    keep_meta(content, _META, _extras(message))
    return Message(
        role=cast("Any", role), content=content, id=message.id or str(uuid.uuid4()),
        thread_id=thread_id, resource_id=resource_id,
    )


def _add_ai(turn: TurnBuilder, message: AIMessage) -> None:
    meta = _extras(message)
    if message.id != _step_id(turn.row_id, turn.step_count):
        meta["id"] = message.id
    parts = _content_parts(cast("str | list[Any]", message.content))
    for call in message.tool_calls:
        call_id = call.get("id") or str(uuid.uuid4())
        invocation = {"state": "call", "toolCallId": call_id, "toolName": call["name"], "args": call["args"]}
        parts.append({"type": "tool-invocation", "toolInvocation": invocation})
        if call.get("id") is None:
            meta.setdefault("unnamed_calls", []).append(call_id)
    turn.add_step(parts, meta)


def _add_tool(turn: TurnBuilder, message: ToolMessage) -> None:
    result: Any = message.content
    meta = _extras(message)
    meta.pop("blocks", None)
    if isinstance(message.response_metadata.get("mastra"), dict) and message.response_metadata["mastra"].get(
        "result"
    ) == "json" and isinstance(message.content, str):
        result = json.loads(message.content)  # it came from a Mastra row holding a JSON result
        rm = {k: v for k, v in message.response_metadata.items() if k != "mastra"}
        meta.pop("response_metadata", None)
        if rm:
            meta["response_metadata"] = rm
    invocation, record = turn.add_result(message.tool_call_id, result, tool_name=message.name)
    if message.name != invocation["toolName"]:
        meta["name"] = message.name
    elif "name" in meta:
        del meta["name"]
    if message.id != _result_id(turn.row_id, message.tool_call_id):
        meta["id"] = message.id
    if message.status != "success":
        meta["status"] = message.status
    if message.artifact is not None:
        meta.update(_artifact_out(message.artifact))
    record.update(meta)


def to_mastra(messages: Sequence[BaseMessage], thread_id: str, resource_id: str | None = None) -> list[Message]:
    """Convert LangChain messages to Mastra format-2 messages for ``thread_id``, in order.

    - ``HumanMessage`` → user, ``SystemMessage`` → system (text → text parts, images/files →
      file parts, other blocks kept verbatim).
    - each run of ``AIMessage``/``ToolMessage`` → one assistant message (Mastra's shape for an
      agent turn): a ``step-start`` per model step (none for a plain one-step reply), its
      reasoning/text, a ``tool-invocation`` part per tool call, turned into ``state: "result"``
      by the matching ``ToolMessage``. Its id is the first AI message's id. A ``ToolMessage``
      whose call is not in the run (history cut between them) gets an invocation marked hidden
      for LangChain, so Mastra sees the result and no ``AIMessage`` gains a call it never made.

    Ids are the LangChain ids, so saving the same messages twice updates rather than duplicates;
    a message without id gets a fresh UUID (not idempotent). Messages carry no ``created_at``:
    the store gives each a time after the thread's last message, which keeps their order.

    Raises:
        TypeError: a message type Mastra cannot hold (e.g. ``FunctionMessage``, ``ChatMessage``
            with an unknown role).
    """
    out: list[Message] = []
    turn: TurnBuilder | None = None
    for message in messages:
        if isinstance(message, AIMessage):
            if turn is None:
                turn = TurnBuilder(_META, message.id or str(uuid.uuid4()), hide_lone_calls=True)
                if message.id is None:
                    message = message.model_copy(update={"id": turn.row_id})
            _add_ai(turn, message)
            continue
        if isinstance(message, ToolMessage):
            if turn is None:
                turn = TurnBuilder(_META, f"{message.id or uuid.uuid4()}:turn", hide_lone_calls=True)
            _add_tool(turn, message)
            continue
        if turn is not None:
            out.append(turn.row(thread_id, resource_id))
            turn = None
        if isinstance(message, HumanMessage):
            out.append(_plain_row(message, "user", thread_id, resource_id))
        elif isinstance(message, SystemMessage):
            out.append(_plain_row(message, "system", thread_id, resource_id))
        else:
            raise TypeError(
                f"cannot store a {type(message).__name__} in Mastra's format (user, assistant, system and tool "
                "results only)"
            )
    if turn is not None:
        out.append(turn.row(thread_id, resource_id))
    return out


# --------------------------------------------------------------------------- Mastra → LangChain


def _tool_content(result: Any) -> tuple[str | list[Any], bool]:
    if isinstance(result, str):
        return result, False
    if isinstance(result, list) and all(isinstance(b, dict) and "type" in b for b in result):
        return result, False
    return json.dumps(result, ensure_ascii=False), True


def _assistant(message: Message) -> list[BaseMessage]:
    row_id = message.id or ""
    out: list[BaseMessage] = []
    for index, step in enumerate(unfold_turn(message.content, _META)):
        meta = step.meta or {}
        if not step.orphan:
            unnamed = set(meta.get("unnamed_calls", []))
            calls = [
                ToolCall(name=str(inv.get("toolName")), args=inv.get("args") or {},
                         id=None if inv.get("toolCallId") in unnamed else str(inv.get("toolCallId")), type="tool_call")
                for inv in step.calls
            ]
            fields: dict[str, Any] = {
                "content": _content_of([p for p in step.parts if p.get("type") != "tool-invocation"],
                                       None if step.meta is None else bool(meta.get("blocks"))),
                "id": meta.get("id", _step_id(row_id, index)),
                "tool_calls": calls,
            }
            out.append(AIMessage(**_apply_extras(fields, meta)))
        for call_id, inv, rmeta in step.results:
            content, was_json = _tool_content(inv.get("result"))
            tool_fields: dict[str, Any] = {
                "content": content, "tool_call_id": call_id,
                "id": rmeta.get("id", _result_id(row_id, call_id)),
                "name": rmeta.get("name", inv.get("toolName")),
                "status": rmeta.get("status", "success"),
            }
            if "artifact" in rmeta or "artifact_documents" in rmeta:
                tool_fields["artifact"] = _artifact_in(rmeta)
            _apply_extras(tool_fields, {k: v for k, v in rmeta.items() if k != "name"})
            if was_json:
                tool_fields["response_metadata"] = {**tool_fields.get("response_metadata", {}),
                                                    "mastra": {"result": "json"}}
            out.append(ToolMessage(**tool_fields))
    return out


def from_mastra(messages: Sequence[Message]) -> list[BaseMessage]:
    """Convert Mastra messages (as read from the store, or written by Mastra) to LangChain messages.

    User → ``HumanMessage``, system → ``SystemMessage``, assistant → per step an ``AIMessage``
    (its ``tool_calls`` from the step's ``tool-invocation`` parts) followed by a ``ToolMessage``
    per answered call. Text-only content becomes a string; anything else standard content
    blocks. A JSON tool result becomes its JSON text, marked in ``response_metadata["mastra"]``
    so :func:`to_mastra` stores the JSON value again. Parts with nothing for a model
    (``step-start``, ``source``, Mastra's ``data-*``) are skipped.
    """
    out: list[BaseMessage] = []
    for message in messages:
        if message.role == "assistant":
            out.extend(_assistant(message))
            continue
        meta = kept_meta(message.content, _META)
        flag = bool(meta.get("blocks")) if meta else None
        fields = _apply_extras({"content": _content_of(message.content.parts, flag), "id": message.id}, meta)
        out.append(HumanMessage(**fields) if message.role == "user" else SystemMessage(**fields))
    return out
