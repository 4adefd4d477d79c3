"""LISTEN/NOTIFY for the PostgreSQL store: idle workers hear of new work in milliseconds.

A transaction that makes work visible now runs ``pg_notify`` on the schema's channel;
PostgreSQL delivers it at commit, so a listener never hears of work it cannot see yet. A
:class:`Listener` holds one connection of its own that LISTENs, calls ``on_work`` for each
notification, pings the server when quiet (a cut link is noticed), and reconnects with
backoff when the connection drops. Polling stays the fallback: a missed notification only
delays work until the next poll.

A notification's payload is ``writer:kind``: the store object that wrote (so that its own
listener can skip it) and what it made visible, :data:`ORCHESTRATIONS` (mail in an inbox),
:data:`ACTIVITIES` (queued activities) or :data:`ANY_WORK`. A worker wakes only its loop
for that kind: with several workers, waking every activity dispatcher for every new
instance had them polling for activities that were never there.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from durableflow.core.errors import StoreError
from durableflow.runtime.store import postgres_connect as db
from durableflow.runtime.store import postgres_sql as sql

log = logging.getLogger(__name__)

ORCHESTRATIONS = "o"
"""Payload kind: an instance has mail visible now (a start, an event, a result, a child)."""
ACTIVITIES = "a"
"""Payload kind: an activity is queued, or its lease was given back."""
ANY_WORK = "*"
"""Payload kind: either (a payload with no kind counts as this)."""


def payload(writer: str, kind: str) -> str:
    """The payload of a notification by ``writer`` of work of ``kind``."""
    return f"{writer}:{kind}"


def work_kind(*, activities: bool, mail: bool) -> str | None:
    """The kind of a notification for a write that queued activities and/or made mail
    visible now; None if it made neither."""
    if activities:
        return ANY_WORK if mail else ACTIVITIES
    return ORCHESTRATIONS if mail else None


_WAIT = 0.2  # seconds between checks for close()
_PING_AFTER = 5.0  # seconds of quiet before checking the connection is still there
_BACKOFF = (0.1, 5.0)  # first and longest wait between reconnection attempts


class Listener:
    """A :class:`~durableflow.runtime.store.base.Subscription`: calls ``on_work`` from a
    thread of its own whenever the target's channel is notified, except for notifications
    written by ``ignore`` (the subscribing store's own writes); with ``on_activities``, that
    one for notifications of activities alone, and ``on_work`` for the others.

    The constructor returns once the channel is being listened to (or, if the server cannot
    be reached, after the connect timeout, the listener retrying in the background), so
    work made after it returns is never missed while the connection holds.
    """

    def __init__(
        self,
        target: db.Target,
        on_work: Callable[[], None],
        *,
        on_activities: Callable[[], None] | None = None,
        ignore: str | None = None,
    ) -> None:
        self.target = target
        self._ignore = ignore
        self._on_activities = on_activities
        self.application_name = f"durableflow-listen-{target.schema}"[:63]
        """What the listener's connection calls itself on the server (pg_stat_activity)."""
        self._on_work = on_work
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._calls = threading.RLock()  # close() from within on_work must not deadlock
        self._thread = threading.Thread(
            target=self._run, name=f"durableflow-listen-{target.schema}", daemon=True
        )
        self._thread.start()
        self._listening.wait(target.connect_timeout)

    def close(self) -> None:
        """Stop listening and wait for the thread to finish."""
        self._stop.set()
        with self._calls:  # a call under way finishes first; none starts after this
            pass
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=_WAIT * 5 + self.target.connect_timeout)

    def _call(self, kind: str = ANY_WORK) -> None:
        with self._calls:
            if self._stop.is_set():
                return
            on_activities = self._on_activities
            try:
                if on_activities is None:
                    self._on_work()
                    return
                if kind != ACTIVITIES:
                    self._on_work()
                if kind != ORCHESTRATIONS:
                    on_activities()
            except Exception:
                log.exception("on_work callback of %s failed", self.target.where)

    def _heard(self, notice_payload: str) -> None:
        writer, separated, kind = notice_payload.partition(":")
        if writer == self._ignore:
            return
        self._call(kind if separated and kind in (ORCHESTRATIONS, ACTIVITIES) else ANY_WORK)

    def _run(self) -> None:
        psycopg = db.driver()
        from psycopg import sql as q

        listen = q.SQL(sql.LISTEN).format(channel=q.Identifier(self.target.channel))
        delay, dropped = _BACKOFF[0], False
        while not self._stop.is_set():
            try:
                conn = db.connect(self.target, application_name=self.application_name)
            except StoreError as exc:
                log.warning("cannot listen for work (%s); retrying in %.1fs", exc, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, _BACKOFF[1])
                continue
            try:
                conn.execute(listen)
                self._listening.set()
                if dropped:
                    log.warning("listening for work on %s again", self.target.where)
                    self._call()  # anything made while we were away
                delay, dropped = _BACKOFF[0], False
                self._listen(conn)
            except psycopg.Error as exc:
                if self._stop.is_set():
                    break
                dropped = True
                log.warning(
                    "lost the notification connection to %s (%s); reconnecting in %.1fs",
                    self.target.where,
                    " ".join(str(exc).split()),
                    delay,
                )
                self._stop.wait(delay)
                delay = min(delay * 2, _BACKOFF[1])
            finally:
                try:
                    conn.close()
                except Exception:  # closing a broken connection may fail; it is gone anyway
                    log.debug("closing the notification connection failed", exc_info=True)

    def _listen(self, conn: Any) -> None:
        quiet_since = time.monotonic()
        while not self._stop.is_set():
            heard = False
            for notice in conn.notifies(timeout=_WAIT):
                heard = True
                self._heard(notice.payload)
                if self._stop.is_set():
                    return
            now = time.monotonic()
            if heard:
                quiet_since = now
            elif now - quiet_since > _PING_AFTER:
                conn.execute("SELECT 1")  # raises if the server or the link is gone
                quiet_since = now
