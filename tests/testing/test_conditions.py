"""Replay under changed process conditions: each bug shows under its condition, and only there."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

import durableflow as df
from durableflow.core.history import HistoryDocument
from durableflow.testing import (
    ConditionFailure,
    ProcessConditionsError,
    check_process_conditions,
    import_app,
    replay_in_fresh_interpreters,
    replay_in_this_process,
    replay_with_clock_shifts,
    replay_with_random_seeds,
)
from tests.testing.process_apps.app import app

REF = "tests.testing.process_apps.app:app"
# A set of five strings keeps its order under another hash seed about 1 time in 120; three
# seeds make a miss (a test that fails for no reason) about one in two million.
HASH_SEEDS = (11, 12, 13)


def record(name: str, *inputs: Any) -> list[HistoryDocument]:
    """Run one instance per input to the end on a real runtime; their histories."""
    docs = []
    with df.Runtime(app, "memory://", clock=df.FakeClock()) as rt:
        for value in inputs:
            iid = rt.client.start_new(name, input=value)
            state = rt.client.wait_for_completion(iid, timeout=30)
            assert state.runtime_status is df.RuntimeStatus.COMPLETED
            docs.append(rt.client.get_history(iid))
    return docs


def kinds(failures: list[ConditionFailure]) -> set[str]:
    return {f.condition.kind for f in failures}


def test_set_of_strings_breaks_only_in_an_interpreter_with_another_hash_seed() -> None:
    docs = record("rollout", {"all": True})
    failures = check_process_conditions(REF, "rollout", docs, hash_seeds=HASH_SEEDS)
    assert failures and kinds(failures) == {"hash-seed"}
    d = failures[0].divergence
    assert d.recorded is not None and d.new is not None and d.recorded.name == "deploy"


def test_fresh_interpreter_names_exactly_the_histories_that_break() -> None:
    docs = record("rollout", {"all": True}, {"regions": ["us-east", "eu-west"]}, {"all": True})
    failures = check_process_conditions(REF, "rollout", docs, hash_seeds=HASH_SEEDS)
    assert failures
    assert all(f.history_indexes in ((0, 2), (0,), (2,)) for f in failures)
    assert {i for f in failures for i in f.history_indexes} == {0, 2}


def test_wall_clock_branch_breaks_only_with_the_clock_moved_by_hours() -> None:
    docs = record("escalate", "disk full")
    failures = check_process_conditions(REF, "escalate", docs)
    assert failures and kinds(failures) == {"clock"}
    assert any(f.condition.value and f.condition.value % 3600 == 0 for f in failures)
    d = failures[0].divergence
    assert d.recorded is not None and d.new is not None and d.sequence_number == 1
    assert {d.recorded.input["to"], d.new.input["to"]} == {"on-call", "team"}


def test_random_choice_in_a_helper_breaks_under_reseeding() -> None:
    docs = record("review", ["a.md", "b.md", "c.md", "d.md"])
    failures = check_process_conditions(REF, "review", docs)
    assert failures and kinds(failures) == {"random-seed"}


def test_module_counter_breaks_on_the_next_run_in_the_same_process() -> None:
    docs = record("batches", [1, 2, 3])
    failures = check_process_conditions(REF, "batches", docs)
    assert kinds(failures) == {"same-process"}
    d = failures[0].divergence
    assert d.recorded is not None and d.new is not None
    assert d.recorded.input["batch"] != d.new.input["batch"]


def test_deterministic_orchestrator_passes_every_condition() -> None:
    docs = record("steady", ["b", "a", "c", "a"], ["x"])
    assert check_process_conditions(REF, "steady", docs, hash_seeds=HASH_SEEDS) == []


def test_fresh_interpreter_can_be_left_out() -> None:
    docs = record("rollout", {"all": True})
    assert check_process_conditions(REF, "rollout", docs, fresh_interpreter=False) == []


def test_failure_message_names_the_condition_the_cause_the_fix_and_the_line() -> None:
    docs = record("escalate", "disk full")
    failure = next(iter(replay_with_clock_shifts(app, docs)))
    msg = failure.message()
    assert "wall clock moved by" in msg and "ctx.current_utc_datetime" in msg
    assert failure.divergence.line is not None and "process_apps/app.py:" in msg


def test_each_condition_is_a_function_of_its_own() -> None:
    assert replay_with_clock_shifts(app, record("escalate", "x"))
    assert replay_with_random_seeds(app, record("review", ["a", "b", "c", "d", "e"]))
    assert replay_in_this_process(app, record("batches", [1]))
    steady = record("steady", ["a"])
    assert replay_in_fresh_interpreters(REF, "steady", steady, hash_seeds=(5,)) == []


def test_clock_shifts_leave_the_clock_where_it_was() -> None:
    from datetime import UTC, datetime

    before = datetime.now(UTC)
    replay_with_clock_shifts(app, record("steady", ["a"]), [timedelta(hours=5)])
    assert datetime.now(UTC) - before < timedelta(minutes=1)


def test_reseeding_restores_the_state_of_random() -> None:
    import random

    docs = record("review", ["a"])
    state = random.getstate()
    replay_with_random_seeds(app, docs)
    assert random.getstate() == state


def test_histories_of_another_orchestrator_are_refused() -> None:
    with pytest.raises(ValueError, match="not 'rollout'"):
        check_process_conditions(REF, "rollout", record("steady", ["a"]))


def test_malformed_app_reference_says_what_form_it_needs() -> None:
    with pytest.raises(ProcessConditionsError, match="module:attribute"):
        import_app("tests.testing.process_apps.app")


def test_subprocess_that_cannot_import_the_app_is_an_error_with_its_reason() -> None:
    with pytest.raises(ProcessConditionsError, match="cannot import"):
        replay_in_fresh_interpreters("no_such_module_here:app", "steady", record("steady", ["a"]))
