"""A bounded, thread-safe cache of decoded histories, keyed by instance and history epoch.

Locking a long-running instance then reads and decodes only the events added since the last
step, and hands out the history as a :class:`HistoryView` instead of a copy, so a step costs
the same at 3,000 events as at 10.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING, overload

from durableflow.core.history import HistoryEvent

if TYPE_CHECKING:
    from durableflow.runtime.store.base import OrchestrationCommit


class HistoryView(Sequence[HistoryEvent]):
    """The first ``length`` events of an append-only list, shared rather than copied.

    Valid because a cached list is only ever appended to: the events below ``length``
    never change. Compares equal to any sequence holding the same events.
    """

    __slots__ = ("_events", "_length")

    def __init__(self, events: list[HistoryEvent], length: int) -> None:
        self._events = events
        self._length = length

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> HistoryEvent: ...

    @overload
    def __getitem__(self, index: slice) -> list[HistoryEvent]: ...

    def __getitem__(self, index: int | slice) -> HistoryEvent | list[HistoryEvent]:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._length)
            return self._events[start:stop:step]
        i = index + self._length if index < 0 else index
        if not 0 <= i < self._length:
            raise IndexError("history index out of range")
        return self._events[i]

    def __iter__(self) -> Iterator[HistoryEvent]:
        return islice(self._events, self._length)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(other) == self._length and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"HistoryView({list(self)!r})"


class HistoryCache:
    """Decoded histories of up to ``size`` instances, least recently used evicted first.

    An entry is valid only for its epoch (the store changes it when a history is reset by
    continue-as-new or a restart of the id) and only while it is not longer than the stored
    history. Only events read back from (or committed to) the database are added.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[str, tuple[str, list[HistoryEvent]]] = OrderedDict()
        self._lock = threading.Lock()

    def known(self, iid: str, epoch: str, length: int) -> int:
        """How many of ``iid``'s first ``length`` events for ``epoch`` are cached."""
        with self._lock:
            cached = self._entries.get(iid)
        if cached is not None and cached[0] == epoch:
            return min(len(cached[1]), length)
        return 0

    def add_commit(self, iid: str, epoch: str, base: int, commit: OrchestrationCommit) -> None:
        """Add a committed step's events to a history of ``base`` events (not after a
        reset, nor for a store without epochs).

        The events themselves, not a decoding of their JSON: every payload in them was
        normalized through JSON where it entered, so they equal what a read would give.
        """
        if commit.continue_as_new is None and epoch:
            events = commit.new_events
            self.extend(iid, epoch, base, events, base + len(events))

    def extend(
        self, iid: str, epoch: str, start: int, events: Iterable[HistoryEvent], length: int
    ) -> HistoryView | None:
        """Add ``events`` (the history from index ``start`` on) and view the first
        ``length`` events; None when the cache cannot hold them (a gap, or caching off)."""
        if self._size <= 0:
            return None
        with self._lock:
            cached = self._entries.get(iid)
            if cached is None or cached[0] != epoch:
                if start != 0:
                    return None
                cached = (epoch, [])
                self._entries[iid] = cached
            stored = cached[1]
            if start > len(stored):
                return None
            skip = len(stored) - start
            # Events already present are the same events (a history only grows).
            stored.extend(islice(events, skip, None))
            self._entries.move_to_end(iid)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
            if len(stored) < length:
                return None
            return HistoryView(stored, length)

    def drop(self, iid: str) -> None:
        """Forget ``iid`` (it was purged)."""
        with self._lock:
            self._entries.pop(iid, None)

    def __repr__(self) -> str:
        return f"HistoryCache(size={self._size}, entries={len(self._entries)})"
