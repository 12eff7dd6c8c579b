"""LangChainChatModel: a LangChain chat model as mastra-memory's ChatModel/AsyncChatModel.

Driven with langchain_core's own fakes (FakeListChatModel, GenericFakeChatModel) and small subclasses
that fail or record what they were sent; one test titles a thread on the real database through it.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("langchain_core", reason="langchain is not installed: pip install 'mastra-memory[langchain]'")

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatResult

from langchain_mastra_memory import LangChainChatModel
from mastra_memory import AsyncMemory, InvalidInputError, Message, ProviderError
from mastra_memory.models import AsyncChatModel, ChatModel, ChatTurn

PROMPT = [ChatTurn("system", "Be brief."), ChatTurn("user", "Hi"), ChatTurn("assistant", "Hello"),
          ChatTurn("user", "Name this chat")]


class RecordingModel(GenericFakeChatModel):
    """GenericFakeChatModel that keeps the messages and keyword arguments of every call."""

    calls: list[tuple[list[BaseMessage], dict[str, Any]]] = []  # noqa: RUF012 - replaced per instance

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.calls = []

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any,
    ) -> ChatResult:
        self.calls.append((list(messages), kwargs))
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)


class FlakyModel(FakeListChatModel):
    """Fails ``failures`` times with a connection error, then answers from its list."""

    failures: int = 0

    def _call(self, *args: Any, **kwargs: Any) -> str:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("connection reset by peer")
        return super()._call(*args, **kwargs)


async def ask(model: LangChainChatModel, flavour: str, prompt: list[ChatTurn] = PROMPT, **kwargs: Any) -> str:
    if flavour == "sync":
        return model.complete(prompt, **kwargs)
    return await model.acomplete(prompt, **kwargs)


@pytest.fixture(params=["sync", "async"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_turns_are_translated_and_the_reply_text_returned(flavour: str) -> None:
    fake = RecordingModel(messages=iter([AIMessage("Greetings chat")]))
    model = LangChainChatModel(fake)
    assert await ask(model, flavour, max_tokens=12) == "Greetings chat"
    [(sent, kwargs)] = fake.calls
    assert [type(m) for m in sent] == [SystemMessage, HumanMessage, AIMessage, HumanMessage]
    assert [m.text for m in sent] == ["Be brief.", "Hi", "Hello", "Name this chat"]
    assert kwargs.get("max_tokens") == 12


async def test_max_tokens_can_be_kept_from_models_that_refuse_it(flavour: str) -> None:
    fake = RecordingModel(messages=iter([AIMessage("ok")]))
    await ask(LangChainChatModel(fake, forward_max_tokens=False), flavour, max_tokens=12)
    assert "max_tokens" not in fake.calls[0][1]


async def test_content_blocks_are_joined_into_text(flavour: str) -> None:
    reply = AIMessage(content=[{"type": "text", "text": "Trip "}, {"type": "text", "text": "to Lisbon"}])
    model = LangChainChatModel(GenericFakeChatModel(messages=iter([reply])))
    assert await ask(model, flavour) == "Trip to Lisbon"


def test_it_is_both_protocols_and_names_the_model() -> None:
    model = LangChainChatModel(FakeListChatModel(responses=["x"]))
    assert isinstance(model, ChatModel) and isinstance(model, AsyncChatModel)
    assert model.model_id == "fake-list-chat-model"
    assert LangChainChatModel(FakeListChatModel(responses=["x"]), model_id="gpt-4o-mini").model_id == "gpt-4o-mini"


async def test_a_failure_becomes_provider_error(flavour: str) -> None:
    model = LangChainChatModel(FlakyModel(responses=["never"], failures=5))
    with pytest.raises(ProviderError, match="connection reset"):
        await ask(model, flavour)


async def test_retries_go_through_langchains_with_retry(flavour: str) -> None:
    flaky = FlakyModel(responses=["Third time lucky"], failures=2)
    assert await ask(LangChainChatModel(flaky, max_retries=2, retry_delay=0), flavour) == "Third time lucky"
    short = FlakyModel(responses=["never"], failures=2)
    with pytest.raises(ProviderError):
        await ask(LangChainChatModel(short, max_retries=1, retry_delay=0), flavour)


async def test_an_async_call_past_its_timeout_is_a_provider_error() -> None:
    slow = FakeListChatModel(responses=["too late"], sleep=1.0)
    with pytest.raises(ProviderError, match="did not answer within"):
        await LangChainChatModel(slow, timeout=0.05).acomplete(PROMPT)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"timeout": 0}, "timeout"), ({"timeout": -1.0}, "timeout"), ({"max_retries": -1}, "max_retries"),
     ({"max_retries": 1.5}, "max_retries"), ({"retry_delay": -0.1}, "retry_delay")],
)
def test_bad_options_are_refused(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        LangChainChatModel(FakeListChatModel(responses=["x"]), **kwargs)


def test_only_chat_models_are_wrapped() -> None:
    with pytest.raises(InvalidInputError, match="BaseChatModel"):
        LangChainChatModel("gpt-4o-mini")  # type: ignore[arg-type]


async def test_it_titles_a_thread_and_a_slow_model_keeps_the_old_title(mem: Any) -> None:
    await mem.create_thread("ada", thread_id="t1")
    await mem.save_messages([Message.user("Can you help me plan a budget for my wedding?", thread_id="t1")])
    slow = LangChainChatModel(FakeListChatModel(responses=["Too late"], sleep=1.0), timeout=0.05)
    if isinstance(mem, AsyncMemory):  # only an awaited call can be cut short by our timeout
        assert (await mem.generate_title("t1", slow)).title == ""
    failing = LangChainChatModel(FlakyModel(responses=["never"], failures=1))
    assert (await mem.generate_title("t1", failing)).title == ""
    model = LangChainChatModel(FakeListChatModel(responses=['"Wedding budget planning."']))
    assert (await mem.generate_title("t1", model)).title == "Wedding budget planning"
    assert (await mem.get_thread("t1")).title == "Wedding budget planning"
