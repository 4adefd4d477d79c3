"""The decoded-history cache and the views it hands out instead of copies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from durableflow.core import history as h
from durableflow.runtime.store.history_cache import HistoryCache, HistoryView

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def events(n: int) -> list[h.HistoryEvent]:
    return [h.OrchestratorStarted(timestamp=T0.replace(second=i)) for i in range(n)]


def test_view_reads_like_the_list_prefix_it_covers() -> None:
    backing = events(5)
    view = HistoryView(backing, 3)
    assert len(view) == 3 and list(view) == backing[:3]
    assert view[-1] == backing[2] and view[1:] == backing[1:3]
    assert view == backing[:3] and view != backing


def test_view_index_past_its_length_raises() -> None:
    with pytest.raises(IndexError):
        HistoryView(events(5), 3)[3]


def test_view_does_not_change_when_the_list_grows() -> None:
    backing = events(2)
    view = HistoryView(backing, 2)
    backing.extend(events(3))
    assert list(view) == backing[:2]


def test_extend_appends_only_events_not_yet_cached() -> None:
    cache = HistoryCache(4)
    first = events(4)
    assert cache.extend("i", "e1", 0, first[:2], 2) == first[:2]
    view = cache.extend("i", "e1", 1, first[1:], 4)  # overlaps what is cached
    assert view == first
    assert cache.known("i", "e1", 10) == 4


def test_extend_with_a_gap_caches_nothing_it_cannot_vouch_for() -> None:
    cache = HistoryCache(4)
    assert cache.extend("i", "e1", 3, events(2), 5) is None
    assert cache.known("i", "e1", 5) == 0


def test_a_new_epoch_replaces_the_cached_history() -> None:
    cache = HistoryCache(4)
    cache.extend("i", "e1", 0, events(3), 3)
    assert cache.known("i", "e2", 3) == 0
    assert cache.extend("i", "e2", 0, events(1), 1) == events(1)
    assert cache.known("i", "e1", 3) == 0


def test_least_recently_used_instances_are_evicted() -> None:
    cache = HistoryCache(2)
    for iid in ("a", "b", "c"):
        cache.extend(iid, "e", 0, events(1), 1)
    assert [cache.known(i, "e", 1) for i in ("a", "b", "c")] == [0, 1, 1]
