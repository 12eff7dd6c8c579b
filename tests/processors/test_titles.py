"""generate_title on the real database, through Memory and AsyncMemory, with a scripted fake chat model.

What it guarantees: the title comes from the first user message, is cleaned and at most 80 characters;
a failing, empty or slow model keeps the old title and raises nothing; a title someone chose is kept.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest

from mastra_memory import (
    AsyncMemory,
    BackgroundTitles,
    InvalidInputError,
    Memory,
    MemoryConfig,
    Message,
    NotFoundError,
    OwnershipError,
    ProviderError,
    TitleGeneration,
)
from mastra_memory.processors import DEFAULT_TITLE_INSTRUCTIONS, clean_title, is_default_title

from .fakes import ScriptedChatModel

FIRST = "I'm planning a trip to Lisbon in May, what should I pack?"


async def seed(mem: Any, thread_id: str = "t1", title: str = "", resource_id: str = "ada") -> None:
    await mem.create_thread(resource_id, thread_id=thread_id, title=title)
    await mem.save_messages([
        Message.user(FIRST, thread_id=thread_id, resource_id=resource_id),
        Message.assistant("Light layers and a rain jacket.", thread_id=thread_id, resource_id=resource_id),
        Message.user("And for the beach?", thread_id=thread_id, resource_id=resource_id),
    ])


async def test_the_title_comes_from_the_first_user_message_and_is_cleaned(mem: Any) -> None:
    await seed(mem)
    model = ScriptedChatModel('**Title:** "Packing for a May trip to Lisbon."\n\nHope that helps!')
    thread = await mem.generate_title("t1", model)
    assert thread.title == "Packing for a May trip to Lisbon"
    assert (await mem.get_thread("t1")).title == "Packing for a May trip to Lisbon"
    [prompt] = model.prompts
    assert [(t.role, t.content) for t in prompt] == [("system", DEFAULT_TITLE_INSTRUCTIONS), ("user", FIRST)]
    assert model.max_tokens[0] is not None


async def test_a_long_reply_is_cut_to_80_characters_at_a_word(mem: Any) -> None:
    await seed(mem)
    long_reply = "Packing list " + "for a long and winding journey " * 8
    thread = await mem.generate_title("t1", ScriptedChatModel(long_reply))
    assert 40 <= len(thread.title) <= 80
    assert long_reply.startswith(thread.title)
    assert long_reply[len(thread.title)] == " "  # cut between words


@pytest.mark.parametrize("failure", [ProviderError("rate limited"), RuntimeError("connection reset")])
async def test_a_failing_model_keeps_the_old_title_and_raises_nothing(
    mem: Any, failure: BaseException, caplog: pytest.LogCaptureFixture
) -> None:
    await seed(mem)
    with caplog.at_level(logging.WARNING, logger="mastra_memory.titles"):
        thread = await mem.generate_title("t1", ScriptedChatModel(failure))
    assert thread.title == ""
    assert (await mem.get_thread("t1")).title == ""
    assert "title is kept" in caplog.text


@pytest.mark.parametrize("reply", ["", "  \n\n ", "**", '""', "<think>The user wants a title</think>", "<think>cut"])
async def test_an_empty_or_degenerate_reply_keeps_the_old_title(mem: Any, reply: str) -> None:
    await seed(mem, title="New Thread 2025-03-01T09:00:00.000Z")
    thread = await mem.generate_title("t1", ScriptedChatModel(reply))
    assert thread.title == "New Thread 2025-03-01T09:00:00.000Z"
    assert (await mem.get_thread("t1")).title == thread.title


async def test_a_chosen_title_is_kept_unless_forced(mem: Any) -> None:
    await seed(mem, title="Lisbon with Clara")
    model = ScriptedChatModel("Packing for Lisbon")
    assert (await mem.generate_title("t1", model)).title == "Lisbon with Clara"
    assert model.prompts == []  # not even asked
    assert (await mem.generate_title("t1", model, force=True)).title == "Packing for Lisbon"


async def test_mastras_old_default_title_counts_as_untitled(mem: Any) -> None:
    await seed(mem, title="New Thread 2025-03-01T09:00:00.000Z")
    thread = await mem.generate_title("t1", ScriptedChatModel("<think>short</think>Lisbon packing"))
    assert thread.title == "Lisbon packing"


async def test_a_thread_without_a_user_message_is_left_alone(mem: Any) -> None:
    await mem.create_thread("ada", thread_id="empty")
    await mem.save_messages([Message.assistant("Hello, how can I help?", thread_id="empty")])
    model = ScriptedChatModel("Greeting")
    assert (await mem.generate_title("empty", model)).title == ""
    assert model.prompts == []


async def test_bad_calls_raise_typed_errors_without_asking_the_model(mem: Any) -> None:
    await seed(mem)
    model = ScriptedChatModel("x")
    with pytest.raises(NotFoundError, match="does not exist"):
        await mem.generate_title("nope", model)
    with pytest.raises(OwnershipError):
        await mem.generate_title("t1", model, resource_id="bob")
    with pytest.raises(InvalidInputError, match="needs a chat model"):
        await mem.generate_title("t1")
    with pytest.raises(InvalidInputError, match="instructions"):
        await mem.generate_title("t1", model, instructions="   ")
    assert model.prompts == []


async def test_the_configured_model_and_instructions_are_used(mem_factory: Any) -> None:
    model = ScriptedChatModel("Lisbon trip")
    mem = await mem_factory(config=MemoryConfig(generate_title=TitleGeneration(model=model, instructions="Name it.")))
    await seed(mem)
    assert (await mem.generate_title("t1", resource_id="ada")).title == "Lisbon trip"
    assert model.prompts[0][0].content == "Name it."


def test_title_config_is_checked() -> None:
    assert MemoryConfig(generate_title=True).title_generation == TitleGeneration()
    assert MemoryConfig(generate_title=TitleGeneration(enabled=False)).title_generation is None
    assert MemoryConfig().title_generation is None
    with pytest.raises(InvalidInputError, match="generate_title"):
        MemoryConfig(generate_title="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="ChatModel"):
        TitleGeneration(model=object())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("reply", "title"),
    [
        ("# Trip to Lisbon", "Trip to Lisbon"),
        ("- `Lisbon` *packing* list", "Lisbon packing list"),
        ("Title:\nBeach day in Cascais!", "Beach day in Cascais"),
        ("“Mom's birthday plans”", "Mom's birthday plans"),
        ("[Lisbon guide](https://example.com) tips", "Lisbon guide tips"),
        ("天气预报", "天气预报"),
        ("...", ""),
    ],
)
def test_clean_title(reply: str, title: str) -> None:
    assert clean_title(reply) == title


def test_default_titles() -> None:
    assert is_default_title("") and is_default_title("  ") and is_default_title("New Thread")
    assert is_default_title("New Thread 2025-03-01T09:00:00.000Z")
    assert not is_default_title("New Thread about taxes") and not is_default_title("Trip")


# ---------------------------------------------------------------- in the background


def start(titles: BackgroundTitles, thread_id: str, **kwargs: Any) -> threading.Thread | asyncio.Task[Any] | None:
    """start() for a Memory, astart() for an AsyncMemory (called inside the running loop)."""
    if isinstance(titles.memory, Memory):
        return titles.start(thread_id, **kwargs)
    return titles.astart(thread_id, **kwargs)


async def join(titles: BackgroundTitles) -> None:
    if isinstance(titles.memory, Memory):
        await asyncio.to_thread(titles.join)
    else:
        await titles.ajoin()


async def test_background_titles_never_make_the_caller_wait(mem_factory: Any) -> None:
    gate = threading.Event()
    model = ScriptedChatModel("Lisbon packing", gate=gate)
    mem = await mem_factory(config=MemoryConfig(generate_title=TitleGeneration(model=model)))
    memory: Memory | AsyncMemory = getattr(mem, "memory", mem)
    await seed(mem)
    titles = BackgroundTitles(memory)
    assert start(titles, "t1", resource_id="ada") is not None
    # The model is still thinking; the caller already has control back and the title is unchanged.
    await asyncio.to_thread(model.started.wait, 30)
    assert (await mem.get_thread("t1")).title == ""
    assert start(titles, "t1") is None  # one job per thread at a time
    gate.set()
    await join(titles)
    assert (await mem.get_thread("t1")).title == "Lisbon packing"
    # Known to be titled now: nothing is started again, not even a lookup.
    assert start(titles, "t1") is None


async def test_background_failures_are_logged_and_the_title_kept(
    mem_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    model = ScriptedChatModel(RuntimeError("model down"), "Second try works")
    mem = await mem_factory(config=MemoryConfig(generate_title=TitleGeneration(model=model)))
    memory = getattr(mem, "memory", mem)
    await seed(mem)
    titles = BackgroundTitles(memory)
    with caplog.at_level(logging.WARNING, logger="mastra_memory.titles"):
        start(titles, "t1")
        await join(titles)
        start(titles, "missing-thread")  # NotFoundError in the background: logged, not raised
        await join(titles)
    assert (await mem.get_thread("t1")).title == ""
    assert "model down" in caplog.text and "missing-thread" in caplog.text
    # Still untitled, so the next turn tries again.
    start(titles, "t1")
    await join(titles)
    assert (await mem.get_thread("t1")).title == "Second try works"


async def test_background_titles_are_off_without_config_or_model(
    mem_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    off = await mem_factory()
    off_memory = getattr(off, "memory", off)
    assert not BackgroundTitles(off_memory).enabled
    no_model = await mem_factory(config=MemoryConfig(generate_title=True))
    memory = getattr(no_model, "memory", no_model)
    titles = BackgroundTitles(memory)
    with caplog.at_level(logging.WARNING, logger="mastra_memory.titles"):
        for _ in range(2):
            assert start(titles, "t1") is None
    assert caplog.text.count("no chat model") == 1
    fallback = ScriptedChatModel("From the agent's model")
    await seed(no_model)
    assert start(titles, "t1", model=fallback) is not None
    await join(titles)
    assert (await no_model.get_thread("t1")).title == "From the agent's model"


async def test_background_titles_refuse_the_wrong_shell() -> None:
    import psycopg_pool

    sync = Memory(psycopg_pool.ConnectionPool("postgresql://nobody@203.0.113.1:1/none", open=False),
                  config=MemoryConfig(generate_title=TitleGeneration(model=ScriptedChatModel())))
    aio = AsyncMemory(psycopg_pool.AsyncConnectionPool("postgresql://nobody@203.0.113.1:1/none", open=False),
                      config=sync.config)
    with pytest.raises(TypeError, match="astart"):
        BackgroundTitles(aio).start("t1")
    with pytest.raises(TypeError, match="start"):
        BackgroundTitles(sync).astart("t1")
