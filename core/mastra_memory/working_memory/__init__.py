"""Working memory, as Mastra does it: a persistent document the model keeps with a tool.

- :class:`WorkingMemory`: the options (``MemoryConfig(working_memory=...)``);
- ``Memory.get_working_memory`` / ``update_working_memory`` / ``get_working_memory_template``;
- :func:`working_memory_tool`: the ``updateWorkingMemory`` tool (schema + handler) for any framework;
- :func:`working_memory_instruction`: the system block that ``Memory.context()`` puts first.

Stored exactly where Mastra stores it (``mastra_resources."workingMemory"`` or the thread's
``metadata.workingMemory``), so Mastra agents and ours read and write the same document.
"""

from ._config import DEFAULT_TEMPLATE, WorkingMemory, WorkingMemoryTemplate, WorkingMemoryUpdate
from ._instruction import TOOL_NAME, working_memory_instruction
from ._tool import WorkingMemoryTool, working_memory_tool

__all__ = [
    "DEFAULT_TEMPLATE",
    "TOOL_NAME",
    "WorkingMemory",
    "WorkingMemoryTemplate",
    "WorkingMemoryTool",
    "WorkingMemoryUpdate",
    "working_memory_instruction",
    "working_memory_tool",
]
