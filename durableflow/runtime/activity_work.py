"""The worker's activity side: leasing, running and completing activities.

A mixin of :class:`~durableflow.runtime.worker.Worker`, which owns the threads, the state and
the orchestration steps; here is what happens from an activity's lease to its result:

* a dispatcher leases activities while runner slots are free; runners take them from a
  local queue, and a lease keeper renews the leases of those still running;
* a result that finishes alone (a chain) is committed together with the step it wakes,
  decided ahead of the transaction on the instance's live generator when there is one
  (:meth:`ActivityWork._plan`), and the step's next activity runs on the same thread;
* a result that finishes while others are in flight goes to the orchestration thread,
  which records it in its next lock transaction and steps its instance in a batch.
"""

from __future__ import annotations

import inspect
import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, overload

from durableflow.core import history as h
from durableflow.core import payload
from durableflow.core.app import App
from durableflow.core.status import RuntimeStatus
from durableflow.runtime.activity_attempts import Attempt, AttemptEnded, enter
from durableflow.runtime.clock import Clock
from durableflow.runtime.executor import Replayer, failure_of
from durableflow.runtime.sessions import Session, Sessions
from durableflow.runtime.step_trace import StepTrace
from durableflow.runtime.steps import build_commit, is_invalid_step
from durableflow.runtime.store.base import (
    ActivityLease,
    ActivityWorkItem,
    LeaseLostError,
    OrchestrationCommit,
    OrchestrationWorkItem,
    PlannedStep,
    WorkerStore,
)

log = logging.getLogger("durableflow.worker")


class ActivityWork:
    """Activities, for :class:`~durableflow.runtime.worker.Worker` (see the module doc)."""

    if TYPE_CHECKING:  # provided by Worker
        app: App
        store: WorkerStore
        clock: Clock
        lease: timedelta
        owner: str
        poll_interval: float
        _stop: threading.Event
        _orch_wake: threading.Event
        _act_wake: threading.Event
        _running: dict[ActivityLease, ActivityWorkItem]
        _running_lock: threading.Lock
        _signatures: dict[str, bool]
        _on_step: Callable[[StepTrace], None] | None
        _free_slots: threading.Semaphore
        _results: list[tuple[ActivityWorkItem, h.HistoryEvent]]
        _results_lock: threading.Lock
        _step_lock: threading.Lock
        _act_queue: queue.Queue[ActivityWorkItem | None]
        _sessions: Sessions
        activity_timeout: timedelta | None
        _attempts: dict[ActivityLease, Attempt]
        _keeper_wake: threading.Event

        def _spawn_runner(self, replacing: threading.Thread) -> None: ...

        def _enter_busy(self, delta: int) -> None: ...

        def _reserve_runners(self, wanted: int) -> int: ...

        def _release_runners(self, count: int) -> None: ...

        @overload
        def _run_leased(self, commit: OrchestrationCommit) -> int: ...

        @overload
        def _run_leased(
            self, commit: OrchestrationCommit, keep_first: Literal[True]
        ) -> ActivityWorkItem | None: ...

        def _run_leased(
            self, commit: OrchestrationCommit, keep_first: bool = False
        ) -> int | ActivityWorkItem | None: ...

        def _decide(
            self, item: OrchestrationWorkItem, now: datetime
        ) -> tuple[OrchestrationCommit, Replayer | None]: ...

        def _after_commit(
            self,
            item: OrchestrationWorkItem,
            commit: OrchestrationCommit,
            replayer: Replayer | None,
            applied: bool,
        ) -> None: ...

        def _announce(self, iid: str, commit: OrchestrationCommit) -> None: ...

    def _take_results(self) -> list[tuple[ActivityWorkItem, h.HistoryEvent]]:
        with self._results_lock:
            taken, self._results = self._results, []
        return taken

    def _results_recorded(self, results: list[tuple[ActivityWorkItem, h.HistoryEvent]]) -> None:
        with self._running_lock:
            for item, _ in results:
                self._running.pop(item.lease, None)
        self._enter_busy(-len(results))

    def _record_results(self) -> None:
        """Record results still waiting for the orchestration thread (at shutdown)."""
        for item, result in self._take_results():
            try:
                self.store.complete_activity(item, result, now=self.clock.now())
            except LeaseLostError:
                pass
            except Exception:
                log.exception(
                    "could not record the result of activity %s of %s", item.name, item.instance_id
                )
            finally:
                self._results_recorded([(item, result)])

    # One dispatcher leases activities only while a runner thread is free, so idle runners
    # do not all poll the store at once; runners take leased items from a local queue.
    def _activity_dispatch_loop(self) -> None:
        while not self._stop.is_set():
            if not self._free_slots.acquire(timeout=self.poll_interval):
                continue
            self._enter_busy(1)
            self._act_wake.clear()
            try:
                item = self.store.lock_activity(self.owner, now=self.clock.now(), lease=self.lease)
            except Exception:
                log.exception("activity dispatch failed; retrying after the poll interval")
                item = None
            if item is None:
                self._enter_busy(-1)
                self._free_slots.release()
                self._act_wake.wait(self.poll_interval)
                continue
            with self._running_lock:
                self._running[item.lease] = item
            self._act_queue.put(item)

    def _activity_runner(self) -> None:
        while True:
            queued = self._act_queue.get()
            if queued is None:
                return
            item: ActivityWorkItem | None = queued
            while item is not None:
                if self._stop.is_set():
                    # Stopping: work not yet started goes back to the store for any worker.
                    self._give_back(item)
                    break
                following = None
                try:
                    following = self._run_activity(item)
                except AttemptEnded:
                    # It timed out or was given up, and whoever ended it released its slot
                    # and started a runner in this thread's place.
                    return
                except BaseException:
                    log.exception(
                        "activity %s of %s could not be completed", item.name, item.instance_id
                    )
                self._enter_busy(-1)
                self._free_slots.release()
                # The next activity of a chain runs on this thread, without a hand-off.
                item = following

    def _give_back(self, item: ActivityWorkItem) -> None:
        """Release a leased activity that this worker will not run after all."""
        try:
            self.store.abandon_activity(item)
        except Exception:
            log.exception(
                "could not release activity %s of %s; its lease will expire",
                item.name,
                item.instance_id,
            )
        with self._running_lock:
            self._running.pop(item.lease, None)
        self._enter_busy(-1)
        self._free_slots.release()

    def run_one_activity(self) -> bool:
        """Lock, run and complete one activity on this thread; False if there was no work."""
        self._enter_busy(1)
        try:
            item = self.store.lock_activity(self.owner, now=self.clock.now(), lease=self.lease)
            if item is None:
                return False
            with self._running_lock:
                self._running[item.lease] = item
            try:
                following = self._run_activity(item)
            except AttemptEnded:
                return True
            if following is not None:
                # One activity was asked for, and there may be no runner threads to take
                # the next: give its lease back so that any worker can lock it.
                self.store.abandon_activity(following)
                with self._running_lock:
                    self._running.pop(following.lease, None)
                self._enter_busy(-1)
                self._free_slots.release()
            return True
        finally:
            self._enter_busy(-1)

    def _run_activity(self, item: ActivityWorkItem) -> ActivityWorkItem | None:
        """Run ``item`` and record its result; the next activity to run on this thread.

        Raises:
            AttemptEnded: the attempt timed out or was given up while it ran; its result
                was dropped.
        """
        key = item.lease
        attempt = Attempt(item, item.timeout or self.activity_timeout, self.clock)
        with self._running_lock:
            self._attempts[key] = attempt
        if attempt.deadline is not None:
            self._keeper_wake.set()  # a new deadline to watch
        enter(attempt)
        try:
            result = self._invoke(item)
        finally:
            enter(None)
            with self._running_lock:
                if self._attempts.get(key) is attempt:
                    del self._attempts[key]
        if not attempt.finish():
            log.warning(
                "activity %s of %s (attempt %d) returned after its attempt ended; its "
                "result is ignored",
                item.name,
                item.instance_id,
                item.attempt,
            )
            raise AttemptEnded
        handed_over = False
        following = None
        try:
            with self._running_lock:
                alone = len(self._running) == 1 and self._act_queue.empty()
            if not alone and not self._stop.is_set():
                # Others are in flight: the orchestration thread records this result with
                # the rest in its next lock transaction and steps their instances in one
                # batch. (It keeps the lease renewed meanwhile: the item stays running.)
                self._enter_busy(1)
                with self._results_lock:
                    self._results.append((item, result))
                handed_over = True
                self._orch_wake.set()
                return None
            try:
                # A lone activity (a chain): its result and the next step share one
                # transaction.
                try:
                    stepped, following = self._complete_and_step(item, result)
                except Exception as err:
                    if not is_invalid_step(err):
                        raise
                    # The step cannot be stored: record the result alone; the orchestration
                    # thread takes the step and fails just this instance with the error.
                    log.warning("step of %s cannot be stored (%s)", item.instance_id, err)
                    self.store.complete_activity(item, result, now=self.clock.now())
                    stepped, following = False, None
            except LeaseLostError:
                log.warning(
                    "activity %s of %s finished after its lease was lost; its result "
                    "is dropped and the new owner's run counts",
                    item.name,
                    item.instance_id,
                )
                return None
        finally:
            if not handed_over:
                with self._running_lock:
                    self._running.pop(item.lease, None)
        if not stepped:
            self._orch_wake.set()
        return following

    def _complete_and_step(
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
        now = self.clock.now()
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
        reserved = self._reserve_runners(len(commit.activities))
        if reserved:
            commit.lease_activities_to = (self.owner, now + self.lease)
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
            applied = self.store.complete_activity_with_step(item, result, step, now=now)
        except BaseException:
            self._release_runners(reserved)
            with self._step_lock:
                live.pending -= 1
                self._sessions.evict(iid, live.replayer)
            raise
        with self._step_lock:
            live.pending -= 1
            if not applied:
                # Decided on a state that changed: the result waits in the inbox, and the
                # generator, advanced past it, is dropped.
                self._release_runners(reserved)
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
        with self._running_lock:
            self._running.pop(item.lease, None)
        self._release_runners(reserved - len(step.commit.leased))
        following = self._run_leased(step.commit, keep_first=True)
        if self._on_step is not None:
            self._on_step(StepTrace(iid, self.owner, began, ended, True))
        return True, following

    def _decide_and_step(
        self, item: ActivityWorkItem, result: h.HistoryEvent, now: datetime
    ) -> tuple[bool, ActivityWorkItem | None]:
        state: dict[str, Any] = {"reserved": 0}

        def decide(work: OrchestrationWorkItem) -> OrchestrationCommit:
            began = time.monotonic_ns()
            commit, replayer = self._decide(work, now)
            reserved = self._reserve_runners(len(commit.activities))
            if reserved:
                commit.lease_activities_to = (self.owner, now + self.lease)
                commit.lease_limit = reserved
            state.update(
                replayer=replayer, reserved=reserved, began=began, ended=time.monotonic_ns()
            )
            return commit

        with self._step_lock:
            try:
                out = self.store.complete_activity_and_step(
                    item, result, now=now, lease=self.lease, decide=decide
                )
            except BaseException:
                self._release_runners(state["reserved"])
                self._sessions.evict(item.instance_id)
                raise
            if out is None:
                self._release_runners(state["reserved"])
                return False, None
            work, commit = out
            self._release_runners(state["reserved"] - len(commit.leased))
            with self._running_lock:
                self._running.pop(item.lease, None)
            following = self._run_leased(commit, keep_first=True)
            self._after_commit(work, commit, state["replayer"], True)
        if self._on_step is not None:
            self._on_step(
                StepTrace(item.instance_id, self.owner, state["began"], state["ended"], True)
            )
        return True, following

    def _invoke(self, item: ActivityWorkItem) -> h.HistoryEvent:
        now = self.clock.now
        try:
            fn = self.app.get_activity(item.name)
            value = fn(item.input) if self._takes_input(item.name, fn) else fn()
            value = payload.normalize(value, f"result of activity {item.name!r}")
        # Not only Exception: sys.exit() or a stray KeyboardInterrupt in activity code would
        # otherwise end this runner thread and leave the activity leased until it expires.
        except BaseException as exc:
            if not isinstance(exc, Exception):
                log.error(
                    "activity %s of %s raised %s; this attempt fails with it",
                    item.name,
                    item.instance_id,
                    type(exc).__name__,
                    exc_info=exc,
                )
            failure = failure_of(exc)
            return h.TaskFailed(timestamp=now(), task_id=item.task_id, failure=failure)
        return h.TaskCompleted(timestamp=now(), task_id=item.task_id, result=value)

    def _takes_input(self, name: str, fn: Callable[..., Any]) -> bool:
        takes = self._signatures.get(name)
        if takes is None:
            try:
                params = inspect.signature(fn).parameters.values()
                takes = any(
                    p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
                    for p in params
                )
            except (TypeError, ValueError):
                takes = True
            self._signatures[name] = takes
        return takes
