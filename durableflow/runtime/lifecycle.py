"""The worker's threads: starting them, keeping them serving, and stopping gracefully.

:class:`Threads` starts named threads that serve a loop and supervises them (a loop that
fails is logged and run again); :class:`Lifecycle` starts a worker's threads and stops them.
Stopping takes no new work at once, lets in-flight work finish for a bounded time, then
gives up what is left (Python cannot kill a thread: an abandoned activity's thread runs on,
but its result is ignored) and releases every lease the worker holds, so that a restart or
another worker picks the work up at once instead of after the leases expire.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

from durableflow.runtime.presence import Presence
from durableflow.runtime.retention import Retention
from durableflow.runtime.runner_permits import RunnerPermits
from durableflow.runtime.running_activities import RunningActivities
from durableflow.runtime.store.base import Subscription, WorkerStore

log = logging.getLogger("durableflow.worker")

RUNNER_PREFIX = "durableflow-activities-"


class Threads:
    """A worker's threads, each serving a loop until the worker stops.

    Args:
        stopping: set when the worker stops.
        poll_interval: how long a failed loop waits before it serves again.
        runner: the loop of an activity runner thread.
    """

    def __init__(
        self, stopping: threading.Event, poll_interval: float, runner: Callable[[], None]
    ) -> None:
        self._stopping = stopping
        self._poll_interval = poll_interval
        self._runner = runner
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._runners_started = 0

    def start(self, loops: list[tuple[str, Callable[[], None]]], runners: int) -> None:
        """Start a thread for each named loop, and ``runners`` runner threads."""
        with self._lock:
            for name, loop in loops:
                self._start_thread(f"durableflow-{name}", loop)
            for _ in range(runners):
                self._start_runner()

    def _start_thread(self, name: str, loop: Callable[[], None]) -> threading.Thread:
        t = threading.Thread(target=self._serve, args=(loop,), name=name, daemon=True)
        t.start()
        self._threads.append(t)
        return t

    def _start_runner(self) -> None:
        self._runners_started += 1
        name = f"{RUNNER_PREFIX}{self._runners_started}"
        self._start_thread(name, self._runner)

    def replace_runner(self, replacing: threading.Thread) -> None:
        """Start a runner in place of ``replacing``, a runner stuck in an attempt that ended
        without it (Python cannot stop the thread; it exits when the activity returns)."""
        with self._lock:
            if self._stopping.is_set() or replacing not in self._threads:
                return
            self._threads.remove(replacing)
            self._start_runner()

    def any(self) -> bool:
        """True when threads were started and not yet let go."""
        return bool(self._threads)

    def named(self, *, runners: bool) -> list[threading.Thread]:
        """The runner threads, or (``runners=False``) the others."""
        with self._lock:
            return [t for t in self._threads if t.name.startswith(RUNNER_PREFIX) is runners]

    def let_go(self) -> None:
        """Forget every thread (stopped, or abandoned at the stop deadline)."""
        with self._lock:
            self._threads = []

    def _serve(self, loop: Callable[[], None]) -> None:
        """Run a thread's loop; if anything escapes it, log it and run the loop again.

        Each loop already contains the failures of the work it does; this is the last line,
        so that a thread never ends silently and leaves its part of the worker undone.
        """
        while True:
            try:
                loop()
                return
            except BaseException:
                name = threading.current_thread().name
                if self._stopping.is_set():
                    log.exception("%s failed while stopping", name)
                    return
                log.exception("%s failed; it keeps serving", name)
                self._stopping.wait(self._poll_interval)


class Lifecycle:
    """Starts and stops one worker's threads (see the module doc).

    Args:
        store: the worker's store (subscribed to while running; leases released at stop).
        owner: the worker's lease owner name.
        runners: activity runner threads to start.
        threads: where the threads run.
        loops: the named loops of the other threads (orchestrations, dispatch, keeper).
        stopping: set when the worker stops.
        wake: makes the worker look for work of every kind now (when it stops).
        wake_orchestrations: makes the orchestration loop look now; called on the store's
            notifications of mail.
        wake_activities: makes the activity dispatcher look now; called on the store's
            notifications of activities.
        wake_keeper: wakes the lease keeper (to see that the worker stops).
        running: the activities leased to the worker (given up at the stop deadline).
        permits: counted from nothing again after a stop.
        record_results: records results still waiting for the orchestration thread.
        presence: the worker's registration and heartbeat.
        retention: the periodic purge, if any.
    """

    def __init__(
        self,
        store: WorkerStore,
        *,
        owner: str,
        runners: int,
        threads: Threads,
        loops: list[tuple[str, Callable[[], None]]],
        stopping: threading.Event,
        wake: Callable[[], None],
        wake_orchestrations: Callable[[], None],
        wake_activities: Callable[[], None],
        wake_keeper: threading.Event,
        running: RunningActivities,
        permits: RunnerPermits,
        record_results: Callable[[], None],
        presence: Presence,
        retention: Retention | None,
    ) -> None:
        self._store = store
        self._owner = owner
        self._runners = runners
        self._threads = threads
        self._loops = loops
        self._stopping = stopping
        self._wake = wake
        self._wake_orchestrations = wake_orchestrations
        self._wake_activities = wake_activities
        self._wake_keeper = wake_keeper
        self._running = running
        self._permits = permits
        self._record_results = record_results
        self._presence = presence
        self._retention = retention
        self._subscription: Subscription | None = None

    def start(self) -> None:
        """Start the worker threads and return."""
        self._stopping.clear()
        self._presence.arrive()
        if self._subscription is None:
            self._subscription = self._store.subscribe(
                self._wake_orchestrations, self._wake_activities
            )
        loops = [*self._loops, ("presence", lambda: self._presence.loop(self._stopping))]
        retention = self._retention
        if retention is not None:
            loops.append(("retention", lambda: retention.loop(self._stopping)))
        self._threads.start(loops, self._runners)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop taking work at once, let in-flight work finish for up to ``timeout`` seconds,
        then give up what is left and release every lease the worker holds."""
        self._stopping.set()
        self._wake()
        self._wake_keeper.set()
        deadline = time.monotonic() + timeout
        if self._threads.any():
            log.info("stopping %s: in-flight work has %gs to finish", self._owner, timeout)
        # Producers first: the orchestration thread may still hand pre-leased activities to
        # the runners; only then tell the runners to finish what they run and exit.
        for t in self._threads.named(runners=False):
            t.join(max(deadline - time.monotonic(), 0))
        runners = self._threads.named(runners=True)
        for _ in runners:
            self._running.queue.put(None)
        for t in runners:
            t.join(max(deadline - time.monotonic(), 0))
        self._threads.let_go()
        self._unsubscribe()
        self._record_results()
        self._abandon_in_flight()
        try:
            released = self._store.release_leases(self._owner)
        except Exception:
            log.exception("could not release the leases of %s; they will expire", self._owner)
        else:
            if released:
                log.info("released %d leases of %s", released, self._owner)
        self._presence.leave()

    def _unsubscribe(self) -> None:
        subscription, self._subscription = self._subscription, None
        if subscription is None:
            return
        try:
            subscription.close()
        except Exception:
            log.exception("could not close the store subscription of %s", self._owner)

    def _abandon_in_flight(self) -> None:
        """Give up the attempts still running and the activities still queued (stopping)."""
        for attempt in self._running.take_attempts():
            if attempt.abandon():
                log.warning(
                    "gave up activity %s of %s, still running at shutdown; it will run "
                    "again (its thread runs on, and whatever it returns is ignored)",
                    attempt.item.name,
                    attempt.item.instance_id,
                )
        self._running.clear()
        # Counted again from nothing for a restart: what was given up holds no permit.
        self._permits.reset()

    def run_forever(
        self,
        on_ready: Callable[[], None] | None = None,
        *,
        drain_timeout: float = 10.0,
    ) -> None:
        """Run until SIGINT or SIGTERM, then shut down gracefully (see
        :meth:`~durableflow.runtime.worker.Worker.run_forever`)."""
        signals: list[int] = []

        def on_signal(signum: int, frame: FrameType | None) -> None:
            signals.append(signum)
            name = signal.Signals(signum).name
            if len(signals) > 1:
                log.warning("received %s again, exiting now", name)
                os._exit(128 + signum)
            # A warning, so that it shows at every log level: the worker is going away.
            log.warning(
                "received %s: taking no new work, finishing in-flight work for up to %gs "
                "(%s again to exit now)",
                name,
                drain_timeout,
                name,
            )
            self._stopping.set()
            self._wake()

        old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.start()
            if on_ready is not None:
                on_ready()
            while not self._stopping.wait(0.5):
                pass
            self.stop(drain_timeout)
            log.info("worker %s stopped", self._owner)
        finally:
            for s, handler in old.items():
                signal.signal(s, handler)
