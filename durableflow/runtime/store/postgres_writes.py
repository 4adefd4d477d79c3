"""What PostgreSQL transactions write: instance rows, steps, child starts, queued results.

Functions of a connection inside a transaction (the caller begins and commits it), kept
apart from :mod:`postgres`, which owns the pool, transactions and reads. Each returns
whether it made work visible now, so the caller knows whether to notify listeners.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from durableflow.core.history import HistoryEvent
from durableflow.core.status import RuntimeStatus
from durableflow.runtime.store import codec, semantics
from durableflow.runtime.store import postgres_listen as listen
from durableflow.runtime.store import postgres_sql as sql
from durableflow.runtime.store.base import (
    ActivityLease,
    ActivityWorkItem,
    NewInstance,
    OrchestrationCommit,
    PlannedStep,
)
from durableflow.runtime.store.postgres_rounds import Rounds, Rows, execute


def lock_rows(c: Any, ids: Iterable[str]) -> None:
    """Lock the rows of ``ids`` (those that exist) in id order, before writing to them."""
    wanted = sorted(set(ids))
    if wanted:
        execute(c, sql.LOCK_ROWS, (wanted,))


def touched(iid: str, commit: OrchestrationCommit) -> set[str]:
    """The instances a step of ``iid`` writes to: itself, its messages' targets, children."""
    return {
        iid,
        *(m.instance_id for m in commit.messages),
        *(n.instance_id for n in commit.new_instances),
    }


def delete_owned(c: Any, ids: list[str]) -> None:
    """Delete everything instances own but their rows (a restart or a purge)."""
    for statement in (sql.DELETE_HISTORIES, sql.DELETE_MESSAGES_OF, sql.DELETE_ACTIVITIES_OF):
        execute(c, statement, (ids,))


def instance_values(
    new: NewInstance, input_json: str, created_us: int, now_us: int
) -> dict[str, Any]:
    """The parameters of ``UPSERT_INSTANCE`` (and ``CREATE_NEW_INSTANCE``) for ``new``."""
    return {
        "iid": new.instance_id,
        "name": new.name,
        "xid": new.execution_id,
        "created": created_us,
        "now": now_us,
        "input": input_json,
        "parent": new.parent_instance_id,
        "parent_task": new.parent_task_id,
        "epoch": uuid.uuid4().hex,
        "terminal": sql.TERMINAL,
    }


def create_row(
    c: Any, new: NewInstance, input_json: str, started: str, created_us: int, now_us: int
) -> bool:
    """Write a new instance's row (replacing a terminal one) and queue its start; False
    (nothing written) when a live instance holds the id."""
    values = instance_values(new, input_json, created_us, now_us)
    row = execute(c, sql.UPSERT_INSTANCE, values).fetchone()
    if row is None:
        return False
    if row[0]:
        delete_owned(c, [new.instance_id])
    execute(c, sql.INSERT_MESSAGES, (new.instance_id, new.execution_id, now_us, [started]))
    return True


def start_child(
    c: Any,
    parent_id: str,
    parent_xid: str,
    new: NewInstance,
    input_json: str,
    started: str,
    now: datetime,
    now_us: int,
) -> None:
    """Start a sub-orchestration, or answer the parent that its id is taken."""
    # A parent cannot replace itself, even when its row still says it ended.
    if new.instance_id != parent_id and create_row(
        c, new, input_json, started, codec.to_micros(new.created_at), now_us
    ):
        return
    row = execute(c, sql.GET_STATUS, (new.instance_id,)).fetchone()
    status = RuntimeStatus.RUNNING if new.instance_id == parent_id else RuntimeStatus(row[0])
    reply = semantics.sub_orchestration_conflict(new, status, now)
    event = codec.encode_event(reply, parent_id)
    queue(c, parent_id, parent_xid, now_us, event)


def queue(c: Any, iid: str, xid: str | None, visible_us: int, event: str) -> bool:
    """Queue one message for ``iid`` if it exists (locking its row); whether it did."""
    row = execute(
        c, sql.QUEUE_MESSAGE, {"iid": iid, "xid": xid, "vis": visible_us, "event": event}
    ).fetchone()
    return row is not None


def queue_result(c: Any, item: ActivityWorkItem, result: HistoryEvent, now_us: int) -> None:
    """Put an activity's result in its instance's inbox (if the instance exists)."""
    event = codec.encode_event(result, item.instance_id)
    queue(c, item.instance_id, item.execution_id, now_us, event)


def lease_of(item: ActivityWorkItem) -> tuple[int, int]:
    """The (work id, fencing token) that :func:`leased_item` put in an activity's lease."""
    work_id, token, _ = item.lease.key
    return (work_id, token)


def lease_holder(item: ActivityWorkItem) -> str:
    """The owner the activity's lease was granted to (the item's own field is not trusted)."""
    owner: str = item.lease.key[2]
    return owner


def delete_finished(c: Any, item: ActivityWorkItem) -> None:
    """Delete a finished activity's row if ``item`` still holds its lease.

    Raises:
        LeaseLostError: it does not (nothing is deleted).
    """
    if execute(c, sql.DELETE_LEASED_ACTIVITY, lease_of(item)).fetchone() is None:
        raise semantics.activity_lease_lost(item)


def leased_item(row: Any, owner: str, expires_us: int) -> ActivityWorkItem:
    """The work item of an activity row (work id, instance, execution, task id, name,
    input JSON, attempt, timeout, fencing token) just leased to ``owner``."""
    work_id, iid, xid, task_id, name, input_json, attempt, timeout_us, token = row
    return ActivityWorkItem(
        instance_id=iid,
        execution_id=xid,
        task_id=task_id,
        name=name,
        input=codec.decode_value(input_json),
        attempt=attempt,
        lease_owner=owner,
        lease_expires=codec.from_micros(expires_us),
        # The token is unique over every grant of every activity, so it alone names this one.
        lease=ActivityLease((work_id, token, owner)),
        timeout=codec.opt_duration(timeout_us),
    )


def apply_step(
    c: Any,
    iid: str,
    base: int,
    commit: OrchestrationCommit,
    p: semantics.PreparedCommit,
    now: datetime,
    now_us: int,
    *,
    lease: tuple[str, int] | None = None,
    execution_id: str = "",
) -> tuple[bool, str | None]:
    """Write one step on a history of ``base`` events: (applied, the kind of work it made
    visible now for :func:`postgres_listen.work_kind`, None for none).

    With ``lease`` (owner, fencing token) the step is applied only if that lease still
    holds and the history did not grow; without it the caller checked the instance in this
    transaction and gives its ``execution_id``. The caller has locked every row the step
    writes to (:func:`touched`).
    """
    if lease is not None:
        row = execute(c, sql.GET_LEASE, (iid,)).fetchone()
        if row is None or tuple(row[:3]) != (lease[0], lease[1], base):
            return False, None
        execution_id = row[3]
    queued = mail = False
    if p.events:
        execute(c, sql.APPEND_HISTORY, (iid, base, p.events))
    lease_to = commit.lease_activities_to
    k = min(commit.lease_limit, len(p.activities)) if lease_to is not None else 0
    if lease_to is not None and k:
        owner, expires = lease_to
        expires_us = codec.to_micros(expires)
        for tid, name, inp, timeout in p.activities[:k]:
            work_id, token = execute(
                c,
                sql.INSERT_LEASED_ACTIVITY,
                (iid, execution_id, tid, name, inp, timeout, now_us, owner, expires_us),
            ).fetchone()
            row = (work_id, iid, execution_id, tid, name, inp, 1, timeout, token)
            commit.leased.append(leased_item(row, owner, expires_us))
    rest = p.activities[k:]
    if rest:
        execute(
            c,
            sql.INSERT_ACTIVITIES,
            _activity_columns(iid, execution_id, now_us, rest),
        )
        queued = True
    for new, input_json, started in p.new_instances:
        start_child(c, iid, execution_id, new, input_json, started, now, now_us)
        mail = True
    if p.messages:
        execute(
            c,
            sql.QUEUE_MESSAGES,
            _message_columns(p),
        )
        mail = mail or any(m[2] <= now_us for m in p.messages)
    # Negative ids name messages that were handed over without being stored.
    consumed = [mid for mid in commit.consumed if mid >= 0]
    if consumed:
        execute(c, sql.DELETE_CONSUMED, (iid, consumed))
    values = _finish_values(iid, base, commit, p, now_us)
    if commit.continue_as_new is None:
        (left,) = execute(c, sql.FINISH_STEP_REFRESH, values).fetchone()
    else:
        execute(c, sql.FINISH_STEP, values)
        new_xid = commit.continue_as_new
        execute(c, sql.DELETE_HISTORY, (iid,))
        execute(
            c,
            sql.CONTINUE_AS_NEW,
            (new_xid, uuid.uuid4().hex, p.has_continue_input, p.continue_input, iid),
        )
        execute(c, sql.INSERT_MESSAGES, (iid, new_xid, now_us, p.continue_events))
        (left,) = execute(c, sql.REFRESH_NEXT_VISIBLE, (iid,)).fetchone()
    # The lease is free again: mail left in the inbox is work for any worker now.
    mail = mail or (left is not None and left <= now_us)
    return True, listen.work_kind(activities=queued, mail=mail)


def batchable(batch: list[tuple[str, OrchestrationCommit]]) -> bool:
    """Whether steps can be written by :func:`send_steps`: distinct instances, none
    starting a child or continuing as new (those read and reset rows as they go)."""
    ids = [iid for iid, _ in batch]
    return len(set(ids)) == len(ids) and all(
        not commit.new_instances and commit.continue_as_new is None for _, commit in batch
    )


def queue_notification(
    tx: Rounds,
    notify: tuple[str, str] | None,
    *,
    activities: bool,
    mail: bool,
    inboxes: list[str],
    now_us: int,
) -> None:
    """Queue in ``tx`` the notification (``notify``: channel and writer, None for none) of
    what its steps made visible now: activities queued, mail sent, and, decided by the
    server, mail left in the steps' own ``inboxes`` (rows this transaction holds locked),
    which is work for any worker once their leases are free again."""
    if notify is None:
        return
    channel, writer = notify
    kind = listen.work_kind(activities=activities, mail=mail)
    if kind is not None:
        tx.add(sql.NOTIFY, (channel, listen.payload(writer, kind)))
    if not mail and inboxes:
        ready = listen.payload(writer, listen.ORCHESTRATIONS)
        tx.add(sql.NOTIFY_IF_READY, (channel, ready, inboxes, now_us))


Step = tuple[str, int, OrchestrationCommit, semantics.PreparedCommit, tuple[str, int]]
"""A step for :func:`send_steps`: instance id, history length, commit, its encoding, and
the lease (owner, fencing token) it was decided under."""


def send_steps(
    tx: Rounds, steps: list[Step], now_us: int, *, notify: tuple[str, str] | None
) -> list[bool]:
    """Write several steps (:func:`batchable`) with one statement per kind of row, rather
    than one per step, and commit ``tx``: which were applied.

    Two round trips: the first locks every row the steps write to, in id order, and reads
    their leases; the second applies each step whose lease still holds and whose history
    did not grow, as :func:`apply_step` does, notifies (``notify``: channel and writer)
    where that made work visible now, and commits.
    """
    ids: set[str] = set()
    for iid, _, commit, _, _ in steps:
        ids |= touched(iid, commit)
    tx.add(sql.LOCK_LEASES, (sorted(ids),))
    (locked,) = tx.send()
    state = {r[0]: r[1:] for r in locked}
    applied: list[bool] = []
    # Column arrays, one list per parameter of the statement that writes them.
    history: list[list[Any]] = [[], [], []]
    acts: list[list[Any]] = [[] for _ in range(8)]
    msgs: list[list[Any]] = [[], [], [], []]
    consumed: list[list[Any]] = [[], []]
    finish: list[list[Any]] = [[] for _ in range(8)]
    to_lease: list[tuple[OrchestrationCommit, str, str, int, tuple[Any, ...]]] = []
    queued = mail = False
    for iid, base, commit, p, (owner, fence) in steps:
        row = state.get(iid)
        ok = row is not None and (row[0], row[1], row[2]) == (owner, fence, base)
        applied.append(ok)
        if not ok:
            continue
        xid = row[3]  # type: ignore[index]
        for n, event in enumerate(p.events):
            for column, value in zip(history, (iid, base + n, event), strict=True):
                column.append(value)
        lease_to = commit.lease_activities_to
        k = min(commit.lease_limit, len(p.activities)) if lease_to is not None else 0
        for j, activity in enumerate(p.activities):
            holder, expires_us = None, None
            if lease_to is not None and j < k:
                holder, expires_us = lease_to[0], codec.to_micros(lease_to[1])
                to_lease.append((commit, iid, xid, expires_us, activity))
            else:
                queued = True
            for column, value in zip(acts, (iid, xid, *activity, holder, expires_us), strict=True):
                column.append(value)
        for target, event, vis, message_xid in p.messages:
            for column, value in zip(msgs, (target, message_xid, vis, event), strict=True):
                column.append(value)
            mail = mail or vis <= now_us
        for mid in commit.consumed:
            if mid >= 0:  # negative ids name messages handed over without being stored
                consumed[0].append(iid)
                consumed[1].append(mid)
        completed = now_us if commit.status.is_terminal else None
        values = (iid, commit.status.value, p.output, p.failure, p.custom_status, now_us)
        for column, value in zip(finish, (*values, completed, base + len(p.events)), strict=True):
            column.append(value)
    if history[0]:
        tx.add(sql.APPEND_HISTORIES, history)
    grants_at = tx.add(sql.INSERT_ACTIVITIES_MANY, (now_us, *acts)) if acts[0] else None
    if msgs[0]:
        tx.add(sql.QUEUE_MESSAGES, msgs)
    if consumed[0]:
        tx.add(sql.DELETE_CONSUMED_MANY, consumed)
    if finish[0]:
        tx.add(sql.FINISH_STEPS, finish)
    queue_notification(tx, notify, activities=queued, mail=mail, inboxes=finish[0], now_us=now_us)
    rows = tx.commit()
    if grants_at is not None:
        grants = {(r[0], r[1]): (r[2], r[3]) for r in rows[grants_at]}
        for commit, iid, xid, expires_us, (tid, name, inp, timeout) in to_lease:
            work_id, token = grants[(iid, tid)]
            holder = commit.lease_activities_to[0]  # type: ignore[index]
            item = (work_id, iid, xid, tid, name, inp, 1, timeout, token)
            commit.leased.append(leased_item(item, holder, expires_us))
    return applied


def sendable(commit: OrchestrationCommit) -> bool:
    """Whether :func:`queue_step` can write ``commit``: it starts no child and does not
    continue as new (those read rows and decide as they go)."""
    return not commit.new_instances and commit.continue_as_new is None


def queue_step(
    tx: Rounds,
    iid: str,
    base: int,
    commit: OrchestrationCommit,
    p: semantics.PreparedCommit,
    now_us: int,
    *,
    execution_id: str,
    notify: tuple[str, str] | None,
) -> Callable[[list[Rows]], None]:
    """Queue in ``tx`` the statements :func:`apply_step` would execute for a
    :func:`sendable` step whose instance this transaction checked and locked, and the
    notification (``notify`` is the channel and writer, None for none) where
    :func:`apply_step` would say it made work visible now. Returns what to call with the
    rows of the round that sent them: it hands the leased activities to ``commit``."""
    if p.events:
        tx.add(sql.APPEND_HISTORY, (iid, base, p.events))
    lease_to = commit.lease_activities_to
    k = min(commit.lease_limit, len(p.activities)) if lease_to is not None else 0
    grants: list[tuple[int, tuple[Any, ...]]] = []
    expires_us = 0
    if lease_to is not None and k:
        owner, expires = lease_to
        expires_us = codec.to_micros(expires)
        for tid, name, inp, timeout in p.activities[:k]:
            at = tx.add(
                sql.INSERT_LEASED_ACTIVITY,
                (iid, execution_id, tid, name, inp, timeout, now_us, owner, expires_us),
            )
            grants.append((at, (tid, name, inp, timeout)))
    rest = p.activities[k:]
    queued, mail = bool(rest), False
    if rest:
        tx.add(
            sql.INSERT_ACTIVITIES,
            _activity_columns(iid, execution_id, now_us, rest),
        )
    if p.messages:
        tx.add(
            sql.QUEUE_MESSAGES,
            _message_columns(p),
        )
        mail = any(m[2] <= now_us for m in p.messages)
    consumed = [mid for mid in commit.consumed if mid >= 0]  # negative: never stored
    if consumed:
        tx.add(sql.DELETE_CONSUMED, (iid, consumed))
    values = _finish_values(iid, base, commit, p, now_us)
    tx.add(sql.FINISH_STEP_REFRESH, values)
    queue_notification(tx, notify, activities=queued, mail=mail, inboxes=[iid], now_us=now_us)

    def hand_over(rows: list[Rows]) -> None:
        for at, (tid, name, inp, timeout) in grants:
            work_id, token = rows[at][0]
            row = (work_id, iid, execution_id, tid, name, inp, 1, timeout, token)
            commit.leased.append(leased_item(row, lease_to[0], expires_us))  # type: ignore[index]

    return hand_over


def queue_chain_step(
    tx: Rounds,
    item: ActivityWorkItem,
    step: PlannedStep,
    p: semantics.PreparedCommit,
    now_us: int,
    *,
    notify: tuple[str, str] | None,
) -> Callable[[list[Rows]], None]:
    """Queue in ``tx`` a planned step that completes ``item`` and writes to its own instance
    only (:func:`sendable`): the server's checks first, that the instance is as ``step``
    assumed (refused with ``NOT_AS_PLANNED``) and that the activity's lease holds (refused
    with ``ACTIVITY_LEASE_LOST``), then :func:`queue_step`'s writes. Returns what
    :func:`queue_step` returns."""
    iid, inst = item.instance_id, step.instance
    planned = {
        "iid": iid,
        "now": now_us,
        "len": step.history_len,
        "xid": inst.execution_id,
        "epoch": step.epoch,
    }
    tx.add(sql.CHECK_STEP_STATE, planned)
    tx.add(sql.TAKE_LEASED_ACTIVITY, lease_of(item))
    return queue_step(
        tx,
        iid,
        step.history_len,
        step.commit,
        p,
        now_us,
        execution_id=inst.execution_id,
        notify=notify,
    )


def queue_new_instance(
    tx: Rounds,
    new: NewInstance,
    input_json: str,
    started: str,
    created_us: int,
    now_us: int,
    *,
    notify: tuple[str, str] | None,
) -> None:
    """Queue in ``tx`` the row and start of an instance whose id is new (refused with
    ``NOT_A_NEW_ID`` otherwise, see ``CREATE_NEW_INSTANCE``) and the notification of it."""
    tx.add(sql.CREATE_NEW_INSTANCE, instance_values(new, input_json, created_us, now_us))
    tx.add(sql.INSERT_MESSAGES, (new.instance_id, new.execution_id, now_us, [started]))
    queue_notification(tx, notify, activities=False, mail=True, inboxes=[], now_us=now_us)


def _finish_values(
    iid: str, base: int, commit: OrchestrationCommit, p: semantics.PreparedCommit, now_us: int
) -> tuple[Any, ...]:
    """The parameters of ``FINISH_STEP`` / ``FINISH_STEP_REFRESH`` for one step."""
    completed = now_us if commit.status.is_terminal else None
    return (
        commit.status.value,
        p.output,
        p.failure,
        p.custom_status,
        now_us,
        completed,
        base + len(p.events),
        iid,
    )


def _activity_columns(
    iid: str, execution_id: str, now_us: int, activities: list[Any]
) -> tuple[Any, ...]:
    """The parameters of ``INSERT_ACTIVITIES``: one array per column of the new rows."""
    return (
        iid,
        execution_id,
        now_us,
        [a[0] for a in activities],
        [a[1] for a in activities],
        [a[2] for a in activities],
        [a[3] for a in activities],
    )


def _message_columns(p: semantics.PreparedCommit) -> tuple[list[Any], ...]:
    """The parameters of ``QUEUE_MESSAGES`` for a step's outgoing messages."""
    return (
        [m[0] for m in p.messages],
        [m[3] for m in p.messages],
        [m[2] for m in p.messages],
        [m[1] for m in p.messages],
    )
