"""Working-memory options (Mastra's ``workingMemory``) and the template the model fills in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from .._errors import InvalidInputError
from ._schema import json_schema_of

__all__ = ["DEFAULT_TEMPLATE", "WorkingMemory", "WorkingMemoryTemplate", "WorkingMemoryUpdate"]

# Mastra's default, byte for byte (``defaultWorkingMemoryTemplate`` in @mastra/memory): a leading
# newline and a trailing space after each label. Mastra trims it when it shows or compares it.
_LABELS = ("First Name", "Last Name", "Location", "Occupation", "Interests", "Goals", "Events", "Facts", "Projects")
DEFAULT_TEMPLATE = "\n# User Information\n" + "".join(f"- **{label}**: \n" for label in _LABELS)


@dataclass(frozen=True, slots=True)
class WorkingMemoryTemplate:
    """What the model is asked to keep (Mastra's ``getWorkingMemoryTemplate`` result).

    ``format`` is ``"markdown"`` (``content`` is the template) or ``"json"`` (``content`` is the
    JSON Schema as a JSON string, as Mastra returns it).
    """

    format: Literal["markdown", "json"]
    content: str


@dataclass(frozen=True, slots=True)
class WorkingMemoryUpdate:
    """What an update did.

    ``saved`` is False when the update was refused and the stored document kept (an empty
    template over real data, or in vnext mode a duplicate); ``message`` then says why.
    ``working_memory`` is the stored document after a save (for a schema, the merged JSON text).
    """

    saved: bool
    working_memory: str | None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class WorkingMemory:
    """A persistent document the model keeps up to date through the ``updateWorkingMemory`` tool.

    Stored where Mastra stores it, so Mastra agents and ours share it: the resource row
    (``mastra_resources."workingMemory"``) or the thread's ``metadata.workingMemory``.

    Attributes:
        enabled: Mastra's default is off.
        scope: ``"resource"`` (Mastra's default: one document per user, carried across all their
            threads) or ``"thread"`` (one per conversation).
        template: the Markdown document the model fills in; None means Mastra's "User
            Information" template (:data:`DEFAULT_TEMPLATE`). Updates replace the whole document.
        schema: instead of a template, a pydantic model class or a JSON Schema (a dict, type
            ``object``). The document is then a JSON object, stored as JSON text as Mastra does;
            updates are deep-merged (objects merge, ``None`` removes a key, lists are replaced).
        read_only: the model sees the data but gets no tool to change it (your code still can).
        version: ``"vnext"`` swaps the whole-document tool for Mastra's experimental
            search-and-replace one (Markdown only).

    Raises:
        InvalidInputError: both ``template`` and ``schema``, an unknown scope, or a schema that is
            neither a pydantic model nor an object JSON Schema.
    """

    enabled: bool = False
    scope: Literal["resource", "thread"] = "resource"
    template: str | None = None
    schema: type[Any] | Mapping[str, Any] | None = None
    read_only: bool = False
    version: Literal["stable", "vnext"] = "stable"
    _json_schema: dict[str, Any] | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        if self.scope not in ("resource", "thread"):
            raise InvalidInputError(f"working_memory.scope must be 'resource' or 'thread', got {self.scope!r}")
        if self.version not in ("stable", "vnext"):
            raise InvalidInputError(f"working_memory.version must be 'stable' or 'vnext', got {self.version!r}")
        if self.template is not None and not isinstance(self.template, str):
            raise InvalidInputError(f"working_memory.template must be a Markdown string, got {type(self.template)}")
        if self.schema is not None:
            if self.template is not None:
                raise InvalidInputError(
                    "working_memory takes a template (Markdown) or a schema (JSON), not both; drop one"
                )
            if self.version == "vnext":
                raise InvalidInputError("working_memory.version='vnext' works with Markdown templates only")
            object.__setattr__(self, "_json_schema", json_schema_of(self.schema))

    @property
    def format(self) -> Literal["markdown", "json"]:
        """``"json"`` with a schema, else ``"markdown"``."""
        return "json" if self.schema is not None else "markdown"

    @property
    def json_schema(self) -> dict[str, Any] | None:
        """The schema as a JSON Schema dict (a pydantic model converted), or None in Markdown mode."""
        return self._json_schema

    @property
    def markdown_template(self) -> str:
        """The Markdown template, trimmed as Mastra shows it (empty in schema mode)."""
        if self.schema is not None:
            return ""
        return (DEFAULT_TEMPLATE if self.template is None else self.template).strip()

    def describe(self) -> WorkingMemoryTemplate:
        """The template as Mastra's ``getWorkingMemoryTemplate`` returns it."""
        if self._json_schema is not None:
            return WorkingMemoryTemplate("json", orjson.dumps(self._json_schema).decode())
        return WorkingMemoryTemplate("markdown", self.markdown_template)
