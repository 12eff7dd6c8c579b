"""A fake tool-calling chat model for agent tests (scripted replies; records what it was sent)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool


class FakeToolCallingModel(GenericFakeChatModel):
    """GenericFakeChatModel that accepts bind_tools (create_agent needs it) and keeps every prompt it got."""

    seen: list[list[BaseMessage]] = []  # noqa: RUF012 - replaced per instance in __init__

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seen = []

    def bind_tools(self, tools: Sequence[dict[str, Any] | type | BaseTool | Any], **kwargs: Any) -> Runnable[
        LanguageModelInput, BaseMessage
    ]:
        return self

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any,
    ) -> ChatResult:
        self.seen.append(list(messages))
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)
