"""DUR004: file, database and other I/O."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from durableflow.linter.facts import FunctionFacts
from durableflow.linter.rules.base import BannedApiRule, Hit, RuleContext, orchestrator_example

__all__ = ["FileIo"]

_PATH_CLASSES = frozenset({"pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath"})
_PATH_IO = frozenset(
    {
        "read_text",
        "write_text",
        "read_bytes",
        "write_bytes",
        "open",
        "exists",
        "is_file",
        "is_dir",
        "iterdir",
        "glob",
        "rglob",
        "mkdir",
        "unlink",
        "touch",
        "stat",
        "rename",
        "rmdir",
    }
)


class FileIo(BannedApiRule):
    """File, database and console I/O in orchestrator code.

    I/O runs again on every replay and can return something different each time (a file changed,
    a row was updated), so the orchestrator can diverge from its history. Do the I/O in an
    activity: its result is recorded once and replayed from history.
    """

    CODE = "DUR004"
    NAME = "io"
    MESSAGE = "file/database I/O repeats on replay and can change; do it in an activity"
    VALID = (
        orchestrator_example(
            'text = yield ctx.call_activity("read_file", data["path"])\nreturn text'
        ),
        orchestrator_example(
            'path = Path(data["dir"]) / "out.txt"\nreturn str(path)', "from pathlib import Path"
        ),
    )
    INVALID = (
        orchestrator_example('with open(data["path"]) as f:\n    text = f.read()\nreturn text'),
        orchestrator_example('return Path(data["path"]).read_text()', "from pathlib import Path"),
        orchestrator_example(
            'target = pathlib.Path(data["dir"]) / "x"\nsource = pathlib.Path(data["path"])\n'
            "return source.exists()",
            "import pathlib",
        ),
        orchestrator_example(
            'conn = db.connect("app.db")\nreturn conn.execute("select 1").fetchall()',
            "import sqlite3 as db",
        ),
    )

    def check(self, facts: FunctionFacts, context: RuleContext) -> Iterator[Hit]:
        """Report banned I/O APIs and I/O methods called on a freshly built ``Path``."""
        yield from super().check(facts, context)
        for receiver, method, call in facts.mutations:
            made = facts.assigned_calls.get(receiver)
            if (
                method in _PATH_IO
                and made is not None
                and facts.qualified(made.func) in _PATH_CLASSES
            ):
                yield Hit(
                    call,
                    f"`{receiver}.{method}()` on a `Path` does I/O, which repeats on every "
                    "replay and can change; use an activity (`ctx.call_activity`)",
                )
        for call in facts.calls:
            func = call.func
            if (
                isinstance(func, cst.Attribute)
                and func.attr.value in _PATH_IO
                and isinstance(func.value, cst.Call)
                and facts.qualified(func.value.func) in _PATH_CLASSES
            ):
                yield Hit(
                    call,
                    f"`Path(...).{func.attr.value}()` does I/O, which repeats on every replay and "
                    "can change; use an activity (`ctx.call_activity`)",
                )
