"""The system instruction that shows the model its working memory and how to keep it.

Our words, Mastra's structure (``getWorkingMemoryToolInstruction`` and friends): a heading the
model can recognise, guidelines, the template in ``<working_memory_template>``, the stored data in
``<working_memory_data>``, then notes. Read-only mode shows the data and no tool.
"""

from __future__ import annotations

import orjson

from ._config import DEFAULT_TEMPLATE, WorkingMemory
from ._schema import empty_object

TOOL_NAME = "updateWorkingMemory"
NO_DATA = "No working memory data available."


def _across(wm: WorkingMemory) -> str:
    return " and conversations" if wm.scope == "resource" else ""


def _markdown(wm: WorkingMemory, data: str | None) -> str:
    return f"""WORKING_MEMORY_SYSTEM_INSTRUCTION:
You have a working memory: a Markdown document about the user and this conversation that stays
with you across turns{_across(wm)}. Keep it current with the {TOOL_NAME} tool.

Guidelines:
1. Save anything that could matter later: facts about the user, their preferences, plans and what was decided.
2. Update it as soon as something changes, even a detail.
3. Keep the Markdown layout of the template.
4. Stay natural: do not mention this memory to the user, and do not ask for personal details just to fill it.
5. The {TOOL_NAME} tool takes one argument, "memory": a single string holding the WHOLE document. Never pass an object.

<working_memory_template>
{wm.markdown_template}
</working_memory_template>

<working_memory_data>
{data or NO_DATA}
</working_memory_data>

Notes:
- Each call replaces the stored document, so always pass the entire document: what was already there plus what is new.
- Keep the sections that are still empty; fill them in as you learn.
- Call {TOOL_NAME} in the same response in which you learn something worth keeping.
- Your context window may be short; this memory is how you keep track of the user."""


def _vnext(wm: WorkingMemory, data: str | None) -> str:
    custom = wm.template is not None and wm.template != DEFAULT_TEMPLATE
    only = (
        "- Store only what the template asks for, unless the user asks you to remember something else.\n"
        if custom
        else "- When unsure whether something is worth keeping, keep it.\n"
    )
    return f"""WORKING_MEMORY_SYSTEM_INSTRUCTION:
You have a working memory: a Markdown document about the user that stays with you across turns. Change it with
the {TOOL_NAME} tool.

Guidelines:
1. Save anything that could matter later, and update it when something changes.
2. Keep the Markdown layout of the template.
3. Stay natural: do not mention this memory to the user.
4. If nothing changed, do not call the tool: the memory persists by itself.
5. Something being off-topic now is no reason to remove it: this memory serves future conversations too.
6. To add, pass "newMemory" with updateReason "append-new-memory". To correct, also pass "searchString": the
   exact text to replace (one line at a time works best).

<working_memory_template>
{wm.markdown_template}
</working_memory_template>

<working_memory_data>
{data or NO_DATA}
</working_memory_data>

Notes:
{only}- Call {TOOL_NAME} in the same response in which you learn something new that is not stored yet."""


def _json(wm: WorkingMemory, data: str | None) -> str:
    assert wm.json_schema is not None
    outline = orjson.dumps(empty_object(wm.json_schema)).decode()
    return f"""WORKING_MEMORY_SYSTEM_INSTRUCTION:
You have a working memory: a JSON object about the user and this conversation that stays with you across
turns{_across(wm)}. Keep it current with the {TOOL_NAME} tool.

Guidelines:
1. Save anything that could matter later: facts about the user, their preferences, plans and what was decided.
2. Update it as soon as something changes, even a detail.
3. Data is JSON shaped like the template below; the tool's schema lists every field.
4. Stay natural: do not mention this memory to the user, and do not ask for personal details just to fill it.

The template (the shape of the object, empty):
{outline}

<working_memory_data>
{data or NO_DATA}
</working_memory_data>

Notes:
- Pass in "memory" only the fields that change: they are merged into what is stored, the rest stays.
- null removes a field. A list replaces the stored list, so pass the whole list.
- Call {TOOL_NAME} in the same response in which you learn something worth keeping.
- Your context window may be short; this memory is how you keep track of the user."""


def _read_only(data: str | None) -> str:
    return f"""WORKING_MEMORY_SYSTEM_INSTRUCTION (READ-ONLY):
This is your working memory: what is known about the user and earlier conversations. Use it for continuity.

<working_memory_data>
{data or NO_DATA}
</working_memory_data>

Guidelines:
1. Use it to make answers personal and consistent with what came before.
2. Stay natural: do not mention this memory to the user.
3. It is read-only here: you cannot change it."""


def working_memory_instruction(wm: WorkingMemory, data: str | None) -> str:
    """The system block for ``data`` (the stored document, or None) under these settings."""
    if wm.read_only:
        return _read_only(data)
    if wm.schema is not None:
        return _json(wm, data)
    return _vnext(wm, data) if wm.version == "vnext" else _markdown(wm, data)
