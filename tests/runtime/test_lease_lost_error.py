"""LeaseLostError sits under the project's error root and crosses process boundaries."""

from __future__ import annotations

import pickle

import pytest

from durableflow.core.actions import ScheduleActivity
from durableflow.core.errors import DurableflowError, LeaseLostError
from durableflow.core.history import TaskCompleted
from durableflow.runtime import store
from durableflow.runtime.store import MemoryStore
from tests.runtime.store_contract import LEASE, T0, at, lock, start, step


def test_lease_lost_error_is_a_durableflow_error() -> None:
    assert issubclass(LeaseLostError, DurableflowError)


def test_the_store_package_names_the_same_class() -> None:
    assert store.LeaseLostError is LeaseLostError


def test_lease_lost_error_pickles_with_its_fields() -> None:
    err = LeaseLostError("instance 'a'", "w1", "this step was not written")

    copy = pickle.loads(pickle.dumps(err))

    assert type(copy) is LeaseLostError
    assert (copy.work, copy.owner, str(copy)) == (err.work, err.owner, str(err))


def test_a_store_refusal_is_caught_as_the_project_error() -> None:
    s = MemoryStore()
    start(s)
    step(s, lock(s), activities=[ScheduleActivity(1, "act1", None)])
    act = s.lock_activity("w1", now=T0, lease=LEASE)
    assert act is not None
    s.release_leases("w1")

    with pytest.raises(DurableflowError) as caught:
        s.complete_activity(act, TaskCompleted(timestamp=T0, task_id=1), now=at(1))

    assert isinstance(caught.value, LeaseLostError)
    assert caught.value.owner == "w1"
