"""Strict replay of many histories in a fresh interpreter: the subprocess and its driver.

:func:`start_replays` writes the histories to one JSON file and starts one interpreter
(with the ``PYTHONHASHSEED`` asked for) that runs :func:`main`: it imports the app,
replays every history with strict replay and writes the divergences back as JSON.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from durableflow.core.app import App
from durableflow.core.errors import DurableflowError
from durableflow.core.history import HistoryDocument
from durableflow.testing.divergence import Divergence
from durableflow.testing.strict_replay import strict_replay

__all__ = ["ProcessConditionsError", "import_app", "main", "other_hash_seed", "start_replays"]


class ProcessConditionsError(DurableflowError):
    """The conditions could not be checked (the app does not import, a subprocess died)."""


def import_app(ref: str) -> App:
    """Import ``module:attribute`` and return the :class:`~durableflow.core.app.App`.

    Raises:
        ProcessConditionsError: the reference is malformed, the module does not import or
            the attribute is not an App.
    """
    module_name, _, attr = ref.partition(":")
    if not module_name or not attr:
        raise ProcessConditionsError(
            f"app reference {ref!r} is not of the form module:attribute; pass e.g. "
            "'myproject.workflows:app'"
        )
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ProcessConditionsError(
            f"cannot import {module_name!r} ({exc}); run from the directory that contains "
            "it or put it on PYTHONPATH"
        ) from None
    app = getattr(module, attr, None)
    if not isinstance(app, App):
        raise ProcessConditionsError(
            f"{ref!r} is {type(app).__name__}, not a durableflow App; name the module "
            "attribute that holds `App()`"
        )
    return app


def other_hash_seed() -> int:
    """A ``PYTHONHASHSEED`` unlike this process's: its own plus one if it has a fixed
    one, else 1 (a randomized process's seed is almost surely not 1)."""
    current = os.environ.get("PYTHONHASHSEED", "random")
    if current.isdigit():
        return (int(current) + 1) % 4_294_967_296
    return 1


def start_replays(
    app_ref: str,
    name: str,
    docs: Sequence[HistoryDocument],
    seed: int,
    every_prefix: bool,
    tmp: Path,
) -> Callable[[float], list[Divergence | None]]:
    """Start one interpreter that replays ``docs`` with ``PYTHONHASHSEED=seed``.

    Args:
        app_ref: the app as ``module:attribute``; the subprocess gets this process's
            ``sys.path`` as ``PYTHONPATH`` and its current directory.
        name: the orchestrator the histories are of.
        docs: the histories, written to one JSON file in ``tmp``.
        seed: the subprocess's ``PYTHONHASHSEED``.
        every_prefix: as for :func:`~durableflow.testing.strict_replay.strict_replay`.
        tmp: a directory for the input and output files; it must outlive the wait.

    Returns:
        A function that waits up to its argument's seconds for the subprocess and returns
        one divergence or ``None`` per history, in order.
    """
    source = tmp / f"histories-{seed}.json"
    target = tmp / f"divergences-{seed}.json"
    source.write_text(
        json.dumps(
            {
                "app": app_ref,
                "name": name,
                "every_prefix": every_prefix,
                "histories": [json.loads(doc.to_json()) for doc in docs],
            }
        ),
        encoding="utf-8",
    )
    env = dict(os.environ)
    env["PYTHONHASHSEED"] = str(seed)
    env["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) if p else os.getcwd() for p in sys.path)
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(source), str(target)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def wait(timeout: float) -> list[Divergence | None]:
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise ProcessConditionsError(
                f"the replay in a fresh interpreter (PYTHONHASHSEED={seed}) did not finish "
                f"within {timeout:g}s; an orchestrator may loop forever on replay, or raise "
                "the timeout"
            ) from None
        if proc.returncode != 0 or not target.exists():
            raise ProcessConditionsError(
                f"the replay in a fresh interpreter (PYTHONHASHSEED={seed}) failed with exit "
                f"code {proc.returncode}: {err.strip()[-2000:]}"
            )
        data = json.loads(target.read_text(encoding="utf-8"))
        return [None if d is None else Divergence.from_dict(d) for d in data["divergences"]]

    return wait


# Not ``-m``: the package imports this module, and runpy would then run it twice.
_CHILD = "import sys; from durableflow.testing.subprocess_replay import main; sys.exit(main())"


def main(argv: Sequence[str] | None = None) -> int:
    """The subprocess's entry point: ``main([IN.json, OUT.json])``.

    Reads the app reference, the orchestrator name and the histories from ``IN.json``,
    replays each with strict replay and writes ``{"divergences": [...]}`` to ``OUT.json``
    (``null`` for a history that replays). Exit 0 when it could replay them all, whatever
    it found; 2 with the reason on stderr when it could not.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: durableflow.testing.subprocess_replay IN.json OUT.json", file=sys.stderr)
        return 2
    try:
        job = json.loads(Path(args[0]).read_text(encoding="utf-8"))
        app = import_app(job["app"])
        docs = [HistoryDocument.from_json(json.dumps(d)) for d in job["histories"]]
        every_prefix = bool(job.get("every_prefix", False))
        found = [strict_replay(app, doc, every_prefix=every_prefix) for doc in docs]
    except (OSError, KeyError, ValueError, DurableflowError) as exc:
        print(f"durableflow.testing.subprocess_replay: {exc}", file=sys.stderr)
        return 2
    result = {"divergences": [None if d is None else d.to_dict() for d in found]}
    Path(args[1]).write_text(json.dumps(result), encoding="utf-8")
    return 0
