"""Argument values shared by the ``durable`` commands: stores, JSON, dates, statuses, apps.

Each helper turns what a person typed into what an API takes, or fails with a message that
says what was wrong and how to write it instead. :class:`UsageError` (exit 2) is for a
command line that is malformed; :class:`~durableflow.core.errors.DurableflowError`
(exit 1) for a well-formed one that fails, such as a file or a store that does not exist.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from durableflow.core.app import App
from durableflow.core.durations import parse_duration
from durableflow.core.errors import DurableflowError
from durableflow.core.status import RuntimeStatus

if TYPE_CHECKING:
    from durableflow.runtime.client import Client
    from durableflow.runtime.store.base import Store

__all__ = [
    "DEFAULT_STORE",
    "STORE_ENV",
    "UsageError",
    "client",
    "json_value",
    "load_app",
    "moment",
    "moment_end",
    "open_existing_store",
    "statuses",
    "store_url",
]

DEFAULT_STORE = "sqlite:///durable.db"
STORE_ENV = "DURABLEFLOW_STORE"


class UsageError(Exception):
    """The command line is malformed: ``durable`` prints the message and exits 2."""


def store_url(args: argparse.Namespace) -> str:
    """The store to use: ``--store``, else ``$DURABLEFLOW_STORE``, else ``durable.db``."""
    given: str | None = getattr(args, "store", None)
    return given or os.environ.get(STORE_ENV) or DEFAULT_STORE


def open_existing_store(url: str) -> Store:
    """Open ``url`` for a command that reads or manages instances: never create it.

    Raises:
        StoreNotFoundError: there is no such SQLite file (a typo, or a relative path
            resolved against another working directory).
    """
    from durableflow.runtime.store import open_store

    return open_store(url, create=False)


def client(args: argparse.Namespace, *, create: bool = False) -> Client:
    """A client on the command's store; only commands that start instances create it."""
    from durableflow.runtime.client import Client
    from durableflow.runtime.store import open_store

    url = store_url(args)
    return Client(open_store(url) if create else open_existing_store(url))


def json_value(text: str | None, what: str) -> Any:
    """Parse JSON text; ``@FILE`` reads it from FILE and ``@-`` from standard input.

    Raises:
        UsageError: the text is not JSON.
        DurableflowError: the file cannot be read.
    """
    if text is None:
        return None
    source = what
    if text.startswith("@"):
        name = text[1:]
        source = f"{what} ({'standard input' if name == '-' else name})"
        try:
            text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        except OSError as exc:
            raise DurableflowError(f"cannot read {what} from {name}: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            raise DurableflowError(f"{name} is not UTF-8 text: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        hint = "" if source != what else "; quote JSON strings twice ('\"text\"') or pass @FILE"
        raise UsageError(f"{source} is not valid JSON: {exc}{hint}") from None


def moment(text: str) -> datetime:
    """An ``argparse`` type: an ISO 8601 date or datetime; naive values are UTC.

    A date alone means midnight (UTC) at its start.
    """
    return _parse_moment(text, end_of_day=False)


def moment_end(text: str) -> datetime:
    """Like :func:`moment`, but a date alone means its last microsecond (a whole day)."""
    return _parse_moment(text, end_of_day=True)


def _parse_moment(text: str, *, end_of_day: bool) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date or datetime; use ISO 8601, e.g. 2026-12-02, "
            "2026-12-02T15:30 or 2026-12-02T15:30:00+01:00 (without an offset, UTC)"
        ) from None
    date_only = len(text.strip()) == 10
    if date_only and end_of_day:
        value = datetime.combine(value.date(), time.max)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def duration(text: str) -> timedelta:
    """An ``argparse`` type: a positive duration such as ``30d``, ``12h``, ``90m``, ``45s``."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def seconds(text: str) -> float:
    """An ``argparse`` type: a number of seconds, zero or more."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative; give 0 or more seconds")
    return value


def positive_seconds(text: str) -> float:
    """An ``argparse`` type: a number of seconds greater than zero."""
    value = seconds(text)
    if value == 0:
        raise argparse.ArgumentTypeError("0 is no time at all; give more than 0 seconds")
    return value


def add_worker_options(p: argparse.ArgumentParser) -> None:
    """The options of a process that runs work (``durable worker``, ``durable serve``)."""
    p.add_argument("--activity-concurrency", type=int, default=4, metavar="N")
    p.add_argument(
        "--lease",
        type=positive_seconds,
        default=30.0,
        metavar="SECONDS",
        help="work-item lease; a killed process's work is retried after this long",
    )
    p.add_argument(
        "--retain",
        type=duration,
        default=None,
        metavar="AGE",
        help="purge instances that ended more than AGE ago (30d, 12h, ...), periodically "
        "and in small batches (default: keep everything)",
    )
    p.add_argument(
        "--activity-timeout",
        type=positive_seconds,
        default=None,
        metavar="SECONDS",
        help="fail an activity attempt that runs this long without a heartbeat (default: "
        "no limit; call_activity(..., timeout=) overrides it)",
    )
    p.add_argument(
        "--drain-timeout",
        type=seconds,
        default=10.0,
        metavar="SECONDS",
        help="on SIGINT/SIGTERM, let in-flight work finish for this long, then give it up "
        "and release its leases (default: 10)",
    )


def statuses(text: str) -> list[RuntimeStatus]:
    """An ``argparse`` type: one status or a comma list, in any letter case."""
    try:
        return [RuntimeStatus.parse(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def load_app(spec: str) -> App:
    """Import ``module:attribute`` (or ``path/to/file.py:attribute``); return its App.

    Raises:
        UsageError: ``spec`` is not of that form.
        DurableflowError: the module cannot be imported, or the attribute is no App.
    """
    module_part, _, attr = spec.rpartition(":")
    if not module_part or not attr:
        raise UsageError(
            f"APP must look like module:attribute, e.g. myapp:app, pkg.flows:app or "
            f"./myapp.py:app; got {spec!r}"
        )
    if module_part.endswith(".py") or "/" in module_part or os.sep in module_part:
        module_name = _import_path_of(Path(module_part), spec)
    else:
        module_name = module_part
        sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise DurableflowError(
            f"cannot import {module_name!r} (from APP {spec!r}): {exc}. Run from the "
            "directory that holds the module, or give its file: path/to/module.py:app"
        ) from None
    except (TypeError, ValueError) as exc:  # e.g. a relative name such as ".x"
        raise UsageError(f"APP {spec!r} does not name a module: {exc}") from None
    app = getattr(module, attr, None)
    if not isinstance(app, App):
        found = "nothing" if app is None else f"a {type(app).__name__}"
        raise DurableflowError(
            f"{spec!r} is not a durableflow App: {module_name}.{attr} is {found}; "
            "name the module-level `app = df.App()`"
        )
    return app


def _import_path_of(path: Path, spec: str) -> str:
    """Put ``path``'s top package directory on ``sys.path``; its dotted module name."""
    if path.suffix != ".py" or not path.is_file():
        raise DurableflowError(f"APP {spec!r}: {path} is not a Python file")
    path = path.resolve()
    parts = [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        parts.insert(0, folder.name)
        folder = folder.parent
    sys.path.insert(0, str(folder))
    return ".".join(parts)
