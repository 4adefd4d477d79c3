"""The worker's threads: starting them, keeping them serving, and stopping gracefully.

A mixin of :class:`~durableflow.runtime.worker.Worker`. Stopping takes no new work at once,
lets in-flight work finish for a bounded time, then gives up what is left (Python cannot
kill a thread: an abandoned activity's thread runs on, but its result is ignored) and
releases every lease the worker holds, so that a restart or another worker picks the work
up at once instead of after the leases expire.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING

from durableflow.runtime.activity_attempts import Attempt
from durableflow.runtime.presence import Presence
from durableflow.runtime.retention import Retention
from durableflow.runtime.store.base import ActivityLease, ActivityWorkItem, WorkerStore

log = logging.getLogger("durableflow.worker")

RUNNER_PREFIX = "durableflow-activities-"


class Lifecycle:
    """Threads, for :class:`~durableflow.runtime.worker.Worker` (see the module doc)."""

    if TYPE_CHECKING:  # provided by Worker
        store: WorkerStore
        owner: str
        poll_interval: float
        activity_concurrency: int
        _stop: threading.Event
        _keeper_wake: threading.Event
        _threads: list[threading.Thread]
        _threads_lock: threading.Lock
        _runners_started: int
        _running: dict[ActivityLease, ActivityWorkItem]
        _running_lock: threading.Lock
        _attempts: dict[ActivityLease, Attempt]
        _act_queue: queue.Queue[ActivityWorkItem | None]
        _busy: int
        _busy_lock: threading.Lock
        _free_slots: threading.Semaphore
        _retention: Retention | None
        _presence: Presence

        def _orch_loop(self) -> None: ...

        def _activity_dispatch_loop(self) -> None: ...

        def _activity_runner(self) -> None: ...

        def _lease_loop(self) -> None: ...

        def _record_results(self) -> None: ...

        def wake(self) -> None: ...

    def start(self) -> None:
        """Start the worker threads and return."""
        self._stop.clear()
        self._presence.arrive()
        targets: list[tuple[str, Callable[[], None]]] = [("orchestrations", self._orch_loop)]
        targets.append(("activity-dispatch", self._activity_dispatch_loop))
        targets.append(("lease-keeper", self._lease_loop))
        targets.append(("presence", lambda: self._presence.loop(self._stop)))
        retention = self._retention
        if retention is not None:
            targets.append(("retention", lambda: retention.loop(self._stop)))
        with self._threads_lock:
            for name, target in targets:
                self._start_thread(f"durableflow-{name}", target)
            for _ in range(self.activity_concurrency):
                self._start_runner()

    def _start_thread(self, name: str, loop: Callable[[], None]) -> threading.Thread:
        t = threading.Thread(target=self._serve, args=(loop,), name=name, daemon=True)
        t.start()
        self._threads.append(t)
        return t

    def _start_runner(self) -> None:
        self._runners_started += 1
        name = f"{RUNNER_PREFIX}{self._runners_started}"
        self._start_thread(name, self._activity_runner)

    def _spawn_runner(self, replacing: threading.Thread) -> None:
        """Start a runner in place of ``replacing``, a runner stuck in an attempt that ended
        without it (Python cannot stop the thread; it exits when the activity returns)."""
        with self._threads_lock:
            if self._stop.is_set() or replacing not in self._threads:
                return
            self._threads.remove(replacing)
            self._start_runner()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop taking work at once, let in-flight work finish for up to ``timeout`` seconds,
        then give up what is left and release every lease this worker holds.

        Activities that have not started are given back without running. An activity still
        running at the deadline is abandoned: its thread cannot be killed and runs on, but
        its result is ignored, and with its lease released another worker (or this one,
        restarted) runs it again at once (activities are at-least-once). Likewise a step
        still being decided is not committed.
        """
        self._stop.set()
        self.wake()
        self._keeper_wake.set()
        deadline = time.monotonic() + timeout
        if self._threads:
            log.info("stopping %s: in-flight work has %gs to finish", self.owner, timeout)
        # Producers first: the orchestration thread may still hand pre-leased activities to
        # the runners; only then tell the runners to finish what they run and exit.
        for t in self._threads_named(runners=False):
            t.join(max(deadline - time.monotonic(), 0))
        runners = self._threads_named(runners=True)
        for _ in runners:
            self._act_queue.put(None)
        for t in runners:
            t.join(max(deadline - time.monotonic(), 0))
        with self._threads_lock:
            self._threads = []
        self._record_results()
        self._abandon_in_flight()
        try:
            released = self.store.release_leases(self.owner)
        except Exception:
            log.exception("could not release the leases of %s; they will expire", self.owner)
        else:
            if released:
                log.info("released %d leases of %s", released, self.owner)
        self._presence.leave()

    def _threads_named(self, *, runners: bool) -> list[threading.Thread]:
        with self._threads_lock:
            return [t for t in self._threads if t.name.startswith(RUNNER_PREFIX) is runners]

    def _abandon_in_flight(self) -> None:
        """Give up the attempts still running and the activities still queued (stopping)."""
        with self._running_lock:
            attempts = list(self._attempts.values())
            self._attempts.clear()
        for attempt in attempts:
            if attempt.abandon():
                log.warning(
                    "gave up activity %s of %s, still running at shutdown; it will run "
                    "again (its thread runs on, and whatever it returns is ignored)",
                    attempt.item.name,
                    attempt.item.instance_id,
                )
        while True:
            try:
                self._act_queue.get_nowait()
            except queue.Empty:
                break
        with self._running_lock:
            self._running.clear()
        # Counted again from nothing for a restart: what was given up holds no slot.
        with self._busy_lock:
            self._busy = 0
        self._free_slots = threading.Semaphore(2 * self.activity_concurrency)

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
                if self._stop.is_set():
                    log.exception("%s failed while stopping", name)
                    return
                log.exception("%s failed; it keeps serving", name)
                self._stop.wait(self.poll_interval)

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
            self._stop.set()
            self.wake()

        old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.start()
            if on_ready is not None:
                on_ready()
            while not self._stop.wait(0.5):
                pass
            self.stop(drain_timeout)
            log.info("worker %s stopped", self.owner)
        finally:
            for s, handler in old.items():
                signal.signal(s, handler)
