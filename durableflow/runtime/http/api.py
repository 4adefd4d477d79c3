"""The management API in Durable Functions' shape: routes, payloads and status codes.

Every handler runs the (blocking) client calls on Starlette's thread pool. Conflicts are
decided by the store: a start with a taken id is one atomic ``create_instance`` that raises
``InstanceAlreadyExistsError``, never a status check followed by a write.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from durableflow.core.errors import (
    InstanceAlreadyExistsError,
    InstanceNotFoundError,
    InvalidInstanceIdError,
    InvalidStateError,
    PayloadError,
    UnknownFunctionError,
)
from durableflow.core.status import TERMINAL_STATUSES, RuntimeStatus
from durableflow.runtime.client import Client, OrchestrationState
from durableflow.runtime.http import params
from durableflow.runtime.http.payloads import (
    BASE_PATH,
    BadTokenError,
    decode_token,
    encode_token,
    history_events,
    management_payload,
    status_payload,
)
from durableflow.runtime.http.security import (
    BadJsonError,
    BodyTooLargeError,
    error_response,
    parse_json,
    read_body,
)
from durableflow.runtime.http.settings import HttpSettings

__all__ = ["ManagementApi"]

Handler = Callable[[Request], Awaitable[Response]]
_DEFAULT_PAGE = 100
_PURGE_PAGE = 500


class _Refused(Exception):
    """Stop handling a request and answer ``response``."""

    def __init__(self, response: Response) -> None:
        self.response = response


def _guard(handler: Handler) -> Handler:
    """Turn the errors every route shares into their JSON responses."""

    async def guarded(request: Request) -> Response:
        try:
            return await handler(request)
        except _Refused as refused:
            return refused.response
        except (params.BadParameterError, BadTokenError, BadJsonError, PayloadError) as exc:
            return error_response(400, str(exc))
        except InvalidInstanceIdError as exc:
            return error_response(400, f"bad instance id: {exc}")
        except BodyTooLargeError as exc:
            return error_response(413, str(exc))

    guarded.__name__ = handler.__name__
    return guarded


class ManagementApi:
    """The routes of the management API over one :class:`~durableflow.runtime.Client`."""

    def __init__(self, client: Client, settings: HttpSettings) -> None:
        self.client = client
        self.settings = settings

    def routes(self) -> list[Route]:
        """Every route, under the base path and the starter path of the HTTP samples."""
        inst = f"{BASE_PATH}/instances/{{instance_id}}"
        routes: list[Route] = []
        for prefix in ("/api/orchestrators", f"{BASE_PATH}/orchestrators"):
            routes.append(Route(prefix + "/{function_name}", _guard(self.start), methods=["POST"]))
            routes.append(
                Route(
                    prefix + "/{function_name}/{instance_id}", _guard(self.start), methods=["POST"]
                )
            )
        for path in (f"{BASE_PATH}/instances", f"{BASE_PATH}/instances/"):
            routes.append(Route(path, _guard(self.list_instances), methods=["GET"]))
            routes.append(Route(path, _guard(self.purge_many), methods=["DELETE"]))
        routes += [
            Route(inst, _guard(self.get_instance), methods=["GET"]),
            Route(inst, _guard(self.purge_one), methods=["DELETE"]),
            Route(inst + "/raiseEvent/{event_name}", _guard(self.raise_event), methods=["POST"]),
            Route(inst + "/terminate", _guard(self.terminate), methods=["POST"]),
            Route(inst + "/suspend", _guard(self.suspend), methods=["POST"]),
            Route(inst + "/resume", _guard(self.resume), methods=["POST"]),
            Route(inst + "/restart", _guard(self.restart), methods=["POST"]),
        ]
        return routes

    # -- starting -----------------------------------------------------------------------
    async def start(self, request: Request) -> Response:
        """``POST /api/orchestrators/{functionName}[/{instanceId}]``: body = input."""
        name = request.path_params["function_name"]
        wanted = request.path_params.get("instance_id")
        wait = self._wait_params(request)
        value = parse_json(await read_body(request, self.settings.max_body_bytes))
        iid = await self._start(name, value, wanted)
        return await self._accepted(request, iid, wait)

    async def restart(self, request: Request) -> Response:
        """``POST .../instances/{id}/restart[?restartWithNewInstanceId=false]``."""
        old = await self._status(request.path_params["instance_id"], show_input=True)
        new_id = params.boolean(request.query_params, "restartWithNewInstanceId", True)
        wait = self._wait_params(request)
        iid = await self._start(old.name, old.input, None if new_id else old.instance_id)
        return await self._accepted(request, iid, wait)

    async def _start(self, name: str, value: Any, instance_id: str | None) -> str:
        try:
            iid: str = await run_in_threadpool(self.client.start_new, name, value, instance_id)
        except UnknownFunctionError as exc:
            raise _Refused(error_response(404, str(exc))) from None
        except InstanceAlreadyExistsError as exc:
            raise _Refused(error_response(409, str(exc))) from None
        return iid

    def _wait_params(self, request: Request) -> tuple[float, float] | None:
        query = request.query_params
        timeout = params.number(query, "timeout", 0, self.settings.max_wait)
        interval = params.number(query, "pollingInterval", 0.001, self.settings.max_wait)
        if timeout is None:
            return None
        return timeout, min(interval if interval is not None else 1.0, max(timeout, 0.001))

    async def _accepted(
        self, request: Request, iid: str, wait: tuple[float, float] | None
    ) -> Response:
        if wait is not None:
            state = await self._wait(iid, *wait)
            if state is not None and state.runtime_status is RuntimeStatus.COMPLETED:
                return JSONResponse(state.output)
            if state is not None and state.runtime_status.is_terminal:
                return self._status_response(request, state, None, status_url=None)
        links = management_payload(self._base(request), iid, self._key_query(request))
        return JSONResponse(
            links,
            202,
            headers={
                "Location": links["statusQueryGetUri"],
                "Retry-After": str(self.settings.retry_after_start),
            },
        )

    async def _wait(self, iid: str, timeout: float, interval: float) -> OrchestrationState | None:
        deadline = time.monotonic() + timeout
        while True:
            state = await run_in_threadpool(self.client.get_status, iid)
            left = deadline - time.monotonic()
            if state is None or state.runtime_status.is_terminal or left <= 0:
                return state
            await asyncio.sleep(min(interval, left))

    # -- reading ------------------------------------------------------------------------
    async def get_instance(self, request: Request) -> Response:
        """``GET .../instances/{id}?showHistory&showHistoryOutput&showInput&...``."""
        query = request.query_params
        show_history = params.boolean(query, "showHistory", False)
        show_output = params.boolean(query, "showHistoryOutput", False)
        show_input = params.boolean(query, "showInput", True)
        fail_500 = params.boolean(query, "returnInternalServerErrorOnFailure", False)
        state = await self._status(request.path_params["instance_id"], show_input)
        events = None
        if show_history:
            try:
                doc = await run_in_threadpool(self.client.get_history, state.instance_id)
            except InstanceNotFoundError:
                return self._not_found(state.instance_id)
            events = history_events(doc.events, show_output)
        return self._status_response(request, state, events, str(request.url), fail_500)

    def _status_response(
        self,
        request: Request,
        state: OrchestrationState,
        events: list[dict[str, Any]] | None,
        status_url: str | None,
        fail_500: bool = False,
    ) -> Response:
        body = status_payload(state, events)
        if not state.runtime_status.is_terminal:
            headers = {"Retry-After": str(self.settings.retry_after_status)}
            if status_url is not None:
                headers["Location"] = status_url
            return JSONResponse(body, 202, headers=headers)
        code = 500 if fail_500 and state.runtime_status is RuntimeStatus.FAILED else 200
        return JSONResponse(body, code)

    async def list_instances(self, request: Request) -> Response:
        """``GET .../instances?runtimeStatus&createdTimeFrom&createdTimeTo&instanceIdPrefix&top``,
        paged with the ``x-ms-continuation-token`` header."""
        query = request.query_params
        top = params.whole(query, "top", 1, 1000) or _DEFAULT_PAGE
        token = request.headers.get("x-ms-continuation-token")
        after = decode_token(token) if token else None
        states = await run_in_threadpool(
            lambda: self.client.list_instances(
                status=list(params.statuses(query) or ()) or None,
                created_from=params.timestamp(query, "createdTimeFrom"),
                created_to=params.timestamp(query, "createdTimeTo"),
                name_prefix=query.get("namePrefix") or None,
                limit=top + 1,
                instance_id_prefix=query.get("instanceIdPrefix") or None,
                after=after,
                show_input=params.boolean(query, "showInput", True),
            )
        )
        page = states[:top]
        headers = {}
        if len(states) > top:
            headers["x-ms-continuation-token"] = encode_token(
                page[-1].created_at, page[-1].instance_id
            )
        return JSONResponse([status_payload(s) for s in page], headers=headers)

    # -- signalling ---------------------------------------------------------------------
    async def raise_event(self, request: Request) -> Response:
        """``POST .../instances/{id}/raiseEvent/{eventName}``: JSON body = event data."""
        state = await self._status(request.path_params["instance_id"], show_input=False)
        if state.runtime_status.is_terminal:
            return self._gone(state, "receive events")
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media and media != "application/json" and not media.endswith("+json"):
            return error_response(
                400,
                f"event data must be sent as application/json, not {media!r}; add the header "
                "Content-Type: application/json",
            )
        data = parse_json(await read_body(request, self.settings.max_body_bytes))
        name = request.path_params["event_name"]
        return await self._signal(state, "receive events", self.client.raise_event, name, data)

    async def terminate(self, request: Request) -> Response:
        """``POST .../instances/{id}/terminate?reason=``."""
        return await self._control(request, "be terminated", self.client.terminate)

    async def suspend(self, request: Request) -> Response:
        """``POST .../instances/{id}/suspend?reason=``."""
        return await self._control(request, "be suspended", self.client.suspend)

    async def resume(self, request: Request) -> Response:
        """``POST .../instances/{id}/resume?reason=``."""
        return await self._control(request, "be resumed", self.client.resume)

    async def _control(self, request: Request, what: str, call: Callable[..., None]) -> Response:
        state = await self._status(request.path_params["instance_id"], show_input=False)
        if state.runtime_status.is_terminal:
            return self._gone(state, what)
        return await self._signal(state, what, call, request.query_params.get("reason"))

    async def _signal(
        self, state: OrchestrationState, what: str, call: Callable[..., None], *args: Any
    ) -> Response:
        try:
            await run_in_threadpool(call, state.instance_id, *args)
        except InstanceNotFoundError:
            return self._not_found(state.instance_id)
        except InvalidStateError:
            fresh = await run_in_threadpool(self.client.get_status, state.instance_id)
            return self._gone(fresh or state, what)
        return Response(status_code=202)

    # -- purging ------------------------------------------------------------------------
    async def purge_one(self, request: Request) -> Response:
        """``DELETE .../instances/{id}``: 200 ``{"instancesDeleted": 1}``."""
        state = await self._status(request.path_params["instance_id"], show_input=False)
        if not state.runtime_status.is_terminal:
            return error_response(
                412,
                f"instance {state.instance_id!r} is {state.runtime_status.value}; only ended "
                "instances can be purged: terminate it first",
            )
        try:
            deleted = await run_in_threadpool(self.client.purge, state.instance_id)
        except InvalidStateError as exc:
            return error_response(412, str(exc))
        if not deleted:
            return self._not_found(state.instance_id)
        return JSONResponse({"instancesDeleted": 1})

    async def purge_many(self, request: Request) -> Response:
        """``DELETE .../instances?createdTimeFrom&createdTimeTo&runtimeStatus``: ended
        instances only; 404 when none matched."""
        query = request.query_params
        created_from = params.timestamp(query, "createdTimeFrom")
        if created_from is None:
            return error_response(
                400,
                "purging by filter needs createdTimeFrom (an ISO 8601 time); to purge one "
                "instance, DELETE .../instances/{instanceId}",
            )
        created_to = params.timestamp(query, "createdTimeTo") or datetime.now(UTC)
        wanted = params.statuses(query) or TERMINAL_STATUSES
        deleted = await run_in_threadpool(
            self._purge_matching, created_from, created_to, wanted & TERMINAL_STATUSES
        )
        if deleted == 0:
            return error_response(404, "no ended instance matched the filter; nothing was purged")
        return JSONResponse({"instancesDeleted": deleted})

    def _purge_matching(
        self, created_from: datetime, created_to: datetime, wanted: frozenset[RuntimeStatus]
    ) -> int:
        if not wanted:
            return 0
        deleted = 0
        after = None
        while True:
            page = self.client.list_instances(
                status=list(wanted),
                created_from=created_from,
                created_to=created_to,
                limit=_PURGE_PAGE,
                after=after,
                show_input=False,
            )
            for state in page:
                try:
                    deleted += self.client.purge(state.instance_id)
                except InvalidStateError:
                    continue  # restarted since it was listed: it is live again
            if len(page) < _PURGE_PAGE:
                return deleted
            after = (page[-1].created_at, page[-1].instance_id)

    # -- helpers ------------------------------------------------------------------------
    async def _status(self, instance_id: str, show_input: bool) -> OrchestrationState:
        state = await run_in_threadpool(self.client.get_status, instance_id, False, show_input)
        if state is None:
            raise _Refused(self._not_found(instance_id))
        return state

    @staticmethod
    def _not_found(instance_id: str) -> Response:
        return error_response(
            404,
            f"no instance with id {instance_id!r}; it was never started here or has been purged",
        )

    @staticmethod
    def _gone(state: OrchestrationState, what: str) -> Response:
        return error_response(
            410,
            f"instance {state.instance_id!r} is {state.runtime_status.value} and can no "
            f"longer {what}",
        )

    @staticmethod
    def _base(request: Request) -> str:
        # root_path holds the mount point (and a proxy's prefix), which base_url leaves out
        # when the app is mounted in another.
        root = request.scope.get("root_path", "").rstrip("/")
        return f"{request.url.scheme}://{request.url.netloc}{root}"

    @staticmethod
    def _key_query(request: Request) -> str:
        # A caller that put the key in the URL gets links that carry it, as Durable
        # Functions' links carry its system key; a header key is never copied into URLs.
        code = request.query_params.get("code")
        return urlencode({"code": code}) if code else ""
