"""Steps decided on a live generator before their transaction never lose a result.

The worker decides a chain's next step on the instance's cached generator, then the store
applies it only if the instance is unchanged. These tests make the store refuse such a step
and have another worker (or the orchestration path of the same worker) step the instance in
between, the interleavings that threads and processes produce by chance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import durableflow as df
from durableflow.core import history as h
from durableflow.runtime import Worker
from durableflow.runtime.store import SqliteStore

app = df.App()


@app.activity
def ident(x: int) -> int:
    return x


@app.orchestrator
def pair(ctx: df.OrchestrationContext, _: Any) -> Any:
    results = yield ctx.task_all([ctx.call_activity(ident, 1), ctx.call_activity(ident, 2)])
    return sum(results)


@app.orchestrator
def chain(ctx: df.OrchestrationContext, n: int) -> Any:
    total = 0
    for i in range(n):
        total += yield ctx.call_activity(ident, i)
    return total


class StepsInBetween:
    """A store that lets ``meanwhile`` run right after a planned step's transaction, while
    the worker that planned it has not yet dealt with the outcome."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self.meanwhile: list[Any] = []
        self.refused = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def complete_activity_with_step(self, *args: Any, **kwargs: Any) -> bool:
        applied = self._store.complete_activity_with_step(*args, **kwargs)
        self.refused += not applied
        for run in self.meanwhile:
            run()
        return applied


def completed_tasks(store: SqliteStore, iid: str) -> list[int]:
    return sorted(e.task_id for e in store.get_history(iid) if isinstance(e, h.TaskCompleted))


def test_result_of_a_refused_planned_step_is_not_taken_for_a_duplicate(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "p.db"))
    proxy = StepsInBetween(store)
    ours = Worker(app, proxy, activity_concurrency=0)  # type: ignore[arg-type]
    other = Worker(app, store, activity_concurrency=0)  # another process, in effect
    iid = df.Client(store, app=app).start_new(pair)
    assert ours.run_one_orchestration_step()  # schedules both; our generator is now live
    # The other worker completes the first activity and steps the instance: the history now
    # has as many events as our generator will have after planning the second result.
    assert other.run_one_activity()
    # Our planned step for the second result is refused; before we drop the generator, our
    # own orchestration path steps the instance with that result (now in its inbox).
    proxy.meanwhile.append(ours.run_one_orchestration_step)
    assert ours.run_one_activity()
    assert proxy.refused == 1
    assert completed_tasks(store, iid) == [0, 1]
    status = store.get_instance(iid)
    assert status is not None and status.status is df.RuntimeStatus.COMPLETED
    assert status.output == 3
    store.close()


def test_planned_steps_carry_a_chain_to_the_same_history_as_full_replays(
    tmp_path: Path,
) -> None:
    def run(path: Path, cache_size: int) -> list[tuple[str, Any]]:
        store = SqliteStore(str(path))
        client = df.Client(store, app=app)
        with Worker(app, store, cache_size=cache_size):
            iid = client.start_new(chain, input=20)
            state = client.wait_for_completion(iid, timeout=30)
        history = [(e.TYPE, getattr(e, "task_id", None)) for e in store.get_history(iid)]
        store.close()
        assert state.output == sum(range(20))
        return history

    assert run(tmp_path / "live.db", 1024) == run(tmp_path / "replayed.db", 0)
