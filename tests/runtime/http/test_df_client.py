"""Durable Functions' own Python client (azure-functions-durable) against `durable serve`:
the requests it makes (start, status, raise event, terminate, purge) get the answers it
expects, and what it parses from them is right field by field."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
from azure.durable_functions import DurableOrchestrationClient, OrchestrationRuntimeStatus

from tests.runtime.http.served import BASE, Served, wait_for_status

T = TypeVar("T")


def binding(served: Served) -> str:
    """The client binding a Functions host would hand the client, pointing at our server."""
    base = f"{served.url}{BASE}"
    links = {
        "id": "INSTANCEID",
        "statusQueryGetUri": f"{base}/instances/INSTANCEID",
        "sendEventPostUri": f"{base}/instances/INSTANCEID/raiseEvent/{{eventName}}",
        "terminatePostUri": f"{base}/instances/INSTANCEID/terminate?reason={{text}}",
        "purgeHistoryDeleteUri": f"{base}/instances/INSTANCEID",
        "restartPostUri": f"{base}/instances/INSTANCEID/restart",
        "suspendPostUri": f"{base}/instances/INSTANCEID/suspend?reason={{text}}",
        "resumePostUri": f"{base}/instances/INSTANCEID/resume?reason={{text}}",
    }
    return json.dumps(
        {
            "taskHubName": "durableflow",
            "creationUrls": {
                "createNewInstancePostUri": f"{base}/orchestrators/{{functionName}}"
                "[/{instanceId}]",
                "createAndWaitOnNewInstancePostUri": f"{base}/orchestrators/{{functionName}}"
                "[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}",
            },
            "managementUrls": links,
            "baseUrl": base,
            "requiredQueryStringParameters": "",
            "rpcBaseUrl": f"{base}/",
        }
    )


class Loop:
    """One event loop on a thread for every call: the client keeps one aiohttp session
    for the process, bound to the loop it was made on."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


LOOP = Loop()
run = LOOP.run


@pytest.fixture
def df_client(served: Served) -> DurableOrchestrationClient:
    return DurableOrchestrationClient(binding(served))


def test_start_new_returns_the_id_the_server_chose(
    df_client: DurableOrchestrationClient, served: Served
) -> None:
    iid = run(df_client.start_new("chain", None, 3))
    assert isinstance(iid, str) and len(iid) == 32
    with served.client() as http:
        # The client sends its input JSON-encoded twice (as it does to Durable Functions,
        # whose Python worker decodes it again): the instance gets the JSON text.
        body = wait_for_status(http, iid, "Completed")
        assert body["input"] == "3" and body["output"] == "3333"


def test_start_new_with_an_instance_id_uses_it(df_client: DurableOrchestrationClient) -> None:
    iid = f"dfc-{uuid.uuid4().hex[:8]}"
    assert run(df_client.start_new("approval", iid)) == iid


def test_start_new_of_an_unknown_orchestrator_raises_the_server_message(
    df_client: DurableOrchestrationClient,
) -> None:
    with pytest.raises(Exception, match="nope"):
        run(df_client.start_new("nope", None, None))


def test_get_status_parses_every_field(
    df_client: DurableOrchestrationClient, served: Served
) -> None:
    iid = run(df_client.start_new("approval", f"dfs-{uuid.uuid4().hex[:8]}", None))
    with served.client() as http:
        wait_for_status(http, iid, "Running")
    status = run(df_client.get_status(iid, show_history=True, show_input=True))
    assert status.instance_id == iid
    assert status.name == "approval"
    assert status.runtime_status == OrchestrationRuntimeStatus.Running
    assert status.custom_status == "waiting for approve"
    assert status.input_ is None and status.output is None
    assert status.created_time is not None and status.created_time.tzinfo is not None
    assert status.last_updated_time >= status.created_time
    events: list[dict[str, Any]] = status.historyEvents  # type: ignore[attr-defined]
    assert events[0]["EventType"] == "ExecutionStarted"
    assert events[0]["FunctionName"] == "approval"


def test_get_status_of_an_unknown_instance_does_not_raise(
    df_client: DurableOrchestrationClient,
) -> None:
    status = run(df_client.get_status("dfc-ghost"))
    assert status.runtime_status is None and status.instance_id is None


def test_raise_event_is_accepted_and_the_instance_completes(
    df_client: DurableOrchestrationClient, served: Served
) -> None:
    iid = run(df_client.start_new("approval", f"dfe-{uuid.uuid4().hex[:8]}"))
    run(df_client.raise_event(iid, "approve", {"ok": True}))
    with served.client() as http:
        body = wait_for_status(http, iid, "Completed")
    # As with the input, the event data arrives as the JSON text the client encoded.
    assert json.loads(str(body["output"]["answer"])) == {"ok": True}  # type: ignore[index]
    status = run(df_client.get_status(iid))
    assert status.runtime_status == OrchestrationRuntimeStatus.Completed
    assert status.output["doubled"] == 42


def test_raise_event_on_an_unknown_instance_raises_not_found(
    df_client: DurableOrchestrationClient,
) -> None:
    with pytest.raises(Exception, match="No instance with ID dfc-nobody found"):
        run(df_client.raise_event("dfc-nobody", "approve", 1))


def test_terminate_and_purge_work_through_the_client(
    df_client: DurableOrchestrationClient, served: Served
) -> None:
    iid = run(df_client.start_new("approval", f"dft-{uuid.uuid4().hex[:8]}"))
    run(df_client.terminate(iid, "no longer needed"))
    with served.client() as http:
        wait_for_status(http, iid, "Terminated")
    result = run(df_client.purge_instance_history(iid))
    assert result.instances_deleted == 1
