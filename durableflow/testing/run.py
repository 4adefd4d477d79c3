"""``run_orchestration``: one instance to the end on the real worker, store and executor, on a
virtual clock that skips to the next due timer whenever nothing can run.

Everything runs on the caller's thread: a :class:`~durableflow.runtime.worker.Worker` is
stepped by hand (``run_one_orchestration_step`` / ``run_one_activity``) over a
:class:`~durableflow.runtime.store.MemoryStore`, so a test sees exactly what production does
(leases, inboxes, batching, the cached generator and its fallback to full replay), and a
72-hour timer costs no waiting. A crash is a new worker on the same store: every in-memory
state, the live generator included, is gone, and the instance resumes from the store.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from durableflow.core.app import App
from durableflow.core.errors import InvalidStateError
from durableflow.core.history import FailureDetails, HistoryDocument, HistoryEvent
from durableflow.core.status import RuntimeStatus
from durableflow.runtime.client import Client
from durableflow.runtime.clock import FakeClock
from durableflow.runtime.step_trace import StepTrace
from durableflow.runtime.store.base import Store
from durableflow.runtime.store.memory import MemoryStore
from durableflow.runtime.worker import Worker
from durableflow.testing.stubs import ActivityCalls, stubbed_app
from durableflow.testing.world import T0

__all__ = ["OrchestrationRun", "RaiseEvent", "run_orchestration", "skip_to_next_wake"]


@dataclass(frozen=True, slots=True)
class RaiseEvent:
    """An external event a test run raises: at a virtual time (``at``: a delay from the
    start or an aware datetime) or once ``after_step`` steps have run (0: at once).

    With neither, it is raised as soon as the instance has started.
    """

    name: str
    data: Any = None
    at: timedelta | datetime | None = None
    after_step: int | None = None

    def due(self, start: datetime, now: datetime, steps: int) -> bool:
        """True once the event should be raised."""
        if self.at is not None:
            when = self.at if isinstance(self.at, datetime) else start + self.at
            return now >= when
        return steps >= (self.after_step or 0)

    def time(self, start: datetime) -> datetime | None:
        """The virtual time it is due at, if it has one."""
        if self.at is None:
            return None
        return self.at if isinstance(self.at, datetime) else start + self.at


@dataclass
class OrchestrationRun:
    """How a test run ended.

    Attributes:
        instance_id: the instance's id.
        name: the orchestrator name.
        status: its runtime status (RUNNING when it waits for an event nobody raised, or
            when ``max_steps`` ran out: see ``stuck`` and ``exhausted``).
        output / custom_status / failure: as a client would read them.
        history: the current execution's history.
        steps: orchestration steps committed (every instance in the store).
        calls: every activity call, stubbed or real.
        started_at / ended_at: virtual times.
        undelivered: events never raised (the instance had ended, or never got there).
        stuck: nothing could run and no timer was due.
        exhausted: the step budget ran out first.
    """

    instance_id: str
    name: str
    status: RuntimeStatus
    output: Any
    custom_status: Any
    failure: FailureDetails | None
    history: list[HistoryEvent]
    steps: int
    calls: ActivityCalls
    started_at: datetime
    ended_at: datetime
    undelivered: list[RaiseEvent] = field(default_factory=list)
    stuck: bool = False
    exhausted: bool = False

    @property
    def elapsed(self) -> timedelta:
        """Virtual time from start to end."""
        return self.ended_at - self.started_at

    def document(self) -> HistoryDocument:
        """The history as a document that ``durable replay`` reads."""
        return HistoryDocument(self.instance_id, self.name, list(self.history))


def skip_to_next_wake(store: Store, clock: FakeClock, also: Iterable[datetime | None] = ()) -> bool:
    """Move ``clock`` to the earliest time anything becomes ready (a timer, a retry, an
    expired lease, or one of ``also``); False if nothing ever will, or it is ready now."""
    now = clock.now()
    times = [t for t in (store.next_wake_time(), *also) if t is not None]
    if not times:
        return False
    wake = min(times)
    if wake <= now:
        return False
    clock.advance(wake - now)
    return True


def run_orchestration(
    app: App,
    name: str,
    input: Any = None,
    *,
    activities: Mapping[str, Any] | None = None,
    events: Iterable[RaiseEvent] = (),
    clock: FakeClock | None = None,
    instance_id: str | None = None,
    crash_after_steps: Collection[int] = (),
    expire_leases: Collection[str] = (),
    max_steps: int = 10_000,
    lease: timedelta = timedelta(seconds=30),
) -> OrchestrationRun:
    """Run one instance of orchestrator ``name`` to the end and return how it ended.

    Args:
        app: the app (left unchanged; stubs apply to a copy).
        name: the orchestrator to start.
        input: its input.
        activities: stubs by activity name (see :mod:`durableflow.testing.stubs`);
            activities without one run their real code.
        events: external events to raise, at virtual times or after given steps.
        clock: the virtual clock (default: a ``FakeClock`` at 2024-01-01T00:00Z).
        instance_id: the instance id (default: generated).
        crash_after_steps: step counts after which the worker "crashes": a new worker
            (new owner, no cached generators) takes over from the store.
        expire_leases: activity names whose first run is lost: the worker runs it, dies
            before reporting, its lease expires, and another worker runs it again.
        max_steps: steps before giving up (``exhausted``: the instance looks unbounded).
        lease: work-item lease length (what an expired lease costs in virtual time).

    Raises:
        UnknownFunctionError: ``name`` is not an orchestrator of ``app``.
    """
    test_app, calls = stubbed_app(app, activities)
    clock = clock or FakeClock(T0)
    store = MemoryStore()
    counter = {"steps": 0}

    def on_step(trace: StepTrace) -> None:
        if trace.committed:
            counter["steps"] += 1

    owners = itertools.count(1)

    def new_worker() -> Worker:
        return Worker(
            test_app,
            store,
            clock=clock,
            # No runner slots: a step must not lease its new activities to runner threads
            # this worker does not have (they would wait for the lease to expire).
            activity_concurrency=0,
            lease=lease,
            owner=f"test-worker-{next(owners)}",
            on_step=on_step,
        )

    worker = new_worker()
    client = Client(store, app=test_app, clock=clock)
    started_at = clock.now()
    iid = client.start_new(name, input=input, instance_id=instance_id)
    waiting = list(events)
    crashes = sorted(set(crash_after_steps))
    to_expire = set(expire_leases)
    stuck = exhausted = False
    try:
        while True:
            waiting = _raise_due(client, iid, waiting, started_at, clock.now(), counter["steps"])
            if counter["steps"] >= max_steps:
                exhausted = True
                break
            progressed = worker.run_one_orchestration_step()
            if not progressed:
                ran = _run_activity(worker, store, clock, to_expire)
                if ran == "lost":
                    worker = new_worker()
                progressed = bool(ran)
            if progressed:
                while crashes and counter["steps"] >= crashes[0]:
                    crashes.pop(0)
                    worker = new_worker()
                continue
            record = store.get_instance(iid)
            if record is not None and record.status.is_terminal:
                break
            if not skip_to_next_wake(store, clock, (e.time(started_at) for e in waiting)):
                # Nothing runs and nothing is due: waiting for an event nobody raises, unless
                # an event waits on a step count no one will reach.
                stuck = True
                break
        record = store.get_instance(iid)
        assert record is not None
        history = store.get_history(iid)
    finally:
        store.close()
    return OrchestrationRun(
        instance_id=iid,
        name=name,
        status=record.status,
        output=record.output,
        custom_status=record.custom_status,
        failure=record.failure,
        history=history,
        steps=counter["steps"],
        calls=calls,
        started_at=started_at,
        ended_at=clock.now(),
        undelivered=waiting,
        stuck=stuck,
        exhausted=exhausted,
    )


def _raise_due(
    client: Client,
    iid: str,
    waiting: list[RaiseEvent],
    start: datetime,
    now: datetime,
    steps: int,
) -> list[RaiseEvent]:
    left = []
    for event in waiting:
        if not event.due(start, now, steps):
            left.append(event)
            continue
        try:
            client.raise_event(iid, event.name, event.data)
        except InvalidStateError:
            left.append(event)  # the instance has ended: it stays undelivered
    return left


def _run_activity(worker: Worker, store: Store, clock: FakeClock, expire: set[str]) -> str:
    """Run one ready activity; "lost" when its worker died before reporting the result."""
    if not expire:
        return "ran" if worker.run_one_activity() else ""
    item = store.lock_activity(worker.owner, now=clock.now(), lease=worker.lease)
    if item is None:
        return ""
    if item.name in expire:
        expire.discard(item.name)
        # The run happens (and is counted); its result never reaches the store. An unknown
        # activity fails here as it would on the worker: the lost run has no result either.
        with contextlib.suppress(Exception):
            worker.app.get_activity(item.name)(item.input)
        return "lost"
    store.abandon_activity(item)
    return "ran" if worker.run_one_activity() else ""
