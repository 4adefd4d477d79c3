"""``durable compile``, ``durable graph`` and ``durable diff``: parse arguments, call the
compiler API, format the results."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from durableflow.cli.options import (
    DEFAULT_STORE,
    STORE_ENV,
    UsageError,
    open_existing_store,
    store_url,
)
from durableflow.core.errors import DurableflowError

if TYPE_CHECKING:  # imported when a command runs, so `durable --help` starts fast
    from durableflow.ir import CompiledGraph

__all__ = ["FORMATS", "cmd_compile", "cmd_diff", "cmd_graph", "register"]

FORMATS = ("dot", "svg", "png", "pdf")
_SUFFIX_FORMATS = {".dot": "dot", ".gv": "dot", ".svg": "svg", ".png": "png", ".pdf": "pdf"}


def register(sub: Any) -> None:
    """Add the compiler commands to the ``durable`` parser."""
    p = sub.add_parser(
        "compile",
        help="compile orchestrators to graph JSON",
        description="Compile the orchestrators of FILE.py into declarative graphs (JSON).",
    )
    p.add_argument("file", metavar="FILE.py", nargs="?")
    p.add_argument(
        "--function", metavar="NAME", help="only this orchestrator (nested: outer.inner)"
    )
    p.add_argument(
        "-o", "--output", metavar="OUT", help="output .json file, or a directory for several"
    )
    p.add_argument("--explain", metavar="DFCnnn", help="explain a compile error code and exit")
    p.set_defaults(func=cmd_compile)

    p = sub.add_parser(
        "graph",
        help="draw an orchestrator's graph",
        description="Draw FILE.py's orchestrator (or a compiled GRAPH.json) with Graphviz, "
        "optionally overlaid with one instance's progress.",
    )
    p.add_argument("file", metavar="FILE.py|GRAPH.json")
    p.add_argument("--function", metavar="NAME", help="which orchestrator, if there are several")
    p.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="output format (default: from -o's suffix, else dot)",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="output file, its format from its suffix (.svg, .png, .pdf, .dot, .gv), or a "
        "directory (default: stdout)",
    )
    p.add_argument("--instance", metavar="ID", help="overlay this instance's progress")
    p.add_argument(
        "--store",
        metavar="URL",
        help=f"store holding --instance's history (default: ${STORE_ENV}, else {DEFAULT_STORE})",
    )
    p.set_defaults(func=cmd_graph)

    p = sub.add_parser(
        "diff",
        help="classify changes between two graph versions",
        description="Classify every change from OLD.json to NEW.json (breaking, risky, "
        "semantic, safe); with --store, replay each running instance on NEW. Exit 1 if "
        "anything would break.",
    )
    p.add_argument("old", metavar="OLD.json")
    p.add_argument("new", metavar="NEW.json")
    p.add_argument("--store", metavar="URL", help="check the running instances in this store")
    p.set_defaults(func=cmd_diff)


def _compile(path: str, function: str | None) -> list[CompiledGraph] | None:
    if not Path(path).exists():  # before loading the compiler, which takes a while
        raise DurableflowError(f"cannot read {path}: No such file or directory")
    from durableflow.compiler import CompileFailed, compile_file

    try:
        return compile_file(path, function)
    except OSError as exc:
        raise DurableflowError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise DurableflowError(f"cannot read {path}: not UTF-8 text ({exc})") from None
    except CompileFailed as exc:
        for error in exc.errors:
            print(error.format(), file=sys.stderr)
        print(f"durable: {len(exc.errors)} compile error(s)", file=sys.stderr)
        return None


def cmd_compile(args: argparse.Namespace) -> int:
    """``durable compile FILE.py [--function NAME] [-o OUT]`` or ``--explain DFCnnn``."""
    if args.explain:
        from durableflow.compiler.explain import explain

        try:
            sys.stdout.write(explain(args.explain))
        except KeyError:
            print(f"durable: unknown compile error code {args.explain!r}", file=sys.stderr)
            return 2
        return 0
    if args.file is None:
        print("durable compile: FILE.py is required (or --explain CODE)", file=sys.stderr)
        return 2
    graphs = _compile(args.file, args.function)
    if graphs is None:
        return 1
    if not graphs:
        print(f"durable: no orchestrators found in {args.file}", file=sys.stderr)
        return 1
    out = Path(args.output) if args.output else None
    if len(graphs) > 1 and (out is None or not out.is_dir()):
        names = ", ".join(g.name for g in graphs)
        print(
            f"durable: {args.file} has several orchestrators ({names}); pass --function "
            "NAME or -o DIRECTORY",
            file=sys.stderr,
        )
        return 2
    for graph in graphs:
        text = graph.to_json()
        if out is None:
            sys.stdout.write(text)
            continue
        target = out / f"{graph.name}.graph.json" if out.is_dir() else out
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target}", file=sys.stderr)
    return 0


def _load_one(path: str, function: str | None) -> CompiledGraph | None:
    from durableflow.ir import load_graph

    if path.endswith(".json"):
        return load_graph(path)
    graphs = _compile(path, function)
    if graphs is None:
        return None
    if len(graphs) != 1:
        names = ", ".join(g.name for g in graphs) or "none"
        print(f"durable: choose one orchestrator with --function ({names})", file=sys.stderr)
        return None
    return graphs[0]


def cmd_graph(args: argparse.Namespace) -> int:
    """``durable graph FILE [--format F] [-o OUT] [--instance ID --store URL]``.

    With ``-o DIRECTORY``, every orchestrator of FILE.py is drawn to ``DIR/<name>.<format>``.
    """
    out = Path(args.output) if args.output else None
    fmt = _format(args.format, out)
    if out is not None and out.is_dir() and not args.file.endswith(".json") and not args.instance:
        graphs = _compile(args.file, args.function)
        if graphs is None:
            return 1
        for each in graphs:
            target = out / f"{each.name}.{fmt}"
            if _draw(each, fmt, None, target) != 0:
                return 1
            print(f"wrote {target}", file=sys.stderr)
        return 0
    graph = _load_one(args.file, args.function)
    if graph is None:
        return 1
    trace = None
    if args.instance:
        from durableflow.runtime.graph_interpreter import trace_history

        store = open_existing_store(store_url(args))
        try:
            history = store.get_history(args.instance)
        finally:
            store.close()
        if not history:
            print(f"durable: no history for instance {args.instance!r}", file=sys.stderr)
            return 1
        from durableflow.core.history import ExecutionStarted

        started = [e.name for e in history if isinstance(e, ExecutionStarted)]
        if started and started[-1] != graph.name:
            print(
                f"durable: instance {args.instance!r} runs orchestrator {started[-1]!r}, not "
                f"{graph.name!r}; draw it over its own graph (--function {started[-1]})",
                file=sys.stderr,
            )
            return 2
        trace = trace_history(graph, history)
    if out is not None and out.is_dir():
        out = out / f"{graph.name}.{fmt}"
    return _draw(graph, fmt, trace, out)


def _format(given: str | None, out: Path | None) -> str:
    """``--format``, else the one ``-o``'s suffix names, else DOT."""
    if given is not None:
        return given
    if out is None or out.is_dir() or not out.suffix:
        return "dot"
    fmt = _SUFFIX_FORMATS.get(out.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(_SUFFIX_FORMATS))
        raise UsageError(
            f"cannot tell the format of {out} from its suffix (known: {known}); pass "
            f"--format {{{','.join(FORMATS)}}}"
        )
    return fmt


def _draw(graph: CompiledGraph, fmt: str, trace: Any, out: Path | None) -> int:
    from durableflow.compiler.render import render

    try:
        data = render(graph, fmt, trace)
    except Exception as exc:  # graphviz.ExecutableNotFound and friends
        if isinstance(exc, DurableflowError):
            raise
        print(f"durable: cannot render {fmt}: {exc}", file=sys.stderr)
        return 1
    if out is not None:
        out.write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    """``durable diff OLD.json NEW.json [--store URL]``; exit 1 if anything would break."""
    from durableflow.compiler.diff import DiffReport, diff_graphs
    from durableflow.ir import load_graph

    old, new = load_graph(args.old), load_graph(args.new)
    report = DiffReport(diff_graphs(old, new))
    if args.store:
        report = DiffReport(report.changes, _verdicts(old, new, args.store))
    for change in report.changes:
        print(f"{change.severity:9} {change.what:14} {change.node}: {change.message}")
    if not report.changes:
        print("no changes")
    for verdict in report.verdicts or []:
        state = "BREAKS" if verdict.breaks else "ok"
        print(f"instance {verdict.instance_id}: {state} - {verdict.message}")
    return 1 if report.would_break else 0


def _verdicts(old: CompiledGraph, new: CompiledGraph, url: str) -> Any:
    from durableflow.compiler.diff import check_instances
    from durableflow.core.status import RuntimeStatus
    from durableflow.runtime.graph_interpreter import trace_history
    from durableflow.runtime.store import InstanceQuery

    live = frozenset({RuntimeStatus.PENDING, RuntimeStatus.RUNNING, RuntimeStatus.SUSPENDED})
    store = open_existing_store(url)
    try:
        records = store.list_instances(InstanceQuery(statuses=live, name_prefix=old.name))
        pairs = [
            (r.instance_id, store.get_history(r.instance_id)) for r in records if r.name == old.name
        ]
    finally:
        store.close()
    return check_instances(new, pairs, trace_history, old)
