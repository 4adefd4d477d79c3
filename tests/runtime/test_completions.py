"""Clients of a Runtime are woken the moment an instance ends, not at their next poll."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

import durableflow as df
from durableflow.runtime.completions import Completions

app = df.App()


@app.activity
def double(x: int) -> int:
    return 2 * x


@app.orchestrator
def approved(ctx: df.OrchestrationContext, x: int) -> Any:
    y = yield ctx.wait_for_external_event("go")
    z = yield ctx.call_activity(double, x + y - 1)
    return z


def test_watched_instance_end_sets_the_event() -> None:
    completions = Completions()
    event = completions.watch("a")
    completions.ended(["b"])
    assert not event.is_set()
    completions.ended(["a"])
    assert event.is_set()


def test_unwatched_event_is_not_set_again() -> None:
    completions = Completions()
    event = completions.watch("a")
    completions.unwatch("a", event)
    completions.unwatch("a", event)  # idempotent
    completions.ended(["a"])
    assert not event.is_set()


def test_every_waiter_on_one_instance_is_woken() -> None:
    completions = Completions()
    events = [completions.watch("a") for _ in range(3)]
    completions.ended(["a"])
    assert all(e.is_set() for e in events)


def test_wait_for_completion_in_a_runtime_does_not_wait_for_its_poll(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # After its first read the waiter would sleep a whole minute before polling again:
    # only the worker's notice can end its wait within the 20 s allowed here.
    with df.Runtime(app, f"sqlite:///{tmp_path / 'w.db'}") as rt:
        iid = rt.client.start_new(approved, input=3)
        first_read = threading.Event()
        read = rt.client.get_status

        def get_status(*args: Any, **kwargs: Any) -> Any:
            state = read(*args, **kwargs)
            first_read.set()
            return state

        monkeypatch.setattr(rt.client, "get_status", get_status)
        outcome: list[Any] = []
        waiter = threading.Thread(
            target=lambda: outcome.append(
                rt.client.wait_for_completion(iid, timeout=60, poll_interval=60)
            ),
            daemon=True,
        )
        waiter.start()
        assert first_read.wait(20)
        rt.client.raise_event(iid, "go", 4)
        waiter.join(20)
        assert outcome, "the waiter was not woken when the instance ended"
        assert outcome[0].output == 12
