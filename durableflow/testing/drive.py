"""Drive a threaded runtime on a fake clock: jump to each due timer instead of waiting for it.

The single-threaded, stubbed equivalent for tests is
:func:`durableflow.testing.run.run_orchestration`; both skip time the same way.
"""

from __future__ import annotations

import threading
import time

from durableflow.core.errors import InstanceNotFoundError, WaitTimeoutError
from durableflow.runtime.client import OrchestrationState
from durableflow.runtime.clock import FakeClock
from durableflow.runtime.runtime import Runtime
from durableflow.testing.run import skip_to_next_wake


def drive_to_completion(
    rt: Runtime, instance_id: str, *, timeout: float = 30.0
) -> OrchestrationState:
    """Run ``instance_id`` to a terminal state, advancing ``rt.clock`` to each due timer.

    Whenever nothing is due now and the worker is idle, the fake clock jumps to the earliest
    queued message or activity, so a 72-hour timer fires at once. Raises ``WaitTimeoutError`` after
    ``timeout`` real seconds (for example when the instance waits for an event nobody sends).
    """
    clock = rt.clock
    if not isinstance(clock, FakeClock):
        raise TypeError("drive_to_completion needs a Runtime built with clock=FakeClock()")
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while True:
        state = rt.client.get_status(instance_id)
        if state is None:
            raise InstanceNotFoundError(instance_id)
        if state.runtime_status.is_terminal:
            return state
        # Jump only while the worker is idle: a running activity's lease must not expire
        # under it just because the fake clock moved.
        if rt.worker.is_idle():
            skip_to_next_wake(rt.store, clock)
        if time.monotonic() > deadline:
            raise WaitTimeoutError(
                f"instance {instance_id!r} is still {state.runtime_status.value} after {timeout}s"
            )
        pause.wait(0.005)
