"""Helpers: functions an orchestrator calls, across modules, with the call chain in the message."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from durableflow.linter import lint_paths

WriteFiles = Callable[[dict[str, str]], Path]

ORCH = """
import durableflow as df
from pkg import util
from pkg.util import stamp as make_stamp

app = df.App()


@app.activity
def save(item):
    return util.now_text()


@app.orchestrator
def flow(ctx, data):
    label = make_stamp(data)
    yield ctx.call_activity(save, label)
"""
UTIL = """
import datetime


def now_text():
    return datetime.datetime.now().isoformat()


def stamp(data):
    return inner(data)


def inner(data):
    if data:
        return stamp(data[1:])
    return now_text()


def unused():
    return datetime.datetime.now()
"""


def test_finding_in_helper_module_is_reported_there_with_chain(write_files: WriteFiles) -> None:
    root = write_files({"pkg/__init__.py": "", "pkg/flows.py": ORCH, "pkg/util.py": UTIL})
    result = lint_paths([str(root)], root=root, jobs=1)
    (finding,) = result.findings
    assert finding.path == str(root / "pkg" / "util.py")
    assert (finding.span.line, finding.code) == (5, "DUR001")
    assert finding.chain == (
        "pkg.flows.flow",
        "pkg.util.stamp",
        "pkg.util.inner",
        "pkg.util.now_text",
    )
    assert finding.message.endswith(
        "(in helper, called pkg.flows.flow -> pkg.util.stamp -> inner -> now_text)"
    )


def test_activities_and_uncalled_functions_are_not_checked(write_files: WriteFiles) -> None:
    root = write_files({"pkg/__init__.py": "", "pkg/flows.py": ORCH, "pkg/util.py": UTIL})
    result = lint_paths([str(root)], root=root, jobs=1)
    assert all(f.span.line != 21 for f in result.findings)  # util.unused
    assert [f.path for f in result.findings] == [str(root / "pkg" / "util.py")]


def test_modules_no_orchestrator_reaches_are_never_parsed(write_files: WriteFiles) -> None:
    root = write_files(
        {
            "pkg/__init__.py": "",
            "pkg/flows.py": ORCH,
            "pkg/util.py": UTIL,
            "pkg/unrelated.py": "import time\n\ndef f():\n    return time.time()\n",
            "pkg/broken.py": "def (\n",
        }
    )
    result = lint_paths([str(root)], root=root, jobs=1)
    assert result.files_seen == 5
    assert result.files_analysed == 2  # flows.py, then util.py for its helpers


def test_allowed_helper_is_not_followed(write_files: WriteFiles) -> None:
    from durableflow.linter import LintConfig

    root = write_files({"pkg/__init__.py": "", "pkg/flows.py": ORCH, "pkg/util.py": UTIL})
    config = LintConfig(allowed_helpers=("pkg.util.st*",))
    assert lint_paths([str(root)], config, root=root, jobs=1).findings == []


def test_method_helpers_called_through_self_are_followed(write_files: WriteFiles) -> None:
    source = """
    import time
    import durableflow as df

    app = df.App()


    class Flows:
        def _now(self):
            return time.time()

        @app.orchestrator
        def flow(self, ctx, data):
            yield ctx.call_activity("a", self._now())
    """
    root = write_files({"flows.py": source})
    (finding,) = lint_paths([str(root)], root=root, jobs=1).findings
    assert (finding.span.line, finding.code) == (9, "DUR001")
    assert finding.chain == ("flows.Flows.flow", "flows.Flows._now")


def test_helper_reexported_by_package_init_is_followed(write_files: WriteFiles) -> None:
    flows = """
    import durableflow as df
    from tools import stamp

    app = df.App()


    @app.orchestrator
    def flow(ctx, data):
        yield ctx.call_activity("a", stamp())
    """
    impl = "import uuid\n\n\ndef stamp():\n    return str(uuid.uuid4())\n"
    root = write_files(
        {"flows.py": flows, "tools/__init__.py": "from .impl import stamp\n", "tools/impl.py": impl}
    )
    (finding,) = lint_paths([str(root)], root=root, jobs=1).findings
    assert finding.path == str(root / "tools" / "impl.py")
    assert finding.chain == ("flows.flow", "tools.stamp", "tools.impl.stamp")


def test_activity_from_another_module_called_directly_is_dur016(write_files: WriteFiles) -> None:
    flows = """
    import durableflow as df
    from pkg import acts

    app = df.App()


    @app.orchestrator
    def flow(ctx, data):
        first = yield ctx.call_activity(acts.fetch, data)
        return acts.fetch(first)
    """
    activities = """
    import requests
    import durableflow as df

    app = df.App()


    @app.activity
    def fetch(url):
        return requests.get(url).text
    """
    root = write_files({"pkg/__init__.py": "", "pkg/flows.py": flows, "pkg/acts.py": activities})
    (finding,) = lint_paths([str(root)], root=root, jobs=1).findings
    assert (finding.path, finding.span.line, finding.code) == (
        str(root / "pkg/flows.py"),
        10,
        "DUR016",
    )
    assert "activity `acts.fetch` is called directly" in finding.message
