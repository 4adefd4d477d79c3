"""``create_app``: the management API, its OpenAPI document and the dashboard as one ASGI
application (Starlette) over a Runtime or a Client."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from durableflow.ir.graph import CompiledGraph
from durableflow.runtime.client import Client
from durableflow.runtime.http.api import ManagementApi
from durableflow.runtime.http.dashboard import Dashboard
from durableflow.runtime.http.drawing import Drawings
from durableflow.runtime.http.openapi import openapi_document
from durableflow.runtime.http.security import ApiKeyMiddleware, error_response
from durableflow.runtime.http.settings import HttpSettings
from durableflow.runtime.runtime import Runtime

__all__ = ["create_app"]


def create_app(
    source: Runtime | Client,
    *,
    settings: HttpSettings | None = None,
    drawings: Drawings | None = None,
    manage_runtime: bool = False,
) -> Starlette:
    """The HTTP front of ``source``: mount it in a Starlette or FastAPI service, or serve it.

    Example::

        rt = df.Runtime(app, "sqlite:///durable.db")
        api = create_app(rt, manage_runtime=True)   # starts and stops rt with the server
        # or, inside your own app: Mount("/durable", app=create_app(rt)) and run rt yourself

    Args:
        source: a Runtime (its client, and its worker when ``manage_runtime``), or a bare
            Client of a store whose workers run elsewhere.
        settings: API key, body limit, CORS origins; defaults are loopback-friendly.
        drawings: compiled graphs and an SVG renderer for the dashboard.
        manage_runtime: start the Runtime when the server starts and stop it (finishing
            in-flight work) when it shuts down. A mounted app's lifespan is not run by its
            parent, so leave this off there and run the Runtime yourself.
    """
    settings = settings or HttpSettings()
    client = source.client if isinstance(source, Runtime) else source
    registered: dict[str, CompiledGraph] = {}
    if client.app is not None:
        registered = {
            name: g for name, g in client.app.graphs.items() if isinstance(g, CompiledGraph)
        }
    drawings = (drawings or Drawings()).with_graphs(registered)
    api = ManagementApi(client, settings)
    dashboard = Dashboard(client, drawings)
    document = openapi_document()

    async def openapi(_: Request) -> Response:
        return JSONResponse(document)

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    routes: list[BaseRoute] = [
        *api.routes(),
        *dashboard.routes(),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/healthz", health, methods=["GET"]),
    ]
    middleware: list[Middleware] = []
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST", "DELETE"],
                allow_headers=["content-type", "x-functions-key", "x-ms-continuation-token"],
                expose_headers=["location", "retry-after", "x-ms-continuation-token"],
            )
        )
    if settings.api_key:
        middleware.append(Middleware(ApiKeyMiddleware, key=settings.api_key))

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if manage_runtime and isinstance(source, Runtime):
            source.start()
            try:
                yield
            finally:
                await run_in_threadpool(source.stop)
        else:
            yield

    return Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={
            HTTPException: _http_error,
            Exception: _server_error,
        },
        lifespan=lifespan,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        return error_response(
            404,
            f"no route for {request.method} {request.url.path}; see /openapi.json for the API",
        )
    if exc.status_code == 405:
        allowed = headers.get("Allow", headers.get("allow", ""))
        return error_response(
            405,
            f"{request.method} is not allowed on {request.url.path}; "
            f"use {allowed or 'another method'}",
            headers=headers,
        )
    return error_response(exc.status_code, str(exc.detail), headers=headers)


async def _server_error(_: Request, exc: Exception) -> Response:
    detail: Any = f"{type(exc).__name__}: {exc}"
    return error_response(
        500, f"the server failed while handling this request ({detail}); see the server log"
    )
