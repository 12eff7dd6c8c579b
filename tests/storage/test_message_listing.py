"""Listing messages: date filters, paging, include windows and the other lookups
(Mastra's `messages-paginated.ts`, `messages-list.ts` and the resource-scope include suite)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from mastra_memory import DateRange, Include, InvalidInputError, Message

from ._raw import UTC, insert_message

T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def texts(page_or_list):
    messages = page_or_list.messages if hasattr(page_or_list, "messages") else page_or_list
    return [m.text for m in messages]


async def _thread(mem, thread_id, labels, *, start=0, step=timedelta(seconds=1), resource_id="user-1"):
    """A thread whose messages are ``labels`` (also their ids), ``step`` apart from ``T0 + start*step``."""
    if await mem.get_thread(thread_id) is None:
        await mem.create_thread(resource_id, thread_id=thread_id)
    return await mem.save_messages(
        [
            Message.user(label, id=label, thread_id=thread_id, created_at=T0 + (start + i) * step)
            for i, label in enumerate(labels)
        ]
    )


# --- paging ---------------------------------------------------------------------------------


async def test_pages_of_messages_carry_total_and_has_more(mem):
    await _thread(mem, "t-1", [f"m{i:02}" for i in range(15)])
    first = await mem.list_messages("t-1", page=0, per_page=5)
    third = await mem.list_messages("t-1", page=2, per_page=5)
    assert texts(first) == [f"m{i:02}" for i in range(5)]
    assert (first.total, first.page, first.per_page, first.has_more) == (15, 0, 5, True)
    assert texts(third) == [f"m{i:02}" for i in range(10, 15)]
    assert (third.total, third.page, third.has_more) == (15, 2, False)


async def test_the_default_page_holds_forty_messages(mem):
    await _thread(mem, "t-1", [f"m{i:02}" for i in range(45)])
    page = await mem.list_messages("t-1")
    assert (len(page.messages), page.total, page.per_page, page.has_more) == (40, 45, 40, True)


async def test_per_page_none_returns_every_message(mem):
    await _thread(mem, "t-1", [f"m{i:02}" for i in range(45)])
    page = await mem.list_messages("t-1", per_page=None)
    assert (len(page.messages), page.total, page.per_page, page.has_more) == (45, 45, None, False)


async def test_per_page_zero_returns_no_messages_and_a_zero_total(mem):
    await _thread(mem, "t-1", ["a", "b"])
    page = await mem.list_messages("t-1", per_page=0)
    assert (page.messages, page.total, page.per_page, page.has_more) == ([], 0, 0, False)


async def test_a_page_past_the_end_is_empty(mem):
    await _thread(mem, "t-1", ["a", "b", "c"])
    page = await mem.list_messages("t-1", page=5, per_page=2)
    assert (page.messages, page.total, page.has_more) == ([], 3, False)


async def test_descending_pages_start_with_the_newest(mem):
    await _thread(mem, "t-1", ["a", "b", "c", "d", "e"])
    assert texts(await mem.list_messages("t-1", per_page=2, direction="DESC")) == ["e", "d"]
    assert texts(await mem.list_messages("t-1", page=2, per_page=2, direction="DESC")) == ["a"]


async def test_negative_paging_is_refused(mem):
    await _thread(mem, "t-1", ["a"])
    for kwargs, message in (
        ({"per_page": -1}, "per_page must be >= 0"),
        ({"page": -1}, "page must be an integer >= 0"),
    ):
        with pytest.raises(InvalidInputError, match=message):
            await mem.list_messages("t-1", **kwargs)
        with pytest.raises(InvalidInputError, match=message):
            await mem.list_messages_by_resource("user-1", **kwargs)
    with pytest.raises(InvalidInputError, match=r"include\[0\]\.before must be an integer >= 0"):
        await mem.list_messages("t-1", include=[Include("a", before=-1)])
    with pytest.raises(InvalidInputError, match=r"include\[0\]\.after must be an integer >= 0"):
        await mem.list_messages("t-1", include=[Include("a", after=-1)])


# --- date ranges ----------------------------------------------------------------------------


async def _six_over_three_days(mem):
    """Two messages on each of T0-2d, T0-1d and T0 (a second apart)."""
    await mem.create_thread("user-1", thread_id="t-1")
    days = [T0 - timedelta(days=2), T0 - timedelta(days=1), T0]
    await mem.save_messages(
        [
            Message.user(f"d{d}-{k}", id=f"d{d}-{k}", thread_id="t-1", created_at=day + timedelta(seconds=k))
            for d, day in enumerate(days)
            for k in range(2)
        ]
    )
    return days


async def test_a_date_range_with_one_end_keeps_that_side_inclusively(mem):
    days = await _six_over_three_days(mem)
    since = await mem.list_messages("t-1", date_range=DateRange(start=days[1]))
    assert texts(since) == ["d1-0", "d1-1", "d2-0", "d2-1"]
    assert since.total == 4
    assert texts(await mem.list_messages("t-1", date_range=DateRange(end=days[1]))) == ["d0-0", "d0-1", "d1-0"]


async def test_a_date_range_with_both_ends_is_inclusive_by_default(mem):
    days = await _six_over_three_days(mem)
    rng = DateRange(start=days[0] + timedelta(seconds=1), end=days[2])
    assert texts(await mem.list_messages("t-1", date_range=rng)) == ["d0-1", "d1-0", "d1-1", "d2-0"]


async def test_date_range_ends_can_be_exclusive(mem):
    days = await _six_over_three_days(mem)
    rng = DateRange(start=days[0] + timedelta(seconds=1), end=days[2], start_exclusive=True, end_exclusive=True)
    assert texts(await mem.list_messages("t-1", date_range=rng)) == ["d1-0", "d1-1"]
    only_start = DateRange(start=days[1], start_exclusive=True)
    assert texts(await mem.list_messages("t-1", date_range=only_start)) == ["d1-1", "d2-0", "d2-1"]
    only_end = DateRange(end=days[1], end_exclusive=True)
    assert texts(await mem.list_messages("t-1", date_range=only_end)) == ["d0-0", "d0-1"]


async def test_date_ranges_accept_iso_strings_and_naive_utc_times(mem):
    days = await _six_over_three_days(mem)
    iso = DateRange(
        start=days[1].isoformat().replace("+00:00", "Z"), end=days[1].replace(tzinfo=None) + timedelta(seconds=1)
    )
    assert texts(await mem.list_messages("t-1", date_range=iso)) == ["d1-0", "d1-1"]


async def test_date_ranges_are_exact_to_the_millisecond(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    await mem.save_messages(
        [Message.user(f"ms{i}", thread_id="t-1", created_at=T0 + timedelta(milliseconds=i)) for i in range(5)]
    )
    rng = DateRange(start=T0 + timedelta(milliseconds=1), end=T0 + timedelta(milliseconds=3))
    assert texts(await mem.list_messages("t-1", date_range=rng)) == ["ms1", "ms2", "ms3"]
    excl = DateRange(start=T0 + timedelta(milliseconds=1), end=T0 + timedelta(milliseconds=3), start_exclusive=True)
    assert texts(await mem.list_messages("t-1", date_range=excl)) == ["ms2", "ms3"]


async def test_paging_works_inside_a_date_range(mem):
    days = await _six_over_three_days(mem)
    rng = DateRange(start=days[1])
    first = await mem.list_messages("t-1", date_range=rng, per_page=3)
    second = await mem.list_messages("t-1", date_range=rng, page=1, per_page=3)
    assert (texts(first), first.total, first.has_more) == (["d1-0", "d1-1", "d2-0"], 4, True)
    assert (texts(second), second.total, second.has_more) == (["d2-1"], 4, False)


async def test_recall_takes_the_newest_messages_inside_a_date_range(mem):
    days = await _six_over_three_days(mem)
    page = await mem.recall("t-1", last_messages=2, date_range=DateRange(end=days[1] + timedelta(seconds=1)))
    assert texts(page) == ["d1-0", "d1-1"]


async def test_the_date_filter_reads_the_z_column_first(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    insert_message(
        mem,
        id="x",
        thread_id="t-1",
        content='{"format":2,"parts":[{"type":"text","text":"x"}]}',
        created_at=datetime(2000, 1, 1),
        created_at_z=T0,
    )
    assert texts(await mem.list_messages("t-1", date_range=DateRange(start=T0 - timedelta(seconds=1)))) == ["x"]
    assert texts(await mem.list_messages("t-1", date_range=DateRange(end=datetime(2001, 1, 1, tzinfo=UTC)))) == []


# --- include windows ------------------------------------------------------------------------


async def test_include_brings_previous_next_or_both_neighbours_up_to_the_threads_ends(mem):
    await _thread(mem, "t-1", list("abcdef"))
    windows = [
        (Include("d", before=2), ["b", "c", "d"]),
        (Include("b", after=2), ["b", "c", "d"]),
        (Include("c", before=1, after=1), ["b", "c", "d"]),
        (Include("b", before=5, after=30), list("abcdef")),
        (Include("f", after=3), ["f"]),
    ]
    for include, expected in windows:
        assert texts(await mem.list_messages("t-1", per_page=0, include=[include])) == expected, include


async def test_include_windows_stay_inside_the_targets_own_thread(mem):
    await _thread(mem, "t-1", ["a1", "a2", "a3"], start=0, step=timedelta(seconds=2))
    await mem.create_thread("user-1", thread_id="t-2")
    await mem.save_messages(  # interleaved in time with t-1
        [
            Message.user(x, id=x, thread_id="t-2", created_at=T0 + timedelta(seconds=2 * i + 1))
            for i, x in enumerate(["b1", "b2"])
        ]
    )
    page = await mem.list_messages("t-1", per_page=0, include=[Include("a2", before=5, after=5)])
    assert texts(page) == ["a1", "a2", "a3"]


async def test_include_from_another_thread_keeps_chronological_order(mem):
    await _thread(mem, "t-1", ["A", "B", "C"], start=0)
    await _thread(mem, "t-2", ["D", "E", "F"], start=3)
    page = await mem.list_messages(
        "t-1", per_page=0, include=[Include("B", before=2, after=2), Include("E", before=2, after=2)]
    )
    assert texts(page) == ["A", "B", "C", "D", "E", "F"]
    only_other = await mem.list_messages("t-1", per_page=0, include=[Include("E", before=1, after=30)])
    assert texts(only_other) == ["D", "E", "F"]
    assert {m.thread_id for m in only_other.messages} == {"t-2"}


async def test_overlapping_include_windows_are_deduplicated(mem):
    await _thread(mem, "t-1", list("abcdefg"))
    page = await mem.list_messages(
        "t-1", per_page=0, include=[Include("c", before=2, after=2), Include("d", before=2, after=2), Include("d")]
    )
    assert texts(page) == ["a", "b", "c", "d", "e", "f"]


async def test_an_include_of_a_missing_message_is_ignored(mem):
    await _thread(mem, "t-1", list("abc"))
    page = await mem.list_messages("t-1", per_page=0, include=[Include("nope", before=3), Include("b")])
    assert texts(page) == ["b"]
    assert texts(await mem.list_messages("t-1", per_page=0, include=[Include("nope", before=1, after=1)])) == []


async def test_last_n_plus_an_include_from_another_thread_unite_in_order(mem):
    await _thread(mem, "t-1", ["A", "B", "C"], start=0)
    await _thread(mem, "t-2", ["D", "E", "F"], start=3)
    page = await mem.recall("t-1", last_messages=2, include=[Include("E", before=1, after=1)])
    assert texts(page) == ["B", "C", "D", "E", "F"]
    assert [m.thread_id for m in page.messages] == ["t-1", "t-1", "t-2", "t-2", "t-2"]


async def test_a_page_plus_includes_adds_the_windows_beyond_the_page(mem):
    await _thread(mem, "t-1", [f"m{i}" for i in range(10)])
    page = await mem.list_messages("t-1", per_page=3, include=[Include("m7", before=1, after=1)])
    assert texts(page) == ["m0", "m1", "m2", "m6", "m7", "m8"]
    assert (page.total, page.has_more) == (10, True)


async def test_has_more_is_false_once_the_page_and_includes_hold_every_message(mem):
    await _thread(mem, "t-1", [f"m{i}" for i in range(6)])
    page = await mem.list_messages("t-1", per_page=3, include=[Include("m4", before=1, after=1)])
    assert texts(page) == [f"m{i}" for i in range(6)]
    assert (page.total, page.has_more) == (6, False)


async def test_includes_follow_a_descending_page(mem):
    await _thread(mem, "t-1", [f"m{i}" for i in range(10)])
    page = await mem.list_messages("t-1", per_page=2, direction="DESC", include=[Include("m2", before=1)])
    assert texts(page) == ["m9", "m8", "m2", "m1"]


async def test_the_include_only_fast_path_returns_only_the_windows_newest_first_on_request(mem):
    await _thread(mem, "t-1", [f"m{i}" for i in range(8)])
    page = await mem.list_messages(
        "t-1", per_page=0, direction="DESC", include=[Include("m2", before=1, after=1), Include("m3", after=1)]
    )
    assert texts(page) == ["m4", "m3", "m2", "m1"]
    assert (page.total, page.per_page, page.has_more) == (0, 0, False)


async def test_the_include_only_fast_path_stays_exact_on_a_large_thread(mem):
    labels = [f"m{i:04}" for i in range(1000)]
    await _thread(mem, "t-1", labels, step=timedelta(milliseconds=1))
    targets = [17, 250, 251, 600, 998]
    page = await mem.list_messages("t-1", per_page=0, include=[Include(labels[i], before=2, after=1) for i in targets])
    expected = sorted({labels[j] for i in targets for j in range(max(0, i - 2), min(1000, i + 2))})
    assert texts(page) == expected


async def test_include_windows_use_id_order_among_equal_times(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    await mem.save_messages([Message.user(x, id=x, thread_id="t-1", created_at=T0) for x in ("a", "b", "c", "d", "e")])
    assert texts(await mem.list_messages("t-1", per_page=0, include=[Include("c", before=1, after=1)])) == [
        "b",
        "c",
        "d",
    ]


async def test_batches_saved_at_different_times_come_back_sorted_by_created_at(mem):
    await mem.create_thread("user-1", thread_id="t-1")
    await mem.save_messages([Message.user("late", thread_id="t-1", created_at=T0 + timedelta(hours=2))])
    await mem.save_messages([Message.user("early", thread_id="t-1", created_at=T0)])
    await mem.save_messages([Message.user("middle", thread_id="t-1", created_at=T0 + timedelta(hours=1))])
    assert texts(await mem.list_messages("t-1")) == ["early", "middle", "late"]
    assert texts(await mem.recall("t-1")) == ["early", "middle", "late"]


# --- other lookups --------------------------------------------------------------------------


async def test_get_messages_of_no_ids_is_empty(mem):
    assert await mem.get_messages([]) == []


async def test_get_messages_spans_threads_and_resources_oldest_first(mem):
    await _thread(mem, "t-1", ["a", "b"], start=0, resource_id="user-1")
    await _thread(mem, "t-2", ["c"], start=2, resource_id="user-2")
    found = await mem.get_messages(["a", "c", "b", "missing"])
    assert texts(found) == ["a", "b", "c"]  # what Mastra's listMessagesById returns (see tests/interop)
    assert [(m.thread_id, m.resource_id) for m in found] == [("t-1", "user-1"), ("t-1", "user-1"), ("t-2", "user-2")]
    assert all(m.content.to_dict()["format"] == 2 and m.type == "v2" for m in found)


async def test_listing_by_resource_spans_its_threads_only(mem):
    await _thread(mem, "t-1", ["a", "c"], start=0, step=timedelta(seconds=2), resource_id="user-1")
    await _thread(mem, "t-2", ["b", "d"], start=0, step=timedelta(seconds=2), resource_id="user-1")
    await mem.save_messages([Message.user("b", id="b2", thread_id="t-2", created_at=T0 + timedelta(seconds=1))])
    await _thread(mem, "t-3", ["other"], resource_id="user-2")
    page = await mem.list_messages_by_resource("user-1")
    assert [m.id for m in page.messages] == ["a", "b", "b2", "c", "d"]
    assert page.total == 5
    assert texts(await mem.list_messages_by_resource("user-2")) == ["other"]
    assert (await mem.list_messages_by_resource("nobody")).messages == []


async def test_listing_by_resource_filters_by_date_and_pages(mem):
    await _thread(mem, "t-1", [f"a{i}" for i in range(4)], start=0, step=timedelta(seconds=2), resource_id="user-1")
    await mem.create_thread("user-1", thread_id="t-2")
    await mem.save_messages(  # odd seconds, between t-1's
        [Message.user(f"b{i}", thread_id="t-2", created_at=T0 + timedelta(seconds=2 * i + 1)) for i in range(4)]
    )
    since = await mem.list_messages_by_resource("user-1", date_range=DateRange(start=T0 + timedelta(seconds=4)))
    assert texts(since) == ["a2", "b2", "a3", "b3"]
    first = await mem.list_messages_by_resource("user-1", per_page=3)
    second = await mem.list_messages_by_resource("user-1", page=1, per_page=3)
    last = await mem.list_messages_by_resource("user-1", page=2, per_page=3)
    assert [texts(p) for p in (first, second, last)] == [["a0", "b0", "a1"], ["b1", "a2", "b2"], ["a3", "b3"]]
    assert [(p.total, p.has_more) for p in (first, second, last)] == [(8, True), (8, True), (8, False)]
    assert texts(await mem.list_messages_by_resource("user-1", per_page=2, direction="DESC")) == ["b3", "a3"]


async def test_listing_by_resource_can_include_windows(mem):
    await _thread(mem, "t-1", ["a", "b", "c"], resource_id="user-1")
    await _thread(mem, "t-2", ["x", "y", "z"], start=3, resource_id="user-2")
    page = await mem.list_messages_by_resource("user-1", per_page=1, include=[Include("y", before=1)])
    assert texts(page) == ["a", "x", "y"]
