"""Every SQL statement of the PostgreSQL backend, and its schema migrations.

The same shape as :mod:`sqlite_sql`: times are integer microseconds since the Unix epoch
(UTC, ``BIGINT``) and payloads and events JSON text, so both backends store the same values
and compare and order them the same way. Tables live in the store's schema (chosen in the
URL); every connection's ``search_path`` names it, so the statements name tables unqualified.

Where SQLite relies on its single writer, these rely on row locks: work is claimed with
``FOR UPDATE SKIP LOCKED`` (lockers never wait for each other), and a transaction that
writes to several instances locks their rows first, in instance id order, so two of them
can never wait for each other in a cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from durableflow.core.status import TERMINAL_STATUSES, RuntimeStatus
from durableflow.runtime.store import codec
from durableflow.runtime.store.base import InstanceQuery, InstanceRecord

TERMINAL = sorted(s.value for s in TERMINAL_STATUSES)
"""Statuses an instance can be started over (``= ANY(%(terminal)s)``)."""

# Named migrations, applied in order, each recorded in `migrations` (as for SQLite).
# Never edit a published migration: append a new one.
MIGRATIONS: list[tuple[str, list[str]]] = [
    (
        "0001_initial",
        [
            # Fencing tokens: every lease grant (instance or activity) takes the next value,
            # and every write made under a lease checks it, so a worker whose lease was
            # taken over can never write, whatever the clocks say.
            "CREATE SEQUENCE IF NOT EXISTS lease_grants",
            # COLLATE "C": ids compare by code point, as in SQLite and the memory store,
            # whatever the database's collation (listing order, claim ties, pages).
            """CREATE TABLE IF NOT EXISTS instances (
                instance_id TEXT COLLATE "C" PRIMARY KEY,
                name TEXT NOT NULL,
                execution_id TEXT NOT NULL,
                status TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                completed_at BIGINT,
                input TEXT,
                output TEXT,
                failure TEXT,
                custom_status TEXT,
                parent_instance_id TEXT,
                parent_task_id INTEGER,
                history_epoch TEXT NOT NULL,
                history_len INTEGER NOT NULL DEFAULT 0,
                next_visible_at BIGINT,
                lease_owner TEXT,
                lease_expires BIGINT,
                lease_epoch BIGINT NOT NULL DEFAULT 0
            )""",
            # Partial: an idle instance (no mail) is in neither index, so claiming work and
            # computing the next wake-up walk only instances that have mail or a lease.
            """CREATE INDEX IF NOT EXISTS instances_ready ON instances
                (next_visible_at, instance_id) WHERE next_visible_at IS NOT NULL""",
            """CREATE INDEX IF NOT EXISTS instances_leased ON instances (lease_expires)
                WHERE lease_expires IS NOT NULL""",
            "CREATE INDEX IF NOT EXISTS instances_created ON instances (created_at, instance_id)",
            "CREATE INDEX IF NOT EXISTS instances_status ON instances (status, created_at)",
            """CREATE INDEX IF NOT EXISTS instances_completed
                ON instances (status, completed_at)""",
            """CREATE TABLE IF NOT EXISTS history (
                instance_id TEXT NOT NULL,
                seq INTEGER NOT NULL,
                event TEXT NOT NULL,
                PRIMARY KEY (instance_id, seq)
            )""",
            # Identity ids are never reused, so "ordered by message id" is arrival order and
            # a stale id can never name a newer message.
            """CREATE TABLE IF NOT EXISTS messages (
                message_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                instance_id TEXT NOT NULL,
                execution_id TEXT,
                visible_at BIGINT NOT NULL,
                event TEXT NOT NULL
            )""",
            "CREATE INDEX IF NOT EXISTS messages_inbox ON messages (instance_id, visible_at)",
            """CREATE TABLE IF NOT EXISTS activities (
                work_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                instance_id TEXT NOT NULL,
                execution_id TEXT NOT NULL,
                task_id INTEGER NOT NULL,
                name TEXT NOT NULL,
                input TEXT NOT NULL,
                timeout_us BIGINT,
                visible_at BIGINT NOT NULL,
                attempt INTEGER NOT NULL DEFAULT 0,
                lease_owner TEXT,
                lease_expires BIGINT,
                lease_epoch BIGINT NOT NULL DEFAULT 0
            )""",
            """CREATE INDEX IF NOT EXISTS activities_leased ON activities (lease_expires)
                WHERE lease_expires IS NOT NULL""",
            "CREATE INDEX IF NOT EXISTS activities_instance ON activities (instance_id)",
            """CREATE TABLE IF NOT EXISTS workers (
                owner TEXT PRIMARY KEY,
                host TEXT NOT NULL,
                pid INTEGER NOT NULL,
                started_at BIGINT NOT NULL,
                heartbeat_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL
            )""",
        ],
    ),
    (
        "0002_refuse_unless",
        [
            # A check a round can make on the server: raises SQLSTATE ``code`` unless ``ok``,
            # which stops the rest of the round, COMMIT included, and rolls the transaction
            # back; so a step can check and write in one round trip (CHECK_STEP_STATE).
            """CREATE OR REPLACE FUNCTION refuse_unless(ok BOOLEAN, code TEXT)
            RETURNS BOOLEAN LANGUAGE plpgsql AS $$
            BEGIN
                IF ok IS NOT TRUE THEN
                    RAISE EXCEPTION 'durableflow check % refused', code USING ERRCODE = code;
                END IF;
                RETURN TRUE;
            END $$""",
        ],
    ),
]

# -- migrations ----------------------------------------------------------------------------
# Why an advisory lock: several workers starting at once would otherwise race to create the
# schema and apply the same migration; the transaction-scoped lock serialises them and is
# released at commit (or when a crashed session's connection goes).
MIGRATION_LOCK = "SELECT pg_advisory_xact_lock(%s)"
CREATE_SCHEMA = "CREATE SCHEMA IF NOT EXISTS {schema}"
SET_SEARCH_PATH = "SET LOCAL search_path TO {schema}"
MIGRATIONS_TABLE_EXISTS = "SELECT to_regclass(%s) IS NOT NULL"
CREATE_MIGRATIONS = """CREATE TABLE IF NOT EXISTS migrations (
    name TEXT PRIMARY KEY,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)"""
APPLIED_MIGRATIONS = "SELECT name FROM migrations"
RECORD_MIGRATION = "INSERT INTO migrations (name) VALUES (%s)"
# Why: a commit no client can observe (a lease, a queued activity result) need not wait for
# the WAL flush; losing it in a crash only means an activity runs again (see docs/storage.md).
NOT_DURABLE = "SET LOCAL synchronous_commit = off"

# -- notifications -------------------------------------------------------------------------
# Delivered at commit, so a listener never hears of work before it can see it; the payload
# names the store object that wrote, so its own listener can skip what it already knows.
NOTIFY = "SELECT pg_notify(%s, %s)"
LISTEN = "LISTEN {channel}"
# NOTIFY only if the steps left mail visible now in their (still locked) instances' inboxes: the
# check that would otherwise need the UPDATE's answer back before COMMIT is sent.
NOTIFY_IF_READY = """SELECT pg_notify(%s, %s) WHERE EXISTS (SELECT 1 FROM instances
WHERE instance_id = ANY(%s) AND next_visible_at <= %s)"""

# -- instances -----------------------------------------------------------------------------
ROW_COLUMNS = (
    "instance_id, name, execution_id, status, created_at, updated_at, completed_at, input, "
    "output, failure, custom_status, parent_instance_id, parent_task_id, history_epoch, "
    "history_len"
)
N_ROW = len(ROW_COLUMNS.split(","))
GET_INSTANCE = f"SELECT {ROW_COLUMNS} FROM instances WHERE instance_id = %s"
GET_STATUS = "SELECT status FROM instances WHERE instance_id = %s"
# Rows a transaction is about to write, locked in one order everywhere (see module doc).
LOCK_ROWS = """SELECT instance_id FROM instances WHERE instance_id = ANY(%s)
ORDER BY instance_id FOR UPDATE"""
GET_LEASE = """SELECT lease_owner, lease_epoch, history_len, execution_id FROM instances
WHERE instance_id = %s"""
# LOCK_ROWS for a batch of steps that also returns what their lease checks need.
LOCK_LEASES = """SELECT instance_id, lease_owner, lease_epoch, history_len, execution_id
FROM instances WHERE instance_id = ANY(%s) ORDER BY instance_id FOR UPDATE"""
# Creates the row, or replaces a terminal one; no row comes back when a live instance holds
# the id (the conflicting row is locked either way, so the check and the write are one).
UPSERT_INSTANCE = """INSERT INTO instances (
    instance_id, name, execution_id, status, created_at, updated_at, input,
    parent_instance_id, parent_task_id, history_epoch, history_len, next_visible_at
) VALUES (%(iid)s, %(name)s, %(xid)s, 'PENDING', %(created)s, %(now)s, %(input)s,
    %(parent)s, %(parent_task)s, %(epoch)s, 0, %(now)s)
ON CONFLICT (instance_id) DO UPDATE SET
    name = EXCLUDED.name, execution_id = EXCLUDED.execution_id, status = 'PENDING',
    created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, completed_at = NULL,
    input = EXCLUDED.input, output = NULL, failure = NULL, custom_status = NULL,
    parent_instance_id = EXCLUDED.parent_instance_id,
    parent_task_id = EXCLUDED.parent_task_id, history_epoch = EXCLUDED.history_epoch,
    history_len = 0, next_visible_at = EXCLUDED.next_visible_at, lease_owner = NULL,
    lease_expires = NULL
WHERE instances.status = ANY(%(terminal)s)
RETURNING (xmax <> 0) AS replaced"""
# UPSERT_INSTANCE refused with NOT_A_NEW_ID unless it made a new row: a live instance holds
# the id (no row comes back), or a terminal one was replaced (its old rows must go first).
# The store then takes the general path, which tells the two apart.
NOT_A_NEW_ID = "DF003"
CREATE_NEW_INSTANCE = f"""WITH up AS ({UPSERT_INSTANCE})
SELECT refuse_unless((SELECT NOT replaced FROM up), 'DF003')"""
DELETE_INSTANCE = "DELETE FROM instances WHERE instance_id = %s"
DELETE_INSTANCES = "DELETE FROM instances WHERE instance_id = ANY(%s)"
# One batch of a bulk purge, oldest ending first; rows another transaction holds are left
# for the next batch rather than waited for.
PURGEABLE = """SELECT instance_id FROM instances
WHERE status = ANY(%s) AND completed_at < %s
ORDER BY completed_at, instance_id LIMIT %s FOR UPDATE SKIP LOCKED"""

# Claim: ready instances, oldest visible mail first, skipping rows other lockers hold right
# now; each grant takes a fresh fencing token.
LOCK_ORCHESTRATIONS = f"""WITH ready AS (
    SELECT instance_id FROM instances
    WHERE next_visible_at <= %(now)s AND (lease_expires IS NULL OR lease_expires <= %(now)s)
    ORDER BY next_visible_at, instance_id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE instances i SET lease_owner = %(owner)s, lease_expires = %(expires)s,
    lease_epoch = nextval('lease_grants')
FROM ready WHERE i.instance_id = ready.instance_id
RETURNING {", ".join("i." + c.strip() for c in ROW_COLUMNS.split(","))}, i.lease_epoch,
    i.next_visible_at"""
ANY_READY_INSTANCE = """SELECT 1 FROM instances
WHERE next_visible_at <= %(now)s AND (lease_expires IS NULL OR lease_expires <= %(now)s)
LIMIT 1"""

# The instance an activity result is handed to, if no one holds it; the row lock then keeps
# everyone else out until the step commits, so no lease is written.
GET_FREE_INSTANCE = f"""SELECT {ROW_COLUMNS}, lease_epoch, next_visible_at FROM instances
WHERE instance_id = %(iid)s AND (lease_expires IS NULL OR lease_expires <= %(now)s)
FOR UPDATE"""
# What a step decided ahead of time assumed about its instance.
GET_STEP_STATE = """SELECT lease_expires, history_len, execution_id, history_epoch,
    next_visible_at, status FROM instances WHERE instance_id = %s"""
# GET_STEP_STATE taking the row's lock, for a step that writes to no other instance.
LOCK_STEP_STATE = GET_STEP_STATE + " FOR UPDATE"
# LOCK_STEP_STATE with semantics.as_planned's check made on the server: refused with
# NOT_AS_PLANNED unless the instance is free, of the same execution and history, and has no
# mail visible now (keep the two the same).
NOT_AS_PLANNED = "DF001"
CHECK_STEP_STATE = """WITH s AS (
    SELECT (lease_expires IS NULL OR lease_expires <= %(now)s) AND history_len = %(len)s
        AND execution_id = %(xid)s AND history_epoch = %(epoch)s
        AND (next_visible_at IS NULL OR next_visible_at > %(now)s) AS planned
    FROM instances WHERE instance_id = %(iid)s FOR UPDATE
)
SELECT refuse_unless((SELECT planned FROM s), 'DF001')"""

FINISH_STEP = """UPDATE instances SET
    status = %s, output = %s, failure = %s, custom_status = %s, updated_at = %s,
    completed_at = %s, history_len = %s, lease_owner = NULL, lease_expires = NULL
WHERE instance_id = %s"""
# FINISH_STEP and REFRESH_NEXT_VISIBLE in one statement, for a step that does not continue
# as new (the subquery sees this transaction's own inserts and deletes).
FINISH_STEP_REFRESH = """UPDATE instances SET
    status = %s, output = %s, failure = %s, custom_status = %s, updated_at = %s,
    completed_at = %s, history_len = %s, lease_owner = NULL, lease_expires = NULL,
    next_visible_at = (SELECT min(visible_at) FROM messages
        WHERE messages.instance_id = instances.instance_id)
WHERE instance_id = %s RETURNING next_visible_at"""
# FINISH_STEP_REFRESH for several instances at once.
FINISH_STEPS = """UPDATE instances i SET
    status = f.status, output = f.output, failure = f.failure,
    custom_status = f.custom_status, updated_at = f.updated_at,
    completed_at = f.completed_at, history_len = f.history_len, lease_owner = NULL,
    lease_expires = NULL,
    next_visible_at = (SELECT min(visible_at) FROM messages m
        WHERE m.instance_id = i.instance_id)
FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::bigint[],
    %s::bigint[], %s::int[])
    AS f(iid, status, output, failure, custom_status, updated_at, completed_at, history_len)
WHERE i.instance_id = f.iid
RETURNING i.next_visible_at"""
CONTINUE_AS_NEW = """UPDATE instances SET
    execution_id = %s, history_epoch = %s, history_len = 0, status = 'CONTINUED_AS_NEW',
    input = CASE WHEN %s THEN %s ELSE input END
WHERE instance_id = %s"""
RELEASE_LEASE = """UPDATE instances SET lease_owner = NULL, lease_expires = NULL
WHERE instance_id = %s AND lease_owner = %s AND lease_epoch = %s RETURNING 1"""
REFRESH_NEXT_VISIBLE = """UPDATE instances SET next_visible_at =
    (SELECT min(visible_at) FROM messages WHERE messages.instance_id = instances.instance_id)
WHERE instance_id = %s RETURNING next_visible_at"""

# -- history -------------------------------------------------------------------------------
HISTORY_FROM = "SELECT event FROM history WHERE instance_id = %s AND seq >= %s ORDER BY seq"
# The fresh part of several histories at once: (instance id, first seq wanted) pairs.
HISTORIES_FROM = """SELECT h.instance_id, h.event
FROM history h JOIN unnest(%s::text[], %s::int[]) AS w(iid, start)
    ON h.instance_id = w.iid AND h.seq >= w.start
ORDER BY h.instance_id, h.seq"""
APPEND_HISTORY = """INSERT INTO history (instance_id, seq, event)
SELECT %s, %s + t.n - 1, t.event FROM unnest(%s::text[]) WITH ORDINALITY AS t(event, n)"""
# Several instances' new events at once: (instance id, seq, event) rows.
APPEND_HISTORIES = """INSERT INTO history (instance_id, seq, event)
SELECT * FROM unnest(%s::text[], %s::int[], %s::text[])"""
DELETE_HISTORY = "DELETE FROM history WHERE instance_id = %s"
DELETE_HISTORIES = "DELETE FROM history WHERE instance_id = ANY(%s)"

# -- messages ------------------------------------------------------------------------------
# One statement: lower the instance's next visible time (which locks its row, so a purge or
# a step refreshing that time cannot interleave) and queue the message if the row exists.
QUEUE_MESSAGE = """WITH target AS (
    UPDATE instances SET next_visible_at = LEAST(COALESCE(next_visible_at, %(vis)s), %(vis)s)
    WHERE instance_id = %(iid)s RETURNING instance_id
)
INSERT INTO messages (instance_id, execution_id, visible_at, event)
SELECT instance_id, %(xid)s, %(vis)s, %(event)s FROM target RETURNING message_id"""
# A step's outgoing messages, in order; those for instances that do not exist are dropped.
# (The targets' rows are already locked by this transaction.)
QUEUE_MESSAGES = """WITH m AS (
    SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::text[])
        WITH ORDINALITY AS m(target, xid, vis, event, n)
), queued AS (
    INSERT INTO messages (instance_id, execution_id, visible_at, event)
    SELECT m.target, m.xid, m.vis, m.event FROM m
    WHERE EXISTS (SELECT 1 FROM instances i WHERE i.instance_id = m.target)
    ORDER BY m.n
    RETURNING instance_id, visible_at
)
UPDATE instances SET next_visible_at = LEAST(COALESCE(next_visible_at, q.vis), q.vis)
FROM (SELECT instance_id, min(visible_at) AS vis FROM queued GROUP BY instance_id) q
WHERE instances.instance_id = q.instance_id"""
INSERT_MESSAGES = """INSERT INTO messages (instance_id, execution_id, visible_at, event)
SELECT %s, %s, %s, t.event FROM unnest(%s::text[]) WITH ORDINALITY AS t(event, n)
ORDER BY t.n"""
VISIBLE_MESSAGES = """SELECT instance_id, message_id, execution_id, visible_at, event
FROM messages WHERE instance_id = ANY(%s) AND visible_at <= %s ORDER BY message_id"""
DELETE_CONSUMED = "DELETE FROM messages WHERE instance_id = %s AND message_id = ANY(%s)"
DELETE_CONSUMED_MANY = """DELETE FROM messages m
USING unnest(%s::text[], %s::bigint[]) AS d(iid, mid)
WHERE m.message_id = d.mid AND m.instance_id = d.iid"""
DELETE_MESSAGES = "DELETE FROM messages WHERE instance_id = %s"
DELETE_MESSAGES_OF = "DELETE FROM messages WHERE instance_id = ANY(%s)"

# -- activities ----------------------------------------------------------------------------
_ACTIVITY_ITEM = (
    "work_id, instance_id, execution_id, task_id, name, input, attempt, timeout_us, lease_epoch"
)
INSERT_ACTIVITIES = """INSERT INTO activities
    (instance_id, execution_id, task_id, name, input, timeout_us, visible_at)
SELECT %s, %s, t.task_id, t.name, t.input, t.timeout_us, %s
FROM unnest(%s::int[], %s::text[], %s::text[], %s::bigint[])
    WITH ORDINALITY AS t(task_id, name, input, timeout_us, n)
ORDER BY t.n"""
INSERT_LEASED_ACTIVITY = """INSERT INTO activities
    (instance_id, execution_id, task_id, name, input, timeout_us, visible_at, lease_owner,
     lease_expires, attempt, lease_epoch)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 1, nextval('lease_grants'))
RETURNING work_id, lease_epoch"""
# Several instances' activities at once, in order: (instance, execution, task id, name,
# input, timeout) rows, queued (owner NULL) or leased to their owner (fresh tokens each).
INSERT_ACTIVITIES_MANY = """INSERT INTO activities
    (instance_id, execution_id, task_id, name, input, timeout_us, visible_at, lease_owner,
     lease_expires, attempt, lease_epoch)
SELECT t.iid, t.xid, t.task_id, t.name, t.input, t.timeout_us, %s, t.owner, t.expires,
    CASE WHEN t.owner IS NULL THEN 0 ELSE 1 END,
    CASE WHEN t.owner IS NULL THEN 0 ELSE nextval('lease_grants') END
FROM unnest(%s::text[], %s::text[], %s::int[], %s::text[], %s::text[], %s::bigint[],
    %s::text[], %s::bigint[]) WITH ORDINALITY
    AS t(iid, xid, task_id, name, input, timeout_us, owner, expires, n)
ORDER BY t.n
RETURNING instance_id, task_id, work_id, lease_epoch"""
LOCK_ACTIVITY = f"""WITH ready AS (
    SELECT work_id FROM activities
    WHERE visible_at <= %(now)s AND (lease_expires IS NULL OR lease_expires <= %(now)s)
    ORDER BY work_id LIMIT 1
    FOR UPDATE SKIP LOCKED
)
UPDATE activities a SET lease_owner = %(owner)s, lease_expires = %(expires)s,
    attempt = a.attempt + 1, lease_epoch = nextval('lease_grants')
FROM ready WHERE a.work_id = ready.work_id
RETURNING {", ".join("a." + c.strip() for c in _ACTIVITY_ITEM.split(","))}"""
ANY_READY_ACTIVITY = """SELECT 1 FROM activities
WHERE visible_at <= %(now)s AND (lease_expires IS NULL OR lease_expires <= %(now)s) LIMIT 1"""
# An activity lease is (work id, fencing token); "lease_expires IS NOT NULL" refuses a lease
# that was released (release_leases, abandon) even though no one took it since.
DELETE_LEASED_ACTIVITY = """DELETE FROM activities
WHERE work_id = %s AND lease_epoch = %s AND lease_expires IS NOT NULL RETURNING work_id"""
# DELETE_LEASED_ACTIVITY refused with ACTIVITY_LEASE_LOST if the lease is gone.
ACTIVITY_LEASE_LOST = "DF002"
TAKE_LEASED_ACTIVITY = f"""WITH taken AS ({DELETE_LEASED_ACTIVITY})
SELECT refuse_unless(EXISTS (SELECT 1 FROM taken), 'DF002')"""
RELEASE_ACTIVITY = """UPDATE activities SET lease_owner = NULL, lease_expires = NULL
WHERE work_id = %s AND lease_epoch = %s RETURNING 1"""
RENEW_ACTIVITY = """UPDATE activities SET lease_expires = %s
WHERE work_id = %s AND lease_epoch = %s AND lease_expires IS NOT NULL RETURNING 1"""
DELETE_ACTIVITIES = "DELETE FROM activities WHERE instance_id = %s"
DELETE_ACTIVITIES_OF = "DELETE FROM activities WHERE instance_id = ANY(%s)"

# -- a stopping worker's leases ------------------------------------------------------------
RELEASE_OWNER_INSTANCES = """UPDATE instances SET lease_owner = NULL, lease_expires = NULL
WHERE lease_expires IS NOT NULL AND lease_owner = %s RETURNING 1"""
RELEASE_OWNER_ACTIVITIES = """UPDATE activities SET lease_owner = NULL, lease_expires = NULL
WHERE lease_expires IS NOT NULL AND lease_owner = %s RETURNING 1"""

# -- wake-up time --------------------------------------------------------------------------
# Free work is ready at its visible time, leased work no earlier than its lease expiry;
# LEAST ignores the NULL of an empty set.
NEXT_WAKE_TIME = """SELECT LEAST(
    (SELECT min(next_visible_at) FROM instances
        WHERE next_visible_at IS NOT NULL AND lease_expires IS NULL),
    (SELECT min(GREATEST(next_visible_at, lease_expires)) FROM instances
        WHERE lease_expires IS NOT NULL AND next_visible_at IS NOT NULL),
    (SELECT min(visible_at) FROM activities WHERE lease_expires IS NULL),
    (SELECT min(GREATEST(visible_at, lease_expires)) FROM activities
        WHERE lease_expires IS NOT NULL)
)"""

# -- workers -------------------------------------------------------------------------------
HEARTBEAT_WORKER = """INSERT INTO workers (owner, host, pid, started_at, heartbeat_at, expires_at)
VALUES (%(owner)s, %(host)s, %(pid)s, %(now)s, %(now)s, %(expires)s)
ON CONFLICT (owner) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid,
    heartbeat_at = EXCLUDED.heartbeat_at, expires_at = EXCLUDED.expires_at"""
FORGET_DEAD_WORKERS = "DELETE FROM workers WHERE expires_at < %s"
UNREGISTER_WORKER = "DELETE FROM workers WHERE owner = %s"
LIST_WORKERS = """SELECT owner, host, pid, started_at, heartbeat_at, expires_at,
    (SELECT count(*) FROM instances i
        WHERE i.lease_expires > %(now)s AND i.lease_owner = w.owner),
    (SELECT count(*) FROM activities a
        WHERE a.lease_expires > %(now)s AND a.lease_owner = w.owner)
FROM workers w ORDER BY started_at, owner"""


# -- prepared statements -------------------------------------------------------------------
# What postgres_rounds sends as prepared statements (EXECUTE name(...)), in rounds and alone
# (postgres_rounds.execute): the statements of the step paths and the frequent reads, each
# sent thousands of times, which would otherwise be parsed and planned afresh each time.
# Prepared once per connection, so only statements whose tables every migrated store has.
HOT_STATEMENTS: tuple[str, ...] = (
    ANY_READY_ACTIVITY,
    ANY_READY_INSTANCE,
    APPEND_HISTORY,
    APPEND_HISTORIES,
    CHECK_STEP_STATE,
    CREATE_NEW_INSTANCE,
    DELETE_CONSUMED,
    DELETE_CONSUMED_MANY,
    DELETE_LEASED_ACTIVITY,
    FINISH_STEP_REFRESH,
    FINISH_STEPS,
    GET_INSTANCE,
    HISTORIES_FROM,
    INSERT_ACTIVITIES,
    INSERT_ACTIVITIES_MANY,
    INSERT_LEASED_ACTIVITY,
    INSERT_MESSAGES,
    LOCK_ACTIVITY,
    LOCK_LEASES,
    LOCK_ORCHESTRATIONS,
    LOCK_ROWS,
    LOCK_STEP_STATE,
    NOTIFY,
    NOTIFY_IF_READY,
    QUEUE_MESSAGE,
    QUEUE_MESSAGES,
    TAKE_LEASED_ACTIVITY,
    VISIBLE_MESSAGES,
)


def list_instances(query: InstanceQuery) -> tuple[str, list[Any]]:
    """The SELECT for :meth:`Store.list_instances` and its parameters."""
    where: list[str] = []
    params: list[Any] = []
    if query.statuses is not None:
        where.append("status = ANY(%s)")
        params.append(sorted(s.value for s in query.statuses))
    if query.created_from is not None:
        where.append("created_at >= %s")
        params.append(codec.to_micros(query.created_from))
    if query.created_to is not None:
        where.append("created_at <= %s")
        params.append(codec.to_micros(query.created_to))
    # left(): a literal prefix (LIKE would treat _ and % as wildcards).
    if query.name_prefix is not None:
        where.append("left(name, %s) = %s")
        params.extend([len(query.name_prefix), query.name_prefix])
    if query.instance_id_prefix is not None:
        where.append("left(instance_id, %s) = %s")
        params.extend([len(query.instance_id_prefix), query.instance_id_prefix])
    if query.after is not None:
        after_us = codec.to_micros(query.after[0])
        where.append("(created_at, instance_id) < (%s, %s)")
        params.extend([after_us, query.after[1]])
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    statement = (
        f"SELECT {ROW_COLUMNS} FROM instances{clause} "
        "ORDER BY created_at DESC, instance_id DESC LIMIT %s"
    )
    # A negative limit means none, as in SQLite (LIMIT NULL).
    return statement, [*params, query.limit if query.limit >= 0 else None]


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
