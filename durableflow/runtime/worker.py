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

The worker is composed of parts that each own their state, and get what they need through
their constructors:

* :class:`~durableflow.runtime.runner_permits.RunnerPermits`: how many activities the
  worker may hold, and how much work it has in hand;
* :class:`~durableflow.runtime.running_activities.RunningActivities`: the activities leased
  to it, their attempts, their local queue and results waiting to be recorded;
* :class:`~durableflow.runtime.stepper.Stepper`: orchestration steps, batched or fused
  with an activity's result, on live generators;
* :class:`~durableflow.runtime.activity_work.ActivityWork`: leasing, running and completing
  activities;
* :class:`~durableflow.runtime.lease_keeper.LeaseKeeper`: lease renewals and timeouts;
* :class:`~durableflow.runtime.lifecycle.Lifecycle`: its threads, start and graceful stop.

This module wires them together and runs the orchestration thread's loop.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import cast

from durableflow.core.actions import activity_timeout as activity_timeout_of
from durableflow.core.app import App
from durableflow.runtime.activity_work import ActivityWork
from durableflow.runtime.clock import Clock, SystemClock
from durableflow.runtime.lease_keeper import LeaseKeeper
from durableflow.runtime.lifecycle import Lifecycle, Threads
from durableflow.runtime.presence import Presence
from durableflow.runtime.retention import Retention
from durableflow.runtime.runner_permits import RunnerPermits
from durableflow.runtime.running_activities import RunningActivities
from durableflow.runtime.sessions import Sessions
from durableflow.runtime.step_trace import StepTrace
from durableflow.runtime.stepper import Stepper
from durableflow.runtime.store.base import WorkerStore
from durableflow.runtime.store.composites import PurgingStore

__all__ = ["StepTrace", "Worker"]

log = logging.getLogger("durableflow.worker")


class Worker:
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
        self.batch_size = batch_size
        self._stop = threading.Event()
        self._orch_wake = threading.Event()
        self._act_wake = threading.Event()
        keeper_wake = threading.Event()
        subscribe = getattr(self.clock, "subscribe", None)
        if subscribe is not None:
            subscribe(self._orch_wake)
            subscribe(self._act_wake)
            subscribe(keeper_wake)
        self._permits = RunnerPermits(activity_concurrency, self._stop)
        self._running = RunningActivities(self._permits)
        self._stepper = Stepper(
            app,
            store,
            clock=self.clock,
            owner=self.owner,
            lease=lease,
            sessions=Sessions(cache_size),
            permits=self._permits,
            running=self._running,
            wake_orchestrations=self._orch_wake,
            wake_activities=self._act_wake,
            on_step=on_step,
            on_end=on_end,
        )
        activities = ActivityWork(
            app,
            store,
            clock=self.clock,
            owner=self.owner,
            lease=lease,
            poll_interval=poll_interval,
            activity_timeout=self.activity_timeout,
            stopping=self._stop,
            permits=self._permits,
            running=self._running,
            stepper=self._stepper,
            wake=self._act_wake,
            wake_orchestrations=self._orch_wake,
            wake_keeper=keeper_wake,
        )
        self._activities = activities
        threads = Threads(self._stop, poll_interval, activities.runner_loop)
        keeper = LeaseKeeper(
            store,
            clock=self.clock,
            lease=lease,
            running=self._running,
            permits=self._permits,
            stopping=self._stop,
            wake=keeper_wake,
            replace_runner=threads.replace_runner,
            on_recorded=self._orch_wake.set,
        )
        retention = (
            None if retain is None else Retention(cast(PurgingStore, store), retain, self.clock)
        )
        self._lifecycle = Lifecycle(
            store,
            owner=self.owner,
            runners=activity_concurrency,
            threads=threads,
            loops=[
                ("orchestrations", self._orch_loop),
                ("activity-dispatch", activities.dispatch_loop),
                ("lease-keeper", keeper.loop),
            ],
            stopping=self._stop,
            wake=self.wake,
            wake_orchestrations=self._orch_wake.set,
            wake_activities=self._act_wake.set,
            wake_keeper=keeper_wake,
            running=self._running,
            permits=self._permits,
            record_results=activities.record_results,
            presence=Presence(store, self.owner, lease, self.clock),
            retention=retention,
        )

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker threads and return."""
        self._lifecycle.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop taking work at once, let in-flight work finish for up to ``timeout`` seconds,
        then give up what is left and release every lease this worker holds.

        Activities that have not started are given back without running. An activity still
        running at the deadline is abandoned: its thread cannot be killed and runs on, but
        its result is ignored, and with its lease released another worker (or this one,
        restarted) runs it again at once (activities are at-least-once). Likewise a step
        still being decided is not committed.
        """
        self._lifecycle.stop(timeout)

    def run_forever(
        self, on_ready: Callable[[], None] | None = None, *, drain_timeout: float = 10.0
    ) -> None:
        """Run until SIGINT or SIGTERM, then shut down gracefully (see :meth:`stop`).

        The first signal stops taking work at once and gives in-flight work up to
        ``drain_timeout`` seconds; a second signal exits the process at once, with status
        128 + the signal number (what it leaves unfinished is redone after its lease
        expires, as after a crash). ``on_ready`` is called once the signal handlers are
        installed and work has started.
        """
        self._lifecycle.run_forever(on_ready, drain_timeout=drain_timeout)

    def is_idle(self) -> bool:
        """True when no step or activity is being locked, run or committed right now."""
        return self._permits.is_idle()

    def wake(self) -> None:
        """Look for work now instead of after the poll interval."""
        self._orch_wake.set()
        self._act_wake.set()

    def __enter__(self) -> Worker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- work -------------------------------------------------------------------------------
    def _orch_loop(self) -> None:
        while not self._stop.is_set():
            # Clear before looking, so a wake-up that arrives mid-batch is not lost.
            self._orch_wake.clear()
            try:
                done = self.run_orchestration_batch(self.batch_size)
            except Exception:
                log.exception("orchestration step failed; retrying after the poll interval")
                done = 0
            if done < self.batch_size and not self._running.has_results():
                # A partial batch took everything that was ready; new work wakes us.
                self._orch_wake.wait(self.poll_interval)

    def run_one_orchestration_step(self) -> bool:
        """Lock, run and commit one orchestration step; False if there was no work."""
        return self.run_orchestration_batch(1) > 0

    def run_orchestration_batch(self, limit: int) -> int:
        """Lock up to ``limit`` ready instances, run one step of each, and commit them all in
        one store transaction. Returns how many instances were locked."""
        self._permits.busy(1)
        try:
            return self._stepper.run_batch(limit)
        finally:
            self._permits.busy(-1)

    def run_one_activity(self) -> bool:
        """Lock, run and complete one activity on this thread; False if there was no work."""
        return self._activities.run_one_activity()
