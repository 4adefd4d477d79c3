"""Log records for what happens to instances: started, ended, retried, nondeterministic.

The worker calls :func:`step_committed` once per committed step and the retry policy calls
:func:`retrying` when it schedules another attempt, so a worker's log tells what each
instance did without reading its history. Records go to the ``durableflow.instance``
logger, name the instance in their text and carry it as ``record.instance_id`` (as records
of ``ctx.logger`` do) for handlers that filter or index by it.

Only committed steps are logged, never replays, so each line appears once per worker that
did the work.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from durableflow.core import history as h
from durableflow.core.errors import TaskFailedError
from durableflow.runtime.store.base import OrchestrationCommit

__all__ = ["LOGGER_NAME", "retrying", "step_committed"]

LOGGER_NAME = "durableflow.instance"
log = logging.getLogger(LOGGER_NAME)

_NONDETERMINISM = "NonDeterminismError"


def step_committed(instance_id: str, commit: OrchestrationCommit) -> None:
    """Log the lifecycle events a committed step of ``instance_id`` recorded."""
    extra = {"instance_id": instance_id}
    terminated = False
    for event in commit.new_events:
        if isinstance(event, h.ExecutionStarted):
            log.info("instance %s started: %s", instance_id, event.name, extra=extra)
        elif isinstance(event, h.ExecutionCompleted):
            log.info("instance %s completed", instance_id, extra=extra)
        elif isinstance(event, h.ExecutionFailed):
            failure = event.failure
            if failure.error_type.endswith(_NONDETERMINISM):
                log.error(
                    "instance %s failed: nondeterminism: %s",
                    instance_id,
                    failure.message,
                    extra=extra,
                )
            else:
                log.error(
                    "instance %s failed: %s: %s",
                    instance_id,
                    failure.error_type,
                    failure.message,
                    extra=extra,
                )
        elif isinstance(event, h.ExecutionTerminated) and not terminated:
            # History records the request and then the outcome: log the instance ending once.
            terminated = True
            log.info("instance %s terminated (reason: %r)", instance_id, event.reason, extra=extra)
        elif isinstance(event, h.ContinuedAsNew):
            log.info("instance %s continued as new", instance_id, extra=extra)
        elif isinstance(event, h.ExecutionSuspended):
            log.info("instance %s suspended", instance_id, extra=extra)
        elif isinstance(event, h.ExecutionResumed):
            log.info("instance %s resumed", instance_id, extra=extra)


def retrying(
    instance_id: str, error: TaskFailedError, attempt: int, max_attempts: int, delay: timedelta
) -> None:
    """Log that attempt ``attempt`` of a task failed and another follows after ``delay``."""
    log.warning(
        "instance %s: %s failed (attempt %d of %d): %s: %s; retrying in %gs",
        instance_id,
        error.task_name,
        attempt,
        max_attempts,
        error.error_type,
        error.error_message,
        delay.total_seconds(),
        extra={"instance_id": instance_id},
    )
