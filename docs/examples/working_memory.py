"""Working memory: the profile an agent keeps up to date with the `updateWorkingMemory` tool.

Run: python docs/examples/working_memory.py   (embedded PostgreSQL; no model needed: the tool call
is made by hand here, where an agent framework would make it from the model's output)
"""

from mastra_memory import Memory, MemoryConfig, WorkingMemory
from mastra_memory.working_memory import working_memory_tool

config = MemoryConfig(working_memory=WorkingMemory(enabled=True))  # resource scope, Mastra's template

with Memory.connect(config=config) as memory:
    tool = working_memory_tool(config)
    assert tool is not None
    print(f"tool {tool.name!r} takes {sorted(tool.input_schema['properties'])}")

    # The model calls the tool with the whole updated document (as Mastra's tool asks it to).
    memory.create_thread("user-ada", thread_id="monday")
    tool.handle(
        memory, "monday", "user-ada", {"memory": "# User Information\n- **First Name**: Ada\n- **Location**: Lyon\n"}
    )

    # Another conversation of the same user sees it: resource scope, like Mastra's default.
    memory.create_thread("user-ada", thread_id="friday")
    print(memory.get_working_memory("friday"))
    ctx = memory.context("friday", "user-ada")
    print(ctx.system[0].splitlines()[0])  # the instruction block that carries it to the model
