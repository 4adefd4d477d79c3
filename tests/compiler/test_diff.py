"""Versioning: change classes between two graphs, and per-instance verdicts from histories."""

from __future__ import annotations

from durableflow.compiler import compile_source
from durableflow.compiler.diff import check_instances, diff_graphs
from durableflow.core.history import HistoryEvent, event_from_dict
from durableflow.ir import CompiledGraph
from durableflow.runtime.graph_interpreter import graph_orchestrator, trace_history
from durableflow.testing.equivalence import World, drive

HEAD = """
from datetime import timedelta
import durableflow as df
app = df.App()

@app.orchestrator
def order(ctx: df.OrchestrationContext, x):
"""
BASE = """
    a = yield ctx.call_activity("reserve", x, retry=df.RetryPolicy(timedelta(seconds=1), 3))
    b = yield ctx.call_activity("charge", a)
    if b > 1:
        yield ctx.call_activity("notify", b)
    return b
"""


def _graph(body: str) -> CompiledGraph:
    return compile_source(HEAD + body)[0]


def _classes(new_body: str) -> set[tuple[str, str]]:
    return {(c.severity, c.what) for c in diff_graphs(_graph(BASE), _graph(new_body))}


def test_identical_graphs_have_no_changes() -> None:
    assert diff_graphs(_graph(BASE), _graph(BASE + "\n# a comment\n")) == []


def test_reordered_activity_is_breaking() -> None:
    swapped = """
    b = yield ctx.call_activity("charge", x)
    a = yield ctx.call_activity("reserve", b, retry=df.RetryPolicy(timedelta(seconds=1), 3))
    if b > 1:
        yield ctx.call_activity("notify", b)
    return b
"""
    assert ("breaking", "reordered") in _classes(swapped)


def test_changed_retry_policy_is_semantic() -> None:
    classes = _classes(BASE.replace("seconds=1), 3)", "seconds=5), 4)"))
    assert classes == {("semantic", "retry policy")}


def test_appended_activity_is_safe() -> None:
    body = BASE.replace("    return b", '    yield ctx.call_activity("audit", b)\n    return b')
    assert _classes(body) == {("safe", "added")}


def test_inserted_activity_is_breaking() -> None:
    body = BASE.replace(
        "    b = yield", '    yield ctx.call_activity("fraud_check", a)\n    b = yield'
    )
    assert ("breaking", "added") in _classes(body)


def test_renamed_activity_is_breaking() -> None:
    assert ("breaking", "renamed") in _classes(BASE.replace('"charge"', '"charge_v2"'))


def test_changed_guard_is_risky() -> None:
    assert ("risky", "guard") in _classes(BASE.replace("b > 1", "b > 2"))


def test_changed_input_is_semantic() -> None:
    assert _classes(BASE.replace('"charge", a', '"charge", [a]')) == {("semantic", "input")}


def _history(graph: CompiledGraph, events: int) -> list[HistoryEvent]:
    out = drive(graph_orchestrator(graph), 1, World(seed=7, failure_rate=0.0, results=(2,)))
    return [event_from_dict(e) for e in out.history[:events]]


def test_replaying_histories_names_exactly_the_instances_that_break() -> None:
    old = _graph(BASE)
    early = _history(old, 4)  # reserve scheduled, nothing completed
    late = _history(old, 10)  # reserve and charge done
    new = _graph(
        BASE.replace(
            "    b = yield", '    yield ctx.call_activity("fraud_check", a)\n    b = yield'
        )
    )
    verdicts = check_instances(new, [("early", early), ("late", late)], trace_history, old)
    assert [(v.instance_id, v.breaks) for v in verdicts] == [("early", False), ("late", True)]
    late_verdict = verdicts[1]
    assert late_verdict.seq == 1
    assert late_verdict.old_node == "order/activity:charge#0"
    assert late_verdict.new_node == "order/activity:fraud_check#0"


def test_appending_breaks_no_instance() -> None:
    old = _graph(BASE)
    new = _graph(
        BASE.replace("    return b", '    yield ctx.call_activity("audit", b)\n    return b')
    )
    verdicts = check_instances(new, [("i1", _history(old, 10))], trace_history, old)
    assert not verdicts[0].breaks


def test_swapping_activities_inside_a_loop_is_breaking() -> None:
    loop = """
    for i in range(x):
        a = yield ctx.call_activity("first", i)
        b = yield ctx.call_activity("second", i)
    return x
"""
    swapped = (
        loop.replace('"first"', '"tmp"').replace('"second"', '"first"').replace('"tmp"', '"second"')
    )
    classes = {(c.severity, c.what) for c in diff_graphs(_graph(loop), _graph(swapped))}
    assert ("breaking", "reordered") in classes


def test_wrapping_calls_in_try_is_not_breaking() -> None:
    wrapped = """
    try:
        a = yield ctx.call_activity("reserve", x, retry=df.RetryPolicy(timedelta(seconds=1), 3))
        b = yield ctx.call_activity("charge", a)
    except df.TaskFailedError:
        return None
    if b > 1:
        yield ctx.call_activity("notify", b)
    return b
"""
    classes = _classes(wrapped)
    assert ("risky", "moved") in classes
    assert not {c for c in classes if c[0] == "breaking"}


def test_wrapping_a_call_in_a_new_branch_is_risky_not_breaking() -> None:
    branched = BASE.replace(
        '    b = yield ctx.call_activity("charge", a)',
        '    if a is not None:\n        b = yield ctx.call_activity("charge", a)\n    else:\n'
        "        b = 0",
    )
    classes = _classes(branched)
    assert ("risky", "moved") in classes
    assert not {c for c in classes if c[0] == "breaking"}


def test_old_histories_replay_on_a_graph_that_wraps_calls_in_try() -> None:
    old, new = (
        _graph(BASE),
        _graph(
            BASE.replace("    a = yield", "    try:\n        a = yield").replace(
                "\n    b = yield", "\n    except df.TaskFailedError:\n        a = 0\n    b = yield"
            )
        ),
    )
    histories = []
    for seed in range(5):
        outcome = drive(graph_orchestrator(old), 3, World(seed=seed, results=(2,)), name="order")
        histories.append((f"i{seed}", [event_from_dict(e) for e in outcome.history[:-1]]))
    verdicts = check_instances(new, histories, trace_history, old)
    assert [v.breaks for v in verdicts] == [False] * 5
    inserted = _graph(
        BASE.replace(
            "    b = yield", '    yield ctx.call_activity("fraud_check", a)\n    b = yield'
        )
    )
    assert any(v.breaks for v in check_instances(inserted, histories, trace_history, old))


def test_swapping_two_calls_to_the_same_activity_is_breaking() -> None:
    two = """
    a = yield ctx.call_activity("lookup", 1)
    b = yield ctx.call_activity("lookup", 2)
    return [a, b]
"""
    swapped = """
    b = yield ctx.call_activity("lookup", 2)
    a = yield ctx.call_activity("lookup", 1)
    return [a, b]
"""
    changes = diff_graphs(_graph(two), _graph(swapped))
    assert ("breaking", "swapped") in {(c.severity, c.what) for c in changes}
