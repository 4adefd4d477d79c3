"""Equivalence on generated orchestrators: hypothesis writes small programs from the compilable
subset (activities with and without retries, fan-out, timers, events with timeouts, races,
sub-orchestrations, continue_as_new, if/else, for/while with break/continue, try/except,
raise, return), the compiler must accept every one, and the graph must behave like the
source."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from durableflow.compiler import compile_source
from durableflow.testing.equivalence import World, check_equivalence

HEADER = """from datetime import timedelta
import durableflow as df

app = df.App()


@app.orchestrator
def generated(ctx: df.OrchestrationContext, inp):
    acc = []
    total = 0
"""

_GUARDS = st.sampled_from(
    ["total > 2", "len(acc) % 2 == 0", "inp > 1", "not acc", "total == inp", "True", "False"]
)


@st.composite
def _block(draw: st.DrawFn, depth: int, in_loop: bool) -> list[str]:
    size = draw(st.integers(1, 3))
    lines: list[str] = []
    for _ in range(size):
        lines += draw(_statement(depth, in_loop))
    return lines


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


@st.composite
def _statement(draw: st.DrawFn, depth: int, in_loop: bool) -> list[str]:
    simple = ["activity", "assign", "fanout", "timer", "literal_all", "event", "event_timeout"]
    simple += ["race", "sub", "raise", "retry", "continue_as_new", "handle"]
    compound = ["if", "for", "while", "try"] if depth < 2 else []
    jumps = ["break", "continue"] if in_loop else []
    kind = draw(st.sampled_from(simple + compound + jumps + ["return"]))
    n = draw(st.integers(0, 3))
    if kind == "activity":
        return [f'r = yield ctx.call_activity("act{n}", total)', "acc.append(r)", "total += 1"]
    if kind == "assign":
        return [
            draw(st.sampled_from(["total += inp", "total = total * 2 % 7", "acc.append(total)"]))
        ]
    if kind == "fanout":
        return [
            f'rs = yield ctx.task_all([ctx.call_activity("fan{n}", i) for i in range({n})])',
            "acc.append(len(rs))",
        ]
    if kind == "literal_all":
        return [
            'pair = yield ctx.task_all([ctx.call_activity("left", total), '
            'ctx.call_activity("right", inp)])',
            "acc.append(pair)",
        ]
    if kind == "timer":
        return [f"yield ctx.create_timer(ctx.current_utc_datetime + timedelta(seconds={n + 1}))"]
    if kind == "event":
        return [f'ev = yield ctx.wait_for_external_event("go{n % 2}")', "acc.append(ev)"]
    if kind == "event_timeout":
        return [
            "try:",
            '    ev = yield ctx.wait_for_external_event("go0", timeout=timedelta(seconds=30))',
            "except df.EventTimeoutError:",
            "    ev = None",
            "acc.append(ev)",
        ]
    if kind == "race":
        return [
            f"t = ctx.create_timer(ctx.current_utc_datetime + timedelta(minutes={n + 1}))",
            'e = ctx.wait_for_external_event("go1")',
            "w = yield ctx.task_any([e, t])",
            "if w == e:",
            "    t.cancel()",
            "    acc.append(e.get_result())",
            "else:",
            '    acc.append("timeout")',
        ]
    if kind == "handle":
        return [
            'held = ctx.call_activity("held", total)',
            f'ev = yield ctx.task_any([ctx.wait_for_external_event("go{n % 2}"), held])',
            "hr = yield held",
            "acc.append([hr, ev == held])",
        ]
    if kind == "sub":
        return ['s = yield ctx.call_sub_orchestrator("child", total)', "acc.append(s)"]
    if kind == "raise":
        return [f"if {draw(_GUARDS)}:", '    raise ValueError("generated", total)']
    if kind == "retry":
        return [
            'r = yield ctx.call_activity("flaky", total, '
            "retry=df.RetryPolicy(timedelta(seconds=1), 3))",
            "acc.append(r)",
        ]
    if kind == "continue_as_new":
        return [f"if {draw(_GUARDS)}:", "    ctx.continue_as_new(total)"]
    if kind == "return":
        return ["return [acc, total]"]
    if kind in ("break", "continue"):
        return [f"if {draw(_GUARDS)}:", f"    {kind}"]
    if kind == "if":
        lines = [f"if {draw(_GUARDS)}:", *_indent(draw(_block(depth + 1, in_loop)))]
        if draw(st.booleans()):
            lines += ["else:", *_indent(draw(_block(depth + 1, in_loop)))]
        return lines
    if kind == "for":
        return [f"for k{depth} in range({n}):", *_indent(draw(_block(depth + 1, True)))]
    if kind == "while":
        return [
            f"w{depth} = 0",
            f"while w{depth} < {n}:",
            f"    w{depth} += 1",
            *_indent(draw(_block(depth + 1, True))),
        ]
    handler = draw(
        st.sampled_from(["df.TaskFailedError", "Exception", "(KeyError, df.TaskFailedError)"])
    )
    return [
        "try:",
        *_indent(draw(_block(depth + 1, in_loop))),
        f"except {handler}:",
        *_indent(draw(_block(depth + 1, in_loop))),
    ]


@st.composite
def programs(draw: st.DrawFn) -> str:
    """Source text of one generated orchestrator."""
    body = draw(_block(0, False))
    return HEADER + "\n".join(_indent(body)) + "\n    return [acc, total]\n"


@settings(settings.get_profile("compiler-properties"))
@given(source=programs(), seed=st.integers(0, 2**16), inp=st.integers(0, 3), fresh=st.booleans())
def test_generated_orchestrators_compile_and_behave_like_their_graphs(
    source: str, seed: int, inp: int, fresh: bool
) -> None:
    graph = compile_source(source, "generated.py")[0]
    namespace: dict[str, Any] = {"__name__": "generated"}
    exec(compile(source, "generated.py", "exec"), namespace)  # the generator under test
    generator = namespace["app"].orchestrators["generated"]
    world = World(seed=seed, events=("go0", "go1"), failure_rate=0.2, fresh_replay=fresh)
    check_equivalence(generator, graph, inp, world)
