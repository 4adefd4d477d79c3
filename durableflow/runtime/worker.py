"""The worker: leases orchestration steps and activities from a store and runs them.

Threads:
  * one orchestration thread runs steps one at a time (steps are short: replay + one commit);
  * ``activity_concurrency`` activity threads each run one activity at a time;
  * a lease keeper renews the leases of long-running activities and fails attempts that
    run past their timeout.

Live orchestrator generators are kept between steps (:mod:`~durableflow.runtime.sessions`),
so an instance's total cost grows with its history, not with its square. They are only a
shortcut: after a restart, an eviction or a lost lease, the step replays the whole history
instead.

This module holds the state and the orchestration steps; starting, supervising and
stopping the threads is in :mod:`~durableflow.runtime.lifecycle`, what happens to an
activity, from its lease to its result, in :mod:`~durableflow.runtime.activity_work`, and
lease renewals and attempt timeouts in :mod:`~durableflow.runtime.lease_keeper`.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal, cast, overload

from durableflow.core import history as h
from durableflow.core.actions import activity_timeout as activity_timeout_of
from durableflow.core.app import App
from durableflow.core.errors import StoreLockedError, UnknownFunctionError
from durableflow.core.status import RuntimeStatus
from durableflow.runtime import instance_log
from durableflow.runtime.activity_attempts import Attempt
from durableflow.runtime.activity_work import ActivityWork
from durableflow.runtime.clock import Clock, SystemClock
from durableflow.runtime.executor import Replayer, StepResult, failure_of
from durableflow.runtime.lease_keeper import LeaseKeeper
from durableflow.runtime.lifecycle import Lifecycle
from durableflow.runtime.presence import Presence
from durableflow.runtime.retention import Retention
from durableflow.runtime.sessions import Session, Sessions
from durableflow.runtime.step_trace import StepTrace
from durableflow.runtime.steps import (
    build_commit,
    execution_started,
    failed_step,
    is_invalid_step,
    split_messages,
)
from durableflow.runtime.store.base import (
    ActivityLease,
    ActivityWorkItem,
    OrchestrationCommit,
    OrchestrationWorkItem,
    WorkerStore,
)
from durableflow.runtime.store.composites import PurgingStore

log = logging.getLogger("durableflow.worker")

_Decided = tuple[OrchestrationWorkItem, OrchestrationCommit, Replayer | None, int]


class Worker(Lifecycle, ActivityWork, LeaseKeeper):
    """Runs orchestrations and activities of ``app`` from ``store``.

    Args:
        app: the registry of orchestrators, activities and graphs.
        store: where instances live.
        clock: time source (inject a ``FakeClock`` in tests).
        activity_concurrency: activity threads.
        lease: how long a locked work item stays owned without renewal.
        poll_interval: seconds to sleep when there is no work (woken early by ``wake()``).
        cache_size: live orchestrator generators kept between steps.
        batch_size: instances stepped together and committed in one store transaction.
        owner: this worker's lease owner name (default: host:pid:random).
        on_step: called after every orchestration step with a :class:`StepTrace`
            (observability; tests use it to prove two workers never overlap on a step).
        on_end: called with the ids of instances that a committed step has just ended
            (completed, failed or terminated); ``Runtime`` wakes waiting clients with it.
        activity_timeout: the per-attempt timeout (a ``timedelta`` or seconds) of
            activities whose ``call_activity`` gives none; ``None``: no limit. See
            :mod:`~durableflow.runtime.activity_attempts`.
        retain: when set, purge instances that ended longer ago than this, periodically
            and in bounded batches (:class:`~durableflow.runtime.retention.Retention`);
            ``store`` must then be a full store (one that can purge).
    """

    def __init__(
        self,
        app: App,
        store: WorkerStore,
        *,
        clock: Clock | None = None,
        activity_concurrency: int = 4,
        lease: timedelta = timedelta(seconds=30),
        poll_interval: float = 0.05,
        cache_size: int = 1024,
        batch_size: int = 32,
        owner: str | None = None,
        on_step: Callable[[StepTrace], None] | None = None,
        on_end: Callable[[list[str]], None] | None = None,
        activity_timeout: timedelta | float | None = None,
        retain: timedelta | None = None,
    ) -> None:
        self.app = app
        self.store = store
        self.clock: Clock = clock or SystemClock()
        self.activity_concurrency = activity_concurrency
        self.activity_timeout = activity_timeout_of(activity_timeout, "activity_timeout")
        self.lease = lease
        self.poll_interval = poll_interval
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._retention = (
            None if retain is None else Retention(cast(PurgingStore, store), retain, self.clock)
        )
        self._presence = Presence(store, self.owner, lease, self.clock)
        self._sessions = Sessions(cache_size)
        self.batch_size = batch_size
        self._stop = threading.Event()
        self._orch_wake = threading.Event()
        self._act_wake = threading.Event()
        self._threads: list[threading.Thread] = []
        # Keyed by lease, which only the store reads: one lease per grant, whatever the
        # store does with its rows (SQLite reuses a chain's row for its next activity).
        self._running: dict[ActivityLease, ActivityWorkItem] = {}
        self._running_lock = threading.Lock()
        self._signatures: dict[str, bool] = {}
        self._on_step = on_step
        self._on_end = on_end
        self._busy = 0
        # Activities leased to this worker at once: one per runner, plus as many again
        # waiting in the local queue, so a step's new activities are leased in its own
        # commit instead of one lock transaction each.
        self._free_slots = threading.Semaphore(2 * activity_concurrency)
        # Results of activities that finished while others were in flight: the
        # orchestration thread records them all in its next lock transaction.
        self._results: list[tuple[ActivityWorkItem, h.HistoryEvent]] = []
        self._results_lock = threading.Lock()
        self._step_lock = threading.Lock()
        self._act_queue: queue.Queue[ActivityWorkItem | None] = queue.Queue()
        self._busy_lock = threading.Lock()
        # Attempts running on this worker's threads (a subset of _running), for timeouts,
        # heartbeats and giving up at shutdown; guarded by _running_lock.
        self._attempts: dict[ActivityLease, Attempt] = {}
        self._keeper_wake = threading.Event()
        self._threads_lock = threading.Lock()
        self._runners_started = 0
        subscribe = getattr(self.clock, "subscribe", None)
        if subscribe is not None:
            subscribe(self._orch_wake)
            subscribe(self._act_wake)
            subscribe(self._keeper_wake)

    # -- lifecycle ----------------------------------------------------------------------
    def is_idle(self) -> bool:
        """True when no step or activity is being locked, run or committed right now."""
        with self._busy_lock:
            return self._busy == 0

    def _enter_busy(self, delta: int) -> None:
        with self._busy_lock:
            self._busy += delta

    def wake(self) -> None:
        """Look for work now instead of after the poll interval."""
        self._orch_wake.set()
        self._act_wake.set()

    def __enter__(self) -> Worker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- orchestrations -----------------------------------------------------------------
    def _orch_loop(self) -> None:
        while not self._stop.is_set():
            # Clear before looking, so a wake-up that arrives mid-batch is not lost.
            self._orch_wake.clear()
            try:
                done = self.run_orchestration_batch(self.batch_size)
            except Exception:
                log.exception("orchestration step failed; retrying after the poll interval")
                done = 0
            if done < self.batch_size and not self._results:
                # A partial batch took everything that was ready; new work wakes us.
                self._orch_wake.wait(self.poll_interval)

    def run_one_orchestration_step(self) -> bool:
        """Lock, run and commit one orchestration step; False if there was no work."""
        return self.run_orchestration_batch(1) > 0

    def run_orchestration_batch(self, limit: int) -> int:
        """Lock up to ``limit`` ready instances, run one step of each, and commit them all in
        one store transaction. Returns how many instances were locked."""
        self._enter_busy(1)
        try:
            return self._run_batch(limit)
        finally:
            self._enter_busy(-1)

    def _run_batch(self, limit: int) -> int:
        # Steps run on this thread and, fused with activity results, on runner threads; the
        # lock keeps the generator cache and each instance's replayer single-threaded.
        with self._step_lock:
            return self._run_batch_locked(limit)

    def _run_batch_locked(self, limit: int) -> int:
        now = self.clock.now()
        results = self._take_results()
        try:
            items = self.store.lock_orchestrations(
                self.owner, now=now, lease=self.lease, limit=limit, results=results
            )
        except BaseException:
            with self._results_lock:  # recorded nothing: try again with the next batch
                self._results[:0] = results
            raise
        self._results_recorded(results)
        if not items:
            return 0
        decided: list[_Decided] = []
        for item in items:
            began = time.monotonic_ns()
            try:
                commit, replayer = self._decide(item, now)
            except Exception:
                log.exception("step of %s failed; releasing it", item.instance.instance_id)
                self._sessions.evict(item.instance.instance_id)
                self.store.abandon_orchestration(item)
                continue
            decided.append((item, commit, replayer, began))
        reserved = self._reserve_runners(sum(len(c.activities) for _, c, _, _ in decided))
        left = reserved
        for _, commit, _, _ in decided:
            if left and commit.activities:
                commit.lease_activities_to = (self.owner, now + self.lease)
                commit.lease_limit = min(left, len(commit.activities))
                left -= commit.lease_limit
        ended = time.monotonic_ns()
        try:
            applied = self._commit_decided(decided, now)
        except BaseException:
            self._release_runners(reserved)
            for item, _, _, _ in decided:
                self._sessions.evict(item.instance.instance_id)
                self.store.abandon_orchestration(item)
            raise
        for (item, commit, replayer, began), ok in zip(decided, applied, strict=True):
            reserved -= self._run_leased(commit)
            if ok is not None:
                self._after_commit(item, commit, replayer, ok)
            if self._on_step is not None:
                trace = StepTrace(item.instance.instance_id, self.owner, began, ended, bool(ok))
                self._on_step(trace)
        self._release_runners(reserved)
        return len(items)

    def _commit_decided(self, decided: list[_Decided], now: datetime) -> list[bool | None]:
        """Commit a batch's steps in one transaction; if that fails, each step alone, so one
        instance's bad step cannot hold back the others (see :meth:`_commit_alone`).

        Each entry says whether the step was applied (False: the lease was lost), or is None
        for a step that was given up (its instance released to run again later).
        """
        try:
            return list(
                self.store.commit_orchestrations(
                    [(item, commit) for item, commit, _, _ in decided], now=now
                )
            )
        except StoreLockedError:
            raise  # the store is busy, not a step at fault: the whole batch is retried later
        except Exception as err:
            if len(decided) > 1:
                log.warning(
                    "committing a batch of %d steps failed (%s); committing each alone",
                    len(decided),
                    err,
                )
            first = err
        # The failed transaction wrote nothing, so the leases it handed out do not exist.
        for _, commit, _, _ in decided:
            commit.leased.clear()
        if len(decided) == 1:
            if not is_invalid_step(first):
                raise first  # the store failed, not the step: retried after the poll interval
            return [self._commit_alone(decided, 0, now, first)]
        applied: list[bool | None] = []
        for k, (item, commit, _, _) in enumerate(decided):
            if isinstance(first, StoreLockedError):  # the store got busy: stop, retry later
                self._release(item)
                applied.append(None)
                continue
            try:
                applied.append(self._commit_alone(decided, k, now))
            except StoreLockedError as busy:
                commit.leased.clear()
                first = busy
                self._release(item)
                applied.append(None)
        if all(ok is None for ok in applied):
            raise first
        return applied

    def _release(self, item: OrchestrationWorkItem) -> None:
        self._sessions.evict(item.instance.instance_id)
        self.store.abandon_orchestration(item)

    def _commit_alone(
        self, decided: list[_Decided], k: int, now: datetime, err: Exception | None = None
    ) -> bool | None:
        """Commit step ``k`` of ``decided`` on its own (or, when ``err`` says why it already
        failed alone, skip to the outcome). A step the store refuses as invalid fails its
        instance with the error; any other error releases the instance to retry later."""
        item, commit, _, began = decided[k]
        iid = item.instance.instance_id
        if err is None:
            try:
                return self.store.commit_orchestrations([(item, commit)], now=now)[0]
            except StoreLockedError:
                raise
            except Exception as exc:
                commit.leased.clear()
                err = exc
        if is_invalid_step(err):
            log.error("step of %s cannot be stored (%s); failing the instance", iid, err)
            failed = failed_step(item, commit, err, now)
            try:
                ok = self.store.commit_orchestrations([(item, failed)], now=now)[0]
            except Exception:
                log.exception("could not record the failure of %s; releasing it", iid)
            else:
                decided[k] = (item, failed, None, began)
                return ok
        else:
            log.error("step of %s failed to commit (%s); releasing it", iid, err)
        self._release(item)
        return None

    def _decide(
        self, item: OrchestrationWorkItem, now: datetime
    ) -> tuple[OrchestrationCommit, Replayer | None]:
        """Replay one step of ``item``; the commit to write and the replayer to keep."""
        inst = item.instance
        events, consumed = split_messages(inst, item.messages)
        if not events:
            # Only stale replies, or mail for an ended instance: consume it, change nothing.
            bare = OrchestrationCommit(
                new_events=[],
                status=inst.status,
                output=inst.output,
                failure=inst.failure,
                custom_status=inst.custom_status,
                consumed=consumed,
            )
            return bare, None
        new_events: list[h.HistoryEvent] = [h.OrchestratorStarted(timestamp=now), *events]
        replayer = self._replayer_for(item)
        if replayer is None:
            result = self._unknown_orchestrator(item, new_events)
        else:
            result = replayer.advance(item.history, new_events)
        if result.is_terminal:
            replayer = None
        # ExecutionStarted opens the history (after at most one OrchestratorStarted), or
        # arrives with this first step.
        started = next(
            (e for e in (*item.history[:2], *events) if isinstance(e, h.ExecutionStarted)),
            None,
        )
        return build_commit(inst, result, consumed, now, started), replayer

    @overload
    def _run_leased(self, commit: OrchestrationCommit) -> int: ...

    @overload
    def _run_leased(
        self, commit: OrchestrationCommit, keep_first: Literal[True]
    ) -> ActivityWorkItem | None: ...

    def _run_leased(
        self, commit: OrchestrationCommit, keep_first: bool = False
    ) -> int | ActivityWorkItem | None:
        """Queue the activities a commit leased to us (on reserved slots); how many, or,
        with ``keep_first``, the first of them, which the caller runs itself instead."""
        kept: ActivityWorkItem | None = None
        for work in commit.leased:
            self._enter_busy(1)
            with self._running_lock:
                self._running[work.lease] = work
            if keep_first and kept is None:
                kept = work
            else:
                self._act_queue.put(work)
        return kept if keep_first else len(commit.leased)

    def _reserve_runners(self, wanted: int) -> int:
        """Take up to ``wanted`` free runner slots without waiting; how many were taken
        (none once stopping: new activities are then left for any worker)."""
        if self._stop.is_set():
            return 0
        got = 0
        while got < wanted and self._free_slots.acquire(blocking=False):
            got += 1
        return got

    def _release_runners(self, count: int) -> None:
        for _ in range(count):
            self._free_slots.release()

    def _after_commit(
        self,
        item: OrchestrationWorkItem,
        commit: OrchestrationCommit,
        replayer: Replayer | None,
        applied: bool,
    ) -> None:
        iid = item.instance.instance_id
        if not applied:
            self._sessions.evict(iid)
            log.warning("lost the lease on %s; another worker owns it", iid)
            return
        if replayer is not None:
            self._sessions.keep(
                iid, Session(replayer, item.instance, item.epoch, execution_started(item))
            )
        elif commit.new_events:
            self._sessions.evict(iid)
        self._announce(iid, commit)

    def _announce(self, iid: str, commit: OrchestrationCommit) -> None:
        """Tell whoever waits what a committed step of ``iid`` did."""
        instance_log.step_committed(iid, commit)
        if self._on_end is not None and commit.status.is_terminal and commit.new_events:
            self._on_end([iid])
        if len(commit.activities) > len(commit.leased):
            self._act_wake.set()
        if commit.messages or commit.new_instances or commit.continue_as_new:
            self._orch_wake.set()

    def _replayer_for(self, item: OrchestrationWorkItem) -> Replayer | None:
        """The live generator for ``item``, or a new one (None: unknown orchestrator)."""
        replayer = self._sessions.replayer_for(item)
        if replayer is not None:
            return replayer
        inst = item.instance
        fn = self._orchestrator_fn(inst.name)
        if fn is None:
            return None
        return Replayer(
            fn,
            activity_name=self.app.name_of,
            orchestrator_name=self.app.name_of,
        )

    def _orchestrator_fn(self, name: str) -> Callable[..., Any] | None:
        graph = self.app.graphs.get(name)
        if graph is not None:
            from durableflow.runtime.graph_interpreter import graph_orchestrator

            return graph_orchestrator(graph)  # type: ignore[arg-type]
        return self.app.orchestrators.get(name)

    def _unknown_orchestrator(
        self, item: OrchestrationWorkItem, new_events: list[h.HistoryEvent]
    ) -> StepResult:
        err = UnknownFunctionError(
            "orchestrator", item.instance.name, [*self.app.orchestrators, *self.app.graphs]
        )
        failure = failure_of(err)
        events = [*new_events, h.ExecutionFailed(timestamp=self.clock.now(), failure=failure)]
        return StepResult(RuntimeStatus.FAILED, new_events=events, failure=failure)
