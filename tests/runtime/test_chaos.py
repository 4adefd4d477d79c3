"""Four worker processes on one store, two SIGKILLed and one paused past its lease.

The damage comes at seeded moments (``CHAOS_SEED`` replays a run): two workers are killed
and restarted, and a third stops itself with SIGSTOP between leasing a step and committing
it (see ``tests.runtime.chaos_app``), stays stopped until another worker has taken that
step over, and is then resumed. Then, from records rather than luck:

* every instance completed with the right output;
* each task was scheduled and completed once, with a result one of its runs produced
  (runs may repeat: activities run at least once);
* no two committed steps of one instance overlapped in time (traced lease to commit);
* the resumed worker's stale step was refused by the store: traced as not committed,
  logged as a lost lease, and absent from the history.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from durableflow.runtime import Client
from durableflow.runtime.store import open_store
from tests.runtime.fleet import (
    Starter,
    WorkerProcess,
    ask_to_hold,
    check_histories,
    check_no_overlap,
    completed_count,
    read_runs,
    read_steps,
    rerun_count,
    summary,
    wait_until,
)

SEED = int(os.environ.get("CHAOS_SEED", "20261203"))
INSTANCES = 300
FAN = 4
LEASE = 2.0
STEP_FAILED = "orchestration step failed"  # the worker's log line for a batch it could not commit
START_RATE = 40.0  # instances per second: the starts overlap every act of damage


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The shared store: a SQLite file, or a schema of its own on the test server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'chaos.db'}"
    # Below the lease, as docs/storage.md advises: a paused worker's row locks then go no
    # later than its leases.
    return f"{request.getfixturevalue('pg_url')}&idle_in_transaction_timeout=1.5"


@pytest.mark.slow
def test_killed_and_paused_workers_lose_and_duplicate_nothing(
    store_url: str, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    (tmp_path / "runs").mkdir()
    request = tmp_path / "hold-request"
    victims = rng.sample(range(3), 2)  # worker 3 is the one that pauses
    kill_at = sorted(rng.sample(range(30, 150), 2))  # completed instances
    ask_pause_at = rng.randrange(60, 160)  # started instances
    open_store(store_url).close()  # migrate once, before four processes race to
    client = Client(store_url)
    workers = [WorkerProcess(f"w{k}", store_url, tmp_path, LEASE) for k in range(3)]
    workers.append(
        WorkerProcess("w3", store_url, tmp_path, LEASE, env={"CHAOS_HOLD_REQUEST": str(request)})
    )
    paused = workers[3]
    starter = Starter(client, INSTANCES, FAN, START_RATE)
    try:
        for w in workers:
            w.start()
        starter.start()

        def completed() -> int:
            starter.done()  # raises what the starting thread raised
            return completed_count(client.store)

        wait_until(lambda: completed() >= kill_at[0], 60, "the first kill")
        workers[victims[0]].kill()
        workers[victims[0]].start()

        wait_until(lambda: starter.started >= ask_pause_at, 60, "the pause")
        held, extra = pause_one(paused, request, workers, client)

        wait_until(lambda: completed() >= kill_at[1], 60, "the second kill")
        workers[victims[1]].kill()
        workers[victims[1]].start()

        wait_until(starter.done, 60, "every instance to start")
        wait_until(
            lambda: completed() == INSTANCES + len(extra),
            120,
            "every instance to end",
        )
        for w in workers:
            assert w.terminate() == 0, f"{w.name} did not stop cleanly: {w.log_text()[-2000:]}"
    finally:
        for w in workers:
            w.close()

    steps = read_steps([w.trace for w in workers])
    runs = read_runs(tmp_path)
    check_histories(client.store, [*starter.ids, *extra], FAN, runs)
    checked = check_no_overlap(steps)
    idle = [w.name for w in workers if not any(s.committed for s in w.steps())]
    assert not idle, f"{idle} committed nothing: the overlap check would prove little"
    refused = [s for s in paused.steps() if not s.committed]
    assert any(s.instance == held for s in refused), f"the paused step of {held} was applied"
    assert f"lost the lease on {held}" in paused.log_text()
    print(
        summary(
            seed=SEED,
            committed_steps=checked,
            refused_after_pause=len(refused),
            activity_reruns=rerun_count(runs),
            incarnations=sum(w.incarnations for w in workers),
        )
    )


def pause_one(
    worker: WorkerProcess, request: Path, workers: list[WorkerProcess], client: Client
) -> tuple[str, list[str]]:
    """Make ``worker`` stop itself inside a step, keep it stopped until that step has been
    taken over and committed elsewhere, resume it, and wait until the store has refused
    its commit. Returns the instance of the stale step and the ids of the extra instances
    started to give it a first step to stop in (the scheduled starts may have ended).

    An attempt is made again if the refusal cannot happen: on SQLite, when another of the
    worker's threads held the write lock as it stopped (no one can take over; resumed, its
    step commits, correctly: no one else ran it); on PostgreSQL, when the resumed commit
    fails before the fence is checked (a lock conflict the server breaks, logged as a
    failed step: nothing of it is applied either, but that proves less).
    """
    extra: list[str] = []
    for _attempt in range(5):
        failures = worker.log_text().count(STEP_FAILED)
        held = ask_to_hold(request, worker.is_paused, client, FAN, extra)

        def taken_over(iid: str = held) -> bool:
            # Only the others' traces: after an attempt that had to be given up, the paused
            # worker itself commits steps, rightly, once resumed.
            steps = read_steps([w.trace for w in workers if w is not worker])
            return any(s.instance == iid and s.committed for s in steps)

        try:
            wait_until(taken_over, LEASE + 8, f"another worker to take over {held}")
        except AssertionError:
            worker.resume()
            continue
        worker.resume()

        def tried(iid: str = held, before: int = failures) -> bool:
            traced = any(s.instance == iid for s in worker.steps())
            return traced or worker.log_text().count(STEP_FAILED) > before

        try:
            wait_until(tried, 30, f"{worker.name} to try committing {held}")
        except AssertionError as err:
            raise AssertionError(f"{err}; its log ends:\n{worker.log_text()[-3000:]}") from None
        if any(s.instance == held for s in worker.steps()):
            return held, extra
    raise AssertionError(
        f"no stale commit of {worker.name} reached the fence in 5 attempts; its log ends:\n"
        f"{worker.log_text()[-3000:]}"
    )
