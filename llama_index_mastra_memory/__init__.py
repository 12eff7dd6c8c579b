"""LlamaIndex adapter for mastra-memory (install ``mastra-memory[llama-index]``).

Translation and wiring only: messages are converted here and every storage call goes to the
``mastra_memory`` core. The chat store, memory blocks and ``BaseMemory`` arrive with the
LlamaIndex integration; this package holds nothing else yet.
"""

__all__: list[str] = []
