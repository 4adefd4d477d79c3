"""Work items of the PostgreSQL store: what a locked instance is made of, and the history
cache that lets locking read only the events added since the last step.

The reads run inside the locking transaction; decoding runs after it where it can, so other
writers never wait for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from durableflow.core.history import HistoryEvent
from durableflow.runtime.store import codec
from durableflow.runtime.store import postgres_sql as sql
from durableflow.runtime.store.base import Message, OrchestrationCommit, OrchestrationWorkItem
from durableflow.runtime.store.history_cache import HistoryCache
from durableflow.runtime.store.postgres_rounds import Rows, execute

Parts = tuple[Any, int, list[Any], list[Any]]
"""A locked row, how many history events the cache has, the others' rows, the inbox rows."""
Read = tuple[str, tuple[Any, ...]]
"""A statement and its parameters."""


def read_history(c: Any, iid: str) -> list[HistoryEvent]:
    """The whole current history of ``iid``, through connection ``c``."""
    return [codec.decode_event(r[0]) for r in execute(c, sql.HISTORY_FROM, (iid, 0)).fetchall()]


class WorkItems:
    """Builds work items from locked rows (``ROW_COLUMNS``, the fencing token, ...),
    keeping decoded histories of up to ``cache_size`` instances."""

    def __init__(self, cache_size: int) -> None:
        self._histories = HistoryCache(cache_size)

    def parts(self, c: Any, rows: list[Any], now_us: int, inbox: bool = True) -> list[Parts]:
        """What the work items of ``rows`` are made of, read in the locking transaction:
        one query for the fresh part of every history and one for every inbox."""
        return self.parts_with(
            lambda reads: [execute(c, s, params).fetchall() for s, params in reads],
            rows,
            now_us,
            inbox,
        )

    def parts_with(
        self, run: Callable[[list[Read]], list[Rows]], rows: list[Any], now_us: int, inbox: bool
    ) -> list[Parts]:
        """:meth:`parts`, its reads given to ``run`` (which returns each one's rows), so
        that they can be sent in one round trip with what follows them. ``run`` is not
        called when ``rows`` is empty."""
        if not rows:
            return []
        ids = [r[0] for r in rows]
        starts = [self._histories.known(r[0], r[13], r[14]) for r in rows]
        fresh: dict[str, list[Any]] = {iid: [] for iid in ids}
        wanted = [(iid, s) for iid, s, r in zip(ids, starts, rows, strict=True) if s < r[14]]
        reads: list[Read] = []
        if wanted:
            reads.append((sql.HISTORIES_FROM, ([w[0] for w in wanted], [w[1] for w in wanted])))
        if inbox:
            reads.append((sql.VISIBLE_MESSAGES, (ids, now_us)))
        results = iter(run(reads))
        if wanted:
            for iid, event in next(results):
                fresh[iid].append(event)
        mail: dict[str, list[Any]] = {iid: [] for iid in ids}
        if inbox:
            for iid, *message in next(results):
                mail[iid].append(message)
        return [(r, s, fresh[r[0]], mail[r[0]]) for r, s in zip(rows, starts, strict=True)]

    def item(
        self,
        owner: str,
        expires_us: int,
        parts: Parts,
        *,
        history_of: Callable[[str], list[HistoryEvent]],
        extra: Message | None = None,
    ) -> OrchestrationWorkItem:
        """The work item of a locked row; a history the cache cannot complete (caching
        off, or another step got in between) is read with ``history_of``."""
        row, start, fresh, inbox = parts
        iid, epoch, history_len, fence = row[0], row[13], row[14], row[sql.N_ROW]
        decoded = [codec.decode_event(text) for text in fresh]
        history: Sequence[HistoryEvent] | None = self._histories.extend(
            iid, epoch, start, decoded, history_len
        )
        if history is None:  # caching off, or the cache changed under us: read it all
            ok = start == 0 and len(decoded) == history_len
            history = decoded if ok else history_of(iid)
        messages = [
            Message(mid, iid, codec.decode_event(ev), codec.from_micros(vis), xid)
            for mid, xid, vis, ev in inbox
        ]
        if extra is not None:
            messages.append(extra)
        return OrchestrationWorkItem(
            sql.record(row),
            history,
            messages,
            owner,
            codec.from_micros(expires_us),
            epoch,
            fence,
        )

    def remember(self, iid: str, epoch: str, base: int, commit: OrchestrationCommit) -> None:
        """Add a committed step's events to the cache (not after a reset)."""
        self._histories.add_commit(iid, epoch, base, commit)

    def drop(self, iid: str) -> None:
        """Forget ``iid``'s history (it was purged or restarted)."""
        self._histories.drop(iid)
