"""Bulk purges by age and status: ``Client.purge_instances`` and ``durable purge --older-than``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from durableflow.cli import main
from durableflow.core.durations import parse_duration
from durableflow.core.status import RuntimeStatus
from durableflow.runtime.client import Client
from durableflow.runtime.clock import FakeClock
from durableflow.runtime.store import MemoryStore, Store, open_store
from durableflow.runtime.store.base import InstanceQuery, NewInstance, OrchestrationCommit
from durableflow.runtime.store.composites import commit_orchestration, lock_orchestration

NOW = datetime(2030, 6, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def ended(store: Store, iid: str, when: datetime, status: RuntimeStatus) -> None:
    """Create ``iid`` and end it with ``status`` at ``when``."""
    store.create_instance(
        NewInstance(
            instance_id=iid, name="orch", execution_id=f"x-{iid}", input=None, created_at=when
        ),
        now=when,
    )
    item = lock_orchestration(store, "w", now=when, lease=timedelta(minutes=1))
    assert item is not None and item.instance.instance_id == iid
    commit = OrchestrationCommit(
        new_events=[m.event for m in item.messages],
        consumed=[m.message_id for m in item.messages],
        status=status,
    )
    commit_orchestration(store, item, commit, now=when)


def test_client_purges_in_batches_until_nothing_older_is_left() -> None:
    store = MemoryStore()
    for n in range(7):
        ended(store, f"old-{n}", NOW - 40 * DAY, RuntimeStatus.COMPLETED)
    ended(store, "recent", NOW - 2 * DAY, RuntimeStatus.COMPLETED)
    client = Client(store, clock=FakeClock(NOW))
    assert client.purge_instances(timedelta(days=30), batch=3) == 7
    assert [s.instance_id for s in client.list_instances()] == ["recent"]


def test_client_purge_filters_by_status_names() -> None:
    store = MemoryStore()
    ended(store, "ok", NOW - 40 * DAY, RuntimeStatus.COMPLETED)
    ended(store, "bad", NOW - 40 * DAY, RuntimeStatus.FAILED)
    client = Client(store, clock=FakeClock(NOW))
    assert client.purge_instances(timedelta(days=30), "failed") == 1
    assert [s.instance_id for s in client.list_instances()] == ["ok"]


def test_client_purge_refuses_a_running_status() -> None:
    client = Client(MemoryStore(), clock=FakeClock(NOW))
    with pytest.raises(ValueError, match="only COMPLETED, FAILED and TERMINATED"):
        client.purge_instances(DAY, RuntimeStatus.RUNNING)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", 30 * DAY),
        ("12h", timedelta(hours=12)),
        ("90m", timedelta(minutes=90)),
        ("45s", timedelta(seconds=45)),
        ("1d12h", timedelta(hours=36)),
        ("1.5h", timedelta(minutes=90)),
    ],
)
def test_parse_duration_reads_number_and_unit(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "30", "d", "30x", "3 d", "0s", "-1d"])
def test_parse_duration_rejects_what_is_not_a_positive_duration(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite:///{tmp_path / 'purge.db'}"


def test_durable_purge_older_than_deletes_only_old_ended_instances(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    store = open_store(url)
    ended(store, "old", now - 40 * DAY, RuntimeStatus.COMPLETED)
    ended(store, "old-failed", now - 40 * DAY, RuntimeStatus.FAILED)
    ended(store, "new", now - DAY, RuntimeStatus.COMPLETED)
    store.close()
    code = main(["purge", "--older-than", "30d", "--status", "COMPLETED", "--store", url])
    assert (code, capsys.readouterr().out.strip()) == (0, "purged 1 instance")
    store = open_store(url)
    left = {r.instance_id for r in store.list_instances(InstanceQuery())}
    store.close()
    assert left == {"old-failed", "new"}


def test_durable_purge_needs_an_id_or_an_age(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    open_store(url).close()
    assert main(["purge", "--store", url]) == 2
    assert "either an instance ID or --older-than" in capsys.readouterr().err


def test_durable_purge_rejects_a_bad_age(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["purge", "--older-than", "soon", "--store", url])
    assert exit_.value.code == 2 and "is not a duration" in capsys.readouterr().err


def test_durable_purge_rejects_a_running_status(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    open_store(url).close()
    assert main(["purge", "--older-than", "1d", "--status", "RUNNING", "--store", url]) == 2
    assert "only COMPLETED, FAILED and TERMINATED" in capsys.readouterr().err
