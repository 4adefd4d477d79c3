"""Durable Functions' shapes built from durableflow's records: continuation tokens and the
history as Durable Functions lists it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from durableflow.core import history as h
from durableflow.core.history import FailureDetails
from durableflow.runtime.http.payloads import BadTokenError, decode_token, encode_token
from durableflow.runtime.http.payloads import history_events as df_history

T0 = datetime(2030, 1, 1, tzinfo=UTC)


@given(
    moment=st.datetimes(timezones=st.just(UTC)),
    instance_id=st.text(min_size=1, max_size=64),
)
def test_a_token_names_exactly_the_row_it_was_made_from(moment: datetime, instance_id: str) -> None:
    assert decode_token(encode_token(moment, instance_id)) == (moment, instance_id)


@pytest.mark.parametrize("token", ["", "!!!", "bm90IGpzb24", "WzEsMl0", "WyIyMDMwLTAxLTAxIiwiYSJd"])
def test_a_token_not_made_here_is_refused(token: str) -> None:
    with pytest.raises(BadTokenError, match="x-ms-continuation-token"):
        decode_token(token)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


HISTORY: list[h.HistoryEvent] = [
    h.ExecutionStarted(timestamp=at(0), name="orch", instance_id="i", execution_id="x", input=1),
    h.OrchestratorStarted(timestamp=at(0)),
    h.TaskScheduled(timestamp=at(0.1), task_id=0, name="a", input=1),
    h.TaskScheduled(timestamp=at(0.1), task_id=1, name="b", input=2),
    h.TaskCompleted(timestamp=at(0.5), task_id=0, result="A"),
    h.TaskFailed(
        timestamp=at(0.6), task_id=1, failure=FailureDetails("ValueError", "bad", "trace")
    ),
    h.TimerCreated(timestamp=at(0.7), task_id=2, fire_at=at(60)),
    h.EventRaised(timestamp=at(0.8), name="go", input={"x": 1}),
    h.TaskScheduled(timestamp=at(0.9), task_id=3, name="c", input=None),
]


def test_scheduled_tasks_fold_into_their_results_and_running_ones_stay() -> None:
    events = df_history(HISTORY, show_output=False)
    assert [e["EventType"] for e in events] == [
        "ExecutionStarted",
        "TaskCompleted",
        "TaskFailed",
        "TimerCreated",
        "EventRaised",
        "TaskScheduled",
    ]
    completed, failed = events[1], events[2]
    assert completed["FunctionName"] == "a" and completed["ScheduledTime"].startswith(
        "2030-01-01T00:00:00.1"
    )
    assert failed["FunctionName"] == "b" and failed["Reason"] == "ValueError: bad"
    assert events[-1]["FunctionName"] == "c"


def test_payloads_appear_only_with_show_output() -> None:
    quiet = df_history(HISTORY, show_output=False)
    loud = df_history(HISTORY, show_output=True)
    assert all("Result" not in e and "Input" not in e and "Details" not in e for e in quiet)
    assert loud[1]["Result"] == "A" and loud[2]["Details"] == "trace"
    assert loud[0]["Input"] == 1 and loud[4]["Input"] == {"x": 1}


def test_timestamps_are_utc_with_a_z() -> None:
    events = df_history(HISTORY, show_output=False)
    assert events[0]["Timestamp"] == "2030-01-01T00:00:00.000000Z"
    assert events[3]["FireAt"] == "2030-01-01T00:01:00.000000Z"
