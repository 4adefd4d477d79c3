"""Every example runs end to end on SQLite and produces its documented result."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest

import durableflow as df


def run(name: str, tmp_path: Path) -> Any:
    module = importlib.import_module(f"examples.{name}")
    return module.main(f"sqlite:///{tmp_path / (name + '.db')}")


def test_function_chaining_greets_cities_in_order(tmp_path: Path) -> None:
    assert run("function_chaining", tmp_path) == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]


def test_fan_out_fan_in_sums_doubled_items(tmp_path: Path) -> None:
    assert run("fan_out_fan_in", tmp_path) == 110


def test_async_http_api_reports_progress_and_result(tmp_path: Path) -> None:
    out = run("async_http_api", tmp_path)
    assert out["custom_status"] == {"stage": "done"}
    assert out["output"] == {"accepted": True, "receipt": "rcpt-ada-2", "tracking": "trk-ada"}


def test_monitor_stops_polling_when_job_is_done(tmp_path: Path) -> None:
    assert run("monitor", tmp_path) == {"status": "done", "polls": 4}


def test_monitor_expires_when_job_never_finishes(tmp_path: Path) -> None:
    from durableflow.testing.drive import drive_to_completion
    from examples import monitor

    monitor.JOB_POLLS_UNTIL_DONE["stuck"] = 10**6
    store = f"sqlite:///{tmp_path / 'stuck.db'}"
    with df.Runtime(monitor.app, store, clock=df.FakeClock()) as rt:
        iid = rt.client.start_new(
            "job_monitor", input={"id": "stuck", "interval_minutes": 20, "expiry_hours": 1}
        )
        assert drive_to_completion(rt, iid).output == {"status": "expired", "polls": 3}


def test_human_interaction_approval_in_time(tmp_path: Path) -> None:
    from examples import human_interaction as hi

    store = f"sqlite:///{tmp_path / 'hi.db'}"
    with df.Runtime(hi.app, store, clock=df.FakeClock()) as rt:
        out = hi.run_once(rt, approve=True)
    assert out == {"outcome": "approved", "detail": "processed yes"}


def test_human_interaction_escalates_after_72_hours(tmp_path: Path) -> None:
    from examples import human_interaction as hi

    clock = df.FakeClock()
    start = clock.now()
    store = f"sqlite:///{tmp_path / 'hi.db'}"
    with df.Runtime(hi.app, store, clock=clock) as rt:
        out = hi.run_once(rt, approve=False)
    assert out == {"outcome": "escalated", "detail": "escalated req-late to cy"}
    assert (clock.now() - start).total_seconds() >= 72 * 3600


def test_singleton_refuses_second_start_while_running(tmp_path: Path) -> None:
    out = run("singleton", tmp_path)
    assert out["first"] == "nightly-cleanup" and out["second_refused"] is True
    assert out["output"] == 300
    assert out["restarted"] == "nightly-cleanup" and out["rerun_output"] == 0


def test_eternal_orchestration_resets_history_each_generation(tmp_path: Path) -> None:
    out = run("eternal", tmp_path)
    assert out["output"] == {"generations": 5}
    assert out["events_in_last_generation"] < 12


def test_saga_retries_then_books_or_compensates(tmp_path: Path) -> None:
    out = run("saga", tmp_path)
    assert out["ok"] == {"booked": True, "bookings": ["flight-t1", "hotel-t1", "car-t1"]}
    assert out["compensated"] == {
        "booked": False,
        "compensated": ["cancelled hotel-t2", "cancelled flight-t2"],
    }


def test_sub_orchestrations_provision_each_device(tmp_path: Path) -> None:
    out = run("sub_orchestrations", tmp_path)
    assert out == {
        "provisioned": 3,
        "results": ["configured id-dev-a", "configured id-dev-b", "configured id-dev-c"],
    }


@pytest.mark.parametrize("name", importlib.import_module("examples.__main__").EXAMPLES)
def test_every_example_module_has_an_app_and_main(name: str) -> None:
    module = importlib.import_module(f"examples.{name}")
    assert isinstance(module.app, df.App) and callable(module.main)
