"""Listing threads: order, filters, paging (Mastra's `listThreads` checks in `threads.ts`)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from mastra_memory import InvalidInputError

from ._raw import UTC

T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


async def _five_threads(mem, resource_id="user-1"):
    """t0…t4: createdAt ascends with the number, updatedAt descends (so the two orders differ)."""
    for i in range(5):
        await mem.save_thread(
            f"t{i}",
            resource_id,
            title=f"thread {i}",
            created_at=T0 + timedelta(minutes=i),
            updated_at=T0 + timedelta(hours=1, minutes=-i),
        )


def ids(page):
    return [t.id for t in page.threads]


async def test_threads_are_listed_newest_created_first_by_default(mem):
    await _five_threads(mem)
    page = await mem.list_threads(resource_id="user-1")
    assert ids(page) == ["t4", "t3", "t2", "t1", "t0"]
    assert (page.total, page.page, page.per_page, page.has_more) == (5, 0, 100, False)


async def test_threads_can_be_ordered_by_either_time_in_either_direction(mem):
    await _five_threads(mem)
    expected = {
        ("createdAt", "ASC"): ["t0", "t1", "t2", "t3", "t4"],
        ("createdAt", "DESC"): ["t4", "t3", "t2", "t1", "t0"],
        ("updatedAt", "ASC"): ["t4", "t3", "t2", "t1", "t0"],
        ("updatedAt", "DESC"): ["t0", "t1", "t2", "t3", "t4"],
    }
    for (order_by, direction), order in expected.items():
        assert ids(await mem.list_threads(order_by=order_by, direction=direction)) == order, (order_by, direction)


async def test_a_field_alone_sorts_descending_and_a_direction_alone_sorts_by_created_at(mem):
    await _five_threads(mem)
    assert ids(await mem.list_threads(order_by="updatedAt")) == ["t0", "t1", "t2", "t3", "t4"]
    assert ids(await mem.list_threads(direction="ASC")) == ["t0", "t1", "t2", "t3", "t4"]
    assert ids(await mem.list_threads(direction="asc")) == ["t0", "t1", "t2", "t3", "t4"]


async def test_the_sort_order_stays_stable_across_pages(mem):
    await _five_threads(mem)
    for order_by in ("createdAt", "updatedAt"):
        whole = ids(await mem.list_threads(order_by=order_by, per_page=None))
        paged = []
        for page in range(3):
            paged += ids(await mem.list_threads(order_by=order_by, page=page, per_page=2))
        assert paged == whole
        assert len(set(paged)) == 5


async def test_threads_with_identical_timestamps_all_come_back_once_across_pages(mem):
    for i in range(7):
        await mem.save_thread(f"same-{i}", "user-1", created_at=T0, updated_at=T0)
    seen = []
    for page in range(4):
        seen += ids(await mem.list_threads(resource_id="user-1", page=page, per_page=2))
    assert sorted(seen) == [f"same-{i}" for i in range(7)]


async def test_listing_filters_by_resource(mem):
    await _five_threads(mem, "user-1")
    await mem.create_thread("user-2", thread_id="other")
    page = await mem.list_threads(resource_id="user-2")
    assert ids(page) == ["other"]
    assert page.total == 1
    assert {t.resource_id for t in (await mem.list_threads(resource_id="user-1")).threads} == {"user-1"}


async def test_without_filters_every_thread_is_listed(mem):
    await _five_threads(mem, "user-1")
    await mem.create_thread("user-2", thread_id="other")
    assert (await mem.list_threads()).total == 6


async def test_a_metadata_filter_requires_every_key_to_match(mem):
    await mem.create_thread("u", thread_id="both", metadata={"channel": "web", "priority": 2, "extra": True})
    await mem.create_thread("u", thread_id="channel-only", metadata={"channel": "web", "priority": 1})
    await mem.create_thread("u", thread_id="none")
    assert ids(await mem.list_threads(metadata={"channel": "web"})) == ["channel-only", "both"]
    assert ids(await mem.list_threads(metadata={"channel": "web", "priority": 2})) == ["both"]


async def test_a_metadata_filter_excludes_threads_without_metadata(mem):
    await mem.create_thread("u", thread_id="plain")
    await mem.create_thread("u", thread_id="empty", metadata={})
    await mem.create_thread("u", thread_id="tagged", metadata={"tag": "x"})
    page = await mem.list_threads(metadata={"tag": "x"})
    assert ids(page) == ["tagged"]
    assert page.total == 1


async def test_an_empty_metadata_filter_filters_nothing(mem):
    await mem.create_thread("u", thread_id="plain")
    await mem.create_thread("u", thread_id="tagged", metadata={"tag": "x"})
    assert sorted(ids(await mem.list_threads(metadata={}))) == ["plain", "tagged"]


async def test_metadata_filter_values_match_by_type_and_nesting(mem):
    await mem.create_thread("u", thread_id="num", metadata={"n": 2, "flag": True, "obj": {"a": 1, "b": 2}})
    await mem.create_thread("u", thread_id="str", metadata={"n": "2", "flag": "true", "obj": {"a": 2}})
    assert ids(await mem.list_threads(metadata={"n": 2})) == ["num"]
    assert ids(await mem.list_threads(metadata={"n": "2"})) == ["str"]
    assert ids(await mem.list_threads(metadata={"flag": True})) == ["num"]
    assert ids(await mem.list_threads(metadata={"obj": {"a": 1}})) == ["num"]


async def test_resource_and_metadata_filters_combine(mem):
    await mem.create_thread("user-1", thread_id="a", metadata={"tag": "x"})
    await mem.create_thread("user-1", thread_id="b", metadata={"tag": "y"})
    await mem.create_thread("user-2", thread_id="c", metadata={"tag": "x"})
    page = await mem.list_threads(resource_id="user-1", metadata={"tag": "x"})
    assert ids(page) == ["a"]
    assert page.total == 1


async def test_filters_that_match_nothing_give_an_empty_page(mem):
    await mem.create_thread("user-1", thread_id="a", metadata={"tag": "x"})
    for kwargs in (
        {"resource_id": "nobody"},
        {"metadata": {"tag": "z"}},
        {"resource_id": "user-1", "metadata": {"no": 1}},
    ):
        page = await mem.list_threads(**kwargs)
        assert (page.threads, page.total, page.has_more) == ([], 0, False)


async def test_per_page_none_returns_every_thread(mem):
    for i in range(120):
        await mem.save_thread(f"t{i:03}", "user-1", created_at=T0 + timedelta(seconds=i))
    default = await mem.list_threads(resource_id="user-1")
    assert (len(default.threads), default.total, default.has_more) == (100, 120, True)
    everything = await mem.list_threads(resource_id="user-1", per_page=None)
    assert len(everything.threads) == 120
    assert (everything.total, everything.per_page, everything.has_more) == (120, None, False)


async def test_total_and_has_more_follow_the_pages(mem):
    await _five_threads(mem)
    first = await mem.list_threads(page=0, per_page=2)
    middle = await mem.list_threads(page=1, per_page=2)
    last = await mem.list_threads(page=2, per_page=2)
    assert [(len(p.threads), p.total, p.page, p.per_page, p.has_more) for p in (first, middle, last)] == [
        (2, 5, 0, 2, True),
        (2, 5, 1, 2, True),
        (1, 5, 2, 2, False),
    ]
    exact = await mem.list_threads(page=0, per_page=5)
    assert (len(exact.threads), exact.has_more) == (5, False)


async def test_a_page_past_the_end_is_empty_but_still_counts(mem):
    await _five_threads(mem)
    page = await mem.list_threads(page=7, per_page=2)
    assert (page.threads, page.total, page.page, page.has_more) == ([], 5, 7, False)


async def test_listing_an_empty_store_gives_an_empty_page(mem):
    page = await mem.list_threads()
    assert (page.threads, page.total, page.page, page.per_page, page.has_more) == ([], 0, 0, 100, False)


async def test_negative_pages_and_unknown_orders_are_refused(mem):
    await _five_threads(mem)
    bad = [
        ({"page": -1}, "page must be an integer >= 0"),
        ({"per_page": -1}, "per_page must be >= 0"),
        ({"page": 1, "per_page": None}, "page must be 0"),
        ({"order_by": "title"}, "order_by must be 'createdAt' or 'updatedAt'"),
        ({"direction": "UP"}, "direction must be 'ASC' or 'DESC'"),
    ]
    for kwargs, message in bad:
        with pytest.raises(InvalidInputError, match=message):
            await mem.list_threads(**kwargs)
