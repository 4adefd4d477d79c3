"""The SQLite store: one file, WAL, one short ``BEGIN IMMEDIATE`` transaction per step.

Each thread gets its own connection (:mod:`sqlite_connections`); SQLite serializes the
writers, and WAL lets readers run alongside them. All SQL lives in :mod:`sqlite_sql`;
opening, file checks and migrations in :mod:`sqlite_connect`; what write transactions
write in :mod:`sqlite_writes`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from durableflow.core.errors import InstanceNotFoundError, StoreError
from durableflow.core.history import HistoryEvent
from durableflow.core.ids import validate_instance_id
from durableflow.core.status import RuntimeStatus
from durableflow.runtime.store import codec, semantics
from durableflow.runtime.store import sqlite_connect as db
from durableflow.runtime.store import sqlite_sql as sql
from durableflow.runtime.store import sqlite_writes as writes
from durableflow.runtime.store.base import (
    ActivityWorkItem,
    InstanceQuery,
    InstanceRecord,
    Message,
    NewInstance,
    NoNotifications,
    OrchestrationCommit,
    OrchestrationWorkItem,
    OutgoingMessage,
    PlannedStep,
    StepDecider,
    Subscription,
    WorkerRecord,
)
from durableflow.runtime.store.history_cache import HistoryCache
from durableflow.runtime.store.sqlite_connections import Connections

_MICRO = timedelta(microseconds=1)


class SqliteStore:
    """The :class:`~durableflow.runtime.store.base.Store` protocol on one SQLite file.

    Args:
        path: the database file (created if missing; its directory must exist).
        busy_timeout: seconds a writer waits for another writer before
            :class:`~durableflow.core.errors.StoreLockedError`.
        synchronous: SQLite's ``synchronous`` level: ``FULL`` (default: a committed step
            survives power loss), ``EXTRA``, ``NORMAL`` (survives process crashes only;
            faster) or ``OFF``.
        history_cache_size: how many instances' decoded histories to keep, so that
            locking a long-running instance reads only the events added since.
        url: the URL this store was opened from (defaults to ``sqlite:///`` + path).
        create: create the file if it does not exist (otherwise
            :class:`~durableflow.core.errors.StoreNotFoundError`).

    Raises:
        StoreNotFoundError: ``create`` is false and there is no file at ``path``.
        StoreError: the file is not a durableflow/SQLite database (left unchanged), or
            cannot be created.
        StoreLockedError: another writer held the database past the busy timeout.
    """

    def __init__(
        self,
        path: str,
        *,
        busy_timeout: float = 5.0,
        synchronous: str = "FULL",
        history_cache_size: int = 1024,
        url: str | None = None,
        create: bool = True,
    ) -> None:
        level = str(synchronous).upper()
        if level not in db.SYNCHRONOUS_LEVELS:
            raise StoreError(
                f"synchronous={synchronous!r} is not a SQLite synchronous level; use one of "
                f"{', '.join(db.SYNCHRONOUS_LEVELS)}"
            )
        if not busy_timeout >= 0:
            raise StoreError(f"busy_timeout must be >= 0 seconds, got {busy_timeout!r}")
        self.path = path
        self.url = url or f"sqlite:///{path}"
        self.busy_timeout = float(busy_timeout)
        self.synchronous = level
        self._histories = HistoryCache(history_cache_size)
        db.check_file(path, create=create, url=self.url)
        self._connections = Connections(path, self.busy_timeout, level, self.url)
        self._write = self._connections.write
        self._read = self._connections.read
        try:
            self.applied_migrations = db.initialize(
                self._connections.conn(), path, self.busy_timeout
            )
            """The migrations this store applied when it opened (usually none)."""
        except BaseException:
            self.close()
            raise

    @classmethod
    def from_url(cls, url: str, *, create: bool = True, **options: Any) -> SqliteStore:
        """Open ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db``.

        Query parameters ``busy_timeout`` (seconds) and ``synchronous`` are accepted and
        keyword ``options`` override them; ``create`` is as for the constructor.
        """
        path, kwargs = db.parse_url(url, options)
        return cls(path, url=url, create=create, **kwargs)

    def _any(self, statement: str, now_us: int) -> bool:
        with self._read() as c:
            return c.execute(statement, {"now": now_us}).fetchone() is not None

    # -- client side --------------------------------------------------------------------
    def create_instance(self, new: NewInstance, *, now: datetime) -> None:
        """Create an instance atomically and queue its ExecutionStarted message."""
        validate_instance_id(new.instance_id)
        input_json = codec.encode_value(new.input, f"input of orchestration {new.name!r}")
        now_us = codec.to_micros(now)
        created_us = codec.to_micros(new.created_at)
        started_event = semantics.started_event(new, codec.from_micros(now_us))
        started = codec.encode_event(started_event, new.instance_id)
        with self._write() as c:
            row = c.execute(sql.GET_STATUS, (new.instance_id,)).fetchone()
            if row is not None and not RuntimeStatus(row[0]).is_terminal:
                raise semantics.already_exists(new.instance_id, RuntimeStatus(row[0]))
            writes.create_row(c, new, input_json, started, created_us, now_us, row is not None)

    def get_instance(self, instance_id: str) -> InstanceRecord | None:
        """The instance row, or None."""
        with self._read() as c:
            row = c.execute(sql.GET_INSTANCE, (instance_id,)).fetchone()
        return None if row is None else sql.record(row)

    def list_instances(self, query: InstanceQuery) -> list[InstanceRecord]:
        """Instances matching ``query``, newest first."""
        statement, params = sql.list_instances(query)
        with self._read() as c:
            return [sql.record(r) for r in c.execute(statement, params)]

    def get_history(self, instance_id: str) -> list[HistoryEvent]:
        """The current execution's history, in order (empty if unknown)."""
        return self._read_history(instance_id)

    def send(self, message: OutgoingMessage, *, now: datetime) -> None:
        """Queue an event for an existing instance (``InstanceNotFoundError`` if none)."""
        iid = validate_instance_id(message.instance_id)
        event = codec.encode_event(message.event, iid)
        visible_us = codec.to_micros(message.visible_at or now)
        with self._write() as c:
            cur = c.execute(
                sql.INSERT_MESSAGE_IF_EXISTS, (message.execution_id, visible_us, event, iid)
            )
            if cur.rowcount == 0:
                raise InstanceNotFoundError(iid)
            c.execute(sql.LOWER_NEXT_VISIBLE, {"visible": visible_us, "iid": iid})

    def purge(self, instance_id: str) -> bool:
        """Delete a terminal instance and everything it owns; False if it did not exist."""
        with self._write() as c:
            row = c.execute(sql.GET_STATUS, (instance_id,)).fetchone()
            if row is None:
                return False
            status = RuntimeStatus(row[0])
            if not status.is_terminal:
                raise semantics.not_terminal(instance_id, status)
            for statement in (*writes.OWNED, sql.DELETE_INSTANCE):
                c.execute(statement, (instance_id,))
        self._histories.drop(instance_id)
        return True

    def purge_instances(
        self, *, completed_before: datetime, statuses: frozenset[RuntimeStatus], limit: int
    ) -> int:
        """Delete one batch of ended instances, oldest ending first; the number deleted."""
        semantics.check_purge_filter(statuses, limit)
        wanted = json.dumps(sorted(s.value for s in statuses))
        before = codec.to_micros(completed_before)
        with self._write() as c:
            ids = [r[0] for r in c.execute(sql.PURGEABLE, (wanted, before, limit))]
            for iid in ids:
                for statement in (*writes.OWNED, sql.DELETE_INSTANCE):
                    c.execute(statement, (iid,))
        for iid in ids:
            self._histories.drop(iid)
        return len(ids)

    def list_workers(self, *, now: datetime) -> list[WorkerRecord]:
        """Registered workers, oldest start first, with the leases each holds at ``now``."""
        with self._read() as c:
            rows = c.execute(sql.LIST_WORKERS, {"now": codec.to_micros(now)}).fetchall()
        return [semantics.worker_record(row) for row in rows]

    # -- worker side --------------------------------------------------------------------
    def lock_orchestrations(
        self,
        owner: str,
        *,
        now: datetime,
        lease: timedelta,
        limit: int,
        results: Sequence[tuple[ActivityWorkItem, HistoryEvent]] = (),
    ) -> list[OrchestrationWorkItem]:
        """Record ``results``, then lease up to ``limit`` ready instances, oldest mail first,
        all in one transaction."""
        now_us = codec.to_micros(now)
        expires_us = now_us + lease // _MICRO
        for activity, result in results:
            codec.check_event(result, activity.instance_id)
        if not results and (limit < 1 or not self._any(sql.ANY_READY_INSTANCE, now_us)):
            return []
        locked: list[tuple[Any, int, list[Any], list[Any]]] = []
        # Not fsynced on its own, like complete_activity: see docs/storage.md.
        with self._write(durable=False) as c:
            for activity, result in results:
                if c.execute(sql.DELETE_LEASED_ACTIVITY, writes.lease_of(activity)).rowcount:
                    writes.queue_result(c, activity, result, now_us)
            for _ in range(limit):
                row = c.execute(
                    sql.LOCK_ORCHESTRATION, {"owner": owner, "expires": expires_us, "now": now_us}
                ).fetchone()
                if row is None:
                    break
                locked.append(self._locked_parts(c, row, now_us))
        # Decoding happens after the transaction, so other writers do not wait for it.
        return [self._work_item(owner, expires_us, *parts) for parts in locked]

    def _locked_parts(
        self, c: sqlite3.Connection, row: Any, now_us: int, inbox: bool = True
    ) -> tuple[Any, int, list[Any], list[Any]]:
        """What a work item is made of, read inside the locking transaction: the row, how
        many history events the cache already has, the rows of the others, the inbox."""
        iid, epoch, history_len = row[0], row[13], row[14]
        start = self._histories.known(iid, epoch, history_len)
        fresh = c.execute(sql.HISTORY_FROM, (iid, start)).fetchall() if start < history_len else []
        messages = c.execute(sql.VISIBLE_MESSAGES, (iid, now_us)).fetchall() if inbox else []
        return row, start, fresh, messages

    def _work_item(
        self,
        owner: str,
        expires_us: int,
        row: Any,
        start: int,
        fresh: list[Any],
        inbox: list[Any],
        extra: Message | None = None,
    ) -> OrchestrationWorkItem:
        iid, epoch, history_len = row[0], row[13], row[14]
        decoded = [codec.decode_event(r[0]) for r in fresh]
        history: Sequence[HistoryEvent] | None = self._histories.extend(
            iid, epoch, start, decoded, history_len
        )
        if history is None:  # caching off, or the cache changed under us: read it all
            history = (
                decoded if start == 0 and len(decoded) == history_len else self._read_history(iid)
            )
        messages = [
            Message(mid, iid, codec.decode_event(ev), codec.from_micros(vis), xid)
            for mid, xid, vis, ev in inbox
        ]
        if extra is not None:
            messages.append(extra)
        return OrchestrationWorkItem(
            sql.record(row), history, messages, owner, codec.from_micros(expires_us), epoch
        )

    def _read_history(self, iid: str) -> list[HistoryEvent]:
        with self._read() as c:
            rows = c.execute(sql.HISTORY_FROM, (iid, 0)).fetchall()
        return [codec.decode_event(r[0]) for r in rows]

    def commit_orchestrations(
        self,
        batch: Sequence[tuple[OrchestrationWorkItem, OrchestrationCommit]],
        *,
        now: datetime,
    ) -> list[bool]:
        """Apply several steps in one durable transaction (one fsync for all of them).

        Each step is applied only if its lease still holds; the result says which were.
        """
        prepared = [
            (
                item,
                commit,
                semantics.prepare_commit(
                    item.instance.instance_id, item.instance.name, commit, now
                ),
            )
            for item, commit in batch
        ]
        now_us = codec.to_micros(now)
        now = codec.from_micros(now_us)
        with self._write() as c:
            applied = [
                writes.apply_step(
                    c,
                    item.instance.instance_id,
                    len(item.history),
                    commit,
                    p,
                    now,
                    now_us,
                    lease=(item.lease_owner, item.lease_expires),
                )
                for item, commit, p in prepared
            ]
        for (item, commit, _), ok in zip(prepared, applied, strict=True):
            if ok:
                self._histories.add_commit(
                    item.instance.instance_id, item.epoch, len(item.history), commit
                )
        return applied

    def abandon_orchestration(self, item: OrchestrationWorkItem) -> None:
        """Release the lease without writing anything (the messages stay queued)."""
        expires_us = codec.to_micros(item.lease_expires)
        with self._write(durable=False) as c:
            c.execute(sql.RELEASE_LEASE, (item.instance.instance_id, item.lease_owner, expires_us))

    def lock_activity(
        self, owner: str, *, now: datetime, lease: timedelta
    ) -> ActivityWorkItem | None:
        """Lease the oldest queued activity whose lease is free or expired."""
        now_us = codec.to_micros(now)
        expires_us = now_us + lease // _MICRO
        if not self._any(sql.ANY_READY_ACTIVITY, now_us):
            return None
        with self._write(durable=False) as c:
            row = c.execute(
                sql.LOCK_ACTIVITY, {"owner": owner, "expires": expires_us, "now": now_us}
            ).fetchone()
        if row is None:
            return None
        return writes.leased_item(row, owner, expires_us)

    def complete_activity(
        self, item: ActivityWorkItem, result: HistoryEvent, *, now: datetime
    ) -> None:
        """Delete the activity and queue ``result`` for its instance, in one transaction."""
        codec.check_event(result, item.instance_id)
        now_us = codec.to_micros(now)
        lease = writes.lease_of(item)
        # Not fsynced on its own: see "Durability" in docs/storage.md.
        with self._write(durable=False) as c:
            if c.execute(sql.DELETE_LEASED_ACTIVITY, lease).rowcount == 0:
                raise semantics.activity_lease_lost(item)
            writes.queue_result(c, item, result, now_us)

    def complete_activity_and_step(
        self,
        item: ActivityWorkItem,
        result: HistoryEvent,
        *,
        now: datetime,
        lease: timedelta,
        decide: StepDecider,
    ) -> tuple[OrchestrationWorkItem, OrchestrationCommit] | None:
        """Record an activity's result and, if its instance is free, run its next step, all
        in one durable transaction (see the protocol).

        The result goes straight into the step (as the last message, after anything already
        in the inbox) instead of through the messages table; it is queued there only when
        the instance is busy elsewhere or ``decide`` declines.
        """
        now_us = codec.to_micros(now)
        expires_us = now_us + lease // _MICRO
        held = writes.lease_of(item)
        iid = item.instance_id
        codec.check_event(result, iid)
        with self._write() as c:
            if c.execute(sql.DELETE_LEASED_ACTIVITY, held).rowcount == 0:
                raise semantics.activity_lease_lost(item)
            # No lease is written: this transaction holds SQLite's write lock until the
            # step commits, and FINISH_STEP leaves the lease free, as it found it.
            row = c.execute(sql.GET_FREE_INSTANCE, {"iid": iid, "now": now_us}).fetchone()
            if row is None:
                writes.queue_result(c, item, result, now_us)
                return None
            next_visible = row[len(sql.ROW_COLUMNS_LIST)]
            parts = self._locked_parts(
                c, row, now_us, inbox=next_visible is not None and next_visible <= now_us
            )
            # The result object itself: its payload was normalized through JSON already.
            handed = Message(-1, iid, result, codec.from_micros(now_us), item.execution_id)
            work = self._work_item(writes.lease_of(item)[1], expires_us, *parts, extra=handed)
            commit = decide(work)
            if commit is None:
                writes.queue_result(c, item, result, now_us)
                return None
            p = semantics.prepare_commit(iid, work.instance.name, commit, now)
            base = len(work.history)
            stamp = codec.from_micros(now_us)
            xid = work.instance.execution_id
            writes.apply_step(c, iid, base, commit, p, stamp, now_us, execution_id=xid)
        self._histories.add_commit(iid, work.epoch, base, commit)
        return work, commit

    def complete_activity_with_step(
        self,
        item: ActivityWorkItem,
        result: HistoryEvent,
        step: PlannedStep,
        *,
        now: datetime,
    ) -> bool:
        """Record ``result`` and apply ``step``, decided ahead of time, in one durable
        transaction if the instance is as the step assumed (see the protocol)."""
        now_us = codec.to_micros(now)
        iid = item.instance_id
        inst = step.instance
        codec.check_event(result, iid)
        # Encoded before the transaction: it is the step's largest piece of CPU work.
        p = semantics.prepare_commit(iid, inst.name, step.commit, now)
        with self._write() as c:
            row = c.execute(sql.GET_STEP_STATE, (iid,)).fetchone()
            if row is None or not semantics.as_planned(row, step, now_us):
                writes.delete_finished(c, item)
                writes.queue_result(c, item, result, now_us)
                return False
            # The finished activity's row is reused or deleted by the step; a lost lease
            # raises there and rolls the whole transaction back.
            stamp = codec.from_micros(now_us)
            writes.apply_step(
                c,
                iid,
                step.history_len,
                step.commit,
                p,
                stamp,
                now_us,
                execution_id=inst.execution_id,
                unleased_status=row[5] if row[0] is None else None,
                finished=item,
            )
        self._histories.add_commit(iid, step.epoch, step.history_len, step.commit)
        return True

    def abandon_activity(self, item: ActivityWorkItem) -> None:
        """Release the activity's lease so another worker can run it."""
        with self._write(durable=False) as c:
            c.execute(sql.RELEASE_ACTIVITY, writes.lease_of(item))

    def renew_activity_lease(self, item: ActivityWorkItem, *, until: datetime) -> bool:
        """Extend a running activity's lease; False if the lease was lost."""
        until_us = codec.to_micros(until)
        with self._write(durable=False) as c:
            cur = c.execute(sql.RENEW_ACTIVITY, (until_us, *writes.lease_of(item)))
            return cur.rowcount == 1

    def release_leases(self, owner: str) -> int:
        """Release every instance and activity lease ``owner`` holds; how many."""
        with self._write(durable=False) as c:
            released = c.execute(sql.RELEASE_OWNER_INSTANCES, (owner,)).rowcount
            return released + c.execute(sql.RELEASE_OWNER_ACTIVITIES, (owner,)).rowcount

    def heartbeat_worker(
        self, owner: str, *, host: str, pid: int, now: datetime, expires: datetime
    ) -> None:
        """Record that worker ``owner`` is alive until ``expires`` (registering it)."""
        now_us = codec.to_micros(now)
        forget = codec.to_micros(now - semantics.FORGET_DEAD_WORKERS_AFTER)
        with self._write() as c:
            c.execute(
                sql.HEARTBEAT_WORKER,
                {
                    "owner": owner,
                    "host": host,
                    "pid": pid,
                    "now": now_us,
                    "expires": codec.to_micros(expires),
                },
            )
            c.execute(sql.FORGET_DEAD_WORKERS, (forget,))

    def unregister_worker(self, owner: str) -> None:
        """Forget worker ``owner``."""
        with self._write() as c:
            c.execute(sql.UNREGISTER_WORKER, (owner,))

    def subscribe(
        self, on_work: Callable[[], None], on_activities: Callable[[], None] | None = None
    ) -> Subscription:
        """No notifications: SQLite has no way to tell one process of another's commits, so
        a worker polls for work written by other processes on the same file."""
        return NoNotifications()

    def next_wake_time(self) -> datetime | None:
        """When a lock call can next return work: the earliest visible time of a queued
        message or activity, or its lease expiry while it is leased."""
        with self._read() as c:
            candidates = [
                c.execute(statement).fetchone()
                for statement in (
                    sql.NEXT_FREE_INSTANCE,
                    sql.NEXT_LEASED_INSTANCE,
                    sql.NEXT_FREE_ACTIVITY,
                    sql.NEXT_LEASED_ACTIVITY,
                )
            ]
        times = [r[0] for r in candidates if r is not None and r[0] is not None]
        return codec.from_micros(min(times)) if times else None

    def close(self) -> None:
        """Close every thread's connection. Idempotent."""
        self._connections.close()
