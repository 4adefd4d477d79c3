"""Replaying an exported history against current code: does the code still fit it?"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from durableflow.core import history as h
from durableflow.core.app import App
from durableflow.core.errors import UnknownFunctionError
from durableflow.core.history import HistoryDocument
from durableflow.core.status import RuntimeStatus
from durableflow.runtime.executor import Replayer


@dataclass(frozen=True, slots=True)
class ReplayReport:
    """The outcome of replaying one history.

    Attributes:
        ok: True when the code reproduces the recorded history.
        status: the status the replay reached.
        message: why it is not ok (empty when ok).
    """

    instance_id: str
    ok: bool
    status: RuntimeStatus
    message: str = ""

    def summary(self) -> str:
        """One line (or a paragraph when it failed) for people."""
        if self.ok:
            return f"{self.instance_id}: replays cleanly ({self.status.value})"
        return f"{self.instance_id}: replay diverged: {self.message}"


def replay_document(app: App, doc: HistoryDocument) -> ReplayReport:
    """Replay ``doc`` with ``app``'s orchestrator of the same name and compare outcomes.

    Raises:
        UnknownFunctionError: ``app`` has no orchestrator called ``doc.name``.
    """
    fn: Any
    if doc.name in app.graphs:
        from durableflow.runtime.graph_interpreter import graph_orchestrator

        fn = graph_orchestrator(app.graphs[doc.name])  # type: ignore[arg-type]
    elif doc.name in app.orchestrators:
        fn = app.orchestrators[doc.name]
    else:
        raise UnknownFunctionError("orchestrator", doc.name, list(app.orchestrators))
    body = [e for e in doc.events if not isinstance(e, _OUTCOMES)]
    outcome = next((e for e in reversed(doc.events) if isinstance(e, _OUTCOMES)), None)
    replayer = Replayer(fn, activity_name=app.name_of, orchestrator_name=app.name_of)
    result = replayer.advance(body, [])
    iid = doc.instance_id
    if (
        result.status is RuntimeStatus.FAILED
        and result.failure is not None
        and (result.failure.error_type.endswith("NonDeterminismError"))
    ):
        return ReplayReport(iid, False, result.status, result.failure.message)
    if result.actions and outcome is not None:
        names = ", ".join(a.describe() for a in result.actions)
        return ReplayReport(
            iid,
            False,
            result.status,
            f"the code schedules {names} that the finished history never recorded",
        )
    expected = _expected(outcome)
    if expected is not None and expected[0] is not result.status:
        return ReplayReport(
            iid,
            False,
            result.status,
            f"history ended {expected[0].value} but the replay ended {result.status.value}",
        )
    if (
        expected is not None
        and expected[0] is RuntimeStatus.COMPLETED
        and (expected[1] != result.output)
    ):
        return ReplayReport(
            iid,
            False,
            result.status,
            f"history output {expected[1]!r} differs from replayed output {result.output!r}",
        )
    return ReplayReport(iid, True, result.status)


_OUTCOMES = (h.ExecutionCompleted, h.ExecutionFailed, h.ContinuedAsNew)


def _expected(event: h.HistoryEvent | None) -> tuple[RuntimeStatus, Any] | None:
    if isinstance(event, h.ExecutionCompleted):
        return RuntimeStatus.COMPLETED, event.result
    if isinstance(event, h.ExecutionFailed):
        return RuntimeStatus.FAILED, None
    if isinstance(event, h.ContinuedAsNew):
        return RuntimeStatus.CONTINUED_AS_NEW, None
    return None
