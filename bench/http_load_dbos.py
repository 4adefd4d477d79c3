"""The DBOS side of ``http_load.py``: the same workflow (three no-op steps) on DBOS with a
SQLite system database (WAL, the same ``synchronous`` level as durableflow), behind a
minimal Starlette app with the same two routes as ``durable serve``: start (202 +
``Location``) and status (202 while running, 200 with the output when done).

    python bench/http_load_dbos.py --db /tmp/dbos.db --port 8081
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parent))
from runtime_systems import Dbos

STATUS = "/runtime/webhooks/durabletask/instances/{instance_id}"


def build(dbos_cls: Any) -> tuple[Any, Starlette]:
    """Register the workflow with DBOS and make the two routes."""

    @dbos_cls.step()
    def noop(x: int) -> int:
        return x

    @dbos_cls.workflow()
    def three_steps(_: Any) -> int:
        a = noop(1)
        b = noop(a + 1)
        return noop(b + 1)

    async def start(request: Request) -> Response:
        body = await request.body()
        handle = await run_in_threadpool(dbos_cls.start_workflow, three_steps, body or None)
        iid = handle.workflow_id
        location = f"{request.url.scheme}://{request.url.netloc}{STATUS.format(instance_id=iid)}"
        return JSONResponse(
            {"id": iid, "statusQueryGetUri": location},
            202,
            headers={"Location": location, "Retry-After": "10"},
        )

    async def status(request: Request) -> Response:
        iid = request.path_params["instance_id"]
        found = await run_in_threadpool(dbos_cls.get_workflow_status, iid)
        if found is None:
            return JSONResponse({"message": f"no workflow {iid}"}, 404)
        if found.status == "SUCCESS":
            return JSONResponse({"runtimeStatus": "Completed", "output": found.output})
        if found.status in ("ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"):
            return JSONResponse({"runtimeStatus": "Failed", "output": str(found.error)})
        return JSONResponse(
            {"runtimeStatus": "Running"}, 202, headers={"Location": str(request.url)}
        )

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    app = Starlette(
        routes=[
            Route("/api/orchestrators/three_steps", start, methods=["POST"]),
            Route(STATUS, status, methods=["GET"]),
            Route("/healthz", health, methods=["GET"]),
        ]
    )
    return three_steps, app


def main() -> int:
    """Launch DBOS on ``--db`` and serve until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--synchronous", default="FULL")
    args = parser.parse_args()
    system = Dbos(args.synchronous, "start_workflow")
    _, app = build(system.dbos_cls)
    with system.session(Path(args.db)):
        print(f"dbos serving on {args.port}; {sorted(system.observed)}", flush=True)
        uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
