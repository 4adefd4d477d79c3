"""The PostgreSQL store: many workers on many hosts sharing one database.

Work is claimed with ``FOR UPDATE SKIP LOCKED`` and leased (owner, expiry and a fencing
token from a sequence, bumped on every grant and checked by every write made under the
lease); each step is one transaction. Transactions that make work visible now
``pg_notify`` the schema's channel, and :meth:`PostgresStore.subscribe` hears them. All SQL
lives in :mod:`postgres_sql`; URLs, the pool and migrations in :mod:`postgres_connect`;
what write transactions write in :mod:`postgres_writes`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from durableflow.core.errors import InstanceNotFoundError, StoreLockedError
from durableflow.core.history import HistoryEvent
from durableflow.core.ids import validate_instance_id
from durableflow.core.status import RuntimeStatus
from durableflow.runtime.store import codec, semantics
from durableflow.runtime.store import postgres_connect as db
from durableflow.runtime.store import postgres_listen as listen
from durableflow.runtime.store import postgres_rounds as rounds
from durableflow.runtime.store import postgres_sql as sql
from durableflow.runtime.store import postgres_writes as writes
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
from durableflow.runtime.store.postgres_items import WorkItems, read_history
from durableflow.runtime.store.postgres_listen import Listener
from durableflow.runtime.store.postgres_rounds import Rounds

_MICRO = timedelta(microseconds=1)


class PostgresStore:
    """The :class:`~durableflow.runtime.store.base.Store` protocol on a PostgreSQL schema.

    Open it with :func:`~durableflow.runtime.store.open_store` or :meth:`from_url`; the
    schema is created and migrated on first use.

    Raises:
        StoreNotFoundError: the database does not exist, or ``create`` is false and the
            schema holds no store.
        StoreUnavailableError: the server cannot be reached or refuses the credentials.
        StoreError: the schema was migrated by a newer durableflow, or psycopg is missing.
    """

    def __init__(self, target: db.Target, *, url: str, create: bool = True) -> None:
        self.url = url
        self.target = target
        self._writer = uuid.uuid4().hex  # names this object's writes in notifications
        self._items = WorkItems(target.history_cache_size)
        conn = db.connect(target)
        try:
            self.applied_migrations = db.migrate(conn, target, create=create)
            """The migrations this store applied when it opened (usually none)."""
        finally:
            conn.close()
        self._pool = db.Pool(target, url)
        self._write = self._pool.write
        self._read = self._pool.read

    @classmethod
    def from_url(cls, url: str, *, create: bool = True, **options: Any) -> PostgresStore:
        """Open ``postgresql://user@host:port/db?schema=NAME`` (see
        :func:`postgres_connect.parse_url` for the options); with ``create`` false, a
        schema that holds no store is refused instead of created."""
        return cls(db.parse_url(url, options), url=url, create=create)

    def _notify(self, c: Any, kind: str | None) -> None:
        """Notify listeners, in transaction ``c``, of work of ``kind`` made visible now
        (:mod:`postgres_listen`); nothing for None."""
        if self.target.notify and kind is not None:
            rounds.execute(c, sql.NOTIFY, (self.target.channel, listen.payload(self._writer, kind)))

    def _notify_to(self) -> tuple[str, str] | None:
        """The channel and payload of this object's notifications; None with notify off."""
        return (self.target.channel, self._writer) if self.target.notify else None

    def subscribe(
        self, on_work: Callable[[], None], on_activities: Callable[[], None] | None = None
    ) -> Subscription:
        """Call ``on_work`` (from a listener thread) whenever another store object's
        transaction makes work visible now: a new instance, a sent event, a queued activity
        or result, a finished child, a released lease. This object's own writes are not
        announced to it (its caller made them). Reconnects with backoff if the connection
        drops, calling ``on_work`` once on reconnecting for anything missed meanwhile.
        With ``on_activities``, queued activities and given-back activity leases call that
        one instead. With ``?notify=false`` nothing is announced or heard: the worker
        polls."""
        if not self.target.notify:
            return NoNotifications()
        return Listener(self.target, on_work, on_activities=on_activities, ignore=self._writer)

    # -- client side --------------------------------------------------------------------
    def create_instance(self, new: NewInstance, *, now: datetime) -> None:
        """Create an instance atomically and queue its ExecutionStarted message."""
        validate_instance_id(new.instance_id)
        input_json = codec.encode_value(new.input, f"input of orchestration {new.name!r}")
        now_us = codec.to_micros(now)
        created_us = codec.to_micros(new.created_at)
        started_event = semantics.started_event(new, codec.from_micros(now_us))
        started = codec.encode_event(started_event, new.instance_id)
        if self._create_new(new, input_json, started, created_us, now_us):
            self._items.drop(new.instance_id)
            return
        with self._write() as c:
            if not writes.create_row(c, new, input_json, started, created_us, now_us):
                row = rounds.execute(c, sql.GET_STATUS, (new.instance_id,)).fetchone()
                raise semantics.already_exists(new.instance_id, RuntimeStatus(row[0]))
            self._notify(c, listen.ORCHESTRATIONS)
        self._items.drop(new.instance_id)

    def _create_new(
        self, new: NewInstance, input_json: str, started: str, created_us: int, now_us: int
    ) -> bool:
        """:meth:`create_instance` for an id never used (or purged), in one round trip;
        False, with nothing written, for an id an instance holds or held (the general path
        then refuses it or replaces the ended one)."""
        with self._pool.rounds() as tx:
            writes.queue_new_instance(
                tx, new, input_json, started, created_us, now_us, notify=self._notify_to()
            )
            try:
                tx.commit()
            except Exception as exc:
                if getattr(exc, "sqlstate", None) == sql.NOT_A_NEW_ID:
                    return False
                raise
        return True

    def get_instance(self, instance_id: str) -> InstanceRecord | None:
        """The instance row, or None."""
        with self._read() as c:
            row = rounds.execute(c, sql.GET_INSTANCE, (instance_id,)).fetchone()
        return None if row is None else sql.record(row)

    def list_instances(self, query: InstanceQuery) -> list[InstanceRecord]:
        """Instances matching ``query``, newest first."""
        statement, params = sql.list_instances(query)
        with self._read() as c:
            return [sql.record(r) for r in rounds.execute(c, statement, params)]

    def get_history(self, instance_id: str) -> list[HistoryEvent]:
        """The current execution's history, in order (empty if unknown)."""
        with self._read() as c:
            rows = rounds.execute(c, sql.HISTORY_FROM, (instance_id, 0)).fetchall()
        return [codec.decode_event(r[0]) for r in rows]

    def send(self, message: OutgoingMessage, *, now: datetime) -> None:
        """Queue an event for an existing instance (``InstanceNotFoundError`` if none)."""
        iid = validate_instance_id(message.instance_id)
        event = codec.encode_event(message.event, iid)
        now_us = codec.to_micros(now)
        visible_us = codec.to_micros(message.visible_at or now)
        with self._write() as c:
            if not writes.queue(c, iid, message.execution_id, visible_us, event):
                raise InstanceNotFoundError(iid)
            if visible_us <= now_us:
                self._notify(c, listen.ORCHESTRATIONS)

    def purge(self, instance_id: str) -> bool:
        """Delete a terminal instance and everything it owns; False if it did not exist."""
        with self._write() as c:
            writes.lock_rows(c, [instance_id])
            row = rounds.execute(c, sql.GET_STATUS, (instance_id,)).fetchone()
            if row is None:
                return False
            status = RuntimeStatus(row[0])
            if not status.is_terminal:
                raise semantics.not_terminal(instance_id, status)
            writes.delete_owned(c, [instance_id])
            rounds.execute(c, sql.DELETE_INSTANCE, (instance_id,))
        self._items.drop(instance_id)
        return True

    def purge_instances(
        self, *, completed_before: datetime, statuses: frozenset[RuntimeStatus], limit: int
    ) -> int:
        """Delete one batch of ended instances, oldest ending first; the number deleted."""
        semantics.check_purge_filter(statuses, limit)
        wanted = sorted(s.value for s in statuses)
        before = codec.to_micros(completed_before)
        with self._write() as c:
            ids = [r[0] for r in rounds.execute(c, sql.PURGEABLE, (wanted, before, limit))]
            if ids:
                writes.delete_owned(c, ids)
                rounds.execute(c, sql.DELETE_INSTANCES, (ids,))
        for iid in ids:
            self._items.drop(iid)
        return len(ids)

    def list_workers(self, *, now: datetime) -> list[WorkerRecord]:
        """Registered workers, oldest start first, with the leases each holds at ``now``."""
        with self._read() as c:
            rows = rounds.execute(c, sql.LIST_WORKERS, {"now": codec.to_micros(now)}).fetchall()
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
        ordered = sorted(results, key=lambda r: r[0].instance_id)
        events = [codec.encode_event(result, a.instance_id) for a, result in ordered]
        # Round trips: the results' deletes (the queueing depends on them), the queueing and
        # the claim, then the reads of what was claimed with COMMIT.
        with self._pool.rounds(durable=False) as tx:
            if ordered:
                wanted = sorted({a.instance_id for a, _ in ordered})
                tx.add(sql.LOCK_ROWS, (wanted,))
                for activity, _ in ordered:
                    tx.add(sql.DELETE_LEASED_ACTIVITY, writes.lease_of(activity))
                held = tx.send()[1:]
                for (activity, _), event, deleted in zip(ordered, events, held, strict=True):
                    if deleted:
                        iid, xid = activity.instance_id, activity.execution_id
                        tx.add(
                            sql.QUEUE_MESSAGE,
                            {"iid": iid, "xid": xid, "vis": now_us, "event": event},
                        )
            rows: list[Any] = []
            if limit > 0:
                at = tx.add(
                    sql.LOCK_ORCHESTRATIONS,
                    {"owner": owner, "expires": expires_us, "now": now_us, "limit": limit},
                )
                rows = list(tx.send()[at])
            rows.sort(key=lambda r: (r[-1], r[0]))  # RETURNING has no order of its own

            def read_and_commit(reads: list[tuple[str, tuple[Any, ...]]]) -> list[Any]:
                for statement, params in reads:
                    tx.add(statement, params)
                return tx.commit()

            locked = self._items.parts_with(read_and_commit, rows, now_us, True)
            if not rows:
                tx.commit()
        # Decoding happens after the transaction, so other writers do not wait for it.
        return [
            self._items.item(owner, expires_us, parts, history_of=self.get_history)
            for parts in locked
        ]

    def _any(self, statement: str, now_us: int) -> bool:
        with self._read() as c:
            cur = rounds.execute(c, statement, {"now": now_us})
            return cur.fetchone() is not None

    def commit_orchestrations(
        self,
        batch: Sequence[tuple[OrchestrationWorkItem, OrchestrationCommit]],
        *,
        now: datetime,
    ) -> list[bool]:
        """Apply several steps in one transaction, each only if its lease still holds."""
        prepared = [
            semantics.prepare_commit(item.instance.instance_id, item.instance.name, commit, now)
            for item, commit in batch
        ]
        now_us = codec.to_micros(now)
        now = codec.from_micros(now_us)
        leased = [len(commit.leased) for _, commit in batch]
        pairs = [(item.instance.instance_id, commit) for item, commit in batch]
        try:
            if writes.batchable(pairs):
                # One statement per kind of row for the whole batch, in two round trips.
                steps = [
                    (iid, len(item.history), commit, p, (item.lease_owner, item.fence))
                    for (iid, commit), (item, _), p in zip(pairs, batch, prepared, strict=True)
                ]
                with self._pool.rounds() as tx:
                    applied = writes.send_steps(tx, steps, now_us, notify=self._notify_to())
            else:
                with self._write() as c:
                    writes.lock_rows(
                        c, (i for iid, commit in pairs for i in writes.touched(iid, commit))
                    )
                    outcomes = [
                        writes.apply_step(
                            c,
                            item.instance.instance_id,
                            len(item.history),
                            commit,
                            p,
                            now,
                            now_us,
                            lease=(item.lease_owner, item.fence),
                        )
                        for (item, commit), p in zip(batch, prepared, strict=True)
                    ]
                    applied = [ok for ok, _ in outcomes]
                    kinds = {kind for _, kind in outcomes if kind is not None}
                    if kinds:
                        self._notify(c, kinds.pop() if len(kinds) == 1 else listen.ANY_WORK)
        except BaseException:
            for (_, commit), n in zip(batch, leased, strict=True):
                del commit.leased[n:]  # rolled back: those leases do not exist
            raise
        for (item, commit), ok in zip(batch, applied, strict=True):
            if ok:
                self._items.remember(
                    item.instance.instance_id, item.epoch, len(item.history), commit
                )
        return applied

    def abandon_orchestration(self, item: OrchestrationWorkItem) -> None:
        """Release the lease without writing anything (the messages stay queued)."""
        with self._write(durable=False) as c:
            released = rounds.execute(
                c, sql.RELEASE_LEASE, (item.instance.instance_id, item.lease_owner, item.fence)
            )
            if released.fetchone() is not None:
                self._notify(c, listen.ORCHESTRATIONS)

    def lock_activity(
        self, owner: str, *, now: datetime, lease: timedelta
    ) -> ActivityWorkItem | None:
        """Lease the oldest queued activity whose lease is free or expired."""
        now_us = codec.to_micros(now)
        expires_us = now_us + lease // _MICRO
        if not self._any(sql.ANY_READY_ACTIVITY, now_us):
            return None
        with self._pool.rounds(durable=False) as tx:  # one round trip, COMMIT included
            tx.add(sql.LOCK_ACTIVITY, {"owner": owner, "expires": expires_us, "now": now_us})
            (rows,) = tx.commit()
        return writes.leased_item(rows[0], owner, expires_us) if rows else None

    def complete_activity(
        self, item: ActivityWorkItem, result: HistoryEvent, *, now: datetime
    ) -> None:
        """Delete the activity and queue ``result`` for its instance, in one transaction."""
        codec.check_event(result, item.instance_id)
        now_us = codec.to_micros(now)
        event = codec.encode_event(result, item.instance_id)
        with self._pool.rounds(durable=False) as tx:  # two round trips: delete, then queue
            tx.add(sql.DELETE_LEASED_ACTIVITY, writes.lease_of(item))
            (held,) = tx.send()
            if not held:
                raise semantics.activity_lease_lost(item)
            self._queue_result(tx, item, event, now_us)
            tx.commit()

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
        in one transaction (see the protocol).

        The instance's row stays locked from the check to the commit, so no lease is
        written; the result goes straight into the step, and into the inbox only when the
        instance is busy elsewhere or ``decide`` declines. The rows the step sends to are
        locked after the instance's own (they are known only once it is decided), so two
        such steps sending to each other can deadlock: PostgreSQL then aborts one, nothing
        of it is written, and the result is recorded alone in a transaction of its own
        (None), for the instance's next step to take, rather than lost to an activity run
        again.
        """
        try:
            return self._complete_and_step(item, result, now=now, lease=lease, decide=decide)
        except StoreLockedError:
            self.complete_activity(item, result, now=now)
            return None

    def _complete_and_step(
        self,
        item: ActivityWorkItem,
        result: HistoryEvent,
        *,
        now: datetime,
        lease: timedelta,
        decide: StepDecider,
    ) -> tuple[OrchestrationWorkItem, OrchestrationCommit] | None:
        now_us = codec.to_micros(now)
        expires_us = now_us + lease // _MICRO
        iid = item.instance_id
        codec.check_event(result, iid)
        with self._write() as c:
            writes.delete_finished(c, item)
            row = rounds.execute(c, sql.GET_FREE_INSTANCE, {"iid": iid, "now": now_us}).fetchone()
            if row is None:
                writes.queue_result(c, item, result, now_us)
                self._notify(c, listen.ORCHESTRATIONS)
                return None
            next_visible = row[sql.N_ROW + 1]
            (parts,) = self._items.parts(
                c, [row], now_us, inbox=next_visible is not None and next_visible <= now_us
            )
            handed = Message(-1, iid, result, codec.from_micros(now_us), item.execution_id)
            holder = writes.lease_holder(item)
            # Read through this transaction: the pool may have no other connection to give.
            work = self._items.item(
                holder, expires_us, parts, history_of=partial(read_history, c), extra=handed
            )
            commit = decide(work)
            if commit is None:
                writes.queue_result(c, item, result, now_us)
                self._notify(c, listen.ORCHESTRATIONS)
                return None
            p = semantics.prepare_commit(iid, work.instance.name, commit, now)
            # Others' rows only now, after ours: a rare cycle with another transaction is
            # broken by PostgreSQL's deadlock detector (StoreLockedError, nothing written;
            # see complete_activity_and_step).
            writes.lock_rows(c, writes.touched(iid, commit) - {iid})
            base = len(work.history)
            stamp = codec.from_micros(now_us)
            xid = work.instance.execution_id
            _, kind = writes.apply_step(c, iid, base, commit, p, stamp, now_us, execution_id=xid)
            self._notify(c, kind)
        self._items.remember(iid, work.epoch, base, commit)
        return work, commit

    def complete_activity_with_step(
        self,
        item: ActivityWorkItem,
        result: HistoryEvent,
        step: PlannedStep,
        *,
        now: datetime,
    ) -> bool:
        """Record ``result`` and apply ``step``, decided ahead of time, in one transaction if
        the instance is as the step assumed (see the protocol)."""
        now_us = codec.to_micros(now)
        iid = item.instance_id
        inst = step.instance
        codec.check_event(result, iid)
        # Encoded before the transaction: it is the step's largest piece of CPU work.
        p = semantics.prepare_commit(iid, inst.name, step.commit, now)
        leased = len(step.commit.leased)
        try:
            if writes.touched(iid, step.commit) == {iid} and writes.sendable(step.commit):
                done = self._chain_step(item, result, step, p, now_us)
                if done is not None:
                    return done
            with self._write() as c:
                rows = writes.touched(iid, step.commit)
                if rows == {iid}:  # the usual chain step: lock and read in one statement
                    row = rounds.execute(c, sql.LOCK_STEP_STATE, (iid,)).fetchone()
                else:
                    writes.lock_rows(c, rows)
                    row = rounds.execute(c, sql.GET_STEP_STATE, (iid,)).fetchone()
                # Before anything is written: a lost lease raises and rolls it all back.
                writes.delete_finished(c, item)
                if row is None or not semantics.as_planned(row, step, now_us):
                    writes.queue_result(c, item, result, now_us)
                    self._notify(c, listen.ORCHESTRATIONS)
                    return False
                stamp = codec.from_micros(now_us)
                _, kind = writes.apply_step(
                    c,
                    iid,
                    step.history_len,
                    step.commit,
                    p,
                    stamp,
                    now_us,
                    execution_id=inst.execution_id,
                )
                self._notify(c, kind)
        except BaseException:
            del step.commit.leased[leased:]
            raise
        self._items.remember(iid, step.epoch, step.history_len, step.commit)
        return True

    def _queue_result(self, tx: Rounds, item: ActivityWorkItem, event: str, now_us: int) -> None:
        """Queue, in ``tx``'s next round, the result ``event`` for the activity's instance
        (:func:`writes.queue_result`) and the notification of it."""
        iid, xid = item.instance_id, item.execution_id
        tx.add(sql.QUEUE_MESSAGE, {"iid": iid, "xid": xid, "vis": now_us, "event": event})
        writes.queue_notification(
            tx, self._notify_to(), activities=False, mail=True, inboxes=[], now_us=now_us
        )

    def _chain_step(
        self,
        item: ActivityWorkItem,
        result: HistoryEvent,
        step: PlannedStep,
        p: semantics.PreparedCommit,
        now_us: int,
    ) -> bool | None:
        """:meth:`complete_activity_with_step` for the usual step, one that writes to its
        own instance only, in one round trip: the server checks the instance and the lease
        (``refuse_unless``) before the writes of the same round. None if the instance was
        not as planned: nothing was written, and the caller takes the general path."""
        with self._pool.rounds() as tx:
            hand_over = writes.queue_chain_step(tx, item, step, p, now_us, notify=self._notify_to())
            try:
                rows = tx.commit()
            except Exception as exc:
                refused = getattr(exc, "sqlstate", None)
                if refused == sql.ACTIVITY_LEASE_LOST:
                    raise semantics.activity_lease_lost(item) from None
                if refused == sql.NOT_AS_PLANNED:
                    return None
                raise
            hand_over(rows)
        self._items.remember(item.instance_id, step.epoch, step.history_len, step.commit)
        return True

    def abandon_activity(self, item: ActivityWorkItem) -> None:
        """Release the activity's lease so another worker can run it."""
        with self._write(durable=False) as c:
            if (
                rounds.execute(c, sql.RELEASE_ACTIVITY, writes.lease_of(item)).fetchone()
                is not None
            ):
                self._notify(c, listen.ACTIVITIES)

    def renew_activity_lease(self, item: ActivityWorkItem, *, until: datetime) -> bool:
        """Extend a running activity's lease; False if the lease was lost."""
        until_us = codec.to_micros(until)
        with self._write(durable=False) as c:
            cur = rounds.execute(c, sql.RENEW_ACTIVITY, (until_us, *writes.lease_of(item)))
            return cur.fetchone() is not None

    def release_leases(self, owner: str) -> int:
        """Release every instance and activity lease ``owner`` holds; how many."""
        with self._write(durable=False) as c:
            instances = len(rounds.execute(c, sql.RELEASE_OWNER_INSTANCES, (owner,)).fetchall())
            activities = len(rounds.execute(c, sql.RELEASE_OWNER_ACTIVITIES, (owner,)).fetchall())
            self._notify(c, listen.work_kind(activities=activities > 0, mail=instances > 0))
            return instances + activities

    def heartbeat_worker(
        self, owner: str, *, host: str, pid: int, now: datetime, expires: datetime
    ) -> None:
        """Record that worker ``owner`` is alive until ``expires`` (registering it)."""
        now_us = codec.to_micros(now)
        forget = codec.to_micros(now - semantics.FORGET_DEAD_WORKERS_AFTER)
        with self._write() as c:
            rounds.execute(
                c,
                sql.HEARTBEAT_WORKER,
                {
                    "owner": owner,
                    "host": host,
                    "pid": pid,
                    "now": now_us,
                    "expires": codec.to_micros(expires),
                },
            )
            rounds.execute(c, sql.FORGET_DEAD_WORKERS, (forget,))

    def unregister_worker(self, owner: str) -> None:
        """Forget worker ``owner``."""
        with self._write() as c:
            rounds.execute(c, sql.UNREGISTER_WORKER, (owner,))

    def next_wake_time(self) -> datetime | None:
        """When a lock call can next return work: the earliest visible time of a queued
        message or activity, or its lease expiry while it is leased."""
        with self._read() as c:
            (first,) = rounds.execute(c, sql.NEXT_WAKE_TIME).fetchone()
        return None if first is None else codec.from_micros(first)

    def close(self) -> None:
        """Close the pool's connections. Idempotent."""
        self._pool.close()
