"""``serve``: run the HTTP front and its Runtime under uvicorn until SIGINT or SIGTERM.

Shutdown order: uvicorn stops accepting connections and lets the requests in flight finish,
then the app's lifespan stops the Runtime, whose worker finishes the steps and activities it
is running (up to ``stop_timeout``); what is still unfinished keeps its lease in the store
and is picked up by the next worker once the lease expires. Nothing committed is lost.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from types import FrameType

import uvicorn

from durableflow.runtime.http.app import create_app
from durableflow.runtime.http.drawing import Drawings
from durableflow.runtime.http.settings import HttpSettings, check_bind
from durableflow.runtime.runtime import Runtime

__all__ = ["serve"]


def serve(
    runtime: Runtime,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    settings: HttpSettings | None = None,
    drawings: Drawings | None = None,
    on_ready: Callable[[str], None] | None = None,
    log_level: str = "info",
) -> None:
    """Serve ``runtime``'s API and dashboard on ``host:port``; returns after a signal.

    Args:
        runtime: started with the server and stopped when it shuts down.
        host / port: where to listen; a non-loopback host needs ``settings.api_key``.
        settings: API key, body limit, CORS origins.
        drawings: compiled graphs and an SVG renderer for the dashboard.
        on_ready: called with the base URL once the server accepts connections.
        log_level: uvicorn's log level.

    Raises:
        UnsafeBindError: a non-loopback host without an API key.
    """
    settings = settings or HttpSettings()
    check_bind(host, settings)
    app = create_app(runtime, settings=settings, drawings=drawings, manage_runtime=True)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        lifespan="on",
        # Requests still running get this long after a signal before they are cut off.
        timeout_graceful_shutdown=30,
    )
    server = _Server(config, on_ready)
    # uvicorn handles SIGINT/SIGTERM itself (stop accepting, finish requests, run the
    # lifespan's shutdown, which stops the Runtime), then re-raises the signal to the
    # handler that was there before it. Quiet handlers there make a signal-driven, clean
    # shutdown an ordinary return instead of a death by signal.
    quiet = {s: signal.signal(s, _ignore) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run()
    finally:
        for sig, handler in quiet.items():
            signal.signal(sig, handler)


def _ignore(signum: int, frame: FrameType | None) -> None:
    """Swallow the signal uvicorn re-raises after its shutdown."""


class _Server(uvicorn.Server):
    """uvicorn's server, telling ``on_ready`` when it listens."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[str], None] | None) -> None:
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: list[object] | None = None) -> None:  # type: ignore[override]
        await super().startup(sockets)  # type: ignore[arg-type]
        if self._on_ready is not None and self.started:
            host = self.config.host
            shown = f"[{host}]" if ":" in host else host
            port = self.config.port
            if self.servers and self.servers[0].sockets:
                port = self.servers[0].sockets[0].getsockname()[1]
            self._on_ready(f"http://{shown}:{port}")
