"""Lowering state shared by all statements, and the lowering of durable calls: single tasks,
fan-out comprehensions (``map``), task lists and ``task_all``/``task_any`` joins."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import libcst as cst

from durableflow.compiler.builder import Exit, GraphBuilder
from durableflow.compiler.durable import parse_durable
from durableflow.compiler.expressions import (
    ExpressionTranslator,
    FunctionScope,
    is_ctx_call,
)
from durableflow.compiler.scan import FANOUT, SINGLE_TASK, target_names
from durableflow.ir.nodes import DURABLE_KINDS, Node, Span

__all__ = ["DurableLowering", "LoopState", "Raiser"]


@dataclass
class LoopState:
    """The loop being lowered: its head choice, nesting depth and pending ``break`` exits."""

    head: str
    depth: int
    breaks: list[Exit] = field(default_factory=list)


@dataclass(frozen=True)
class Raiser:
    """A node inside a ``try`` body that may raise, with what is assigned when it does."""

    node: str
    assigned: frozenset[str]
    durable: bool


class DurableLowering:
    """Lowering state and helpers, and the lowering of durable calls."""

    def __init__(
        self,
        scope: FunctionScope,
        builder: GraphBuilder,
        registered: dict[str, str],
        source: str = "",
    ) -> None:
        self.scope = scope
        self.b = builder
        self.tr = ExpressionTranslator(scope)
        self.registered = registered
        self.ctx = scope.ctx_param
        self.loops: list[LoopState] = []
        self.tries: list[list[Raiser]] = []
        self.error_order: Counter[str] = Counter()
        self.reraise: list[str | None] = []
        self.replay_guards = 0  # depth of `if not ctx.is_replaying:` bodies
        self.finally_blocks = 0  # names the caught exception of each try ... finally
        self.helper_calls = 0  # numbers each `yield from helper(...)` lowered in place
        self.helper_frames: list[tuple[str, str, LoopState]] = []  # (helper, result var, exits)

    # -- helpers ------------------------------------------------------------------------------
    def span(self, node: cst.CSTNode) -> Span | None:
        """The source span of ``node``."""
        pos = self.scope.positions.get(node)
        if pos is None:
            return None
        return Span(pos.start.line, pos.start.column, pos.end.line, pos.end.column)

    def emit(
        self, kind: str, label: str, at: cst.CSTNode, exits: list[Exit], **fields: object
    ) -> tuple[Node, frozenset[str]]:
        """Create a node, connect ``exits`` to it, register it with the enclosing ``try``."""
        node = self.b.add(kind, label, self.span(at), **fields)
        assigned = self.b.connect(exits, node.id, self.span(at))
        if self.tries and kind != "start":
            # A `raise` can re-raise a task error (`except TaskFailedError: ...; raise`), so
            # handlers of task errors catch it too.
            durable = (
                kind in DURABLE_KINDS
                or kind in ("all", "any", "fail")
                or any("get_result" in text for text in node.expressions().values())
            )
            self.tries[-1].append(Raiser(node.id, assigned, durable))
        return node, assigned

    def _after(self, node: Node, assigned: frozenset[str]) -> list[Exit]:
        names = target_names(node.target) if node.target and node.op in (None, "=") else frozenset()
        return [Exit(node.id, "next", assigned | names)]

    def expr(self, node: cst.BaseExpression, assigned: frozenset[str]) -> str | None:
        """Translate an expression (errors recorded)."""
        return self.tr.translate(node, assigned)

    def _entry(self, exits: list[Exit]) -> frozenset[str]:
        assigned: frozenset[str] | None = None
        for ex in exits:
            assigned = ex.assigned if assigned is None else assigned & ex.assigned
        return assigned or frozenset()

    # -- blocks -------------------------------------------------------------------------------
    def block(self, body: cst.BaseSuite | list[cst.BaseStatement], exits: list[Exit]) -> list[Exit]:
        """Lower a statement list (defined by the statement lowering)."""
        raise NotImplementedError

    def yield_(
        self, s: cst.CSTNode, y: cst.Yield, target: str | None, exits: list[Exit]
    ) -> list[Exit]:
        """``[target =] yield <durable call>``."""
        value = y.value
        if isinstance(value, cst.From):
            return self.yield_from(s, value.item, target, exits)
        if value is not None and is_ctx_call(value, self.ctx, SINGLE_TASK):
            assert isinstance(value, cst.Call)
            return self.durable(s, value, target, True, exits)
        if value is not None and is_ctx_call(value, self.ctx, frozenset({"task_all", "task_any"})):
            assert isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute)
            return self.join(s, value, value.func.attr.value, target, exits)
        if isinstance(value, cst.Name):
            return self.wait_handle(s, value, target, exits)
        self.scope.error(
            value or y,
            "DFC006",
            "yield of a value that is not a durable call",
            "yield the durable call where it is made, or join stored tasks with "
            "`yield ctx.task_all([...])` / `ctx.task_any([...])`",
        )
        return exits

    def yield_from(
        self, s: cst.CSTNode, value: cst.BaseExpression, target: str | None, exits: list[Exit]
    ) -> list[Exit]:
        """``[target =] yield from helper(ctx, ...)`` (defined by the statement lowering)."""
        raise NotImplementedError

    def wait_handle(
        self, s: cst.CSTNode, name: cst.Name, target: str | None, exits: list[Exit]
    ) -> list[Exit]:
        """``[target =] yield t`` for a task stored earlier: an ``all`` node with ``op:
        single`` that yields the task itself."""
        handle = self.expr(name, self._entry(exits))
        if handle is None:
            return exits
        node, assigned = self.emit("all", "all", s, exits, op="single", value=handle, target=target)
        names = target_names(target) if target else frozenset()
        return [Exit(node.id, "next", assigned | names)]

    def durable(
        self, s: cst.CSTNode, call: cst.Call, target: str | None, wait: bool, exits: list[Exit]
    ) -> list[Exit]:
        """A single-task durable node."""
        assigned = self._entry(exits)
        spec = parse_durable(call, self.scope, self.tr, assigned, self.registered)
        if spec is None:
            return exits
        fields = {k: v for k, v in spec.fields.items() if v is not None}
        if spec.kind == "continue_as_new" and target is not None:
            fields.pop("target", None)
        node, assigned = self.emit(
            spec.kind, spec.label, s, exits, target=target, wait=wait, **fields
        )
        names = target_names(target) if target else frozenset()
        return [Exit(node.id, "next", assigned | names)]

    def map_(
        self,
        s: cst.CSTNode,
        comp: cst.ListComp | cst.GeneratorExp,
        target: str | None,
        wait: bool,
        exits: list[Exit],
    ) -> list[Exit]:
        """``[ctx.call_activity(f, x) for x in xs if c]`` -> one ``map`` node."""
        assigned = self._entry(exits)
        elt = comp.elt
        clause = comp.for_in
        if not is_ctx_call(elt, self.ctx, FANOUT) or clause.inner_for_in is not None:
            self.scope.error(
                comp,
                "DFC009",
                "fan-out comprehension must be one `for` over call_activity/call_sub_orchestrator",
                "fan out one call per item: `[ctx.call_activity(f, x) for x in xs]`",
            )
            return exits
        assert isinstance(elt, cst.Call) and isinstance(elt.func, cst.Attribute)
        iter_text = self.expr(clause.iter, assigned)
        item = self.tr.translate(clause.target, assigned, target=True)
        if iter_text is None or item is None:
            return exits
        inner = assigned | target_names(item)
        conds = [self.expr(c.test, inner) for c in clause.ifs]
        spec = parse_durable(elt, self.scope, self.tr, inner, self.registered)
        if spec is None or any(c is None for c in conds):
            return exits
        fields = {k: v for k, v in spec.fields.items() if v is not None}
        node, assigned = self.emit(
            "map",
            spec.label,
            s,
            exits,
            call=spec.kind,
            item=item,
            iter=iter_text,
            conds=tuple(c for c in conds if c is not None),
            target=target,
            wait=wait,
            **fields,
        )
        names = target_names(target) if target else frozenset()
        return [Exit(node.id, "next", assigned | names)]

    def task_list(
        self, lst: cst.List, exits: list[Exit], code: str
    ) -> tuple[list[Exit], str | None]:
        """Lower each durable element of a list to a handle; return the handles' list text.

        The durable elements form a static fan-out region (``fanout#k``)."""
        fans_out = any(is_ctx_call(e.value, self.ctx, SINGLE_TASK) for e in lst.elements)
        if not fans_out:
            return self._task_list(lst, exits, code)
        self.b.push(self.b.open_region("fanout"))
        try:
            return self._task_list(lst, exits, code)
        finally:
            self.b.pop()

    def _task_list(
        self, lst: cst.List, exits: list[Exit], code: str
    ) -> tuple[list[Exit], str | None]:
        items: list[str] = []
        for i, element in enumerate(lst.elements):
            value = element.value
            if isinstance(element, cst.StarredElement):
                self.scope.error(element, code, "starred task list", "list the tasks")
                return exits, None
            if is_ctx_call(value, self.ctx, SINGLE_TASK - {"continue_as_new"}):
                assert isinstance(value, cst.Call)
                handle = f"__df_task{i}"
                exits = self.durable(value, value, handle, False, exits)
                if not exits:
                    return exits, None
                items.append(handle)
            elif isinstance(value, cst.Name):
                text = self.expr(value, self._entry(exits))
                if text is None:
                    return exits, None
                items.append(text)
            else:
                self.scope.error(
                    value,
                    code,
                    "task list element is neither a durable call nor a task variable",
                    "list durable calls or variables holding tasks",
                )
                return exits, None
        return exits, "[" + ", ".join(items) + "]"

    def join(
        self, s: cst.CSTNode, call: cst.Call, method: str, target: str | None, exits: list[Exit]
    ) -> list[Exit]:
        """``yield ctx.task_all(...)`` / ``yield ctx.task_any(...)``."""
        code = "DFC009" if method == "task_all" else "DFC008"
        if len(call.args) != 1 or (
            call.args[0].keyword not in (None,)
            and (call.args[0].keyword is None or call.args[0].keyword.value != "tasks")
        ):
            self.scope.error(call, code, f"{method} takes one list of tasks", "pass one list")
            return exits
        arg = call.args[0].value
        if method == "task_all" and isinstance(arg, cst.ListComp | cst.GeneratorExp):
            return self.map_(s, arg, target, True, exits)
        if isinstance(arg, cst.List):
            exits, tasks = self.task_list(arg, exits, code)
        elif isinstance(arg, cst.Name):
            tasks = self.expr(arg, self._entry(exits))
        else:
            self.scope.error(
                arg,
                code,
                f"{method} argument must be a list literal or a variable"
                + (" or a comprehension" if method == "task_all" else ""),
                "list the tasks: `ctx.task_any([approval, timeout])`",
            )
            return exits
        if tasks is None or not exits:
            return exits
        kind = "all" if method == "task_all" else "any"
        node, assigned = self.emit(kind, kind, s, exits, value=tasks, target=target)
        names = target_names(target) if target else frozenset()
        return [Exit(node.id, "next", assigned | names)]

    # -- compound statements -----------------------------------------------------------------------
