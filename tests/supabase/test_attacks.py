"""Attack matrix through the public API: user B (and anon) against user A's memory, and the
service role, which must see and change everything. Every attack checks both that nothing of A's
came back and that A's data is unchanged afterwards (through A's own eyes and the service role's).
"""

from __future__ import annotations

from typing import Any

import pytest

from mastra_memory import (
    AuthContext,
    MemoryConfig,
    Message,
    MessageUpdate,
    NotFoundError,
    ObservationalMemory,
    OwnershipError,
    PermissionDeniedError,
    SemanticRecall,
    WorkingMemory,
)

from ..observational.fakes import ScriptedChatModel, observer_reply
from .conftest import USER_A, USER_B, Supa, empty_schema

A_SECRET = "alpha secret swordfish"
B_SECRET = "bravo secret marmalade"
REFUSED = (PermissionDeniedError, NotFoundError, OwnershipError)


def config(scope: str) -> MemoryConfig:
    return MemoryConfig(
        semantic_recall=SemanticRecall(top_k=4, scope="resource"),
        working_memory=WorkingMemory(enabled=True, scope=scope),  # type: ignore[arg-type]
    )


@pytest.fixture
async def world(memory_of: Any, supa: Supa, supa_schema: str) -> dict[str, Any]:
    """A and B each own a thread with messages, vectors and working memory (both scopes)."""
    empty_schema(supa.superuser, supa_schema)
    base = memory_of(config("resource"))
    thread_scoped = memory_of(config("thread"))
    a, b = base.with_auth(AuthContext.user(USER_A)), base.with_auth(AuthContext.user(USER_B))
    ta = await a.create_thread(USER_A, title="A's plans", metadata={"secret": A_SECRET})
    tb = await b.create_thread(USER_B, title="B's plans")
    saved_a = await a.save_messages([Message.user(f"{A_SECRET} number {n}", thread_id=ta.id) for n in range(3)])
    await b.save_messages([Message.user(B_SECRET, thread_id=tb.id)])
    await a.update_working_memory(ta.id, USER_A, working_memory=f"# A\n{A_SECRET}")
    await thread_scoped.with_auth(AuthContext.user(USER_A)).update_working_memory(
        ta.id, USER_A, working_memory=f"# thread A\n{A_SECRET}"
    )
    return {
        "base": base,
        "thread_scoped": thread_scoped,
        "a": a,
        "b": b,
        "anon": base.with_auth(AuthContext.anonymous()),
        "service": base.with_auth(AuthContext.service()),
        "ta": ta,
        "tb": tb,
        "a_ids": [m.id for m in saved_a],
    }


async def a_is_intact(w: dict[str, Any]) -> None:
    """A still sees exactly A's thread, title, messages and working memory."""
    a = w["a"]
    thread = await a.get_thread(w["ta"].id)
    assert thread is not None and thread.title == "A's plans" and thread.resource_id == USER_A
    texts = [m.text for m in (await a.list_messages(w["ta"].id)).messages]
    assert texts == [f"{A_SECRET} number {n}" for n in range(3)]
    assert A_SECRET in (await a.get_working_memory(w["ta"].id, USER_A) or "")


async def answer_or_refusal(call: Any) -> Any:
    """What a call returned, or the refusal it raised (either may be checked for leaks)."""
    try:
        return await call
    except REFUSED as exc:
        return exc


def leaks(value: Any) -> bool:
    """Whether anything of A's (a secret text, A's thread title) shows in a value or an error."""
    return A_SECRET in repr(value) or "A's plans" in repr(value)


async def test_users_see_their_own_memory(world: dict[str, Any]) -> None:
    a, b, ta, tb = world["a"], world["b"], world["ta"], world["tb"]
    assert [t.id for t in (await a.list_threads()).threads] == [ta.id]
    assert [t.id for t in (await b.list_threads()).threads] == [tb.id]
    await a_is_intact(world)
    ctx = await a.context(ta.id, USER_A, query="swordfish")
    assert A_SECRET in repr(ctx)


async def test_b_cannot_read_a_threads_messages_or_resource(world: dict[str, Any]) -> None:
    b, ta, a_ids = world["b"], world["ta"], world["a_ids"]
    assert await b.get_thread(ta.id) is None
    assert (await b.list_threads(resource_id=USER_A)).threads == []
    page = await b.list_messages(ta.id)
    assert page.messages == [] and not leaks(page)
    assert (await b.list_messages_by_resource(USER_A)).messages == []
    assert await b.get_messages(a_ids) == []
    recalled = await b.recall(ta.id)
    assert not leaks(recalled)
    assert await b.get_resource(USER_A) is None
    assert await b.get_source_thread(ta.id) is None
    assert await b.list_clones(ta.id) == []


async def test_b_cannot_read_a_working_memory_in_either_scope(world: dict[str, Any]) -> None:
    b = world["b"]
    thread_b = world["thread_scoped"].with_auth(AuthContext.user(USER_B))
    for memory, args in (
        (b, (world["ta"].id, USER_A)),
        (b, (world["tb"].id, USER_A)),  # B's own thread naming A's resource
        (b, (world["ta"].id,)),
        (thread_b, (world["ta"].id,)),
        (thread_b, (world["ta"].id, USER_A)),
    ):
        try:
            got = await memory.get_working_memory(*args)
        except REFUSED:
            continue
        assert not leaks(got), args


async def test_b_context_and_vector_search_never_return_a(world: dict[str, Any]) -> None:
    b, ta, tb = world["b"], world["ta"], world["tb"]
    for thread_id, resource_id in ((tb.id, USER_B), (ta.id, USER_A), (tb.id, USER_A)):
        try:
            ctx = await b.context(thread_id, resource_id, query="alpha secret swordfish")
        except REFUSED:
            continue
        assert not leaks(ctx), (thread_id, resource_id)
    own = await b.context(tb.id, USER_B, query="marmalade")
    assert B_SECRET in repr(own)


async def test_b_cannot_change_or_delete_a_threads(world: dict[str, Any]) -> None:
    b, ta = world["b"], world["ta"]
    with pytest.raises(REFUSED):
        await b.update_thread(ta.id, title="pwned")
    assert await b.delete_thread(ta.id) in (False, None)
    with pytest.raises(REFUSED):
        await b.save_thread(ta.id, USER_B, title="taken over")
    with pytest.raises(REFUSED):
        await b.save_thread(ta.id, USER_A, title="pwned")
    await a_is_intact(world)


async def test_b_cannot_change_or_delete_a_messages(world: dict[str, Any]) -> None:
    b, a_ids = world["b"], world["a_ids"]
    pwned = {"format": 2, "parts": [{"type": "text", "text": "pwned"}]}
    # Messages B cannot see are unknown ids to B, which update_messages skips.
    assert await b.update_messages([MessageUpdate(id=a_ids[0], content=pwned)]) == []
    assert await b.update_messages([MessageUpdate(id=a_ids[0], thread_id=world["tb"].id)]) == []
    assert await b.delete_messages(a_ids) in (0, None)
    await a_is_intact(world)


async def test_a_cannot_move_own_messages_into_b_thread_or_resource(world: dict[str, Any]) -> None:
    a, a_ids, tb = world["a"], world["a_ids"], world["tb"]
    with pytest.raises(REFUSED):
        await a.update_messages([MessageUpdate(id=a_ids[0], thread_id=tb.id)])
    with pytest.raises(REFUSED):
        await a.update_messages([MessageUpdate(id=a_ids[0], resource_id=USER_B)])
    await a_is_intact(world)
    b_texts = [m.text for m in (await world["service"].list_messages(tb.id)).messages]
    assert b_texts == [B_SECRET]


async def test_b_cannot_insert_as_a(world: dict[str, Any]) -> None:
    b = world["b"]
    with pytest.raises(PermissionDeniedError):
        await b.create_thread(USER_A, title="planted")
    with pytest.raises(REFUSED):
        await b.update_resource(USER_A, working_memory="planted")
    with pytest.raises(REFUSED):
        await b.update_working_memory(world["tb"].id, USER_A, working_memory="planted")
    await a_is_intact(world)
    service = world["service"]
    assert [t.title for t in (await service.list_threads(resource_id=USER_A)).threads] == ["A's plans"]


async def test_b_cannot_attach_messages_to_a_thread(world: dict[str, Any]) -> None:
    b, ta, tb = world["b"], world["ta"], world["tb"]
    with pytest.raises(REFUSED):
        await b.save_messages([Message.user("planted", thread_id=ta.id)])
    with pytest.raises(REFUSED):
        await b.save_messages([Message.user("planted", thread_id=ta.id, resource_id=USER_B)])
    # Reusing the id of one of A's messages must not move or rewrite it.
    with pytest.raises(REFUSED):
        await b.save_messages([Message.user("hijack", thread_id=tb.id, id=world["a_ids"][0])])
    await a_is_intact(world)


async def test_b_cannot_clone_a_thread_or_clone_into_a(world: dict[str, Any]) -> None:
    b = world["b"]
    with pytest.raises(REFUSED):
        await b.clone_thread(world["ta"].id)
    with pytest.raises(REFUSED):
        await b.clone_thread(world["tb"].id, resource_id=USER_A)
    assert len((await world["service"].list_threads(resource_id=USER_A)).threads) == 1
    clone = await world["a"].clone_thread(world["ta"].id)
    assert clone.thread.resource_id == USER_A  # a user clones their own thread


async def test_b_cannot_delete_a_resource(world: dict[str, Any]) -> None:
    b = world["b"]
    await b.delete_resource(USER_A)
    await a_is_intact(world)


async def test_anon_gets_nothing(world: dict[str, Any]) -> None:
    anon = world["anon"]
    for call in (
        anon.list_threads(),
        anon.get_thread(world["ta"].id),
        anon.list_messages(world["ta"].id),
        anon.create_thread(USER_A),
        anon.context(world["ta"].id, USER_A, query="swordfish"),
        anon.get_working_memory(world["ta"].id, USER_A),
    ):
        with pytest.raises(PermissionDeniedError):
            await call
    await a_is_intact(world)


async def test_service_role_sees_and_changes_everything(world: dict[str, Any]) -> None:
    service, ta = world["service"], world["ta"]
    ids = {t.id for t in (await service.list_threads()).threads}
    assert {ta.id, world["tb"].id} <= ids
    await service.update_thread(ta.id, title="renamed by the server")
    assert (await world["a"].get_thread(ta.id)).title == "renamed by the server"
    planted = await service.create_thread(USER_A, title="made by the server")
    assert planted.id in {t.id for t in (await world["a"].list_threads()).threads}


async def test_an_unbound_memory_on_the_admin_login_still_works(world: dict[str, Any]) -> None:
    # Like Mastra's own server on Supabase's postgres login (BYPASSRLS): no AuthContext, no RLS.
    ids = {t.id for t in (await world["base"].list_threads()).threads}
    assert {world["ta"].id, world["tb"].id} <= ids


async def test_observational_memory_is_written_as_the_user_and_hidden_from_others(
    memory_of: Any, supa: Supa, supa_schema: str
) -> None:
    empty_schema(supa.superuser, supa_schema)
    model = ScriptedChatModel(observer_reply([f"🔴 (09:00) User said: {A_SECRET}"]))
    base = memory_of(MemoryConfig(observational_memory=ObservationalMemory(model=model, observation_tokens=20)))
    a, b = base.with_auth(AuthContext.user(USER_A)), base.with_auth(AuthContext.user(USER_B))
    ta = await a.create_thread(USER_A)
    tb = await b.create_thread(USER_B)
    await a.save_messages([Message.user(f"{A_SECRET}, and more words to pass the threshold", thread_id=ta.id)])
    ctx = await a.context(ta.id, USER_A)
    assert ctx.observations is not None and ctx.observations.observed_now, ctx.observations
    assert (await a.get_observations(ta.id, USER_A)) is not None  # the model ran outside any transaction
    for thread_id, resource_id in ((ta.id, USER_A), (tb.id, USER_A)):
        assert not leaks(await answer_or_refusal(b.get_observations(thread_id, resource_id)))
        assert not leaks(await answer_or_refusal(b.context(thread_id, resource_id)))
    with_service = await base.with_auth(AuthContext.service()).get_observations(ta.id, USER_A)
    assert with_service is not None and A_SECRET in repr(with_service)


async def test_b_cannot_backfill_a(world: dict[str, Any]) -> None:
    b = world["b"]
    assert await b.backfill_embeddings(scan=True, resource_id=USER_A) == 0
    await a_is_intact(world)
