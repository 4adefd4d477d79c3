"""``durable compile --explain DFCnnn``: what each compile error means, with examples.

Every code has a bad example that fails with that code and a good one that compiles; the tests
compile both, so the examples cannot drift from the compiler.
"""

from __future__ import annotations

from dataclasses import dataclass

from durableflow.compiler.errors import CODES

__all__ = ["EXPLANATIONS", "Explanation", "explain", "orchestrator_module"]


def orchestrator_module(body: str, imports: str = "", extra: str = "") -> str:
    """A small module with one orchestrator ``orch(ctx, data)`` whose body is ``body``."""
    indented = "".join(f"    {line}\n" if line else "\n" for line in body.strip("\n").split("\n"))
    head = "import durableflow as df\n" + (imports.strip("\n") + "\n" if imports else "")
    tail = "\n\n" + extra.strip("\n") + "\n" if extra else ""
    return (
        f"{head}\napp = df.App()\n\n\n@app.orchestrator\n"
        f"def orch(ctx: df.OrchestrationContext, data):\n{indented}{tail}"
    )


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a construct is outside the subset, and what compiles instead.

    Attributes:
        why: The reason, in a few sentences.
        bad: A module that fails with the code (None where a module cannot show it).
        good: The same intent, compiling.
    """

    why: str
    bad: str | None
    good: str


_CALL = 'yield ctx.call_activity("work", data)'

EXPLANATIONS: dict[str, Explanation] = {
    "DFC001": Explanation(
        "Orchestrators are generators driven by replay; `async def` and `await` run outside it.",
        "import durableflow as df\n\napp = df.App()\n\n\n@app.orchestrator\n"
        "async def orch(ctx: df.OrchestrationContext, data):\n"
        '    await ctx.call_activity("work", data)\n',
        orchestrator_module(_CALL),
    ),
    "DFC002": Explanation(
        "A graph has no closures: nested functions, classes and lambdas have no node to become.",
        orchestrator_module("key = lambda item: item['id']\n" + _CALL),
        orchestrator_module('keys = [item["id"] for item in data]\n' + _CALL),
    ),
    "DFC003": Explanation(
        "`with` runs enter/exit code the graph cannot replay; do that work in an activity.",
        orchestrator_module('with open("f") as fh:\n    pass\n' + _CALL),
        orchestrator_module('yield ctx.call_activity("read_file", "f")'),
    ),
    "DFC004": Explanation(
        "Graphs keep state in their own variables only; `global`, `nonlocal` and `del` reach "
        "outside them.",
        orchestrator_module("result = yield ctx.call_activity('work', data)\ndel result"),
        orchestrator_module("result = yield ctx.call_activity('work', data)\nresult = None"),
    ),
    "DFC005": Explanation(
        "A `yield` inside a larger expression has no statement of its own to become a node.",
        orchestrator_module('total = 1 + (yield ctx.call_activity("count", data))'),
        orchestrator_module('count = yield ctx.call_activity("count", data)\ntotal = 1 + count'),
    ),
    "DFC006": Explanation(
        "Only durable tasks (or stored tasks) may be yielded, and `yield from` only a generator "
        "helper of the module that takes the context first.",
        orchestrator_module("result = yield 42"),
        orchestrator_module(_CALL),
    ),
    "DFC007": Explanation(
        "A durable call must be a statement (or a list of tasks) so its node has a place.",
        orchestrator_module('results = [ctx.call_activity("a", 1)][0]\nyield results'),
        orchestrator_module('result = yield ctx.call_activity("a", 1)'),
    ),
    "DFC008": Explanation(
        "`task_any` needs its tasks as a list literal or a variable holding stored tasks.",
        orchestrator_module('winner = yield ctx.task_any(data["tasks"])'),
        orchestrator_module(
            'a = ctx.wait_for_external_event("ok")\nb = ctx.wait_for_external_event("no")\n'
            "winner = yield ctx.task_any([a, b])"
        ),
    ),
    "DFC009": Explanation(
        "`task_all` takes a list literal, a one-`for` comprehension of durable calls, or a "
        "variable of stored tasks; other shapes have no static fan-out.",
        orchestrator_module(
            'results = yield ctx.task_all([ctx.call_activity("a", x) for x in data for y in x])'
        ),
        orchestrator_module(
            'results = yield ctx.task_all([ctx.call_activity("a", x) for x in data])'
        ),
    ),
    "DFC010": Explanation(
        "The call gives another answer on replay (durable-lint's table says why and what to use).",
        orchestrator_module(
            "stamp = time.time()\n" + 'yield ctx.call_activity("log", stamp)', "import time"
        ),
        orchestrator_module(
            "stamp = ctx.current_utc_datetime.isoformat()\n"
            + 'yield ctx.call_activity("log", stamp)'
        ),
    ),
    "DFC011": Explanation(
        "Compiled expressions call only whitelisted pure builtins, pure methods, `json` and the "
        "module's own pure helpers; anything else belongs in an activity.",
        orchestrator_module(
            'text = textwrap.shorten(data, 10)\nyield ctx.call_activity("a", text)',
            "import textwrap",
        ),
        orchestrator_module('text = data[:10]\nyield ctx.call_activity("a", text)'),
    ),
    "DFC012": Explanation(
        "A name read by a graph must be assigned on every path to that point, or be a module "
        "constant or a builtin.",
        orchestrator_module('if data:\n    value = 1\nyield ctx.call_activity("a", value)'),
        orchestrator_module(
            'value = 0\nif data:\n    value = 1\nyield ctx.call_activity("a", value)'
        ),
    ),
    "DFC013": Explanation(
        "The expression language has no sets (their order varies), `:=`, `*args` or nested "
        "f-string specs.",
        orchestrator_module('keys = {x for x in data}\nyield ctx.call_activity("a", keys)'),
        orchestrator_module('keys = sorted(x for x in data)\nyield ctx.call_activity("a", keys)'),
    ),
    "DFC014": Explanation(
        "Handlers must name built-in or durableflow exceptions; `try/else` and a `yield` in "
        "`finally` are not compiled.",
        orchestrator_module("try:\n    " + _CALL + "\nexcept:\n    pass"),
        orchestrator_module("try:\n    " + _CALL + "\nexcept df.TaskFailedError:\n    pass"),
    ),
    "DFC015": Explanation(
        "Graphs raise built-in exceptions only (the interpreter never imports user code).",
        orchestrator_module(
            "raise OrderError(data)", extra="class OrderError(Exception):\n    pass"
        ),
        orchestrator_module("raise ValueError(data)"),
    ),
    "DFC016": Explanation(
        "Loop `else` blocks are not compiled; a flag says the same.",
        orchestrator_module("for x in data:\n    " + _CALL + "\nelse:\n    pass"),
        orchestrator_module("for x in data:\n    " + _CALL),
    ),
    "DFC017": Explanation(
        "Assignments write names, tuples of names or `name[key]`; attributes and chains are "
        "not compiled.",
        orchestrator_module("a = b = 1\n" + _CALL),
        orchestrator_module("a = 1\nb = 1\n" + _CALL),
    ),
    "DFC018": Explanation(
        "A retry policy must be known at compile time: a `RetryPolicy(...)` call in the call, a "
        "module constant, or a local assigned once; `handle` is a function and cannot be stored.",
        orchestrator_module('yield ctx.call_activity("a", data, retry=data["retry"])'),
        orchestrator_module(
            "retry = df.RetryPolicy(first_interval=1, max_attempts=3)\n"
            'yield ctx.call_activity("a", data, retry=retry)'
        ),
    ),
    "DFC019": Explanation(
        "Node ids need the activity, event or sub-orchestration name before the instance runs: "
        "a literal, a string constant, a function, or a local assigned once from one of those.",
        orchestrator_module('name = "a" if data else "b"\nyield ctx.call_activity(name, data)'),
        orchestrator_module(
            'if data:\n    yield ctx.call_activity("a", data)\nelse:\n'
            '    yield ctx.call_activity("b", data)'
        ),
    ),
    "DFC020": Explanation(
        "Graphs read replay-safe context values and call durable methods as statements; other "
        "uses of the context have no node.",
        orchestrator_module("ctx.set_custom_status(ctx)\n" + _CALL),
        orchestrator_module("ctx.set_custom_status(ctx.instance_id)\n" + _CALL),
    ),
    "DFC021": Explanation(
        "Imports, `assert`, `match` and the like are not compiled; import at module level and "
        "check with `if`/`raise`.",
        orchestrator_module("import json\n" + _CALL),
        orchestrator_module(_CALL, "import json"),
    ),
    "DFC022": Explanation(
        "A statement whose value is thrown away does nothing in a graph; `print` outside "
        "`if not ctx.is_replaying:` would repeat on replay (DUR012).",
        orchestrator_module('print("starting")\n' + _CALL),
        orchestrator_module('if not ctx.is_replaying:\n    print("starting")\n' + _CALL),
    ),
    "DFC023": Explanation(
        "The durable call's arguments do not match its signature.",
        orchestrator_module('yield ctx.call_activity("a", data, colour="red")'),
        orchestrator_module('yield ctx.call_activity("a", data)'),
    ),
    "DFC024": Explanation(
        "The file does not parse; the position is CPython's, as in durable-lint's DUR000.",
        orchestrator_module('yield ctx.call_activity("a", data'),
        orchestrator_module(_CALL),
    ),
    "DFC025": Explanation(
        "`--function NAME` names no orchestrator of the file (registered or function name, "
        "`outer.inner` for nested ones).",
        None,
        orchestrator_module(_CALL),
    ),
}


def explain(code: str) -> str:
    """What ``code`` means, with a bad and a good example.

    Raises:
        KeyError: ``code`` is not a compile error code.
    """
    key = code.upper()
    summary = CODES[key]
    entry = EXPLANATIONS[key]
    parts = [f"{key}: {summary}\n\n{entry.why}\n"]
    if entry.bad is not None:
        parts.append(f"\nBad:\n\n{_indent(entry.bad)}\n")
    parts.append(f"\nGood:\n\n{_indent(entry.good)}\n")
    return "".join(parts)


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" if line else "" for line in text.rstrip("\n").split("\n"))
