"""``durable`` commands that run and manage instances: worker, start, status, and the rest."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from durableflow.core.app import App
from durableflow.core.errors import DurableflowError
from durableflow.core.history import HistoryDocument
from durableflow.core.status import RuntimeStatus

DEFAULT_STORE = "sqlite:///durable.db"


def register(sub: Any) -> None:
    """Add the runtime commands to the ``durable`` parser."""
    p = _cmd(sub, "worker", "Run orchestrations and activities of APP until SIGINT/SIGTERM.")
    p.add_argument("app", metavar="APP", help="the App to run, as module:attribute")
    p.add_argument("--activity-concurrency", type=int, default=4, metavar="N")
    p.add_argument("--graphs", metavar="DIR", help="also run every compiled *.json graph in DIR")
    p.add_argument(
        "--lease",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="work-item lease; a killed worker's work is retried after this long",
    )
    p.set_defaults(func=cmd_worker)

    p = _cmd(sub, "start", "Start an instance of orchestrator NAME; prints its instance id.")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--input", default=None, metavar="JSON", help="input as JSON text")
    p.add_argument("--id", dest="instance_id", default=None, help="instance id (singletons)")
    p.set_defaults(func=cmd_start)

    p = _cmd(sub, "status", "Print an instance's status as JSON.")
    p.add_argument("instance_id", metavar="ID")
    p.add_argument("--history", action="store_true", help="include the history")
    p.set_defaults(func=cmd_status)

    p = _cmd(sub, "raise-event", "Send external event NAME (with optional JSON data) to ID.")
    p.add_argument("instance_id", metavar="ID")
    p.add_argument("event", metavar="NAME")
    p.add_argument("data", nargs="?", default=None, metavar="JSON")
    p.set_defaults(func=cmd_raise_event)

    for verb, text in (
        ("terminate", "Terminate a running instance."),
        ("suspend", "Suspend a running instance."),
        ("resume", "Resume a suspended instance."),
    ):
        p = _cmd(sub, verb, text)
        p.add_argument("instance_id", metavar="ID")
        p.add_argument("--reason", default=None)
        p.set_defaults(func=cmd_control, verb=verb)

    p = _cmd(sub, "purge", "Delete an ended instance and its history.")
    p.add_argument("instance_id", metavar="ID")
    p.set_defaults(func=cmd_purge)

    p = _cmd(sub, "list", "List instances, newest first.")
    p.add_argument("--status", action="append", choices=[s.value for s in RuntimeStatus])
    p.add_argument("--created-from", type=datetime.fromisoformat, metavar="ISO")
    p.add_argument("--created-to", type=datetime.fromisoformat, metavar="ISO")
    p.add_argument("--name-prefix", metavar="PREFIX")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_list)

    p = _cmd(sub, "history", "Export an instance's history as JSON (replayable).")
    p.add_argument("instance_id", metavar="ID")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.set_defaults(func=cmd_history)

    p = _cmd(sub, "run", "Run one instance of a compiled graph to completion; prints its output.")
    p.add_argument("graph", metavar="GRAPH.json")
    p.add_argument(
        "--app",
        required=True,
        metavar="module:attribute",
        help="the App whose activities the graph calls",
    )
    p.add_argument("--input", default=None, metavar="JSON", help="input as JSON text")
    p.add_argument("--id", dest="instance_id", default=None, help="instance id")
    p.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS")
    p.set_defaults(func=cmd_run)

    p = _cmd(
        sub,
        "replay",
        "Replay an exported history against APP's current code; with --store and no "
        "HISTORY.json, replay every instance of the store that has not ended (deploy gate).",
    )
    p.add_argument("history_file", metavar="HISTORY.json", nargs="?")
    p.add_argument("--app", required=True, metavar="module:attribute")
    p.add_argument(
        "--strict",
        action="store_true",
        help="with --store: also fail on instances whose recorded inputs differ",
    )
    p.set_defaults(func=cmd_replay, store=None)


def _cmd(sub: Any, name: str, text: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(name, help=text, description=text)
    p.add_argument(
        "--store", default=DEFAULT_STORE, metavar="URL", help=f"store URL (default {DEFAULT_STORE})"
    )
    return p


def load_app(spec: str) -> App:
    """Import ``module:attribute`` and return the App it names."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise DurableflowError(f"APP must look like module:attribute, got {spec!r}")
    sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise DurableflowError(f"cannot import {module_name!r}: {exc}") from None
    app = getattr(module, attr, None)
    if not isinstance(app, App):
        raise DurableflowError(f"{spec!r} is not a durableflow App")
    return app


def _json_arg(text: str | None, what: str) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DurableflowError(f"{what} is not valid JSON: {exc}") from None


def _client(args: argparse.Namespace) -> Any:
    from durableflow.runtime.client import Client

    return Client(args.store)


def cmd_worker(args: argparse.Namespace) -> int:
    """``durable worker APP``."""
    from durableflow.runtime.store import open_store
    from durableflow.runtime.worker import Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = load_app(args.app)
    if args.graphs:
        _register_graphs(app, Path(args.graphs))
    worker = Worker(
        app,
        open_store(args.store),
        activity_concurrency=args.activity_concurrency,
        lease=timedelta(seconds=args.lease),
    )
    worker.run_forever(
        on_ready=lambda: print(
            f"durable worker {worker.owner} running {args.app} on {args.store}", flush=True
        )
    )
    return 0


def _register_graphs(app: App, folder: Path) -> None:
    from durableflow.ir import load_graph

    for path in sorted(folder.glob("*.json")):
        app.register_graph(load_graph(str(path)))


def cmd_start(args: argparse.Namespace) -> int:
    """``durable start NAME``."""
    iid = _client(args).start_new(
        args.name, input=_json_arg(args.input, "--input"), instance_id=args.instance_id
    )
    print(iid)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """``durable status ID``."""
    state = _client(args).get_status(args.instance_id, show_history=args.history)
    if state is None:
        print(f"durable: error: no instance with id {args.instance_id!r}", file=sys.stderr)
        return 1
    print(json.dumps(state.to_dict(), indent=2, sort_keys=True))
    return 0


def cmd_raise_event(args: argparse.Namespace) -> int:
    """``durable raise-event ID NAME [JSON]``."""
    _client(args).raise_event(args.instance_id, args.event, _json_arg(args.data, "event data"))
    return 0


def cmd_control(args: argparse.Namespace) -> int:
    """``durable terminate|suspend|resume ID``."""
    getattr(_client(args), args.verb)(args.instance_id, args.reason)
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    """``durable purge ID``."""
    if not _client(args).purge(args.instance_id):
        print(f"durable: error: no instance with id {args.instance_id!r}", file=sys.stderr)
        return 1
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """``durable list``."""
    statuses = [RuntimeStatus(s) for s in args.status] if args.status else None
    states = _client(args).list_instances(
        status=statuses,
        created_from=args.created_from,
        created_to=args.created_to,
        name_prefix=args.name_prefix,
        limit=args.limit,
    )
    if args.json:
        print(json.dumps([s.to_dict() for s in states], indent=2, sort_keys=True))
        return 0
    for s in states:
        print(f"{s.instance_id}\t{s.name}\t{s.runtime_status.value}\t{s.created_at.isoformat()}")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    """``durable history ID``."""
    text = _client(args).get_history(args.instance_id).to_json()
    if args.output:
        Path(args.output).write_text(text + "\n")
    else:
        print(text)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """``durable run GRAPH.json --app module:app``: exit 1 unless the instance COMPLETED."""
    from durableflow.ir import load_graph
    from durableflow.runtime.runtime import Runtime

    app = load_app(args.app)
    try:
        graph = load_graph(args.graph)
    except OSError as exc:
        raise DurableflowError(f"cannot read {args.graph}: {exc.strerror}") from None
    app.register_graph(graph)
    value = _json_arg(args.input, "--input")
    with Runtime(app, args.store) as rt:
        iid = rt.client.start_new(graph.name, input=value, instance_id=args.instance_id)
        state = rt.client.wait_for_completion(iid, timeout=args.timeout)
    if state.runtime_status is not RuntimeStatus.COMPLETED:
        failure = state.failure.message if state.failure else state.runtime_status.value
        print(
            f"durable: instance {iid} ended {state.runtime_status.value}: {failure}",
            file=sys.stderr,
        )
        return 1
    print(json.dumps(state.output, sort_keys=True))
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """``durable replay HISTORY.json --app module:app``: exit 1 if replay diverges."""
    from durableflow.runtime.replay_check import replay_document

    if args.history_file is None or args.store is not None:
        return cmd_replay_store(args)
    path = Path(args.history_file)
    try:
        text = path.read_text()
    except OSError as exc:
        raise DurableflowError(f"cannot read {path}: {exc.strerror}") from None
    if '"fuzz"' in text:
        from durableflow.cli.fuzz_commands import replay_fuzz_failure

        return replay_fuzz_failure(load_app(args.app), text, path, args.app)
    doc = HistoryDocument.from_json(text, source=str(path))
    report = replay_document(load_app(args.app), doc)
    print(report.summary())
    return 0 if report.ok else 1


def cmd_replay_store(args: argparse.Namespace) -> int:
    """``durable replay --store URL --app module:app``: exit 1 if an in-flight instance
    would break on the current code."""
    from durableflow.testing.deploy_gate import check_deploy

    if args.history_file is not None or args.store is None:
        raise DurableflowError(
            "durable replay takes either HISTORY.json (one exported history) or --store URL "
            "(every instance of the store that has not ended), not both and not neither"
        )
    report = check_deploy(load_app(args.app), args.store, strict=args.strict)
    for verdict in report.instances:
        if verdict.breaks:
            print(f"BREAKS  {verdict.summary()}")
        elif verdict.verdict == "inputs-differ":
            print(f"INPUTS  {verdict.summary()}")
    total = len(report.instances)
    broken = len(report.breaking)
    print(f"{broken} of {total} in-flight instance(s) would break on {args.app}.")
    return 1 if broken else 0
