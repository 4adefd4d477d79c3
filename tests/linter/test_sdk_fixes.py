"""``--fix`` on Durable Functions and durabletask code: the rewritten orchestrators run under
those SDKs' own types (the real packages, installed by ``make install``)."""

from __future__ import annotations

import importlib.util
import json
import socket
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from durableflow.linter import LintConfig, lint_source
from durableflow.linter.fixes import fix_source

AZURE = textwrap.dedent(
    """
    import time
    import uuid
    from datetime import datetime, timezone

    import azure.durable_functions as df


    def orchestrator(context: df.DurableOrchestrationContext):
        key = uuid.uuid4().hex
        ref = str(uuid.uuid4())
        now = datetime.now(timezone.utc)
        stamp = time.time()
        yield context.call_activity("ship", {"key": key, "ref": ref, "at": now.isoformat(),
                                             "stamp": stamp})
        return [key, ref]


    main = df.Orchestrator.create(orchestrator)
    """
)

DURABLETASK = textwrap.dedent(
    """
    import time
    import uuid
    from datetime import datetime, timezone

    from durabletask import task


    def ship(ctx: task.ActivityContext, order: dict) -> dict:
        return order


    def orchestrator(ctx: task.OrchestrationContext, order):
        key = uuid.uuid4().hex
        ref = str(uuid.uuid4())
        aware = datetime.now(timezone.utc)
        naive = datetime.utcnow()
        stamp = time.time()
        shipped = yield ctx.call_activity(
            ship,
            input={"key": key, "ref": ref, "at": aware.isoformat(), "naive": naive.isoformat(),
                   "late": (aware - naive.replace(tzinfo=timezone.utc)).total_seconds(),
                   "stamp": stamp},
        )
        return shipped
    """
)


def _fixed(source: str) -> str:
    fixed = fix_source(source, "flows.py", "flows", LintConfig()).source
    assert [f.code for f in lint_source(fixed, "flows.py")] == []
    return fixed


def _load(tmp_path: Path, name: str, source: str) -> ModuleType:
    path = tmp_path / f"{name}.py"
    path.write_text(source, "utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_fixed_durable_functions_orchestrator_runs_under_the_sdk(tmp_path: Path) -> None:
    df = pytest.importorskip("azure.durable_functions")
    fixed = _fixed(AZURE)
    assert "context.new_uuid().replace" in fixed
    module = _load(tmp_path, "azure_flows", fixed)
    stamp = "2026-12-01T10:00:00.000000Z"
    history = [
        {"EventType": 12, "EventId": -1, "IsPlayed": False, "Timestamp": stamp},
        {
            "EventType": 0,
            "EventId": -1,
            "IsPlayed": False,
            "Timestamp": stamp,
            "Name": "orchestrator",
            "Input": None,
            "Version": "",
        },
    ]
    context = df.DurableOrchestrationContext.from_json(
        json.dumps(
            {
                "history": history,
                "instanceId": "i-1",
                "isReplaying": False,
                "parentInstanceId": None,
            }
        )
    )
    state = json.loads(df.Orchestrator(module.orchestrator).handle(context))
    (action,) = [a for group in state["actions"] for a in group]
    shipped = json.loads(action["input"]) if isinstance(action["input"], str) else action["input"]
    assert len(shipped["key"]) == 32 and "-" not in shipped["key"]
    assert len(shipped["ref"]) == 36
    assert shipped["at"] == "2026-12-01T10:00:00+00:00"
    assert shipped["stamp"] == 1796119200.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_fixed_durabletask_orchestrator_runs_on_the_sdk_worker(tmp_path: Path) -> None:
    testing = pytest.importorskip("durabletask.testing")
    from durabletask import client, worker

    fixed = _fixed(DURABLETASK)
    assert "ctx.current_utc_datetime.replace(tzinfo=timezone.utc)" in fixed
    module = _load(tmp_path, "dt_flows", fixed)
    port = _free_port()
    backend = testing.create_test_backend(port=port)
    address = f"localhost:{port}"
    try:
        with worker.TaskHubGrpcWorker(host_address=address) as w:
            w.add_orchestrator(module.orchestrator)
            w.add_activity(module.ship)
            w.start()
            c = client.TaskHubGrpcClient(host_address=address)
            instance_id = c.schedule_new_orchestration(module.orchestrator, input={})
            state = c.wait_for_orchestration_completion(instance_id, timeout=30)
    finally:
        backend.stop()
    assert state is not None and state.failure_details is None, state
    shipped: dict[str, Any] = json.loads(state.serialized_output)
    assert len(shipped["key"]) == 32 and "-" not in shipped["key"]
    assert len(shipped["ref"]) == 36
    assert shipped["late"] == 0.0  # the aware and the naive clock read the same instant
