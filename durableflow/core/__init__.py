"""Vocabulary shared by every part of durableflow. No I/O, no third-party imports."""

from durableflow.core.actions import Action, CreateTimer, ScheduleActivity, StartSubOrchestration
from durableflow.core.app import App
from durableflow.core.errors import (
    ActivityTimeoutError,
    DurableflowError,
    EventTimeoutError,
    HistoryFormatError,
    InstanceAlreadyExistsError,
    InstanceNotFoundError,
    InvalidInstanceIdError,
    InvalidStateError,
    NonDeterminismError,
    OrchestratorDefinitionError,
    PayloadError,
    StoreError,
    StoreLockedError,
    StoreNotFoundError,
    StoreUnavailableError,
    SubOrchestrationFailedError,
    TaskCancelledError,
    TaskFailedError,
    TimerCancelledError,
    UnknownFunctionError,
    WaitTimeoutError,
)
from durableflow.core.history import FailureDetails, HistoryDocument, HistoryEvent
from durableflow.core.retry import RetryPolicy
from durableflow.core.status import RuntimeStatus

__all__ = [
    "Action",
    "ActivityTimeoutError",
    "App",
    "CreateTimer",
    "DurableflowError",
    "EventTimeoutError",
    "FailureDetails",
    "HistoryDocument",
    "HistoryEvent",
    "HistoryFormatError",
    "InstanceAlreadyExistsError",
    "InstanceNotFoundError",
    "InvalidInstanceIdError",
    "InvalidStateError",
    "NonDeterminismError",
    "OrchestratorDefinitionError",
    "PayloadError",
    "RetryPolicy",
    "RuntimeStatus",
    "ScheduleActivity",
    "StartSubOrchestration",
    "StoreError",
    "StoreLockedError",
    "StoreNotFoundError",
    "StoreUnavailableError",
    "SubOrchestrationFailedError",
    "TaskCancelledError",
    "TaskFailedError",
    "TimerCancelledError",
    "UnknownFunctionError",
    "WaitTimeoutError",
]
