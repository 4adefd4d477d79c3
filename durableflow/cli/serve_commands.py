"""``durable serve``: the worker plus the HTTP management API and dashboard, in one process.

The dashboard draws each instance on its orchestrator's compiled graph. The runtime may not
import the compiler (it would load libcst), so this command, which may, compiles the app's
orchestrators from their source at start-up and hands the graphs and the SVG renderer to the
HTTP app; ``--graphs DIR`` adds compiled graph files (which, as for ``durable worker``, also
run in place of their generators).
"""

from __future__ import annotations

import argparse
import inspect
import logging
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from durableflow.cli.options import (
    DEFAULT_STORE,
    STORE_ENV,
    add_worker_options,
    load_app,
    store_url,
)
from durableflow.core.app import App
from durableflow.core.errors import DurableflowError

__all__ = ["cmd_serve", "register", "source_drawings"]

log = logging.getLogger("durableflow.serve")
_SHOWN_ERRORS = 5


def register(sub: Any) -> None:
    """Add ``durable serve`` to the ``durable`` parser."""
    text = (
        "Run APP's orchestrations and serve the Durable Functions HTTP management API and "
        "the dashboard until SIGINT/SIGTERM."
    )
    p = sub.add_parser("serve", help=text, description=text)
    p.add_argument("app", metavar="APP", help="the App to run, as module:attribute")
    p.add_argument(
        "--store",
        default=None,
        metavar="URL",
        help=f"store URL (default: ${STORE_ENV}, else {DEFAULT_STORE})",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks one)")
    p.add_argument(
        "--graphs", metavar="DIR", help="also run and draw every compiled *.json graph in DIR"
    )
    p.add_argument(
        "--api-key",
        metavar="KEY",
        help="require KEY on every API call (default: $DURABLEFLOW_API_KEY); needed off loopback",
    )
    p.add_argument(
        "--max-body-bytes",
        type=int,
        default=1024 * 1024,
        metavar="N",
        help="refuse request bodies larger than N bytes with 413 (default 1 MiB)",
    )
    p.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="allow browser calls from ORIGIN (repeatable; default: none)",
    )
    add_worker_options(p)
    p.add_argument(
        "--no-compile",
        action="store_true",
        help="do not compile the app's source for the dashboard's graphs",
    )
    p.add_argument(
        "--log-level",
        default="info",
        choices=("critical", "error", "warning", "info", "debug"),
        help="server log level (warning hides the access log)",
    )
    # `durable` routes durableflow's records to stderr; a server logs at INFO, as a worker.
    p.set_defaults(func=cmd_serve, log_level_base="INFO")


def source_drawings(app: App, graphs_dir: Path | None, compile_source: bool) -> Any:
    """The dashboard's :class:`~durableflow.runtime.http.Drawings` for ``app``: its
    orchestrators compiled from source (those outside the compiled subset get the compile
    errors as the reason they have no graph), plus the graphs in ``graphs_dir``."""
    from durableflow.compiler import CompileFailed, compile_file
    from durableflow.compiler.render import render_svg
    from durableflow.ir import CompiledGraph, load_graph
    from durableflow.runtime.http import Drawings

    graphs: dict[str, CompiledGraph] = {}
    problems: dict[str, str] = {}
    if compile_source:
        for name, fn in sorted(app.orchestrators.items()):
            path = inspect.getsourcefile(fn)
            if path is None:
                problems[name] = f"the source of orchestrator {name!r} cannot be found"
                continue
            try:
                found = compile_file(path, name)
            except CompileFailed as exc:
                lines = [e.format() for e in exc.errors[:_SHOWN_ERRORS]]
                more = len(exc.errors) - _SHOWN_ERRORS
                if more > 0:
                    lines.append(f"... and {more} more")
                problems[name] = (
                    f"orchestrator {name!r} is outside the compiled subset, so it has no graph "
                    "to draw; its history is below.\n" + "\n".join(lines)
                )
                continue
            except (OSError, SyntaxError) as exc:
                problems[name] = f"cannot compile orchestrator {name!r}: {exc}"
                continue
            graphs.update({g.name: g for g in found})
    if graphs_dir is not None:
        for graph_file in sorted(graphs_dir.glob("*.json")):
            graph = load_graph(str(graph_file))
            graphs[graph.name] = graph
            problems.pop(graph.name, None)
    return Drawings(graphs, render_svg, problems)


def cmd_serve(args: argparse.Namespace) -> int:
    """``durable serve APP --store URL [--host H] [--port P] [--graphs DIR]``."""
    from durableflow.ir import load_graph
    from durableflow.runtime.http import HttpSettings, check_bind, serve
    from durableflow.runtime.runtime import Runtime

    settings = HttpSettings.from_env(
        args.api_key,
        max_body_bytes=args.max_body_bytes,
        cors_origins=tuple(args.cors_origin),
    )
    check_bind(args.host, settings)
    if args.max_body_bytes < 1:
        raise DurableflowError("--max-body-bytes must be at least 1")
    app = load_app(args.app)
    graphs_dir = Path(args.graphs) if args.graphs else None
    if graphs_dir is not None:
        if not graphs_dir.is_dir():
            raise DurableflowError(f"--graphs {graphs_dir} is not a directory")
        for path in sorted(graphs_dir.glob("*.json")):
            app.register_graph(load_graph(str(path)))
    drawings = source_drawings(app, graphs_dir, not args.no_compile)
    store = store_url(args)
    runtime = Runtime(
        app,
        store,
        activity_concurrency=args.activity_concurrency,
        lease=timedelta(seconds=args.lease),
        activity_timeout=args.activity_timeout,
        drain_timeout=args.drain_timeout,
        retain=args.retain,
    )

    def ready(url: str) -> None:
        print(f"durable serve: {args.app} on {store} at {url}", flush=True)

    serve(
        runtime,
        host=args.host,
        port=args.port,
        settings=settings,
        drawings=drawings,
        on_ready=ready,
        log_level=args.log_level,
    )
    print("durable serve: stopped", file=sys.stderr, flush=True)
    return 0
