"""The worker's activity side: leasing, running and completing activities.

What happens from an activity's lease to its result:

* a dispatcher leases activities while runner permits are free
  (:mod:`~durableflow.runtime.runner_permits`); runners take them from a local queue
  (:mod:`~durableflow.runtime.running_activities`), and a lease keeper renews the leases of
  those still running;
* a result that finishes alone (a chain) is committed together with the step it wakes
  (:meth:`~durableflow.runtime.stepper.Stepper.complete_and_step`), and the step's next
  activity runs on the same thread;
* a result that finishes while others are in flight goes to the orchestration thread,
  which records it in its next lock transaction and steps its instance in a batch.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from durableflow.core import history as h
from durableflow.core import payload
from durableflow.core.app import App
from durableflow.runtime.activity_attempts import Attempt, AttemptEnded, enter
from durableflow.runtime.clock import Clock
from durableflow.runtime.executor import failure_of
from durableflow.runtime.runner_permits import RunnerPermits
from durableflow.runtime.running_activities import RunningActivities
from durableflow.runtime.stepper import Stepper
from durableflow.runtime.steps import is_invalid_step
from durableflow.runtime.store.base import ActivityWorkItem, LeaseLostError, WorkerStore

log = logging.getLogger("durableflow.worker")


class ActivityWork:
    """Leases, runs and completes one worker's activities (see the module doc).

    Args:
        app: the registry of activities.
        store: where activities are leased and their results recorded.
        clock: the worker's time source.
        owner: the worker's lease owner name.
        lease: how long a lease the store grants.
        poll_interval: seconds the dispatcher waits when there is no work.
        activity_timeout: the per-attempt timeout of activities that give none.
        stopping: set when the worker stops.
        permits: runner permits (one per leased activity).
        running: the activities leased to the worker.
        stepper: runs the step a lone activity's result wakes.
        wake: set when activities may be ready to lease.
        wake_orchestrations: set when a result waits for the orchestration thread.
        wake_keeper: set when an attempt with a deadline starts.
    """

    def __init__(
        self,
        app: App,
        store: WorkerStore,
        *,
        clock: Clock,
        owner: str,
        lease: timedelta,
        poll_interval: float,
        activity_timeout: timedelta | None,
        stopping: threading.Event,
        permits: RunnerPermits,
        running: RunningActivities,
        stepper: Stepper,
        wake: threading.Event,
        wake_orchestrations: threading.Event,
        wake_keeper: threading.Event,
    ) -> None:
        self._app = app
        self._store = store
        self._clock = clock
        self._owner = owner
        self._lease = lease
        self._poll_interval = poll_interval
        self._activity_timeout = activity_timeout
        self._stopping = stopping
        self._permits = permits
        self._running = running
        self._stepper = stepper
        self._wake = wake
        self._wake_orchestrations = wake_orchestrations
        self._wake_keeper = wake_keeper
        self._signatures: dict[str, bool] = {}

    def record_results(self) -> None:
        """Record results still waiting for the orchestration thread (at shutdown)."""
        for item, result in self._running.take_results():
            try:
                self._store.complete_activity(item, result, now=self._clock.now())
            except LeaseLostError:
                pass
            except Exception:
                log.exception(
                    "could not record the result of activity %s of %s", item.name, item.instance_id
                )
            finally:
                self._running.recorded([(item, result)])

    def dispatch_loop(self) -> None:
        """Lease activities while permits are free, until the worker stops (the dispatcher
        thread's body)."""
        # One dispatcher leases activities only while a runner thread is free, so idle
        # runners do not all poll the store at once; runners take them from a local queue.
        while not self._stopping.is_set():
            if not self._permits.take(self._poll_interval):
                continue
            self._permits.busy(1)
            self._wake.clear()
            try:
                item = self._store.lock_activity(
                    self._owner, now=self._clock.now(), lease=self._lease
                )
            except Exception:
                log.exception("activity dispatch failed; retrying after the poll interval")
                item = None
            if item is None:
                self._permits.busy(-1)
                self._permits.release()
                self._wake.wait(self._poll_interval)
                continue
            self._running.hold(item)
            self._running.queue.put(item)

    def runner_loop(self) -> None:
        """Run queued activities until told to exit (a runner thread's body)."""
        while True:
            queued = self._running.queue.get()
            if queued is None:
                return
            item: ActivityWorkItem | None = queued
            while item is not None:
                if self._stopping.is_set():
                    # Stopping: work not yet started goes back to the store for any worker.
                    self._give_back(item)
                    break
                following = None
                try:
                    following = self._run_activity(item)
                except AttemptEnded:
                    # It timed out or was given up, and whoever ended it released its permit
                    # and started a runner in this thread's place.
                    return
                except BaseException:
                    log.exception(
                        "activity %s of %s could not be completed", item.name, item.instance_id
                    )
                self._permits.busy(-1)
                self._permits.release()
                # The next activity of a chain runs on this thread, without a hand-off.
                item = following

    def _give_back(self, item: ActivityWorkItem) -> None:
        """Release a leased activity that this worker will not run after all."""
        try:
            self._store.abandon_activity(item)
        except Exception:
            log.exception(
                "could not release activity %s of %s; its lease will expire",
                item.name,
                item.instance_id,
            )
        self._running.drop(item)
        self._permits.busy(-1)
        self._permits.release()

    def run_one_activity(self) -> bool:
        """Lock, run and complete one activity on this thread; False if there was no work."""
        self._permits.busy(1)
        try:
            item = self._store.lock_activity(self._owner, now=self._clock.now(), lease=self._lease)
            if item is None:
                return False
            self._running.hold(item)
            try:
                following = self._run_activity(item)
            except AttemptEnded:
                return True
            if following is not None:
                # One activity was asked for, and there may be no runner threads to take
                # the next: give its lease back so that any worker can lock it.
                self._store.abandon_activity(following)
                self._running.drop(following)
                self._permits.busy(-1)
                self._permits.release()
            return True
        finally:
            self._permits.busy(-1)

    def _run_activity(self, item: ActivityWorkItem) -> ActivityWorkItem | None:
        """Run ``item`` and record its result; the next activity to run on this thread.

        Raises:
            AttemptEnded: the attempt timed out or was given up while it ran; its result
                was dropped.
        """
        attempt = Attempt(item, item.timeout or self._activity_timeout, self._clock)
        self._running.attempt_began(attempt)
        if attempt.deadline is not None:
            self._wake_keeper.set()  # a new deadline to watch
        enter(attempt)
        try:
            result = self._invoke(item)
        finally:
            enter(None)
            self._running.attempt_returned(attempt)
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
            alone = self._running.alone()
            if not alone and not self._stopping.is_set():
                # Others are in flight: the orchestration thread records this result with
                # the rest in its next lock transaction and steps their instances in one
                # batch. (It keeps the lease renewed meanwhile: the item stays running.)
                self._running.finish_later(item, result)
                handed_over = True
                self._wake_orchestrations.set()
                return None
            try:
                # A lone activity (a chain): its result and the next step share one
                # transaction.
                try:
                    stepped, following = self._stepper.complete_and_step(item, result)
                except Exception as err:
                    if not is_invalid_step(err):
                        raise
                    # The step cannot be stored: record the result alone; the orchestration
                    # thread takes the step and fails just this instance with the error.
                    log.warning("step of %s cannot be stored (%s)", item.instance_id, err)
                    self._store.complete_activity(item, result, now=self._clock.now())
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
                self._running.drop(item)
        if not stepped:
            self._wake_orchestrations.set()
        return following

    def _invoke(self, item: ActivityWorkItem) -> h.HistoryEvent:
        now = self._clock.now
        try:
            fn = self._app.get_activity(item.name)
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
