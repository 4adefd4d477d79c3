"""Orchestration steps: replaying, deciding and committing them, on live generators.

A :class:`Stepper` runs an instance's next step: it feeds the new events to the
instance's live generator (:mod:`~durableflow.runtime.sessions`), or replays the whole
history when there is none, builds the commit, reserves runner permits for the activities
the step schedules so that the same commit leases them to this worker, and commits. Two
paths lead here:

* a **batch** (:meth:`Stepper.run_batch`): lock up to ``limit`` ready instances (recording
  the activity results waiting in the same transaction), step each, and commit them all in
  one transaction; if that fails, each alone, so that one bad step holds back no other;
* a **fused step** (:meth:`Stepper.complete_and_step`): a lone activity's result and the
  step it wakes, in one transaction, decided ahead of it on the live generator when there
  is one (a planned step), else inside it.

Steps run on the orchestration thread and on runner threads; one lock keeps the generator
cache and each instance's replayer single-threaded.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from durableflow.core import history as h
from durableflow.core.app import App
from durableflow.core.errors import StoreLockedError, UnknownFunctionError
from durableflow.core.status import RuntimeStatus
from durableflow.runtime import instance_log
from durableflow.runtime.clock import Clock
from durableflow.runtime.executor import Replayer, StepResult, failure_of
from durableflow.runtime.runner_permits import RunnerPermits
from durableflow.runtime.running_activities import RunningActivities
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
    ActivityWorkItem,
    OrchestrationCommit,
    OrchestrationWorkItem,
    PlannedStep,
    WorkerStore,
)

log = logging.getLogger("durableflow.worker")

_Decided = tuple[OrchestrationWorkItem, OrchestrationCommit, Replayer | None, int]


class Stepper:
    """Runs orchestration steps for one worker (see the module doc).

    Args:
        app: the registry of orchestrators and graphs.
        store: where the steps are locked and committed.
        clock: the worker's time source.
        owner: the worker's lease owner name.
        lease: how long a lease the store grants.
        sessions: the live generators, which only this object touches.
        permits: runner permits, reserved for the activities a step leases to the worker.
        running: where leased activities and results waiting to be recorded are.
        wake_orchestrations: set when a step made other steps ready.
        wake_activities: set when a step scheduled activities it could not lease here.
        on_step: called after every step with a :class:`StepTrace`.
        on_end: called with the ids of instances a committed step has just ended.
    """

    def __init__(
        self,
        app: App,
        store: WorkerStore,
        *,
        clock: Clock,
        owner: str,
        lease: timedelta,
        sessions: Sessions,
        permits: RunnerPermits,
        running: RunningActivities,
        wake_orchestrations: threading.Event,
        wake_activities: threading.Event,
        on_step: Callable[[StepTrace], None] | None = None,
        on_end: Callable[[list[str]], None] | None = None,
    ) -> None:
        self._app = app
        self._store = store
        self._clock = clock
        self._owner = owner
        self._lease = lease
        self._sessions = sessions
        self._permits = permits
        self._running = running
        self._wake_orchestrations = wake_orchestrations
        self._wake_activities = wake_activities
        self._on_step = on_step
        self._on_end = on_end
        self._step_lock = threading.Lock()

    def run_batch(self, limit: int) -> int:
        """Lock up to ``limit`` ready instances, run one step of each, and commit them all in
        one store transaction. Returns how many instances were locked."""
        with self._step_lock:
            return self._run_batch(limit)

    def _run_batch(self, limit: int) -> int:
        now = self._clock.now()
        results = self._running.take_results()
        try:
            items = self._store.lock_orchestrations(
                self._owner, now=now, lease=self._lease, limit=limit, results=results
            )
        except BaseException:
            self._running.put_back(results)  # recorded nothing: try again with the next batch
            raise
        self._running.recorded(results)
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
                self._store.abandon_orchestration(item)
                continue
            decided.append((item, commit, replayer, began))
        reserved = self._permits.reserve(sum(len(c.activities) for _, c, _, _ in decided))
        left = reserved
        for _, commit, _, _ in decided:
            if left and commit.activities:
                commit.lease_activities_to = (self._owner, now + self._lease)
                commit.lease_limit = min(left, len(commit.activities))
                left -= commit.lease_limit
        ended = time.monotonic_ns()
        try:
            applied = self._commit_decided(decided, now)
        except BaseException:
            self._permits.release(reserved)
            for item, _, _, _ in decided:
                self._sessions.evict(item.instance.instance_id)
                self._store.abandon_orchestration(item)
            raise
        for (item, commit, replayer, began), ok in zip(decided, applied, strict=True):
            self._running.hand_off(commit.leased)
            reserved -= len(commit.leased)
            if ok is not None:
                self._after_commit(item, commit, replayer, ok)
            if self._on_step is not None:
                trace = StepTrace(item.instance.instance_id, self._owner, began, ended, bool(ok))
                self._on_step(trace)
        self._permits.release(reserved)
        return len(items)

    def _commit_decided(self, decided: list[_Decided], now: datetime) -> list[bool | None]:
        """Commit a batch's steps in one transaction; if that fails, each step alone, so one
        instance's bad step cannot hold back the others (see :meth:`_commit_alone`).

        Each entry says whether the step was applied (False: the lease was lost), or is None
        for a step that was given up (its instance released to run again later).
        """
        try:
            return list(
                self._store.commit_orchestrations(
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
        self._store.abandon_orchestration(item)

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
                return self._store.commit_orchestrations([(item, commit)], now=now)[0]
            except StoreLockedError:
                raise
            except Exception as exc:
                commit.leased.clear()
                err = exc
        if is_invalid_step(err):
            log.error("step of %s cannot be stored (%s); failing the instance", iid, err)
            failed = failed_step(item, commit, err, now)
            try:
                ok = self._store.commit_orchestrations([(item, failed)], now=now)[0]
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
            self._wake_activities.set()
        if commit.messages or commit.new_instances or commit.continue_as_new:
            self._wake_orchestrations.set()

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
            activity_name=self._app.name_of,
            orchestrator_name=self._app.name_of,
        )

    def _orchestrator_fn(self, name: str) -> Callable[..., Any] | None:
        graph = self._app.graphs.get(name)
        if graph is not None:
            from durableflow.runtime.graph_interpreter import graph_orchestrator

            return graph_orchestrator(graph)  # type: ignore[arg-type]
        return self._app.orchestrators.get(name)

    def _unknown_orchestrator(
        self, item: OrchestrationWorkItem, new_events: list[h.HistoryEvent]
    ) -> StepResult:
        err = UnknownFunctionError(
            "orchestrator", item.instance.name, [*self._app.orchestrators, *self._app.graphs]
        )
        failure = failure_of(err)
        events = [*new_events, h.ExecutionFailed(timestamp=self._clock.now(), failure=failure)]
        return StepResult(RuntimeStatus.FAILED, new_events=events, failure=failure)

    def complete_and_step(
        self, item: ActivityWorkItem, result: h.HistoryEvent
    ) -> tuple[bool, ActivityWorkItem | None]:
        """Record an activity's result and run its instance's next step in one transaction.

        Returns whether the step ran (not if the instance was busy elsewhere: the result
        then waits in its inbox) and an activity the step leased for this thread to run.

        With the instance's generator live here, the step is decided and encoded before the
        transaction (which then holds the write lock only for its statements and its fsync)
        and the store applies it only if the instance is still as it was; otherwise the step
        is decided inside the transaction.
        """
        now = self._clock.now()
        with self._step_lock:
            planned = self._plan(item, result, now)
        if planned is None:
            return self._decide_and_step(item, result, now)
        return self._commit_planned(item, result, now, *planned)

    def _plan(
        self, item: ActivityWorkItem, result: h.HistoryEvent, now: datetime
    ) -> tuple[Session, PlannedStep, int, int] | None:
        """Decide the step that ``result`` wakes on the cached generator (the caller holds
        the step lock): the generator, the step, runners reserved, when deciding began."""
        live = self._sessions.get(item.instance_id)
        if (
            live is None
            or live.instance.execution_id != item.execution_id
            or live.replayer.is_finished
            or live.pending
        ):
            return None
        began = time.monotonic_ns()
        base = live.replayer.events_seen
        try:
            step = live.replayer.advance_new([h.OrchestratorStarted(timestamp=now), result])
        except Exception:
            log.exception("step of %s failed; replaying it in full", item.instance_id)
            self._sessions.evict(item.instance_id)
            return None
        live.pending += 1
        commit = build_commit(live.instance, step, [], now, live.started)
        reserved = self._permits.reserve(len(commit.activities))
        if reserved:
            commit.lease_activities_to = (self._owner, now + self._lease)
            commit.lease_limit = reserved
        return live, PlannedStep(live.instance, base, live.epoch, commit), reserved, began

    def _commit_planned(
        self,
        item: ActivityWorkItem,
        result: h.HistoryEvent,
        now: datetime,
        live: Session,
        step: PlannedStep,
        reserved: int,
        began: int,
    ) -> tuple[bool, ActivityWorkItem | None]:
        iid = item.instance_id
        ended = time.monotonic_ns()
        try:
            applied = self._store.complete_activity_with_step(item, result, step, now=now)
        except BaseException:
            self._permits.release(reserved)
            with self._step_lock:
                live.pending -= 1
                self._sessions.evict(iid, live.replayer)
            raise
        with self._step_lock:
            live.pending -= 1
            if not applied:
                # Decided on a state that changed: the result waits in the inbox, and the
                # generator, advanced past it, is dropped.
                self._permits.release(reserved)
                self._sessions.evict(iid, live.replayer)
                return False, None
            if step.commit.status in (RuntimeStatus.RUNNING, RuntimeStatus.SUSPENDED):
                current = self._sessions.get(iid)
                if current is None or current is live:  # not replaced meanwhile
                    self._sessions.keep(iid, live)
            else:
                self._sessions.evict(iid, live.replayer)
            self._announce(iid, step.commit)
        # This activity's row went in the same transaction; its successors start now (the
        # first on this thread), only once the step that scheduled them is durable.
        self._running.drop(item)
        self._permits.release(reserved - len(step.commit.leased))
        following = self._running.hand_off(step.commit.leased, keep_first=True)
        if self._on_step is not None:
            self._on_step(StepTrace(iid, self._owner, began, ended, True))
        return True, following

    def _decide_and_step(
        self, item: ActivityWorkItem, result: h.HistoryEvent, now: datetime
    ) -> tuple[bool, ActivityWorkItem | None]:
        state: dict[str, Any] = {"reserved": 0}

        def decide(work: OrchestrationWorkItem) -> OrchestrationCommit:
            began = time.monotonic_ns()
            commit, replayer = self._decide(work, now)
            reserved = self._permits.reserve(len(commit.activities))
            if reserved:
                commit.lease_activities_to = (self._owner, now + self._lease)
                commit.lease_limit = reserved
            state.update(
                replayer=replayer, reserved=reserved, began=began, ended=time.monotonic_ns()
            )
            return commit

        with self._step_lock:
            try:
                out = self._store.complete_activity_and_step(
                    item, result, now=now, lease=self._lease, decide=decide
                )
            except BaseException:
                self._permits.release(state["reserved"])
                self._sessions.evict(item.instance_id)
                raise
            if out is None:
                self._permits.release(state["reserved"])
                return False, None
            work, commit = out
            self._permits.release(state["reserved"] - len(commit.leased))
            self._running.drop(item)
            following = self._running.hand_off(commit.leased, keep_first=True)
            self._after_commit(work, commit, state["replayer"], True)
        if self._on_step is not None:
            self._on_step(
                StepTrace(item.instance_id, self._owner, state["began"], state["ended"], True)
            )
        return True, following
