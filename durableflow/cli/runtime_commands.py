"""``durable`` commands that run and manage instances: worker, start, status, and the rest."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from durableflow.cli.options import (
    DEFAULT_STORE,
    STORE_ENV,
    add_worker_options,
    client,
    duration,
    json_value,
    load_app,
    moment,
    moment_end,
    open_existing_store,
    statuses,
    store_url,
)
from durableflow.core.app import App
from durableflow.core.errors import DurableflowError
from durableflow.core.history import HistoryDocument
from durableflow.core.status import RuntimeStatus
from durableflow.runtime.store.composites import PURGE_BATCH

__all__ = ["load_app", "register"]

_JSON_HELP = "as JSON text, or @FILE to read it from FILE (@- for standard input)"


def register(sub: Any) -> None:
    """Add the runtime commands to the ``durable`` parser."""
    p = _cmd(sub, "worker", "Run orchestrations and activities of APP until SIGINT/SIGTERM.")
    p.add_argument(
        "app", metavar="APP", help="the App to run: module:attribute or path/to/file.py:attribute"
    )
    p.add_argument("--graphs", metavar="DIR", help="also run every compiled *.json graph in DIR")
    add_worker_options(p)
    p.set_defaults(func=cmd_worker, log_level_base="INFO")

    p = _cmd(sub, "start", "Start an instance of orchestrator NAME; prints its instance id.")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--input", default=None, metavar="JSON", help=f"the input, {_JSON_HELP}")
    p.add_argument("--id", dest="instance_id", default=None, help="instance id (singletons)")
    p.set_defaults(func=cmd_start)

    p = _cmd(sub, "status", "Print an instance's status (key: value lines, or --json).")
    p.add_argument("instance_id", metavar="ID")
    p.add_argument("--history", action="store_true", help="include the history")
    p.add_argument("--json", action="store_true", help="print JSON instead of key: value lines")
    p.set_defaults(func=cmd_status)

    p = _cmd(sub, "wait", "Wait until instance ID ends; exit 1 unless it COMPLETED.")
    p.add_argument("instance_id", metavar="ID")
    p.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS")
    p.add_argument("--json", action="store_true", help="print JSON instead of key: value lines")
    p.set_defaults(func=cmd_wait)

    p = _cmd(sub, "raise-event", "Send external event NAME (with optional JSON data) to ID.")
    p.add_argument("instance_id", metavar="ID")
    p.add_argument("event", metavar="NAME")
    p.add_argument("data", nargs="?", default=None, metavar="JSON", help=f"the data, {_JSON_HELP}")
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

    p = _cmd(
        sub,
        "purge",
        "Delete an ended instance and its history, or every instance that ended before "
        "--older-than.",
    )
    p.add_argument("instance_id", metavar="ID", nargs="?")
    p.add_argument(
        "--older-than",
        type=duration,
        metavar="AGE",
        help="purge every instance that ended more than AGE ago (30d, 12h, 90m, 45s)",
    )
    p.add_argument(
        "--status",
        type=statuses,
        action="extend",
        metavar="STATUS[,STATUS...]",
        help="with --older-than: only these ended statuses (default COMPLETED,FAILED,TERMINATED)",
    )
    p.add_argument(
        "--batch",
        type=int,
        default=None,
        metavar="N",
        help=f"with --older-than: instances per transaction (default {PURGE_BATCH})",
    )
    p.set_defaults(func=cmd_purge)

    p = _cmd(sub, "workers", "List the workers registered in the store and what they hold.")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_workers)

    p = _cmd(sub, "list", "List instances, newest first.")
    names = ",".join(s.value for s in RuntimeStatus)
    p.add_argument(
        "--status",
        type=statuses,
        action="extend",
        metavar="STATUS[,STATUS...]",
        help=f"only these statuses, any letter case, repeatable ({names})",
    )
    p.add_argument(
        "--created-from",
        type=moment,
        metavar="WHEN",
        help="created at or after WHEN: an ISO date or datetime (UTC unless it has an offset)",
    )
    p.add_argument(
        "--created-to",
        type=moment_end,
        metavar="WHEN",
        help="created at or before WHEN (a date alone includes that whole day)",
    )
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
    p.add_argument("--input", default=None, metavar="JSON", help=f"the input, {_JSON_HELP}")
    p.add_argument("--id", dest="instance_id", default=None, help="instance id")
    p.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS")
    p.set_defaults(func=cmd_run)

    p = _cmd(
        sub,
        "replay",
        "Replay a history against APP's current code: an exported HISTORY.json, or the "
        "history of instance ID in the store; with no argument, replay every instance of "
        "the store that has not ended (deploy gate).",
    )
    p.add_argument("history_file", metavar="HISTORY.json|ID", nargs="?")
    p.add_argument("--app", required=True, metavar="module:attribute")
    p.add_argument(
        "--strict",
        action="store_true",
        help="deploy gate: also fail on instances whose recorded inputs differ",
    )
    p.set_defaults(func=cmd_replay)


def _cmd(sub: Any, name: str, text: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(name, help=text, description=text)
    p.add_argument(
        "--store",
        default=None,
        metavar="URL",
        help=f"store URL (default: ${STORE_ENV}, else {DEFAULT_STORE})",
    )
    return p


def cmd_worker(args: argparse.Namespace) -> int:
    """``durable worker APP``."""
    from durableflow.runtime.store import open_store
    from durableflow.runtime.worker import Worker

    app = load_app(args.app)
    if args.graphs:
        _register_graphs(app, Path(args.graphs))
    url = store_url(args)
    worker = Worker(
        app,
        open_store(url),
        activity_concurrency=args.activity_concurrency,
        lease=timedelta(seconds=args.lease),
        activity_timeout=args.activity_timeout,
        retain=args.retain,
    )
    worker.run_forever(
        on_ready=lambda: print(
            f"durable worker {worker.owner} running {args.app} on {url}", flush=True
        ),
        drain_timeout=args.drain_timeout,
    )
    return 0


def _register_graphs(app: App, folder: Path) -> None:
    from durableflow.ir import load_graph

    if not folder.is_dir():
        raise DurableflowError(f"--graphs {folder}: no such directory")
    for path in sorted(folder.glob("*.json")):
        app.register_graph(load_graph(str(path)))


def cmd_start(args: argparse.Namespace) -> int:
    """``durable start NAME``: the first command to use a store creates it."""
    value = json_value(args.input, "--input")
    iid = client(args, create=True).start_new(args.name, input=value, instance_id=args.instance_id)
    print(iid)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """``durable status ID [--history] [--json]``."""
    from durableflow.cli.formatting import status_lines

    state = client(args).get_status(args.instance_id, show_history=args.history)
    if state is None:
        print(f"durable: error: no instance with id {args.instance_id!r}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(state.to_dict(), indent=2, sort_keys=True))
    else:
        print("\n".join(status_lines(state)))
    return 0


def cmd_wait(args: argparse.Namespace) -> int:
    """``durable wait ID [--timeout S]``: prints the final status; exit 1 unless COMPLETED."""
    from durableflow.cli.formatting import status_lines

    state = client(args).wait_for_completion(args.instance_id, timeout=args.timeout)
    if args.json:
        print(json.dumps(state.to_dict(), indent=2, sort_keys=True))
    else:
        print("\n".join(status_lines(state)))
    return 0 if state.runtime_status is RuntimeStatus.COMPLETED else 1


def cmd_raise_event(args: argparse.Namespace) -> int:
    """``durable raise-event ID NAME [JSON]``."""
    data = json_value(args.data, "event data")
    client(args).raise_event(args.instance_id, args.event, data)
    return 0


def cmd_control(args: argparse.Namespace) -> int:
    """``durable terminate|suspend|resume ID``."""
    getattr(client(args), args.verb)(args.instance_id, args.reason)
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    """``durable purge ID`` or ``durable purge --older-than AGE [--status ...]``."""
    if (args.instance_id is None) == (args.older_than is None):
        print(
            "durable: error: give either an instance ID or --older-than AGE (not both)",
            file=sys.stderr,
        )
        return 2
    if args.instance_id is None:
        try:
            batch = PURGE_BATCH if args.batch is None else args.batch
            deleted = client(args).purge_instances(
                args.older_than, args.status or None, batch=batch
            )
        except ValueError as exc:
            print(f"durable: error: {exc}", file=sys.stderr)
            return 2
        print(f"purged {deleted} instance{'' if deleted == 1 else 's'}")
        return 0
    if args.status or args.batch is not None:
        print("durable: error: --status and --batch go with --older-than", file=sys.stderr)
        return 2
    if not client(args).purge(args.instance_id):
        print(f"durable: error: no instance with id {args.instance_id!r}", file=sys.stderr)
        return 1
    return 0


def cmd_workers(args: argparse.Namespace) -> int:
    """``durable workers``: a table with a header row, or ``--json``."""
    from durableflow.cli.formatting import table

    c = client(args)
    now = c.clock.now()
    workers = c.list_workers()
    if args.json:
        docs = [
            {
                "owner": w.owner,
                "host": w.host,
                "pid": w.pid,
                "alive": w.alive(now),
                "started_at": w.started_at.isoformat(),
                "heartbeat_at": w.heartbeat_at.isoformat(),
                "expires_at": w.expires_at.isoformat(),
                "orchestrations": w.orchestrations,
                "activities": w.activities,
            }
            for w in workers
        ]
        print(json.dumps(docs, indent=2, sort_keys=True))
        return 0
    if not workers:
        print("durable: no workers are registered", file=sys.stderr)
        return 0
    header = ("OWNER", "HOST", "PID", "STATE", "SINCE", "LAST HEARTBEAT", "INSTANCES", "ACTIVITIES")
    rows = [
        (
            w.owner,
            w.host,
            str(w.pid),
            "alive" if w.alive(now) else "dead",
            w.started_at.isoformat(" ", "seconds"),
            f"{max((now - w.heartbeat_at).total_seconds(), 0):.0f}s ago",
            str(w.orchestrations),
            str(w.activities),
        )
        for w in workers
    ]
    print("\n".join(table(header, rows)))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """``durable list``: a table with a header row, or ``--json``."""
    from durableflow.cli.formatting import instance_table

    states = client(args).list_instances(
        status=args.status,
        created_from=args.created_from,
        created_to=args.created_to,
        name_prefix=args.name_prefix,
        limit=args.limit,
    )
    if args.json:
        print(json.dumps([s.to_dict() for s in states], indent=2, sort_keys=True))
    elif states:
        print("\n".join(instance_table(states)))
    else:
        print("durable: no instances match", file=sys.stderr)
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    """``durable history ID``."""
    text = client(args).get_history(args.instance_id).to_json()
    if args.output:
        Path(args.output).write_text(text + "\n")
    else:
        print(text)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """``durable run GRAPH.json --app module:app``: exit 1 unless the instance COMPLETED."""
    from durableflow.ir import load_graph
    from durableflow.runtime.runtime import Runtime

    value = json_value(args.input, "--input")
    app = load_app(args.app)
    try:
        graph = load_graph(args.graph)
    except OSError as exc:
        raise DurableflowError(f"cannot read {args.graph}: {exc.strerror}") from None
    app.register_graph(graph)
    with Runtime(app, store_url(args)) as rt:
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
    """``durable replay HISTORY.json|ID --app module:app``: exit 1 if replay diverges.

    An argument that is not a file is taken for an instance id in the store (which must
    exist), so a running instance can be checked without exporting it first.
    """
    from durableflow.runtime.replay_check import replay_document

    if args.history_file is None:
        return cmd_replay_store(args)
    app = load_app(args.app)
    path = Path(args.history_file)
    if path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise DurableflowError(f"cannot read {path}: {exc.strerror}") from None
        if '"fuzz"' in text:  # a failure saved by replay_fuzz: re-check its property
            from durableflow.cli.fuzz_commands import replay_fuzz_failure

            return replay_fuzz_failure(app, text, path, args.app)
    report = replay_document(app, _history_document(args))
    print(report.summary())
    return 0 if report.ok else 1


def _history_document(args: argparse.Namespace) -> HistoryDocument:
    path = Path(args.history_file)
    if path.is_file() or path.suffix == ".json":
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise DurableflowError(f"cannot read {path}: {exc.strerror}") from None
        return HistoryDocument.from_json(text, source=str(path))
    from durableflow.core.errors import InstanceNotFoundError
    from durableflow.runtime.client import Client

    url = store_url(args)
    try:
        return Client(open_existing_store(url)).get_history(args.history_file)
    except InstanceNotFoundError:
        raise DurableflowError(
            f"{args.history_file!r} is neither a history file nor an instance in {url}"
        ) from None


def cmd_replay_store(args: argparse.Namespace) -> int:
    """``durable replay [--store URL] --app module:app``: exit 1 if an in-flight instance
    would break on the current code."""
    from durableflow.testing.deploy_gate import check_deploy

    url = store_url(args)
    report = check_deploy(load_app(args.app), url, strict=args.strict)
    for verdict in report.instances:
        if verdict.breaks:
            print(f"BREAKS  {verdict.summary()}")
        elif verdict.verdict == "inputs-differ":
            print(f"INPUTS  {verdict.summary()}")
    total = len(report.instances)
    broken = len(report.breaking)
    print(f"{broken} of {total} in-flight instance(s) would break on {args.app}.")
    return 1 if broken else 0
