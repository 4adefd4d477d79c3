"""Run a compiled graph as an orchestrator: a deterministic, single-threaded interpreter.

``graph_orchestrator(graph)`` returns a generator function ``(ctx, input)`` that walks the
graph from its start node and makes exactly the ``ctx`` calls the source generator would make,
in the same order, so the replay executor records the same history for both. Expressions are
evaluated by the expression language's tree-walker (never ``eval``); when an expression fails,
the original Python exception is re-raised so the instance fails with the same error type and
message as the generator would. This module never imports libcst.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Generator, Sequence
from typing import Any

from durableflow.core import history as h
from durableflow.core.actions import Action, CreateTimer
from durableflow.core.errors import DurableflowError
from durableflow.core.history import HistoryEvent
from durableflow.core.retry import RetryPolicy
from durableflow.ir.errors import ExpressionEvalError
from durableflow.ir.evaluate import AUGMENTED, ContextView, assign_target, evaluate
from durableflow.ir.exceptions import EXCEPTION_CLASSES
from durableflow.ir.graph import CompiledGraph
from durableflow.ir.nodes import Edge, Node
from durableflow.ir.trace import InstanceTrace, TracedAction
from durableflow.runtime.context import OrchestrationContext
from durableflow.runtime.executor import Replayer
from durableflow.runtime.tasks import ScheduledTask

__all__ = ["GraphInterpreterError", "NodeTrace", "graph_orchestrator", "trace_history"]

NodeTrace = Callable[[str, "Edge | None"], None]
"""Called with each node id as the interpreter enters it, and the edge it came through."""


class GraphInterpreterError(DurableflowError):
    """The graph is inconsistent (no way out of a node); recompile it."""


def graph_orchestrator(
    graph: CompiledGraph, trace: NodeTrace | None = None
) -> Callable[[OrchestrationContext, Any], Generator[Any, Any, Any]]:
    """An orchestrator function that executes ``graph``.

    Args:
        graph: A compiled graph (loaded with ``CompiledGraph.from_json`` or compiled).
        trace: Optional callback told about every node entered (drawing overlays use it).
    """
    graph.parse_all()

    def orchestrator(ctx: OrchestrationContext, input: Any) -> Generator[Any, Any, Any]:
        return _run(graph, ctx, input, trace)

    orchestrator.__name__ = graph.name
    orchestrator.__qualname__ = graph.name
    return orchestrator


def _run(
    graph: CompiledGraph, ctx: OrchestrationContext, input: Any, trace: NodeTrace | None
) -> Generator[Any, Any, Any]:
    env: dict[str, Any] = {}
    for name, text in graph.meta["constants"].items():
        env[name] = _value(graph, text, env)
    if graph.meta["input_param"]:
        env[graph.meta["input_param"]] = input
    env[graph.meta["ctx_param"]] = ContextView(ctx)
    current = [graph.entry]
    ctx.source_hint = lambda: current[0]
    node = graph.node(graph.entry)
    came: Edge | None = None
    while True:
        current[0] = node.id
        if trace is not None:
            trace(node.id, came)
        try:
            if node.kind == "end":
                return None if node.value is None else _value(graph, node.value, env)
            if node.kind == "fail":
                raise _exception(graph, node, env)
            edge = yield from _step(graph, node, ctx, env)
        except Exception as exc:  # the orchestrator's own failure: route it or re-raise it
            err = _unwrap(exc)
            handler = _handler(graph, node, err)
            if handler is None:
                raise err from None
            if handler.bind is not None:
                env[handler.bind] = err
            edge = handler
        node = graph.node(edge.target)
        came = edge


def _unwrap(exc: BaseException) -> BaseException:
    if isinstance(exc, ExpressionEvalError) and exc.original is not None:
        return exc.original
    return exc


def _handler(graph: CompiledGraph, node: Node, err: BaseException) -> Edge | None:
    for edge in graph.out_edges(node.id):
        if edge.kind == "error" and any(
            isinstance(err, EXCEPTION_CLASSES[name]) for name in edge.names
        ):
            return edge
    return None


def _value(graph: CompiledGraph, text: str, env: dict[str, Any]) -> Any:
    return evaluate(graph.expr(text), env)


def _bind(graph: CompiledGraph, target: str | None, value: Any, env: dict[str, Any]) -> None:
    if target is not None:
        assign_target(graph.expr(target), value, env)


def _exception(graph: CompiledGraph, node: Node, env: dict[str, Any]) -> BaseException:
    if node.exception:
        cls = EXCEPTION_CLASSES[node.exception]
        args = _value(graph, node.value, env) if node.value is not None else ()
        return cls(*args)
    value = _value(graph, node.value or "None", env)
    if not isinstance(value, BaseException):
        return TypeError("exceptions must derive from BaseException")
    return value


def _next(graph: CompiledGraph, node: Node) -> Edge:
    for edge in graph.out_edges(node.id):
        if edge.kind in ("next", "back"):
            return edge
    raise GraphInterpreterError(f"node {node.id} has no outgoing edge; recompile the graph")


def _retry(graph: CompiledGraph, node: Node, env: dict[str, Any]) -> RetryPolicy | None:
    if not node.retry:
        return None
    return RetryPolicy(**{k: _value(graph, text, env) for k, text in node.retry})


def _step(
    graph: CompiledGraph, node: Node, ctx: OrchestrationContext, env: dict[str, Any]
) -> Generator[Any, Any, Edge]:
    kind = node.kind
    if kind == "start":
        return _next(graph, node)
    if kind == "assign":
        _assign(graph, node, ctx, env)
        return _next(graph, node)
    if kind == "choice":
        return _choose(graph, node, env)
    task: Any
    if kind == "activity":
        value = _value(graph, node.value, env) if node.value is not None else None
        task = ctx.call_activity(
            node.name or "",
            value,
            retry=_retry(graph, node, env),
            timeout=_value(graph, node.timeout, env) if node.timeout is not None else None,
        )
    elif kind == "suborchestration":
        value = _value(graph, node.value, env) if node.value is not None else None
        child = _value(graph, node.instance_id, env) if node.instance_id is not None else None
        task = ctx.call_sub_orchestrator(
            node.name or "", value, instance_id=child, retry=_retry(graph, node, env)
        )
    elif kind == "timer":
        task = ctx.create_timer(_value(graph, node.value or "None", env))
    elif kind == "wait_event":
        timeout = _value(graph, node.timeout, env) if node.timeout is not None else None
        task = ctx.wait_for_external_event(node.name or "", timeout=timeout)
    elif kind == "continue_as_new":
        value = _value(graph, node.value, env) if node.value is not None else None
        task = ctx.continue_as_new(value)
    elif kind == "map":
        task = _fan_out(graph, node, ctx, env)
    elif kind == "all" and node.op == "single":
        task = _value(graph, node.value or "None", env)  # a stored task, yielded as it is
    elif kind in ("all", "any"):
        tasks = _value(graph, node.value or "[]", env)
        task = ctx.task_all(tasks) if kind == "all" else ctx.task_any(tasks)
    else:
        raise GraphInterpreterError(f"node {node.id} has unknown kind {kind!r}")
    if node.wait:
        result = yield task
        _bind(graph, node.target, result, env)
    else:
        _bind(graph, node.target, task, env)
    return _next(graph, node)


def _fan_out(
    graph: CompiledGraph, node: Node, ctx: OrchestrationContext, env: dict[str, Any]
) -> Any:
    # A comprehension's variables live in their own scope, as in Python 3.
    scope = dict(env)
    tasks = []
    for item in _value(graph, node.iter or "[]", env):
        _bind(graph, node.item, item, scope)
        if all(_value(graph, cond, scope) for cond in node.conds):
            value = _value(graph, node.value, scope) if node.value is not None else None
            if node.call == "suborchestration":
                child = (
                    _value(graph, node.instance_id, scope) if node.instance_id is not None else None
                )
                tasks.append(
                    ctx.call_sub_orchestrator(
                        node.name or "", value, instance_id=child, retry=_retry(graph, node, scope)
                    )
                )
            else:
                timeout = _value(graph, node.timeout, scope) if node.timeout is not None else None
                tasks.append(
                    ctx.call_activity(
                        node.name or "", value, retry=_retry(graph, node, scope), timeout=timeout
                    )
                )
    return ctx.task_all(tasks) if node.wait else tasks


def _assign(
    graph: CompiledGraph, node: Node, ctx: OrchestrationContext, env: dict[str, Any]
) -> None:
    op = node.op
    if op == "pass":
        return
    if op == "custom_status":
        ctx.set_custom_status(_value(graph, node.value or "None", env))
        return
    if op == "cancel":
        _value(graph, node.target or "None", env).cancel()
        return
    if op == "append":
        container = _value(graph, node.target or "None", env)
        container.append(_value(graph, node.value or "None", env))
        return
    if op == "iter":
        # A list is walked by index like Python's list iterator (so appends in the body are
        # seen); immutable sequences are walked as they are; anything else is snapshotted.
        items = _value(graph, node.value or "[]", env)
        if not isinstance(items, list | tuple | range | str):
            items = list(items)
        env[node.target or ""] = [items, 0]
        return
    if op in AUGMENTED:  # like Python: read the target, then the value, then combine in place
        current = _value(graph, node.target or "None", env)
        value = _value(graph, node.value or "None", env)
        try:
            value = AUGMENTED[op](current, value)
        except Exception as exc:
            raise ExpressionEvalError(
                f"{type(exc).__name__}: {exc}", node.target or "", exc
            ) from None
    else:
        value = _value(graph, node.value or "None", env)
    _bind(graph, node.target, value, env)


def _choose(graph: CompiledGraph, node: Node, env: dict[str, Any]) -> Edge:
    edges = graph.out_edges(node.id)
    if node.loop == "for":
        state = env[node.iter or ""]
        items, index = state
        if index < len(items):
            state[1] = index + 1
            _bind(graph, node.item, items[index], env)
            return next(e for e in edges if e.kind == "guard")
        return _else(node, edges)
    for edge in edges:
        if edge.kind == "guard" and _value(graph, edge.guard or "True", env):
            return edge
    return _else(node, edges)


def _else(node: Node, edges: list[Edge]) -> Edge:
    for edge in edges:
        if edge.kind == "else":
            return edge
    raise GraphInterpreterError(f"choice {node.id}: no guard held and there is no else edge")


def trace_history(graph: CompiledGraph, history: Sequence[HistoryEvent]) -> InstanceTrace:
    """Replay ``history`` through ``graph`` and report the path, actions and divergence.

    Pure: no store, no clock. Used for drawing an instance over its graph and for checking
    whether an in-flight instance survives a new version of its orchestrator.
    """
    path: list[str] = []
    taken: set[tuple[str, str]] = set()
    actions: list[TracedAction] = []

    def trace(node_id: str, edge: Edge | None) -> None:
        path.append(node_id)
        if edge is not None:
            taken.add((edge.source, edge.target))

    replayer = Replayer(graph_orchestrator(graph, trace))
    schedule = replayer.schedule

    def recording(make: Callable[[int], Action], where: str | None) -> ScheduledTask:
        def made(seq: int) -> Action:
            action = make(seq)
            name = action.name if not isinstance(action, CreateTimer) else "timer"
            actions.append(TracedAction(seq, action.KIND, name, where))
            return action

        return schedule(made, where)

    replayer.schedule = recording  # type: ignore[method-assign]
    result = replayer.advance(list(history), [])
    recorded = tuple(_recorded(history))
    states = _task_states(history)
    node_tasks: dict[str, list[int]] = {}
    for action in actions:
        if action.node is not None:
            node_tasks.setdefault(action.node, []).append(action.seq)
    return InstanceTrace(
        path=tuple(path),
        visits=dict(Counter(path)),
        taken=frozenset(taken),
        actions=tuple(actions),
        recorded=recorded,
        task_states=states,
        status=result.status.name,
        failure=result.failure.message if result.failure else None,
        diverged_at=_divergence(recorded, actions),
        node_tasks={k: tuple(v) for k, v in node_tasks.items()},
    )


def _recorded(history: Sequence[HistoryEvent]) -> list[tuple[int, str, str]]:
    out = []
    for e in history:
        if isinstance(e, h.TaskScheduled):
            out.append((e.task_id, "activity", e.name))
        elif isinstance(e, h.TimerCreated):
            out.append((e.task_id, "timer", "timer"))
        elif isinstance(e, h.SubOrchestrationInstanceCreated):
            out.append((e.task_id, "sub_orchestration", e.name))
    return out


def _task_states(history: Sequence[HistoryEvent]) -> dict[int, str]:
    states: dict[int, str] = {}
    for e in history:
        if isinstance(e, h.TaskScheduled | h.TimerCreated | h.SubOrchestrationInstanceCreated):
            states[e.task_id] = "running"
        elif isinstance(e, h.TaskCompleted | h.TimerFired | h.SubOrchestrationInstanceCompleted):
            states[e.task_id] = "completed"
        elif isinstance(e, h.TaskFailed | h.SubOrchestrationInstanceFailed):
            states[e.task_id] = "failed"
    return states


def _divergence(
    recorded: tuple[tuple[int, str, str], ...], actions: list[TracedAction]
) -> int | None:
    made = {a.seq: (a.kind, a.name) for a in actions}
    for seq, kind, name in recorded:
        if made.get(seq) != (kind, name):
            return seq
    return None
