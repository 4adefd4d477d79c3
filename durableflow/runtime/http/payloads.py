"""Durable Functions' JSON shapes: instance status, management links, history events, and
the continuation tokens that page instance lists."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from durableflow.core import history as h
from durableflow.core.status import RuntimeStatus
from durableflow.runtime.client import OrchestrationState

__all__ = [
    "BASE_PATH",
    "DF_STATUS",
    "BadTokenError",
    "decode_token",
    "encode_token",
    "history_events",
    "management_payload",
    "parse_status",
    "status_payload",
]

BASE_PATH = "/runtime/webhooks/durabletask"
"""Where Durable Functions serves its management API; durableflow serves it there too."""

DF_STATUS: dict[RuntimeStatus, str] = {
    RuntimeStatus.PENDING: "Pending",
    RuntimeStatus.RUNNING: "Running",
    RuntimeStatus.SUSPENDED: "Suspended",
    RuntimeStatus.COMPLETED: "Completed",
    RuntimeStatus.FAILED: "Failed",
    RuntimeStatus.TERMINATED: "Terminated",
    RuntimeStatus.CONTINUED_AS_NEW: "ContinuedAsNew",
}
"""Our status -> Durable Functions' ``runtimeStatus`` name."""

_BY_NAME = {name.lower(): status for status, name in DF_STATUS.items()}


class BadTokenError(ValueError):
    """An ``x-ms-continuation-token`` this server did not hand out."""


def parse_status(text: str) -> RuntimeStatus:
    """``Running``/``running``/``RUNNING`` -> RuntimeStatus.

    Raises:
        ValueError: not a runtime status name (the message lists them).
    """
    status = _BY_NAME.get(text.strip().lower().replace("_", ""))
    if status is None:
        names = ", ".join(DF_STATUS.values())
        raise ValueError(f"unknown runtimeStatus {text!r}; expected a comma list of {names}")
    return status


def _df_time(moment: datetime) -> str:
    """Durable Functions' instance times: UTC to the second, ``Z`` suffixed."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _event_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def status_payload(
    state: OrchestrationState, events: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The body of ``GET .../instances/{id}``, field names as Durable Functions has them.

    A failed instance's ``output`` is its failure message (as Durable Functions reports it);
    ``failureDetails`` carries the error type, message and stack trace.
    """
    output = state.output
    failure = None
    if state.failure is not None:
        failure = {
            "errorType": state.failure.error_type,
            "errorMessage": state.failure.message,
            "stackTrace": state.failure.stack_trace,
        }
        if state.runtime_status is RuntimeStatus.FAILED:
            output = f"{state.failure.error_type}: {state.failure.message}"
    body: dict[str, Any] = {
        "name": state.name,
        "instanceId": state.instance_id,
        "runtimeStatus": DF_STATUS[state.runtime_status],
        "input": state.input,
        "customStatus": state.custom_status,
        "output": output,
        "createdTime": _df_time(state.created_at),
        "lastUpdatedTime": _df_time(state.last_updated_at),
        "failureDetails": failure,
    }
    if events is not None:
        body["historyEvents"] = events
    return body


def management_payload(base_url: str, instance_id: str, query: str = "") -> dict[str, str]:
    """The links of Durable Functions' ``CreateHttpManagementPayload`` for one instance.

    Args:
        base_url: scheme, host and mount path of the app (no trailing slash).
        instance_id: the instance.
        query: extra query text (``code=...``) appended to every link, or empty.
    """
    prefix = f"{base_url}{BASE_PATH}/instances/{quote(instance_id, safe='')}"

    def link(path: str, *params: str) -> str:
        parts = [*params, query] if query else list(params)
        return prefix + path + ("?" + "&".join(parts) if parts else "")

    return {
        "id": instance_id,
        "statusQueryGetUri": link(""),
        "sendEventPostUri": link("/raiseEvent/{eventName}"),
        "terminatePostUri": link("/terminate", "reason={text}"),
        "purgeHistoryDeleteUri": link(""),
        "restartPostUri": link("/restart"),
        "suspendPostUri": link("/suspend", "reason={text}"),
        "resumePostUri": link("/resume", "reason={text}"),
    }


MANAGEMENT_KEYS = (
    "id",
    "statusQueryGetUri",
    "sendEventPostUri",
    "terminatePostUri",
    "purgeHistoryDeleteUri",
    "restartPostUri",
    "suspendPostUri",
    "resumePostUri",
)
"""The fields of Durable Functions' management payload, as :func:`management_payload`
writes them (the OpenAPI document lists the same)."""


_FUNCTION_RESULTS = (h.TaskCompleted, h.TaskFailed)
_SUB_RESULTS = (h.SubOrchestrationInstanceCompleted, h.SubOrchestrationInstanceFailed)


def history_events(events: Sequence[h.HistoryEvent], show_output: bool) -> list[dict[str, Any]]:
    """Durable Functions' ``historyEvents``: PascalCase fields, ``OrchestratorStarted``
    left out, and each scheduled task folded into the event that ended it (its
    ``FunctionName`` and ``ScheduledTime``); a task still running stays ``TaskScheduled``.
    Payloads (inputs, results, reasons) only with ``show_output``."""
    scheduled: dict[tuple[str, int], h.HistoryEvent] = {}
    for event in events:
        if isinstance(event, h.TaskScheduled | h.SubOrchestrationInstanceCreated):
            scheduled[
                (
                    "sub" if isinstance(event, h.SubOrchestrationInstanceCreated) else "task",
                    event.task_id,
                )
            ] = event
    ended = {
        ("task" if isinstance(e, _FUNCTION_RESULTS) else "sub", e.task_id)
        for e in events
        if isinstance(e, _FUNCTION_RESULTS + _SUB_RESULTS)
    }
    out: list[dict[str, Any]] = []
    for event in events:
        if isinstance(event, h.OrchestratorStarted):
            continue
        if isinstance(event, h.TaskScheduled) and ("task", event.task_id) in ended:
            continue
        if isinstance(event, h.SubOrchestrationInstanceCreated) and ("sub", event.task_id) in ended:
            continue
        out.append(_event(event, scheduled, show_output))
    return out


def _event(
    event: h.HistoryEvent, scheduled: dict[tuple[str, int], h.HistoryEvent], show_output: bool
) -> dict[str, Any]:
    row: dict[str, Any] = {"EventType": event.TYPE, "Timestamp": _event_time(event.timestamp)}

    def payload(key: str, value: Any) -> None:
        if show_output:
            row[key] = value

    if isinstance(event, h.ExecutionStarted):
        row["FunctionName"] = event.name
        payload("Input", event.input)
    elif isinstance(event, h.TaskScheduled):
        row.update(FunctionName=event.name, TaskScheduledId=event.task_id)
        payload("Input", event.input)
    elif isinstance(event, h.SubOrchestrationInstanceCreated):
        row.update(
            FunctionName=event.name, InstanceId=event.instance_id, TaskScheduledId=event.task_id
        )
        payload("Input", event.input)
    elif isinstance(event, _FUNCTION_RESULTS + _SUB_RESULTS):
        kind = "task" if isinstance(event, _FUNCTION_RESULTS) else "sub"
        origin = scheduled.get((kind, event.task_id))
        if origin is not None:
            row["FunctionName"] = getattr(origin, "name", None)
            row["ScheduledTime"] = _event_time(origin.timestamp)
        row["TaskScheduledId"] = event.task_id
        if isinstance(event, h.TaskCompleted | h.SubOrchestrationInstanceCompleted):
            payload("Result", event.result)
        else:
            failure = event.failure
            row["Reason"] = f"{failure.error_type}: {failure.message}"
            payload("Details", failure.stack_trace)
    elif isinstance(event, h.TimerCreated | h.TimerFired):
        row.update(FireAt=_event_time(event.fire_at), TimerId=event.task_id)
    elif isinstance(event, h.EventRaised):
        row["Name"] = event.name
        payload("Input", event.input)
    elif isinstance(event, h.ExecutionCompleted):
        row["OrchestrationStatus"] = "Completed"
        payload("Result", event.result)
    elif isinstance(event, h.ExecutionFailed):
        row["OrchestrationStatus"] = "Failed"
        row["Reason"] = f"{event.failure.error_type}: {event.failure.message}"
        payload("Details", event.failure.stack_trace)
    elif isinstance(event, h.ExecutionTerminated | h.ExecutionSuspended | h.ExecutionResumed):
        payload("Reason", event.reason)
    elif isinstance(event, h.ContinuedAsNew):
        payload("Input", event.input)
    return row


def encode_token(created_at: datetime, instance_id: str) -> str:
    """The continuation token naming the last instance of a page."""
    raw = json.dumps([created_at.astimezone(UTC).isoformat(), instance_id])
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii")


def decode_token(token: str) -> tuple[datetime, str]:
    """The ``(created_at, instance_id)`` a token names.

    Raises:
        BadTokenError: not a token from :func:`encode_token`.
    """
    try:
        created, instance_id = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        moment = datetime.fromisoformat(created)
    except (ValueError, TypeError, UnicodeError, binascii.Error) as exc:
        raise BadTokenError(
            "x-ms-continuation-token is not one this server gave out; send back the header "
            "value of the previous page's response unchanged, or leave it out for the first page"
        ) from exc
    if not isinstance(instance_id, str) or moment.tzinfo is None:
        raise BadTokenError("x-ms-continuation-token is malformed; leave it out to start over")
    return moment, instance_id
