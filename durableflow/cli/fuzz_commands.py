"""``durable fuzz``: replay-fuzz every orchestrator of an app (or one), with a progress bar,
a summary table, and the minimal counterexample of each bug found (exit 1)."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from functools import partial
from pathlib import Path
from typing import Any

from durableflow.cli.runtime_commands import load_app
from durableflow.core.app import App
from durableflow.core.errors import DurableflowError


def register(sub: Any) -> None:
    """Add ``durable fuzz`` to the ``durable`` parser."""
    text = "Fuzz orchestrators of APP through generated histories; exit 1 on a bug."
    p: argparse.ArgumentParser = sub.add_parser("fuzz", help=text, description=text)
    p.add_argument("app", metavar="APP", help="the App to fuzz, as module:attribute")
    p.add_argument("--orchestrator", metavar="NAME", help="fuzz only this orchestrator")
    p.add_argument("--examples", type=int, default=None, metavar="N", help="per orchestrator")
    p.add_argument("--seed", type=int, default=None, metavar="S", help="hypothesis seed")
    p.add_argument(
        "--previous",
        metavar="module:attribute",
        help="the App as deployed before this change: its histories must still replay",
    )
    p.add_argument("--max-steps", type=int, default=200, metavar="N", help="step budget")
    p.add_argument(
        "--save",
        default=".durable-fuzz",
        metavar="DIR",
        help="folder for failing histories (default .durable-fuzz)",
    )
    p.set_defaults(func=cmd_fuzz)


def fuzz_inputs(spec: str, app: App) -> dict[str, list[Any]]:
    """Inputs per orchestrator, from APP's module: ``FUZZ_INPUTS`` (name -> list of inputs),
    else ``INPUTS`` (a list for every orchestrator), else ``[None]``."""
    module = importlib.import_module(spec.partition(":")[0])
    by_name = getattr(module, "FUZZ_INPUTS", None)
    shared = getattr(module, "INPUTS", None)
    out: dict[str, list[Any]] = {}
    for name in app.orchestrators:
        if isinstance(by_name, dict) and name in by_name:
            out[name] = list(by_name[name])
        elif isinstance(shared, list):
            out[name] = list(shared)
        else:
            out[name] = [None]
    return out


def cmd_fuzz(args: argparse.Namespace) -> int:
    """``durable fuzz APP``: 0 when every property holds, 1 on a bug."""
    from hypothesis import strategies as st
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    from durableflow.testing.fuzz import FuzzFailure, default_examples, replay_fuzz

    app = load_app(args.app)
    previous = load_app(args.previous) if args.previous else None
    names = [args.orchestrator] if args.orchestrator else sorted(app.orchestrators)
    if args.orchestrator and args.orchestrator not in app.orchestrators:
        known = ", ".join(sorted(app.orchestrators)) or "none"
        raise DurableflowError(
            f"{args.app} has no orchestrator {args.orchestrator!r} (it has: {known})"
        )
    if args.examples is not None and args.examples < 1:
        raise DurableflowError(f"--examples must be at least 1, got {args.examples}")
    inputs = fuzz_inputs(args.app, app)
    examples = args.examples or default_examples()
    out = Console()
    err = Console(stderr=True)
    rows: list[tuple[str, str, str, str, str]] = []
    failures = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
    ) as progress:
        for name in names:
            bar = progress.add_task(f"fuzz {name}", total=examples)
            values = inputs.get(name, [None])
            value: Any = st.sampled_from(values) if len(values) > 1 else values[0]
            try:
                result = replay_fuzz(
                    app,
                    name,
                    value,
                    examples=examples,
                    seed=args.seed,
                    max_steps=args.max_steps,
                    previous=previous,
                    save_to=Path(args.save),
                    on_example=partial(progress.advance, bar),
                    app_ref=args.app,
                )
            except FuzzFailure as failure:
                failures.append(failure.report)
                rows.append((name, "-", "-", "-", f"FAIL {failure.report.violation.property}"))
            else:
                rate = result.examples / result.seconds if result.seconds else 0.0
                graph = "yes" if result.graph_checked else "no"
                rows.append(
                    (
                        name,
                        str(result.examples),
                        f"{result.seconds:.2f}s",
                        f"{rate:.0f}/s",
                        f"ok (graph checked: {graph})",
                    )
                )
            progress.remove_task(bar)
    table = Table(title=f"durable fuzz {args.app}")
    for column in ("orchestrator", "examples", "time", "rate", "result"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    for report in failures:
        out.print(report.text(), markup=False, highlight=False, soft_wrap=True)
        out.print()
    out.print(table)
    return 1 if failures else 0


def replay_fuzz_failure(app: App, text: str, path: Path, app_ref: str | None = None) -> int:
    """``durable replay`` of a history ``durable fuzz`` saved: re-check its property on the
    same decisions; 1 if it still fails (printing why), 0 once it is fixed."""
    from durableflow.testing.fuzz import recheck_document

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DurableflowError(f"{path}: not valid JSON: {exc.msg}") from None
    violation = recheck_document(app, data, app_ref)
    prop = data.get("fuzz", {}).get("property")
    if violation is None:
        print(f"{path}: property {prop!r} holds now on this history")
        return 0
    print(f"{path}: property {violation.property!r} still fails")
    print(violation.message())
    sys.stdout.flush()
    return 1
