"""``durable compile``, ``durable graph`` and ``durable diff`` end to end, including a store
with instances that ran the compiled graph on the real worker."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from durableflow.cli import main
from durableflow.compiler import compile_file
from durableflow.core.app import App
from durableflow.ir import CompiledGraph
from durableflow.runtime.client import Client
from durableflow.runtime.store import open_store
from durableflow.runtime.worker import Worker

CASES = Path(__file__).parent / "cases"

SOURCE = """
import durableflow as df
app = df.App()

@app.orchestrator
def order(ctx: df.OrchestrationContext, x):
    a = yield ctx.call_activity("reserve", x)
    b = yield ctx.call_activity("charge", a)
    yield ctx.wait_for_external_event("go")
    return b
"""
INSERTED = SOURCE.replace(
    '    b = yield ctx.call_activity("charge", a)',
    '    yield ctx.call_activity("fraud_check", a)\n    b = yield ctx.call_activity("charge", a)',
)


def test_compile_writes_the_golden_graph(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "branches.json"
    assert main(["compile", str(CASES / "branches.py"), "-o", str(out)]) == 0
    data = json.loads(out.read_text("utf-8"))
    golden = json.loads((CASES / "branches.graph.json").read_text("utf-8"))
    assert data["ir_hash"] == golden["ir_hash"]


def test_compile_reports_every_error_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(SOURCE.replace("return b", "del b\n    return datetime.now()"), "utf-8")
    assert main(["compile", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "DFC004" in err and "DFC011" in err and "2 compile error(s)" in err


def test_compile_asks_which_of_several_orchestrators(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", str(CASES / "subs.py")]) == 2
    assert "--function" in capsys.readouterr().err


def test_graph_prints_dot_for_a_source_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", str(CASES / "subs.py"), "--function", "child"]) == 0
    assert capsys.readouterr().out.startswith("// durableflow graph child")


def _run_store(tmp_path: Path) -> str:
    """Two instances of the compiled graph on SQLite: 'early' before charge, 'late' after."""
    source = tmp_path / "order.py"
    source.write_text(SOURCE, "utf-8")
    graph = compile_file(source)[0]
    (tmp_path / "old.json").write_text(graph.to_json(), "utf-8")
    app = App()
    app.activity(name="reserve")(lambda x: x)
    app.activity(name="charge")(lambda x: x)
    app.activity(name="fraud_check")(lambda x: x)
    app.register_graph(graph)
    url = f"sqlite:///{tmp_path / 'durable.db'}"
    store = open_store(url)
    try:
        client = Client(store, app=app)
        # No runner threads: activities stay in the store for run_one_activity on this thread.
        worker = Worker(app, store, activity_concurrency=0)
        client.start_new("order", input=1, instance_id="late")
        while worker.run_one_orchestration_step() or worker.run_one_activity():
            pass
        client.start_new("order", input=1, instance_id="early")
        assert worker.run_one_orchestration_step()  # schedules reserve, nothing more
    finally:
        store.close()
    return url


def test_diff_with_a_store_names_exactly_the_instances_that_break(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _run_store(tmp_path)
    new = tmp_path / "new.py"
    new.write_text(INSERTED, "utf-8")
    assert main(["compile", str(new), "-o", str(tmp_path / "new.json")]) == 0
    capsys.readouterr()
    code = main(["diff", str(tmp_path / "old.json"), str(tmp_path / "new.json"), "--store", url])
    out = capsys.readouterr().out
    assert code == 1
    assert "instance late: BREAKS" in out and "order/activity:fraud_check#0" in out
    assert "instance early: ok" in out


def test_graph_overlays_an_instance_from_the_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _run_store(tmp_path)
    old = str(tmp_path / "old.json")
    assert main(["graph", old, "--instance", "late", "--store", url]) == 0
    dot = capsys.readouterr().out
    assert 'fillcolor="#c8e6c9"' in dot and 'fillcolor="#fff59d"' in dot


def test_diff_without_changes_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    golden = str(CASES / "race.graph.json")
    assert main(["diff", golden, golden]) == 0
    assert "no changes" in capsys.readouterr().out


def test_graph_draws_every_orchestrator_into_a_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["graph", str(CASES / "subs.py"), "-o", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["child.dot", "parent.dot"]


def test_graph_refuses_an_instance_of_another_orchestrator(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _run_store(tmp_path)
    other = tmp_path / "other.json"
    data = json.loads((tmp_path / "old.json").read_text("utf-8"))
    data["graph"]["name"] = "refund"
    data.pop("ir_hash")
    other.write_text(CompiledGraph.from_dict(data).to_json(), "utf-8")
    assert main(["graph", str(other), "--instance", "late", "--store", url]) == 2
    assert "runs orchestrator 'order', not 'refund'" in capsys.readouterr().err


# The first bytes of each format: what `dot` writes for it.
MAGIC = {"svg": b"<?xml", "png": b"\x89PNG", "pdf": b"%PDF", "dot": b"// durableflow graph"}
NEEDS_DOT = pytest.mark.skipif(
    shutil.which("dot") is None and os.environ.get("CI") != "true",
    reason="Graphviz `dot` is not installed (make install provides it)",
)


@pytest.mark.parametrize(
    "suffix", [pytest.param(s, marks=NEEDS_DOT) for s in ("svg", "png", "pdf")] + ["dot"]
)
def test_graph_takes_its_format_from_the_output_suffix(
    suffix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / f"branches.{suffix}"
    assert main(["graph", str(CASES / "branches.py"), "-o", str(out)]) == 0
    assert out.read_bytes().startswith(MAGIC[suffix])


@NEEDS_DOT
def test_graph_format_flag_wins_over_the_suffix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "drawing.png"
    assert main(["graph", str(CASES / "branches.py"), "--format", "svg", "-o", str(out)]) == 0
    assert out.read_bytes().startswith(MAGIC["svg"])


def test_graph_with_an_unknown_suffix_asks_for_a_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "drawing.jpeg"
    assert main(["graph", str(CASES / "branches.py"), "-o", str(out)]) == 2
    assert "pass --format" in capsys.readouterr().err and not out.exists()


def test_compile_of_a_missing_file_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", "nosuch.py"]) == 1
    assert "cannot read nosuch.py: No such file or directory" in capsys.readouterr().err
