"""Two simulated hosts share one PostgreSQL store; one is cut off mid-run.

Each host is a network namespace made by the test (``tests.runtime.netns``) running two
worker processes; they reach the server, which listens on loopback only, through a TCP
forwarder on this side of their veth pairs. One worker of host B holds still inside a
step (it has the step's lease, see ``tests.runtime.chaos_app``) while the test cuts B's
link, then goes on and sends its commit into the dead link. Then, from records:

* host A alone finishes every instance, including the one B held (its lease expired);
* while B was cut off, nothing it sent was applied;
* when the link is back, B's late commit reaches the server and is refused (traced as not
  committed, logged as a lost lease), and nothing is duplicated: each task scheduled and
  completed once, with a result one of its runs produced, and no two committed steps of
  one instance overlapping in time.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from durableflow.runtime import Client
from durableflow.runtime.store import open_store
from tests.runtime import netns
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
from tests.runtime.tcp_forwarder import TcpForwarder

INSTANCES = 120
FAN = 4
LEASE = 2.0
PG_PORT = 5432


@pytest.fixture
def hosts() -> Iterator[tuple[netns.SimulatedHost, netns.SimulatedHost]]:
    """Two simulated hosts, removed afterwards whatever happens."""
    made: list[netns.SimulatedHost] = []
    try:
        try:
            made.append(netns.create("a"))
            made.append(netns.create("b"))
        except netns.NamespacesUnavailable as why:
            pytest.skip(f"cannot simulate hosts here: {why}")
        yield made[0], made[1]
    finally:
        for host in made:
            netns.remove(host)


def via(url: str, host: str, port: int) -> str:
    """``url`` with its server replaced by ``host:port`` (user, database, query kept)."""
    parts = urlsplit(url)
    user = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}:{port}" if user else f"{host}:{port}"))


def open_transactions(url: str, ports: set[int]) -> int:
    """How many sessions coming from ``ports`` (one host's connections, as the forwarder
    made them) are inside a transaction."""
    import psycopg

    query = (
        "SELECT count(*) FROM pg_stat_activity WHERE client_port = ANY(%s) "
        "AND xact_start IS NOT NULL AND pid <> pg_backend_pid()"
    )
    with psycopg.connect(url.partition("?")[0], autocommit=True) as conn:
        row = conn.execute(query, (sorted(ports),)).fetchone()
        return int(row[0]) if row else 0


def cut_mid_transaction(
    host: netns.SimulatedHost, fw: TcpForwarder, url: str, *, within: float
) -> bool:
    """Cut ``host`` off, preferably while one of its sessions is inside a transaction (the
    hardest case: the server keeps that transaction, and its row locks, open). Tries for
    up to ``within`` seconds, bringing the link back in between until the host talks again,
    then cuts it anyway; whether it caught one.

    A transaction still open 50 ms after the cut is one the cut caught: the store's
    transactions take a few milliseconds. The time limit matters: a step's lease that the
    cut host holds must still be its own when the cut comes, or the host's other worker
    takes the step over before the other host can. (Chain steps are one round trip, so a
    cut rarely lands inside a transaction; the row locks of a session cut off between
    rounds are tested on their own in ``test_store_postgres_rounds``.)
    """
    rng = random.Random(7)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        host.cut()
        time.sleep(0.05)
        if open_transactions(url, fw.upstream_ports[host.gateway]):
            return True
        host.restore()
        before = fw.received[host.gateway]
        wait_until(lambda seen=before: fw.received[host.gateway] > seen + 4096, 30, "traffic again")
        time.sleep(rng.uniform(0, 0.03))
    host.cut()
    return False


def sessions(url: str) -> str:
    """What every other session of the server is doing (for a failure message)."""
    import psycopg

    query = (
        "SELECT pid, client_addr, state, wait_event_type, wait_event, "
        "now() - xact_start AS in_transaction, left(query, 120) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid() ORDER BY client_addr"
    )
    with psycopg.connect(url.partition("?")[0], autocommit=True) as conn:
        return "\n".join(str(row) for row in conn.execute(query))


@pytest.mark.slow
@pytest.mark.postgres
def test_a_host_cut_off_mid_step_loses_its_work_to_the_other_and_its_late_commit_is_refused(
    pg_url: str, hosts: tuple[netns.SimulatedHost, netns.SimulatedHost], tmp_path: Path
) -> None:
    a, b = hosts
    # Below the lease, as docs/storage.md advises: a cut-off session's row locks then go
    # no later than its leases.
    pg_url += "&idle_in_transaction_timeout=1.5"
    server = urlsplit(pg_url)
    assert server.hostname in ("127.0.0.1", "localhost"), "the forwarder targets loopback"
    (tmp_path / "runs").mkdir()
    request = tmp_path / "hold-request"
    open_store(pg_url).close()  # migrate once, from this side
    client = Client(pg_url)
    with TcpForwarder([a.gateway, b.gateway], ("127.0.0.1", server.port or PG_PORT)) as fw:

        def worker(name: str, host: netns.SimulatedHost, **env: str) -> WorkerProcess:
            url = via(pg_url, host.gateway, fw.ports[host.gateway])
            return WorkerProcess(name, url, tmp_path, LEASE, env, host.exec_prefix())

        on_a = [worker("a0", a), worker("a1", a)]
        holder = worker("b1", b, CHAOS_HOLD_REQUEST=str(request), CHAOS_HOLD="wait")
        on_b = [worker("b0", b), holder]
        workers = [*on_a, *on_b]
        starter = Starter(client, INSTANCES, FAN, rate=40.0)
        extra: list[str] = []
        try:
            for w in workers:
                w.start()
            starter.start()
            wait_until(lambda: starter.started >= INSTANCES // 3, 60, "a third to start")

            held = ask_to_hold(request, Path(f"{request}.held").exists, client, FAN, extra)
            # Well inside the held step's lease, which began before `held` was written.
            caught = cut_mid_transaction(b, fw, pg_url, within=LEASE / 3)
            cut_at = time.monotonic_ns()
            Path(f"{request}.go").write_text("")  # the holder commits into the dead link

            everything = [*starter.ids, *extra]
            wait_until(starter.done, 60, "every instance to start")
            try:
                wait_until(
                    lambda: completed_count(client.store) == len(everything),
                    60,
                    "host A to finish every instance while B is cut off",
                )
            except AssertionError as err:
                raise AssertionError(f"{err}; the server's sessions:\n{sessions(pg_url)}") from None
            restored_at = time.monotonic_ns()
            b.restore()
            try:
                wait_until(
                    lambda: any(s.instance == held for s in holder.steps()),
                    90,
                    f"B's late commit of {held} to reach the server",
                )
            except AssertionError as err:
                log = holder.log_text()[-3000:]
                raise AssertionError(f"{err}; the holder's log ends:\n{log}") from None
            for w in workers:
                assert w.terminate() == 0, f"{w.name} did not stop cleanly: {w.log_text()[-2000:]}"
        finally:
            for w in workers:
                w.close()

    a_owners = {s.owner for w in on_a for s in w.steps()}
    steps = read_steps([w.trace for w in workers])
    assert any(s.instance == held and s.committed and s.owner in a_owners for s in steps), (
        f"host A never committed {held}, the step B held; its steps: "
        f"{[s for s in steps if s.instance == held]}; host A's workers: {sorted(a_owners)}"
    )
    while_cut = [s for w in on_b for s in w.steps() if cut_at < s.ended < restored_at]
    assert not [s for s in while_cut if s.committed], "a step sent while cut off was applied"
    late = [s for s in holder.steps() if s.instance == held]
    assert late and not any(s.committed for s in late), "B's late commit was applied"
    assert f"lost the lease on {held}" in holder.log_text()
    runs = read_runs(tmp_path)
    check_histories(client.store, everything, FAN, runs)
    checked = check_no_overlap(steps)
    idle = [w.name for w in workers if not any(s.committed for s in w.steps())]
    assert not idle, f"{idle} committed nothing: the overlap check would prove little"
    print(
        summary(
            committed_steps=checked,
            cut_mid_transaction=caught,
            refused_late=len(late),
            b_steps_while_cut=len(while_cut),
            activity_reruns=rerun_count(runs),
            forwarded_connections=fw.connections,
        )
    )
