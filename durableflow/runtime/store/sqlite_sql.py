"""Every SQL statement of the SQLite backend, and its schema migrations.

Times are integer microseconds since the Unix epoch (UTC) so they compare and sort as
integers; payloads and events are JSON text. A PostgreSQL backend gets its own module of
this shape (``FOR UPDATE SKIP LOCKED`` where this one relies on SQLite's single writer).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from durableflow.core.status import RuntimeStatus
from durableflow.runtime.store import codec
from durableflow.runtime.store.base import InstanceQuery, InstanceRecord

# "DFLW": marks a file as a durableflow database, so we never adopt someone else's.
APPLICATION_ID = 0x44464C57

# -- connection set-up and transactions ---------------------------------------------------
# Why: wait up to the busy timeout (ms) for another writer instead of failing at once.
SET_BUSY_TIMEOUT = "PRAGMA busy_timeout = {ms:d}"
# Why: FULL fsyncs the WAL at every commit, so a committed step survives power loss, not just
# a process crash; NORMAL for transactions no client can observe (docs/storage.md).
SET_SYNCHRONOUS = "PRAGMA synchronous = {level}"
# Why: WAL lets readers (clients polling status) run alongside the one writer, and a commit
# is one sequential append; the mode is stored in the file, so this runs once per open.
SET_WAL = "PRAGMA journal_mode = WAL"
# Why: after a checkpoint, shrink the WAL back to 64 MiB instead of keeping its peak size.
SET_JOURNAL_SIZE_LIMIT = "PRAGMA journal_size_limit = 67108864"
# IMMEDIATE takes the write lock up front: a writer waits at BEGIN (busy timeout) instead of
# failing later when one of its reads would have to upgrade to a write.
BEGIN_WRITE = "BEGIN IMMEDIATE"
COMMIT = "COMMIT"
ROLLBACK = "ROLLBACK"

# Named migrations, applied in order, each recorded in `migrations` (sqlite-utils style).
# Never edit a published migration: append a new one.
MIGRATIONS: list[tuple[str, list[str]]] = [
    (
        "0001_initial",
        [
            # Why: marks the file as durableflow's, so opening never adopts another
            # application's database (see sqlite_connect.check_file).
            f"PRAGMA application_id = {APPLICATION_ID}",
            # next_visible_at caches MIN(messages.visible_at) for the instance so that
            # finding work is one index range scan over instances, however many messages
            # are queued; history_len makes the commit's "history unchanged" check O(1);
            # history_epoch changes whenever the history is reset (new start, continue as
            # new) so cached histories can be validated cheaply.
            """CREATE TABLE IF NOT EXISTS instances (
                instance_id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                execution_id TEXT NOT NULL,
                status TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                completed_at INTEGER,
                input TEXT,
                output TEXT,
                failure TEXT,
                custom_status TEXT,
                parent_instance_id TEXT,
                parent_task_id INTEGER,
                history_epoch TEXT NOT NULL,
                history_len INTEGER NOT NULL DEFAULT 0,
                next_visible_at INTEGER,
                lease_owner TEXT,
                lease_expires INTEGER
            )""",
            (
                "CREATE INDEX IF NOT EXISTS instances_ready "
                "ON instances (next_visible_at, instance_id)"
            ),
            "CREATE INDEX IF NOT EXISTS instances_leased ON instances (lease_expires)",
            "CREATE INDEX IF NOT EXISTS instances_created ON instances (created_at)",
            "CREATE INDEX IF NOT EXISTS instances_status ON instances (status, created_at)",
            """CREATE TABLE IF NOT EXISTS history (
                instance_id TEXT NOT NULL,
                seq INTEGER NOT NULL,
                event TEXT NOT NULL,
                PRIMARY KEY (instance_id, seq)
            ) WITHOUT ROWID""",
            # AUTOINCREMENT: message ids are never reused, so "ordered by message id" is
            # arrival order and a stale id can never name a newer message.
            """CREATE TABLE IF NOT EXISTS messages (
                message_id INTEGER PRIMARY KEY AUTOINCREMENT,
                instance_id TEXT NOT NULL,
                execution_id TEXT,
                visible_at INTEGER NOT NULL,
                event TEXT NOT NULL
            )""",
            "CREATE INDEX IF NOT EXISTS messages_inbox ON messages (instance_id, visible_at)",
            """CREATE TABLE IF NOT EXISTS activities (
                work_id INTEGER PRIMARY KEY AUTOINCREMENT,
                instance_id TEXT NOT NULL,
                execution_id TEXT NOT NULL,
                task_id INTEGER NOT NULL,
                name TEXT NOT NULL,
                input TEXT NOT NULL,
                visible_at INTEGER NOT NULL,
                attempt INTEGER NOT NULL DEFAULT 0,
                lease_owner TEXT,
                lease_expires INTEGER
            )""",
            (
                "CREATE INDEX IF NOT EXISTS activities_leased "
                "ON activities (lease_expires, visible_at)"
            ),
            "CREATE INDEX IF NOT EXISTS activities_instance ON activities (instance_id)",
        ],
    ),
    (
        # The per-attempt timeout a call_activity asked for, in microseconds (NULL: the
        # worker's default).
        "0002_activity_timeout",
        ["ALTER TABLE activities ADD COLUMN timeout_us INTEGER"],
    ),
    (
        # Bulk purges by status and end time read this range instead of the whole table.
        "0003_instances_completed",
        ["CREATE INDEX IF NOT EXISTS instances_completed ON instances (status, completed_at)"],
    ),
    (
        # Worker identity and heartbeat (durable workers); times in microseconds.
        "0004_workers",
        [
            """CREATE TABLE IF NOT EXISTS workers (
                owner TEXT PRIMARY KEY,
                host TEXT NOT NULL,
                pid INTEGER NOT NULL,
                started_at INTEGER NOT NULL,
                heartbeat_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL
            )"""
        ],
    ),
]

CREATE_MIGRATIONS = """CREATE TABLE IF NOT EXISTS migrations (
    name TEXT PRIMARY KEY,
    applied_at TEXT NOT NULL
)"""
APPLIED_MIGRATIONS = "SELECT name FROM migrations"
RECORD_MIGRATION = "INSERT INTO migrations (name, applied_at) VALUES (?, ?)"

APPLICATION_ID_QUERY = "PRAGMA application_id"
TABLE_NAMES = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"

# -- instances -----------------------------------------------------------------------------
ROW_COLUMNS = (
    "instance_id, name, execution_id, status, created_at, updated_at, completed_at, input, "
    "output, failure, custom_status, parent_instance_id, parent_task_id, history_epoch, "
    "history_len"
)
ROW_COLUMNS_LIST = tuple(c.strip() for c in ROW_COLUMNS.split(","))
GET_INSTANCE = f"SELECT {ROW_COLUMNS} FROM instances WHERE instance_id = ?"
GET_STATUS = "SELECT status FROM instances WHERE instance_id = ?"
GET_LEASE = (
    "SELECT lease_owner, lease_expires, history_len, execution_id FROM instances "
    "WHERE instance_id = ?"
)
INSERT_INSTANCE = """INSERT OR REPLACE INTO instances (
    instance_id, name, execution_id, status, created_at, updated_at, input,
    parent_instance_id, parent_task_id, history_epoch, history_len, next_visible_at
) VALUES (?, ?, ?, 'PENDING', ?, ?, ?, ?, ?, ?, 0, ?)"""
DELETE_INSTANCE = "DELETE FROM instances WHERE instance_id = ?"
# One batch of a bulk purge: ended instances by status and end time, oldest first
# (index instances_completed, migration 0003).
PURGEABLE = """SELECT instance_id FROM instances
WHERE status IN (SELECT value FROM json_each(?)) AND completed_at < ?
ORDER BY completed_at, instance_id LIMIT ?"""

_READY_INSTANCE = """SELECT instance_id FROM instances INDEXED BY instances_ready
    WHERE next_visible_at <= :now AND (lease_expires IS NULL OR lease_expires <= :now)
    ORDER BY next_visible_at, instance_id LIMIT 1"""
# Idle workers poll: answering "nothing to do" with a read (which never waits in WAL)
# keeps them from queueing for the write lock just to find out.
ANY_READY_INSTANCE = _READY_INSTANCE
LOCK_ORCHESTRATION = f"""UPDATE instances SET lease_owner = :owner, lease_expires = :expires
WHERE instance_id = ({_READY_INSTANCE})
RETURNING {ROW_COLUMNS}"""

# The instance an activity result is handed to, if no one holds it (the caller is inside a
# write transaction, so nobody can take it before the step commits).
GET_FREE_INSTANCE = f"""SELECT {ROW_COLUMNS}, next_visible_at FROM instances
WHERE instance_id = :iid AND (lease_expires IS NULL OR lease_expires <= :now)"""

# What a step decided ahead of time assumed about its instance (see
# SqliteStore.complete_activity_with_step).
GET_STEP_STATE = """SELECT lease_expires, history_len, execution_id, history_epoch,
    next_visible_at, status FROM instances WHERE instance_id = ?"""

FINISH_STEP = """UPDATE instances SET
    status = ?, output = ?, failure = ?, custom_status = ?, updated_at = ?, completed_at = ?,
    history_len = ?, lease_owner = NULL, lease_expires = NULL
WHERE instance_id = ?"""
# FINISH_STEP for an instance whose status stays the same and that holds no lease: an
# indexed column in SET is re-indexed even when its value does not change, and each index
# touched is one more page to write and fsync.
FINISH_STEP_UNLEASED = """UPDATE instances SET
    output = ?, failure = ?, custom_status = ?, updated_at = ?, completed_at = ?,
    history_len = ?
WHERE instance_id = ?"""
CONTINUE_AS_NEW = """UPDATE instances SET
    execution_id = ?, history_epoch = ?, history_len = 0, status = 'CONTINUED_AS_NEW',
    input = CASE WHEN ? THEN ? ELSE input END
WHERE instance_id = ?"""
RELEASE_LEASE = """UPDATE instances SET lease_owner = NULL, lease_expires = NULL
WHERE instance_id = ? AND lease_owner = ? AND lease_expires = ?"""
REFRESH_NEXT_VISIBLE = """UPDATE instances SET next_visible_at =
    (SELECT MIN(visible_at) FROM messages WHERE messages.instance_id = instances.instance_id)
WHERE instance_id = ?"""
LOWER_NEXT_VISIBLE = """UPDATE instances
SET next_visible_at = MIN(COALESCE(next_visible_at, :visible), :visible)
WHERE instance_id = :iid"""

# -- history -------------------------------------------------------------------------------
HISTORY_FROM = "SELECT event FROM history WHERE instance_id = ? AND seq >= ? ORDER BY seq"
APPEND_HISTORY = "INSERT INTO history (instance_id, seq, event) VALUES (?, ?, ?)"
DELETE_HISTORY = "DELETE FROM history WHERE instance_id = ?"

# -- messages ------------------------------------------------------------------------------
INSERT_MESSAGE = """INSERT INTO messages (instance_id, execution_id, visible_at, event)
VALUES (?, ?, ?, ?)"""
# Events for instances that do not exist are dropped: the SELECT yields no row for them.
INSERT_MESSAGE_IF_EXISTS = """INSERT INTO messages (instance_id, execution_id, visible_at, event)
SELECT instance_id, ?, ?, ? FROM instances WHERE instance_id = ?"""
VISIBLE_MESSAGES = """SELECT message_id, execution_id, visible_at, event FROM messages
WHERE instance_id = ? AND visible_at <= ? ORDER BY message_id"""
DELETE_MESSAGE = "DELETE FROM messages WHERE message_id = ? AND instance_id = ?"
DELETE_MESSAGES = "DELETE FROM messages WHERE instance_id = ?"

# -- activities ----------------------------------------------------------------------------
INSERT_ACTIVITY = """INSERT INTO activities
    (instance_id, execution_id, task_id, name, input, timeout_us, visible_at)
VALUES (?, ?, ?, ?, ?, ?, ?)"""
INSERT_LEASED_ACTIVITY = """INSERT INTO activities
    (instance_id, execution_id, task_id, name, input, timeout_us, visible_at, lease_owner,
     lease_expires, attempt)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1) RETURNING work_id"""
_READY_ACTIVITY = """SELECT work_id FROM activities
    WHERE visible_at <= :now AND (lease_expires IS NULL OR lease_expires <= :now)
    ORDER BY work_id LIMIT 1"""
ANY_READY_ACTIVITY = _READY_ACTIVITY
LOCK_ACTIVITY = f"""UPDATE activities
SET lease_owner = :owner, lease_expires = :expires, attempt = attempt + 1
WHERE work_id = ({_READY_ACTIVITY})
RETURNING work_id, instance_id, execution_id, task_id, name, input, attempt, timeout_us"""
# An activity lease is (work id, owner, attempt, task id): the task id because a chain's
# row is reused for its next activity (REUSE_ACTIVITY), so a work id alone no longer names
# one activity.
DELETE_LEASED_ACTIVITY = """DELETE FROM activities
WHERE work_id = ? AND lease_owner = ? AND attempt = ? AND task_id = ?"""
RELEASE_ACTIVITY = """UPDATE activities SET lease_owner = NULL, lease_expires = NULL
WHERE work_id = ? AND lease_owner = ? AND attempt = ? AND task_id = ?"""
RENEW_ACTIVITY = """UPDATE activities SET lease_expires = ?
WHERE work_id = ? AND lease_owner = ? AND attempt = ? AND task_id = ?"""
# A finished activity's row becomes the next activity its step leases to the same worker:
# one UPDATE instead of a DELETE and an INSERT, and two fewer pages to fsync (the
# instance index and the AUTOINCREMENT counter are left alone).
REUSE_ACTIVITY = """UPDATE activities SET task_id = ?, name = ?, input = ?, timeout_us = ?,
    visible_at = ?, lease_owner = ?, lease_expires = ?, attempt = 1
WHERE work_id = ? AND lease_owner = ? AND attempt = ? AND task_id = ?"""
DELETE_ACTIVITIES = "DELETE FROM activities WHERE instance_id = ?"

# -- a stopping worker's leases ------------------------------------------------------------
# "lease_expires IS NOT NULL" lets each UPDATE walk only the leased rows of its lease index.
RELEASE_OWNER_INSTANCES = """UPDATE instances SET lease_owner = NULL, lease_expires = NULL
WHERE lease_expires IS NOT NULL AND lease_owner = ?"""
RELEASE_OWNER_ACTIVITIES = """UPDATE activities SET lease_owner = NULL, lease_expires = NULL
WHERE lease_expires IS NOT NULL AND lease_owner = ?"""

# -- wake-up time --------------------------------------------------------------------------
# Free work is ready at its visible time; leased work no earlier than its lease expiry.
# INDEXED BY: without statistics the planner may pick the other index, which would walk
# every idle instance; these walk only instances with mail, and only leased instances.
NEXT_FREE_INSTANCE = """SELECT next_visible_at FROM instances INDEXED BY instances_ready
WHERE next_visible_at IS NOT NULL AND lease_expires IS NULL ORDER BY next_visible_at LIMIT 1"""
NEXT_LEASED_INSTANCE = """SELECT MIN(MAX(next_visible_at, lease_expires))
FROM instances INDEXED BY instances_leased
WHERE lease_expires IS NOT NULL AND next_visible_at IS NOT NULL"""
NEXT_FREE_ACTIVITY = """SELECT MIN(visible_at) FROM activities WHERE lease_expires IS NULL"""
NEXT_LEASED_ACTIVITY = """SELECT MIN(MAX(visible_at, lease_expires)) FROM activities
WHERE lease_expires IS NOT NULL"""


def list_instances(query: InstanceQuery) -> tuple[str, list[Any]]:
    """The SELECT for :meth:`Store.list_instances` and its parameters."""
    where: list[str] = []
    params: list[Any] = []
    if query.statuses is not None:
        statuses = sorted(s.value for s in query.statuses)
        where.append(f"status IN ({', '.join('?' * len(statuses))})" if statuses else "0")
        params.extend(statuses)
    if query.created_from is not None:
        where.append("created_at >= ?")
        params.append(codec.to_micros(query.created_from))
    if query.created_to is not None:
        where.append("created_at <= ?")
        params.append(codec.to_micros(query.created_to))
    if query.name_prefix is not None:
        where.append("substr(name, 1, ?) = ?")
        params.extend([len(query.name_prefix), query.name_prefix])
    if query.instance_id_prefix is not None:
        where.append("substr(instance_id, 1, ?) = ?")
        params.extend([len(query.instance_id_prefix), query.instance_id_prefix])
    if query.after is not None:
        after_us = codec.to_micros(query.after[0])
        where.append("(created_at < ? OR (created_at = ? AND instance_id < ?))")
        params.extend([after_us, after_us, query.after[1]])
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    sql = (
        f"SELECT {ROW_COLUMNS} FROM instances{clause} "
        "ORDER BY created_at DESC, instance_id DESC LIMIT ?"
    )
    return sql, [*params, query.limit]


def record(row: Sequence[Any]) -> InstanceRecord:
    """The InstanceRecord for a row selected with ``ROW_COLUMNS``."""
    return InstanceRecord(
        instance_id=row[0],
        name=row[1],
        execution_id=row[2],
        status=RuntimeStatus(row[3]),
        created_at=codec.from_micros(row[4]),
        updated_at=codec.from_micros(row[5]),
        completed_at=codec.opt_from_micros(row[6]),
        input=codec.decode_value(row[7]),
        output=codec.decode_value(row[8]),
        failure=codec.decode_failure(row[9]),
        custom_status=codec.decode_value(row[10]),
        parent_instance_id=row[11],
        parent_task_id=row[12],
    )


HEARTBEAT_WORKER = """INSERT INTO workers (owner, host, pid, started_at, heartbeat_at, expires_at)
VALUES (:owner, :host, :pid, :now, :now, :expires)
ON CONFLICT (owner) DO UPDATE SET host = excluded.host, pid = excluded.pid,
    heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at"""
FORGET_DEAD_WORKERS = "DELETE FROM workers WHERE expires_at < ?"
UNREGISTER_WORKER = "DELETE FROM workers WHERE owner = ?"
# What each worker holds: unexpired leases on instances and activities (the lease indexes).
LIST_WORKERS = """SELECT owner, host, pid, started_at, heartbeat_at, expires_at,
    (SELECT count(*) FROM instances i WHERE i.lease_expires > :now AND i.lease_owner = w.owner),
    (SELECT count(*) FROM activities a WHERE a.lease_expires > :now AND a.lease_owner = w.owner)
FROM workers w ORDER BY started_at, owner"""
