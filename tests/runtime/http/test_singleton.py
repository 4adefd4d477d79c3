"""The singleton start over HTTP: the store decides, so concurrent starts of one id give
exactly one 202 and a 409 for every other."""

from __future__ import annotations

import threading
import uuid

from tests.runtime.http.served import BASE, Served, wait_for_status


def test_20_concurrent_starts_of_one_id_give_one_202_and_nineteen_409(served: Served) -> None:
    iid = f"singleton-{uuid.uuid4().hex[:8]}"
    barrier = threading.Barrier(20)
    codes: list[int] = []
    lock = threading.Lock()

    def start() -> None:
        with served.client() as http:
            barrier.wait()
            code = http.post(f"/api/orchestrators/approval/{iid}", json={"n": 1}).status_code
        with lock:
            codes.append(code)

    threads = [threading.Thread(target=start) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(codes) == [202] + [409] * 19
    with served.client() as http:
        listed = http.get(f"{BASE}/instances?instanceIdPrefix={iid}").json()
        assert [s["instanceId"] for s in listed] == [iid]
        wait_for_status(http, iid, "Running")
        assert http.post(f"{BASE}/instances/{iid}/raiseEvent/approve", json=1).status_code == 202
        wait_for_status(http, iid, "Completed")
        assert http.post(f"/api/orchestrators/approval/{iid}").status_code == 202
