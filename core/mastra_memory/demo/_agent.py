"""The demo's optional last step: a real LangChain agent answering from the same memory.

The core never imports LangChain at import time (DESIGN §1); this module does so only when the
demo is run with an OpenAI key or an OpenAI-compatible server, through ``langchain_mastra_memory``,
the project's own adapter, exactly as docs/langchain.md shows it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from .._errors import MastraMemoryError, ProviderError
from .._memory import Memory
from ._conversation import Conversation, Question

DEFAULT_MODEL = "gpt-4o-mini"
SYSTEM_PROMPT = (
    "You are Maya's personal assistant. Answer her question in one or two sentences, using what you "
    "remember about her. If your memory does not say, answer that you do not know."
)


def model_settings() -> tuple[str, str | None, str | None] | None:
    """``(model, base_url, api_key)`` from the environment, or None when no model is configured."""
    key = os.environ.get("OPENAI_API_KEY") or None
    base_url = os.environ.get("OPENAI_BASE_URL") or None
    if key is None and base_url is None:
        return None
    return os.environ.get("MASTRA_MEMORY_DEMO_MODEL") or DEFAULT_MODEL, base_url, key


def agent_answers(
    memory: Memory, conversation: Conversation, questions: list[Question], model: str, base_url: str | None,
    api_key: str | None,
) -> Iterator[tuple[Question, str]]:
    """Ask each question in the demo's "today" thread; the middleware reads memory, saves nothing.

    Raises:
        MastraMemoryError: LangChain or langchain-openai is not installed (caused by the ImportError).
        ProviderError: the chat model failed (bad key, server unreachable, …).
    """
    try:
        from langchain.agents import create_agent
        from langchain_openai import ChatOpenAI

        from langchain_mastra_memory import MastraMemoryMiddleware
    except ImportError as exc:
        raise MastraMemoryError(
            f"the agent step needs LangChain and langchain-openai ({exc.name} is missing); "
            "install them with: pip install 'mastra-memory[demo]'"
        ) from exc
    options: dict[str, Any] = {"model": model, "temperature": 0, "timeout": 60, "max_retries": 2}
    if base_url is not None:
        options["base_url"] = base_url
    options["api_key"] = api_key or "not-needed"  # local compatible servers often take any key
    agent = create_agent(
        ChatOpenAI(**options),
        system_prompt=SYSTEM_PROMPT,
        # read_only: every question sees the same memory, and the demo's data stays as shipped
        middleware=[MastraMemoryMiddleware(memory, resource_id=conversation.resource_id, read_only=True)],
    )
    for question in questions:
        try:
            result = agent.invoke(
                {"messages": [{"role": "user", "content": question.question}]},
                {"configurable": {"thread_id": conversation.today_thread}},
            )
        except MastraMemoryError:
            raise
        except Exception as exc:  # the OpenAI client's errors: say which model failed, in one line
            raise ProviderError(f"the chat model {model!r} failed: {type(exc).__name__}: {exc}") from exc
        yield question, str(result["messages"][-1].text)
