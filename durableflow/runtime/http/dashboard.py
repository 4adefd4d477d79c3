"""The dashboard: two pages (instance list, one instance) served as one HTML shell with a
script and a style sheet shipped in the package, and the two JSON endpoints the script needs
beyond the management API (orchestrator names, an instance drawn on its graph).

No build step and nothing fetched from the internet: the files under ``static/`` are served
as they are.
"""

from __future__ import annotations

import html
from importlib import resources

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from durableflow.core.errors import InstanceNotFoundError, InvalidInstanceIdError
from durableflow.runtime.client import Client
from durableflow.runtime.http.drawing import Drawings
from durableflow.runtime.http.security import error_response

__all__ = ["Dashboard"]

_STATIC = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}


def _asset(name: str) -> str:
    return resources.files("durableflow.runtime.http").joinpath("static", name).read_text("utf-8")


class Dashboard:
    """The dashboard's routes over one client and its drawings."""

    def __init__(self, client: Client, drawings: Drawings) -> None:
        self.client = client
        self.drawings = drawings
        self._shell = _asset("dashboard.html")
        self._assets = {name: _asset(name) for name in _STATIC}

    def routes(self) -> list[Route]:
        """The pages, the static files and the dashboard's JSON endpoints."""
        return [
            Route("/", self.list_page, methods=["GET"]),
            Route("/instance/{instance_id}", self.instance_page, methods=["GET"]),
            Route("/static/{name}", self.static, methods=["GET"]),
            Route("/dashboard/api/orchestrators", self.orchestrators, methods=["GET"]),
            Route("/dashboard/api/instances/{instance_id}/graph", self.graph, methods=["GET"]),
        ]

    def _page(self, request: Request, page: str, instance_id: str = "") -> Response:
        root = request.scope.get("root_path", "")
        text = (
            self._shell.replace("{{root}}", html.escape(root))
            .replace("{{page}}", page)
            .replace("{{instance}}", html.escape(instance_id))
            .replace("{{title}}", html.escape(instance_id or "instances"))
        )
        return HTMLResponse(text)

    async def list_page(self, request: Request) -> Response:
        """``/``: every instance, newest first, filtered and paged."""
        return self._page(request, "list")

    async def instance_page(self, request: Request) -> Response:
        """``/instance/{id}``: one instance, its history and its graph."""
        return self._page(request, "instance", request.path_params["instance_id"])

    async def static(self, request: Request) -> Response:
        """The dashboard's script and style sheet."""
        name = request.path_params["name"]
        if name not in self._assets:
            return error_response(404, f"no static file {name!r}")
        return Response(
            self._assets[name],
            media_type=_STATIC[name],
            headers={"Cache-Control": "no-cache"},
        )

    async def orchestrators(self, _: Request) -> Response:
        """``{"orchestrators": [names]}``: what the start form offers."""
        app = self.client.app
        names = [] if app is None else sorted({*app.orchestrators, *app.graphs})
        return JSONResponse({"orchestrators": names})

    async def graph(self, request: Request) -> Response:
        """The instance's orchestrator graph as SVG, coloured by its history."""
        iid = request.path_params["instance_id"]
        try:
            doc = await run_in_threadpool(self.client.get_history, iid)
        except InvalidInstanceIdError as exc:
            return error_response(400, f"bad instance id: {exc}")
        except InstanceNotFoundError:
            return error_response(404, f"no instance with id {iid!r}")
        drawn = await run_in_threadpool(self.drawings.draw, doc.name, doc.events)
        return JSONResponse({"name": doc.name, **drawn})
