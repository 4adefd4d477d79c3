"""What SQLite transactions write: instance rows, steps, child starts, queued results.

Functions of an open connection inside a write transaction (the caller begins and commits
it), kept apart from :mod:`sqlite`, which owns connections, transactions and reads.
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import datetime

from durableflow.core.history import HistoryEvent
from durableflow.core.status import RuntimeStatus
from durableflow.runtime.store import codec, semantics
from durableflow.runtime.store import sqlite_sql as sql
from durableflow.runtime.store.base import (
    ActivityLease,
    ActivityWorkItem,
    NewInstance,
    OrchestrationCommit,
)

OWNED = (sql.DELETE_HISTORY, sql.DELETE_MESSAGES, sql.DELETE_ACTIVITIES)
"""Deletes of everything an instance owns but its row (a restart or a purge)."""


def create_row(
    c: sqlite3.Connection,
    new: NewInstance,
    input_json: str,
    started: str,
    created_us: int,
    now_us: int,
    replacing: bool,
) -> None:
    """Write a new instance's row (replacing a terminal one) and queue its start."""
    iid = new.instance_id
    if replacing:
        for statement in OWNED:
            c.execute(statement, (iid,))
    c.execute(
        sql.INSERT_INSTANCE,
        (
            iid,
            new.name,
            new.execution_id,
            created_us,
            now_us,
            input_json,
            new.parent_instance_id,
            new.parent_task_id,
            uuid.uuid4().hex,
            now_us,
        ),
    )
    c.execute(sql.INSERT_MESSAGE, (iid, new.execution_id, now_us, started))


def start_child(
    c: sqlite3.Connection,
    parent_id: str,
    parent_xid: str,
    new: NewInstance,
    input_json: str,
    started: str,
    now: datetime,
    now_us: int,
) -> None:
    """Start a sub-orchestration, or answer the parent that its id is taken."""
    row = c.execute(sql.GET_STATUS, (new.instance_id,)).fetchone()
    if new.instance_id == parent_id or (row is not None and not RuntimeStatus(row[0]).is_terminal):
        # A parent cannot replace itself, even when its row still says it ended.
        status = RuntimeStatus.RUNNING if new.instance_id == parent_id else RuntimeStatus(row[0])
        reply = semantics.sub_orchestration_conflict(new, status, now)
        event = codec.encode_event(reply, parent_id)
        c.execute(sql.INSERT_MESSAGE, (parent_id, parent_xid, now_us, event))
        return
    created_us = codec.to_micros(new.created_at)
    create_row(c, new, input_json, started, created_us, now_us, row is not None)


def apply_step(
    c: sqlite3.Connection,
    iid: str,
    base: int,
    commit: OrchestrationCommit,
    p: semantics.PreparedCommit,
    now: datetime,
    now_us: int,
    *,
    lease: tuple[str, datetime] | None = None,
    execution_id: str = "",
    unleased_status: str | None = None,
    finished: ActivityWorkItem | None = None,
) -> bool:
    """Write one step on a history of ``base`` events; False (nothing written) if
    ``lease`` (owner, expiry) no longer holds or the history grew.

    Without ``lease`` the caller has checked the instance in this same transaction (its
    ``execution_id`` is given), so nothing can have changed and nothing is read again;
    ``unleased_status`` is then its status if it holds no lease at all.

    ``finished`` is the activity whose result this step consumes, still leased: its row
    becomes the first activity the step leases to the same worker, or is deleted.

    Raises:
        LeaseLostError: ``finished`` lost its lease (the caller rolls back).
    """
    if lease is not None:
        row = c.execute(sql.GET_LEASE, (iid,)).fetchone()
        if row is None or tuple(row[:3]) != (lease[0], codec.to_micros(lease[1]), base):
            return False
        execution_id = row[3]
    c.executemany(sql.APPEND_HISTORY, [(iid, base + i, ev) for i, ev in enumerate(p.events)])
    lease_to = commit.lease_activities_to
    if finished is not None and (lease_to is None or not commit.lease_limit or not p.activities):
        delete_finished(c, finished)
        finished = None
    k = min(commit.lease_limit, len(p.activities)) if lease_to is not None else 0
    if lease_to is not None and k:
        owner, expires = lease_to
        expires_us = codec.to_micros(expires)
        for tid, name, inp, timeout in p.activities[:k]:
            if finished is not None and (lease_of(finished)[1], finished.execution_id) == (
                owner,
                execution_id,
            ):
                reused = (tid, name, inp, timeout, now_us, owner, expires_us, *lease_of(finished))
                if c.execute(sql.REUSE_ACTIVITY, reused).rowcount == 0:
                    raise semantics.activity_lease_lost(finished)
                work_id, finished = lease_of(finished)[0], None
            else:
                (work_id,) = c.execute(
                    sql.INSERT_LEASED_ACTIVITY,
                    (iid, execution_id, tid, name, inp, timeout, now_us, owner, expires_us),
                ).fetchone()
            row = (work_id, iid, execution_id, tid, name, inp, 1, timeout)
            commit.leased.append(leased_item(row, owner, expires_us))
    if finished is not None:  # leased to someone else after all
        delete_finished(c, finished)
    if len(p.activities) > k:
        c.executemany(
            sql.INSERT_ACTIVITY,
            [
                (iid, execution_id, tid, name, inp, timeout, now_us)
                for tid, name, inp, timeout in p.activities[k:]
            ],
        )
    for new, input_json, started in p.new_instances:
        start_child(c, iid, execution_id, new, input_json, started, now, now_us)
    if p.messages:
        c.executemany(
            sql.INSERT_MESSAGE_IF_EXISTS,
            [(xid, vis, ev, target) for target, ev, vis, xid in p.messages],
        )
        c.executemany(
            sql.LOWER_NEXT_VISIBLE,
            [{"visible": vis, "iid": target} for target, _, vis, _ in p.messages],
        )
    # Negative ids name messages that were handed over without being stored.
    consumed = [(mid, iid) for mid in commit.consumed if mid >= 0]
    if consumed:
        c.executemany(sql.DELETE_MESSAGE, consumed)
    completed = now_us if commit.status.is_terminal else None
    values = (p.output, p.failure, p.custom_status, now_us, completed, base + len(p.events))
    if unleased_status == commit.status.value:
        c.execute(sql.FINISH_STEP_UNLEASED, (*values, iid))
    else:
        c.execute(sql.FINISH_STEP, (commit.status.value, *values, iid))
    if commit.continue_as_new is not None:
        new_xid = commit.continue_as_new
        c.execute(sql.DELETE_HISTORY, (iid,))
        c.execute(
            sql.CONTINUE_AS_NEW,
            (new_xid, uuid.uuid4().hex, p.has_continue_input, p.continue_input, iid),
        )
        c.executemany(sql.INSERT_MESSAGE, [(iid, new_xid, now_us, ev) for ev in p.continue_events])
    if consumed or commit.new_instances or commit.continue_as_new is not None:
        # Otherwise the inbox lost nothing and gained only through LOWER_NEXT_VISIBLE.
        c.execute(sql.REFRESH_NEXT_VISIBLE, (iid,))
    return True


def leased_item(
    row: tuple[int, str, str, int, str, str, int, int | None], owner: str, expires_us: int
) -> ActivityWorkItem:
    """The work item of an activity row (work id, instance, execution, task id, name,
    input JSON, attempt, timeout) just leased to ``owner`` until ``expires_us``."""
    work_id, iid, xid, task_id, name, input_json, attempt, timeout_us = row
    return ActivityWorkItem(
        instance_id=iid,
        execution_id=xid,
        task_id=task_id,
        name=name,
        input=codec.decode_value(input_json),
        attempt=attempt,
        lease_owner=owner,
        lease_expires=codec.from_micros(expires_us),
        # Task id too: a chain step reuses a finished activity's row for the next activity
        # (REUSE_ACTIVITY), so the row's id and attempt alone would name both leases.
        lease=ActivityLease((work_id, owner, attempt, task_id)),
        timeout=codec.opt_duration(timeout_us),
    )


def lease_of(item: ActivityWorkItem) -> tuple[int, str, int, int]:
    """The parameters that identify an activity lease in the activity statements: (work id,
    owner, attempt, task id), as :func:`leased_item` put them in its lease."""
    work_id, owner, attempt, task_id = item.lease.key
    return (work_id, owner, attempt, task_id)


def delete_finished(c: sqlite3.Connection, item: ActivityWorkItem) -> None:
    """Delete a finished activity's row if ``item`` still holds its lease.

    Raises:
        LeaseLostError: it does not (nothing is deleted).
    """
    if c.execute(sql.DELETE_LEASED_ACTIVITY, lease_of(item)).rowcount == 0:
        raise semantics.activity_lease_lost(item)


def queue_result(
    c: sqlite3.Connection, item: ActivityWorkItem, result: HistoryEvent, now_us: int
) -> None:
    """Put an activity's result in its instance's inbox (if the instance exists)."""
    event = codec.encode_event(result, item.instance_id)
    c.execute(sql.INSERT_MESSAGE_IF_EXISTS, (item.execution_id, now_us, event, item.instance_id))
    c.execute(sql.LOWER_NEXT_VISIBLE, {"visible": now_us, "iid": item.instance_id})
