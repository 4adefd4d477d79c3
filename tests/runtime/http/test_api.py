"""The management API over real HTTP against a `durable serve` subprocess: every route and
every status code it answers, in Durable Functions' shapes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.runtime.http.served import BASE, Served, wait_for_status

LINKS = [
    "id",
    "statusQueryGetUri",
    "sendEventPostUri",
    "terminatePostUri",
    "purgeHistoryDeleteUri",
    "restartPostUri",
    "suspendPostUri",
    "resumePostUri",
]


def new_id(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}"


def start(http: httpx.Client, name: str, body: object = None, iid: str | None = None) -> str:
    path = f"/api/orchestrators/{name}" + (f"/{iid}" if iid else "")
    response = http.post(path, json=body)
    assert response.status_code == 202, response.text
    started: str = response.json()["id"]
    return started


def error_message(response: httpx.Response) -> str:
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["message"] and body["error"]
    message: str = body["message"]
    return message


# -- start --------------------------------------------------------------------------------
def test_start_answers_202_with_location_retry_after_and_every_link(
    http: httpx.Client, served: Served
) -> None:
    response = http.post("/api/orchestrators/chain", json=3)
    assert response.status_code == 202
    body = response.json()
    assert list(body) == LINKS
    iid = body["id"]
    status_url = f"{served.url}{BASE}/instances/{iid}"
    assert response.headers["location"] == body["statusQueryGetUri"] == status_url
    assert response.headers["retry-after"] == "10"
    assert body["sendEventPostUri"] == f"{status_url}/raiseEvent/{{eventName}}"
    assert body["terminatePostUri"] == f"{status_url}/terminate?reason={{text}}"
    assert body["suspendPostUri"] == f"{status_url}/suspend?reason={{text}}"
    assert body["resumePostUri"] == f"{status_url}/resume?reason={{text}}"
    assert body["restartPostUri"] == f"{status_url}/restart"
    assert body["purgeHistoryDeleteUri"] == status_url


def test_the_status_url_answers_200_with_the_output_once_completed(http: httpx.Client) -> None:
    location = http.post("/api/orchestrators/chain", json=5).headers["location"]
    body = wait_for_status(http, location.rsplit("/", 1)[1], "Completed")
    response = http.get(location)
    assert response.status_code == 200 and "location" not in response.headers
    assert body["output"] == 20 and body["input"] == 5 and body["name"] == "chain"


def test_start_under_the_base_path_with_an_instance_id_uses_that_id(http: httpx.Client) -> None:
    iid = new_id("based")
    response = http.post(f"{BASE}/orchestrators/chain/{iid}", json=1)
    assert response.status_code == 202 and response.json()["id"] == iid


def test_start_with_no_body_starts_with_null_input(http: httpx.Client) -> None:
    iid = start(http, "approval")
    assert http.get(f"{BASE}/instances/{iid}").json()["input"] is None


def test_start_of_an_unknown_orchestrator_is_404_naming_it(http: httpx.Client) -> None:
    response = http.post("/api/orchestrators/nope", json=1)
    assert response.status_code == 404 and "nope" in error_message(response)


def test_start_with_a_body_that_is_not_json_is_400_and_creates_nothing(
    http: httpx.Client,
) -> None:
    iid = new_id("badjson")
    response = http.post(f"/api/orchestrators/chain/{iid}", content=b"{not json")
    assert response.status_code == 400 and "not valid JSON" in error_message(response)
    assert http.get(f"{BASE}/instances/{iid}").status_code == 404


def test_start_with_a_bad_instance_id_is_400(http: httpx.Client) -> None:
    response = http.post("/api/orchestrators/chain/bad%01id", json=1)
    assert response.status_code == 400 and "control character" in error_message(response)


def test_start_with_an_id_held_by_a_running_instance_is_409(http: httpx.Client) -> None:
    iid = start(http, "approval", iid=new_id("held"))
    response = http.post(f"/api/orchestrators/approval/{iid}")
    assert response.status_code == 409 and iid in error_message(response)


def test_start_with_the_id_of_an_ended_instance_starts_it_again(http: httpx.Client) -> None:
    iid = start(http, "chain", 1, iid=new_id("again"))
    wait_for_status(http, iid, "Completed")
    assert http.post(f"/api/orchestrators/chain/{iid}", json=2).status_code == 202
    assert wait_for_status(http, iid, "Completed")["output"] == 8


def test_start_with_timeout_answers_200_with_the_output_when_done_in_time(
    http: httpx.Client,
) -> None:
    response = http.post("/api/orchestrators/chain?timeout=20&pollingInterval=0.05", json=4)
    assert response.status_code == 200 and response.json() == 16


def test_start_with_timeout_answers_the_202_payload_when_still_running(
    http: httpx.Client,
) -> None:
    response = http.post("/api/orchestrators/approval?timeout=0.3&pollingInterval=0.05")
    assert response.status_code == 202 and list(response.json()) == LINKS
    assert "location" in response.headers


def test_start_with_timeout_answers_the_status_when_the_instance_fails(
    http: httpx.Client,
) -> None:
    response = http.post("/api/orchestrators/fails?timeout=20&pollingInterval=0.05", json="x")
    assert response.status_code == 200 and response.json()["runtimeStatus"] == "Failed"


def test_start_with_a_timeout_that_is_not_a_number_is_400(http: httpx.Client) -> None:
    response = http.post("/api/orchestrators/chain?timeout=soon", json=1)
    assert response.status_code == 400 and "timeout" in error_message(response)


# -- status -------------------------------------------------------------------------------
def test_a_running_instance_answers_202_with_location_and_retry_after(
    http: httpx.Client,
) -> None:
    iid = start(http, "approval", {"who": "ada"})
    wait_for_status(http, iid, "Running")
    url = f"{BASE}/instances/{iid}?showInput=true"
    response = http.get(url)
    assert response.status_code == 202
    assert response.headers["location"] == str(http.base_url.join(url))
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert body["customStatus"] == "waiting for approve" and body["input"] == {"who": "ada"}


def test_status_fields_are_durable_functions_names(http: httpx.Client) -> None:
    iid = start(http, "chain", 2)
    body = wait_for_status(http, iid, "Completed")
    assert {
        "name",
        "instanceId",
        "runtimeStatus",
        "input",
        "customStatus",
        "output",
        "createdTime",
        "lastUpdatedTime",
    } <= set(body)
    created = datetime.strptime(str(body["createdTime"]), "%Y-%m-%dT%H:%M:%SZ")
    assert abs(created.replace(tzinfo=UTC) - datetime.now(UTC)) < timedelta(minutes=5)
    assert "historyEvents" not in body


def test_show_input_false_leaves_the_input_out(http: httpx.Client) -> None:
    iid = start(http, "chain", 7)
    assert http.get(f"{BASE}/instances/{iid}?showInput=false").json()["input"] is None


def test_show_history_lists_events_and_show_history_output_adds_results(
    http: httpx.Client,
) -> None:
    iid = start(http, "chain", 3)
    wait_for_status(http, iid, "Completed")
    plain = http.get(f"{BASE}/instances/{iid}?showHistory=true").json()["historyEvents"]
    assert [e["EventType"] for e in plain] == [
        "ExecutionStarted",
        "TaskCompleted",
        "TaskCompleted",
        "ExecutionCompleted",
    ]
    assert plain[1]["FunctionName"] == "double" and "ScheduledTime" in plain[1]
    assert "Result" not in plain[1]
    full = http.get(f"{BASE}/instances/{iid}?showHistory=True&showHistoryOutput=True").json()
    assert [e.get("Result") for e in full["historyEvents"]] == [None, 6, 12, 12]


def test_a_failed_instance_is_200_with_failure_details_or_500_when_asked(
    http: httpx.Client,
) -> None:
    iid = start(http, "fails", "x")
    body = wait_for_status(http, iid, "Failed")
    assert body["failureDetails"]["errorType"].endswith("TaskFailedError")
    assert "boom on 'x'" in str(body["output"])
    response = http.get(f"{BASE}/instances/{iid}?returnInternalServerErrorOnFailure=true")
    assert response.status_code == 500 and response.json()["runtimeStatus"] == "Failed"


def test_an_unknown_instance_is_404(http: httpx.Client) -> None:
    response = http.get(f"{BASE}/instances/{new_id('ghost')}")
    assert response.status_code == 404 and "no instance" in error_message(response)


def test_a_flag_that_is_not_a_boolean_is_400(http: httpx.Client) -> None:
    response = http.get(f"{BASE}/instances/x?showHistory=maybe")
    assert response.status_code == 400 and "showHistory" in error_message(response)


# -- list ---------------------------------------------------------------------------------
def test_list_filters_by_status_comma_list_and_instance_id_prefix(http: httpx.Client) -> None:
    tag = new_id("list")
    done = start(http, "chain", 1, iid=f"{tag}-done")
    waiting = start(http, "approval", iid=f"{tag}-wait")
    wait_for_status(http, done, "Completed")
    wait_for_status(http, waiting, "Running")

    def ids(query: str) -> list[str]:
        response = http.get(f"{BASE}/instances?instanceIdPrefix={tag}&{query}")
        assert response.status_code == 200
        return [s["instanceId"] for s in response.json()]

    assert ids("runtimeStatus=Completed") == [done]
    assert sorted(ids("runtimeStatus=Running,Completed")) == sorted([done, waiting])
    assert ids("runtimeStatus=Failed") == []


def test_list_filters_by_creation_time(http: httpx.Client) -> None:
    tag = new_id("created")
    start(http, "chain", 1, iid=tag)
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    earlier = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    got = http.get(
        f"{BASE}/instances", params={"instanceIdPrefix": tag, "createdTimeFrom": later}
    ).json()
    assert got == []
    got = http.get(
        f"{BASE}/instances",
        params={"instanceIdPrefix": tag, "createdTimeFrom": earlier, "createdTimeTo": later},
    ).json()
    assert [s["instanceId"] for s in got] == [tag]


def test_list_pages_with_the_continuation_token_header(http: httpx.Client) -> None:
    tag = new_id("paged")
    started = {start(http, "chain", i, iid=f"{tag}-{i}") for i in range(7)}
    seen: list[str] = []
    headers: dict[str, str] = {}
    pages = 0
    while True:
        response = http.get(f"{BASE}/instances/?instanceIdPrefix={tag}&top=3", headers=headers)
        assert response.status_code == 200
        seen += [s["instanceId"] for s in response.json()]
        pages += 1
        token = response.headers.get("x-ms-continuation-token")
        if token is None:
            break
        headers = {"x-ms-continuation-token": token}
    assert pages == 3 and len(seen) == 7 and set(seen) == started


def test_list_with_a_forged_continuation_token_is_400(http: httpx.Client) -> None:
    response = http.get(f"{BASE}/instances", headers={"x-ms-continuation-token": "forged!"})
    assert response.status_code == 400 and "continuation" in error_message(response)


def test_list_with_an_unknown_status_is_400_listing_the_known_ones(http: httpx.Client) -> None:
    response = http.get(f"{BASE}/instances?runtimeStatus=Sleeping")
    assert response.status_code == 400 and "ContinuedAsNew" in error_message(response)


# -- raise event --------------------------------------------------------------------------
def test_raise_event_is_202_and_the_instance_moves_on(http: httpx.Client) -> None:
    iid = start(http, "approval")
    wait_for_status(http, iid, "Running")
    response = http.post(f"{BASE}/instances/{iid}/raiseEvent/approve", json={"ok": True})
    assert response.status_code == 202
    assert wait_for_status(http, iid, "Completed")["output"] == {
        "answer": {"ok": True},
        "doubled": 42,
    }


def test_raise_event_on_an_unknown_instance_is_404(http: httpx.Client) -> None:
    response = http.post(f"{BASE}/instances/{new_id('ghost')}/raiseEvent/approve", json=1)
    assert response.status_code == 404


def test_raise_event_on_an_ended_instance_is_410(http: httpx.Client) -> None:
    iid = start(http, "chain", 1)
    wait_for_status(http, iid, "Completed")
    response = http.post(f"{BASE}/instances/{iid}/raiseEvent/approve", json=1)
    assert response.status_code == 410 and "Completed".upper() in error_message(response)


def test_raise_event_with_a_body_that_is_not_json_is_400(http: httpx.Client) -> None:
    iid = start(http, "approval")
    response = http.post(
        f"{BASE}/instances/{iid}/raiseEvent/approve",
        content=b"yes please",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400 and "not valid JSON" in error_message(response)


def test_raise_event_sent_as_a_form_is_400_saying_to_send_json(http: httpx.Client) -> None:
    iid = start(http, "approval")
    response = http.post(f"{BASE}/instances/{iid}/raiseEvent/approve", data={"a": "1"})
    assert response.status_code == 400 and "application/json" in error_message(response)


# -- terminate, suspend, resume -----------------------------------------------------------
def test_terminate_is_202_and_the_instance_ends_terminated(http: httpx.Client) -> None:
    iid = start(http, "approval")
    assert http.post(f"{BASE}/instances/{iid}/terminate?reason=enough").status_code == 202
    body = wait_for_status(http, iid, "Terminated")
    assert http.get(f"{BASE}/instances/{iid}").status_code == 200 and body["output"] == "enough"


def test_suspend_then_resume_are_202_and_change_the_status(http: httpx.Client) -> None:
    iid = start(http, "approval")
    wait_for_status(http, iid, "Running")
    assert http.post(f"{BASE}/instances/{iid}/suspend?reason=hold").status_code == 202
    wait_for_status(http, iid, "Suspended")
    assert http.get(f"{BASE}/instances/{iid}").status_code == 202
    assert http.post(f"{BASE}/instances/{iid}/resume").status_code == 202
    wait_for_status(http, iid, "Running")


@pytest.mark.parametrize("verb", ["terminate", "suspend", "resume"])
def test_control_of_an_unknown_instance_is_404(http: httpx.Client, verb: str) -> None:
    assert http.post(f"{BASE}/instances/{new_id('ghost')}/{verb}").status_code == 404


@pytest.mark.parametrize("verb", ["terminate", "suspend", "resume"])
def test_control_of_an_ended_instance_is_410(http: httpx.Client, verb: str) -> None:
    iid = start(http, "chain", 1)
    wait_for_status(http, iid, "Completed")
    response = http.post(f"{BASE}/instances/{iid}/{verb}")
    assert response.status_code == 410 and iid in error_message(response)


# -- restart ------------------------------------------------------------------------------
def test_restart_starts_a_new_instance_with_the_same_input(http: httpx.Client) -> None:
    iid = start(http, "chain", 6)
    wait_for_status(http, iid, "Completed")
    response = http.post(f"{BASE}/instances/{iid}/restart")
    assert response.status_code == 202
    new = response.json()["id"]
    assert new != iid and wait_for_status(http, new, "Completed")["output"] == 24


def test_restart_with_the_same_id_of_an_ended_instance_reuses_it(http: httpx.Client) -> None:
    iid = start(http, "chain", 2, iid=new_id("restart"))
    wait_for_status(http, iid, "Completed")
    response = http.post(f"{BASE}/instances/{iid}/restart?restartWithNewInstanceId=false")
    assert response.status_code == 202 and response.json()["id"] == iid


def test_restart_with_the_same_id_of_a_running_instance_is_409(http: httpx.Client) -> None:
    iid = start(http, "approval")
    response = http.post(f"{BASE}/instances/{iid}/restart?restartWithNewInstanceId=false")
    assert response.status_code == 409


def test_restart_of_an_unknown_instance_is_404(http: httpx.Client) -> None:
    assert http.post(f"{BASE}/instances/{new_id('ghost')}/restart").status_code == 404


def test_restart_with_timeout_waits_for_the_output(http: httpx.Client) -> None:
    iid = start(http, "chain", 1)
    wait_for_status(http, iid, "Completed")
    response = http.post(f"{BASE}/instances/{iid}/restart?timeout=20&pollingInterval=0.05")
    assert response.status_code == 200 and response.json() == 4


# -- purge --------------------------------------------------------------------------------
def test_purge_of_an_ended_instance_deletes_it(http: httpx.Client) -> None:
    iid = start(http, "chain", 1)
    wait_for_status(http, iid, "Completed")
    response = http.delete(f"{BASE}/instances/{iid}")
    assert response.status_code == 200 and response.json() == {"instancesDeleted": 1}
    assert http.get(f"{BASE}/instances/{iid}").status_code == 404


def test_purge_of_an_unknown_instance_is_404(http: httpx.Client) -> None:
    assert http.delete(f"{BASE}/instances/{new_id('ghost')}").status_code == 404


def test_purge_of_a_running_instance_is_412_and_keeps_it(http: httpx.Client) -> None:
    iid = start(http, "approval")
    response = http.delete(f"{BASE}/instances/{iid}")
    assert response.status_code == 412 and "terminate it first" in error_message(response)
    assert http.get(f"{BASE}/instances/{iid}").status_code == 202


def test_purge_by_filter_deletes_only_ended_instances_in_the_range(http: httpx.Client) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    tag = new_id("purge")
    ended = [start(http, "chain", i, iid=f"{tag}-{i}") for i in range(3)]
    live = start(http, "approval", iid=f"{tag}-live")
    for iid in ended:
        wait_for_status(http, iid, "Completed")
    response = http.delete(
        f"{BASE}/instances",
        params={"createdTimeFrom": since.isoformat(), "runtimeStatus": "Completed,Running"},
    )
    assert response.status_code == 200 and response.json()["instancesDeleted"] >= 3
    assert all(http.get(f"{BASE}/instances/{i}").status_code == 404 for i in ended)
    assert http.get(f"{BASE}/instances/{live}").status_code == 202


def test_purge_by_filter_matching_nothing_is_404(http: httpx.Client) -> None:
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    response = http.delete(f"{BASE}/instances", params={"createdTimeFrom": future})
    assert response.status_code == 404


def test_purge_by_filter_without_created_time_from_is_400(http: httpx.Client) -> None:
    response = http.delete(f"{BASE}/instances")
    assert response.status_code == 400 and "createdTimeFrom" in error_message(response)


# -- the rest -----------------------------------------------------------------------------
def test_openapi_document_describes_every_route(http: httpx.Client) -> None:
    doc = http.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    for path in [
        "/api/orchestrators/{functionName}",
        "/api/orchestrators/{functionName}/{instanceId}",
        f"{BASE}/instances",
        f"{BASE}/instances/{{instanceId}}",
        f"{BASE}/instances/{{instanceId}}/raiseEvent/{{eventName}}",
        f"{BASE}/instances/{{instanceId}}/terminate",
        f"{BASE}/instances/{{instanceId}}/suspend",
        f"{BASE}/instances/{{instanceId}}/resume",
        f"{BASE}/instances/{{instanceId}}/restart",
    ]:
        assert path in paths


def test_an_unknown_route_is_a_json_404(http: httpx.Client) -> None:
    response = http.get("/runtime/webhooks/durabletask/nothing")
    assert response.status_code == 404 and "openapi.json" in error_message(response)


def test_a_wrong_method_is_a_json_405_with_allow(http: httpx.Client) -> None:
    response = http.put(f"{BASE}/instances/x")
    assert response.status_code == 405 and "allow" in response.headers
    assert "PUT" in error_message(response)
