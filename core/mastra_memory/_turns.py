"""An agent turn as the one assistant row Mastra stores, and back: what every framework adapter shares.

Mastra has no tool role. An agent turn's assistant side is *one* row whose parts hold every model
step (``step-start`` separators), the tool calls (``tool-invocation`` parts) and, once the tools
answered, their results (the same part, ``state: "result"``). Frameworks spread that turn over
several messages: per step an assistant message, per answered call a tool message.

An adapter maps its own messages to parts and back; this module does the framework-free rest, so
the two adapters cannot drift apart on Mastra's shape: :class:`TurnBuilder` folds steps and tool
results into the row (pairing each result with its call by id), :func:`unfold_turn` splits a row
back into steps with their answered calls in the order the tool messages came.

What parts cannot say (framework ids, names, kwargs, block shapes) an adapter keeps in
``content.metadata.<namespace>`` (:func:`kept_meta` / :func:`keep_meta`); for a turn, per step
under ``steps`` and per tool result in that step's ``results``, and only when it differs from what
the parts give anyway, so rows stay as Mastra writes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ._content import MessageContent, Part
from ._types import Message

__all__ = ["Step", "TurnBuilder", "keep_meta", "kept_meta", "unfold_turn"]

Invocation = dict[str, Any]
"""A ``toolInvocation`` object: ``state``, ``toolCallId``, ``toolName``, ``args`` (and ``result``)."""


def kept_meta(content: MessageContent, namespace: str) -> dict[str, Any]:
    """What an adapter kept in ``content.metadata[namespace]`` ({} for rows others wrote)."""
    found = (content.metadata or {}).get(namespace)
    return found if isinstance(found, dict) else {}


def keep_meta(content: MessageContent, namespace: str, meta: dict[str, Any]) -> None:
    """Keep ``meta`` in ``content.metadata[namespace]``; nothing when empty, so plain rows stay Mastra's."""
    if meta:
        content.extra["metadata"] = {namespace: meta}


class TurnBuilder:
    """Builds one assistant row from a run of model steps and tool results.

    Args:
        namespace: the adapter's key in ``content.metadata``.
        row_id: the row's id.
        hide_lone_calls: mark the invocation made up for a result without its call (cut history)
            hidden (see :meth:`add_step`), so the adapter's reader does not show it as a call;
            Mastra still sees the result.
    """

    def __init__(self, namespace: str, row_id: str, *, hide_lone_calls: bool = False) -> None:
        self.namespace = namespace
        self.row_id = row_id
        self._hide_lone_calls = hide_lone_calls
        self._parts: list[Part] = []
        self._steps: list[dict[str, Any]] = []  # per step what the adapter keeps, with its "results"
        self._calls: dict[str, Invocation] = {}  # tool call id -> its toolInvocation (answered in place)
        self._call_step: dict[str, int] = {}

    @property
    def step_count(self) -> int:
        """Steps added so far (the index the next step gets)."""
        return len(self._steps)

    def add_step(self, parts: list[Part], meta: dict[str, Any], *, hidden_calls: Sequence[Invocation] = ()) -> None:
        """Add a model step: its parts (its ``tool-invocation`` parts are the calls later results
        answer) and what the adapter keeps for it.

        ``hidden_calls`` are calls Mastra must see that the adapter's message carries elsewhere
        (LlamaIndex's provider-style ``additional_kwargs["tool_calls"]``): their parts are marked
        ``providerMetadata[namespace].hidden`` for the adapter's reader to skip.
        """
        step = len(self._steps)
        self._parts.append({"type": "step-start"})
        for part in [*parts, *(self._hidden(call) for call in hidden_calls)]:
            self._parts.append(part)
            if part.get("type") == "tool-invocation":
                self._register(part["toolInvocation"], step)
        meta["results"] = []
        self._steps.append(meta)

    def add_result(self, call_id: str, result: Any, *, tool_name: str | None) -> tuple[Invocation, dict[str, Any]]:
        """Answer the call ``call_id`` with ``result``.

        A result whose call is not in this turn (history cut between them) gets an invocation of
        its own, named ``tool_name`` (``"unknown"`` when None), in the last step or in a step of
        its own that has no model message. Returns the answered invocation and the record kept for
        this result, to which the adapter adds what its tool message has beyond the part.
        """
        invocation = self._calls.get(call_id)
        if invocation is None:
            invocation = {"state": "call", "toolCallId": call_id, "toolName": tool_name or "unknown", "args": {}}
            if not self._steps:
                self._steps.append({"results": [], "orphan": True})
                self._parts.append({"type": "step-start"})
            if self._hide_lone_calls:
                self._parts.append(self._hidden(invocation))
            else:
                self._parts.append({"type": "tool-invocation", "toolInvocation": invocation})
            self._register(invocation, len(self._steps) - 1)
        invocation["state"] = "result"
        invocation["result"] = result
        record: dict[str, Any] = {"call": call_id}
        self._steps[self._call_step[call_id]]["results"].append(record)
        return invocation, record

    def _hidden(self, invocation: Invocation) -> Part:
        marker = {self.namespace: {"hidden": True}}
        return {"type": "tool-invocation", "toolInvocation": invocation, "providerMetadata": marker}

    def _register(self, invocation: Invocation, step: int) -> None:
        self._calls[invocation["toolCallId"]] = invocation
        self._call_step[invocation["toolCallId"]] = step

    def row(self, thread_id: str, resource_id: str | None) -> Message:
        """The assistant row, with the adapter's step records only where they say something."""
        steps: list[dict[str, Any]] = []
        for index, step in enumerate(self._steps):
            default_order = [
                p["toolInvocation"]["toolCallId"]
                for p in self._parts
                if p.get("type") == "tool-invocation"
                and p["toolInvocation"]["state"] == "result"
                and self._call_step[p["toolInvocation"]["toolCallId"]] == index
            ]
            results = step["results"]
            compact = dict(step)
            if [r["call"] for r in results] == default_order and all(set(r) == {"call"} for r in results):
                del compact["results"]  # the tool messages came in the parts' order and carry nothing more
            steps.append(compact)
        parts = self._parts
        if len(self._steps) == 1 and not self._calls and parts and parts[0].get("type") == "step-start":
            parts = parts[1:]  # a plain one-step reply: Mastra writes just its parts
        content = MessageContent(parts=parts)
        if any(steps):
            keep_meta(content, self.namespace, {"steps": steps})
        return Message(role="assistant", content=content, id=self.row_id, thread_id=thread_id, resource_id=resource_id)


@dataclass(slots=True)
class Step:
    """One model step of an assistant row, as :func:`unfold_turn` reads it.

    ``meta`` is what the adapter kept for the step, or None when the row has no step records of
    that adapter (Mastra wrote it, or there was nothing to keep): then everything comes from the
    parts. ``orphan`` steps only hold results whose calls were cut off: no model message.
    ``calls`` are the step's calls a model message shows: those the adapter marked hidden (see
    :class:`TurnBuilder`) are left out, while their results stay in ``results``.
    ``results`` are ``(call id, answered invocation, kept record)``, in the tool messages' order,
    one per answered call (a call answered twice holds, and reads back as, its last result).
    """

    parts: list[Part]
    meta: dict[str, Any] | None
    orphan: bool
    calls: list[Invocation]
    results: list[tuple[str, Invocation, dict[str, Any]]]


def _split_steps(parts: list[Part]) -> list[list[Part]]:
    steps: list[list[Part]] = []
    current: list[Part] | None = None
    for part in parts:
        if part.get("type") == "step-start":
            current = []
            steps.append(current)
            continue
        if current is None:  # rows Mastra wrote for a one-step reply have no step-start
            current = []
            steps.append(current)
        current.append(part)
    return steps or [[]]


def _is_hidden(part: Part, namespace: str) -> bool:
    """Whether ``part`` is an invocation the adapter marked hidden (no call of a model message)."""
    marker = part.get("providerMetadata")
    kept = marker.get(namespace) if isinstance(marker, dict) else None
    return isinstance(kept, dict) and kept.get("hidden") is True


def unfold_turn(content: MessageContent, namespace: str) -> list[Step]:
    """Split an assistant row's content into its model steps, each with its calls and results."""
    records = kept_meta(content, namespace).get("steps")
    records = records if isinstance(records, list) else []
    out: list[Step] = []
    for index, parts in enumerate(_split_steps(content.parts)):
        meta = records[index] if index < len(records) and isinstance(records[index], dict) else {}
        invocations = [
            p for p in parts if p.get("type") == "tool-invocation" and isinstance(p.get("toolInvocation"), dict)
        ]
        calls = [p["toolInvocation"] for p in invocations if not _is_hidden(p, namespace)]
        answered = {
            str(p["toolInvocation"].get("toolCallId")): p["toolInvocation"]
            for p in invocations
            if p["toolInvocation"].get("state") == "result"
        }
        kept = {r["call"]: r for r in meta.get("results", []) if isinstance(r, dict) and r.get("call") in answered}
        order = list(kept) + [call_id for call_id in answered if call_id not in kept]
        results = [
            (call_id, answered[call_id], {k: v for k, v in kept.get(call_id, {}).items() if k != "call"})
            for call_id in order
        ]
        out.append(Step(parts, meta if records else None, bool(meta.get("orphan")), calls, results))
    return out
