"""LangChain / LangGraph adapter for mastra-memory (install ``mastra-memory[langchain]``).

Translation and wiring only: messages are converted here and every storage call goes to the
``mastra_memory`` core. The middleware, retriever, tools and chat history arrive with the
LangChain integration; this package holds nothing else yet.
"""

__all__: list[str] = []
