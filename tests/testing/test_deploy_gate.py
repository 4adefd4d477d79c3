"""The deploy gate: replay every in-flight instance of a store against the code about to ship."""

from __future__ import annotations

from pathlib import Path

import pytest

from durableflow.cli import main
from durableflow.core.errors import StoreError
from durableflow.runtime.client import Client
from durableflow.runtime.store import open_store
from durableflow.runtime.worker import Worker
from durableflow.testing.deploy_gate import check_deploy
from tests.testing import gate_apps

APP = "tests.testing.gate_apps"
# How many events each parked instance has been sent: it waits for the next one.
PARKED = {"at-approval": 0, "at-packing": 1, "at-delivery": 2}
EVENTS = ("approved", "packed", "delivered")


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """A SQLite store run on v1: instances parked at three points, one done, one not started."""
    url = f"sqlite:///{tmp_path / 'durable.db'}"
    store = open_store(url)
    try:
        client = Client(store, app=gate_apps.v1)
        worker = Worker(gate_apps.v1, store, activity_concurrency=0)

        def settle() -> None:
            while worker.run_one_orchestration_step() or worker.run_one_activity():
                pass

        for iid, sent in [*PARKED.items(), ("delivered", 3)]:
            client.start_new("order_flow", input=iid, instance_id=iid)
            settle()
            for event in EVENTS[:sent]:
                client.raise_event(iid, event)
                settle()
        client.start_new("order_flow", input="queued", instance_id="queued")
    finally:
        store.close()
    return url


def test_inserted_activity_breaks_exactly_the_instances_past_the_insertion(
    store_url: str,
) -> None:
    report = check_deploy(gate_apps.v2, store_url)
    verdicts = {v.instance_id: v.verdict for v in report.instances}
    assert verdicts == {
        "at-approval": "replays",
        "at-packing": "new-actions",
        "at-delivery": "breaks",
        "queued": "not-started",
    }
    (broken,) = report.breaking
    d = broken.divergence
    assert d is not None and d.sequence_number == 2
    assert d.recorded is not None and d.recorded.name == "ship"
    assert d.new is not None and d.new.name == "audit"
    assert d.line is not None and d.line.endswith(".py:" + d.line.rsplit(":", 1)[1])
    assert "gate_apps.py" in d.line


def test_unchanged_code_passes_the_gate(store_url: str) -> None:
    assert check_deploy(gate_apps.v1, store_url).ok


def test_changed_input_is_reported_and_fails_only_when_strict(store_url: str) -> None:
    report = check_deploy(gate_apps.v3, store_url)
    verdicts = {v.instance_id: v.verdict for v in report.instances}
    assert verdicts["at-packing"] == verdicts["at-delivery"] == "inputs-differ"
    assert verdicts["at-approval"] == "replays"
    assert report.ok
    strict = check_deploy(gate_apps.v3, store_url, strict=True)
    assert {v.instance_id for v in strict.breaking} == {"at-packing", "at-delivery"}


def test_orchestrator_missing_from_the_new_code_breaks_every_started_instance(
    store_url: str,
) -> None:
    report = check_deploy(gate_apps.renamed, store_url)
    assert {v.instance_id for v in report.breaking} == set(PARKED)
    assert "no orchestrator 'order_flow'" in report.breaking[0].summary()


def test_cli_lists_each_breaking_instance_with_its_first_divergence_and_exits_1(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", "--store", store_url, "--app", f"{APP}:v2"]) == 1
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("BREAKS")]
    assert len(lines) == 1 and "at-delivery" in lines[0]
    assert "sequence number 2" in lines[0]
    assert "recorded call_activity('ship'" in lines[0]
    assert "new code call_activity('audit'" in lines[0]
    assert "gate_apps.py:" in lines[0]
    assert "1 of 4 in-flight instance(s) would break" in out


def test_cli_exits_0_when_no_instance_breaks(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", "--store", store_url, "--app", f"{APP}:v1"]) == 0
    assert "0 of 4" in capsys.readouterr().out


def test_cli_strict_fails_on_changed_inputs(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", "--store", store_url, "--app", f"{APP}:v3"]) == 0
    assert main(["replay", "--store", store_url, "--app", f"{APP}:v3", "--strict"]) == 1
    assert capsys.readouterr().out.count("BREAKS") == 2


def test_missing_store_file_is_an_error_not_a_pass(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store at"):
        check_deploy(gate_apps.v1, f"sqlite:///{tmp_path / 'typo.db'}")
    assert not (tmp_path / "typo.db").exists()


def test_cli_gate_without_a_store_refuses_the_default_that_does_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DURABLEFLOW_STORE", raising=False)
    assert main(["replay", "--app", f"{APP}:v1"]) == 1
    err = capsys.readouterr().err
    assert "no store at" in err and "durable.db" in err
    assert not (tmp_path / "durable.db").exists()
