"""Lower one orchestrator function to graph nodes, statement by statement.

Each statement consumes the dangling exits of what came before and returns its own exits
(the way C# lowers ``async`` methods): a sequence has one entry and a set of exits, a branch
joins the exits of its arms, a loop turns the exits of its body into back edges, ``break``
and ``continue`` jump, ``return`` and ``raise`` end the path. Every exit carries the names
definitely assigned along it, so a read of a name that some path leaves unassigned is a
compile error.
"""

from __future__ import annotations

import libcst as cst

from durableflow.compiler.builder import Exit
from durableflow.compiler.expressions import DURABLE_METHODS, is_ctx_call
from durableflow.compiler.scan import (
    AUG_OPS,
    FANOUT,
    LOG_HEADS,
    LOG_METHODS,
    RESULT_VAR,
    SINGLE_TASK,
    as_back,
    bound_names,
    target_label,
    target_names,
)
from durableflow.compiler.subgraphs import HelperLowering
from durableflow.discovery import dotted_name
from durableflow.ir.exceptions import EXCEPTION_CLASSES

__all__ = ["Lowerer", "bound_names", "target_names"]


class Lowerer(HelperLowering):
    """Lowers the body of one orchestrator into a :class:`GraphBuilder`."""

    def block(self, body: cst.BaseSuite | list[cst.BaseStatement], exits: list[Exit]) -> list[Exit]:
        """Lower a statement list."""
        if isinstance(body, cst.IndentedBlock):
            stmts: list[cst.BaseStatement] = list(body.body)
        elif isinstance(body, cst.SimpleStatementSuite):
            stmts = [cst.SimpleStatementLine(body=body.body)]
            # keep positions: lower the small statements directly
            for small in body.body:
                if not exits:
                    break
                exits = self.small(small, exits)
            return exits
        elif isinstance(body, list):
            stmts = body
        else:  # pragma: no cover - libcst has no other suites
            return exits
        for stmt in stmts:
            if not exits:
                break  # unreachable code: nothing to lower
            exits = self.statement(stmt, exits)
        return exits

    def statement(self, stmt: cst.BaseStatement, exits: list[Exit]) -> list[Exit]:
        """Lower one compound or simple statement line."""
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if not exits:
                    break
                exits = self.small(small, exits)
            return exits
        if isinstance(stmt, cst.If):
            return self.if_(stmt, exits)
        if isinstance(stmt, cst.While):
            return self.while_(stmt, exits)
        if isinstance(stmt, cst.For):
            return self.for_(stmt, exits)
        if isinstance(stmt, cst.Try):
            return self.try_(stmt, exits)
        if isinstance(stmt, cst.FunctionDef | cst.ClassDef):
            self.scope.error(
                stmt,
                "DFC002",
                "nested function or class in an orchestrator",
                "define it at module level; call functions as activities",
            )
            return exits
        if isinstance(stmt, cst.With):
            self.scope.error(
                stmt, "DFC003", "with statement in an orchestrator", "do the work in an activity"
            )
            return exits
        self.scope.error(
            stmt,
            "DFC021",
            f"{type(stmt).__name__.lower()} statement is not supported",
            "use if/elif/else, while, for and try/except, or move the logic into an activity",
        )
        return exits

    # -- simple statements --------------------------------------------------------------------
    def small(self, s: cst.BaseSmallStatement, exits: list[Exit]) -> list[Exit]:
        """Lower one simple statement; after an error, treat its targets as assigned so one
        mistake is reported once."""
        before = len(self.scope.errors)
        out = self._small(s, exits)
        if len(self.scope.errors) == before:
            return out
        names = frozenset(bound_names(s))
        return [
            Exit(e.source, e.kind, e.assigned | names, e.order, e.guard, e.names, e.bind)
            for e in out
        ]

    def _small(self, s: cst.BaseSmallStatement, exits: list[Exit]) -> list[Exit]:
        assigned = self._entry(exits)
        if isinstance(s, cst.Pass):
            return exits
        if isinstance(s, cst.Expr):
            return self.expr_statement(s, s.value, exits)
        if isinstance(s, cst.Assign):
            if len(s.targets) != 1:
                self.scope.error(
                    s, "DFC017", "chained assignment", "assign each name in its own statement"
                )
                return exits
            return self.assign(s, s.targets[0].target, s.value, exits)
        if isinstance(s, cst.AnnAssign):
            if s.value is None:
                return exits
            return self.assign(s, s.target, s.value, exits)
        if isinstance(s, cst.AugAssign):
            return self.aug_assign(s, exits)
        if isinstance(s, cst.Return):
            return self.return_(s, exits)
        if isinstance(s, cst.Raise):
            return self.raise_(s, exits)
        if isinstance(s, cst.Break):
            if not self.loops:
                return exits
            self.loops[-1].breaks.extend(exits)
            return []
        if isinstance(s, cst.Continue):
            if not self.loops:
                return exits
            self.b.connect([as_back(e) for e in exits], self.loops[-1].head)
            return []
        if isinstance(s, cst.Del | cst.Global | cst.Nonlocal):
            self.scope.error(
                s,
                "DFC004",
                f"{type(s).__name__.lower()} statement in an orchestrator",
                "use local variables only; rebind a name instead of deleting it",
            )
            return exits
        if isinstance(s, cst.Import | cst.ImportFrom):
            self.scope.error(s, "DFC021", "import inside an orchestrator", "import at module level")
            return exits
        del assigned
        self.scope.error(
            s,
            "DFC021",
            f"{type(s).__name__.lower()} statement is not supported",
            "express the check with if/raise, or move it into an activity",
        )
        return exits

    def expr_statement(
        self, s: cst.CSTNode, value: cst.BaseExpression, exits: list[Exit]
    ) -> list[Exit]:
        """``yield D``, ``D``, ``ctx.set_custom_status(v)``, ``xs.append(v)``, ``t.cancel()``,
        logging; anything else is an error."""
        assigned = self._entry(exits)
        if isinstance(value, cst.Yield):
            return self.yield_(s, value, None, exits)
        if isinstance(value, cst.SimpleString | cst.ConcatenatedString):
            return exits  # a docstring
        if not isinstance(value, cst.Call):
            self.scope.error(
                s, "DFC022", "expression statement has no effect", "assign it or remove it"
            )
            return exits
        func = dotted_name(value.func) or ""
        if is_ctx_call(value, self.ctx, SINGLE_TASK):
            return self.durable(s, value, None, False, exits)
        if is_ctx_call(value, self.ctx, frozenset({"set_custom_status"})):
            if len(value.args) != 1:
                self.scope.error(s, "DFC023", "set_custom_status takes one value", "pass one")
                return exits
            text = self.expr(value.args[0].value, assigned)
            if text is None:
                return exits
            node, assigned = self.emit(
                "assign", "custom_status", s, exits, op="custom_status", value=text
            )
            return self._after(node, assigned)
        head, _, method = func.rpartition(".")
        is_logger = head == f"{self.ctx}.logger" or (
            head in LOG_HEADS and head not in self.scope.local_names
        )
        if is_logger and method in LOG_METHODS:
            return exits  # logging has no durable effect; the graph leaves it out
        if func == "print" and "print" not in self.scope.local_names:
            if self.replay_guards:
                return exits  # printing while not replaying: no durable effect, like logging
            self.scope.error(
                s,
                "DFC022",
                "print outside `if not ctx.is_replaying:` repeats on every replay (DUR012)",
                f"guard it with `if not {self.ctx}.is_replaying:` or use `{self.ctx}.logger`",
            )
            return exits
        if isinstance(value.func, cst.Attribute) and isinstance(value.func.value, cst.Name):
            owner = value.func.value.value
            method = value.func.attr.value
            if method == "append" and len(value.args) == 1 and owner != self.ctx:
                return self.append(s, owner, value.func.value, value.args[0].value, exits)
            if method == "extend" and len(value.args) == 1 and owner != self.ctx:
                return self.extend(s, owner, value.func.value, value.args[0], exits)
            if method == "cancel" and not value.args and owner != self.ctx:
                if self.expr(value.func.value, assigned) is None:
                    return exits
                node, assigned = self.emit("assign", owner, s, exits, op="cancel", target=owner)
                return [Exit(node.id, "next", assigned)]
        if self.expr(value, assigned) is not None:
            self.scope.error(
                s,
                "DFC022",
                "call statement without a durable effect",
                "its result is discarded; durable effects go through ctx, side effects through "
                "activities",
            )
        return exits

    def extend(
        self,
        s: cst.CSTNode,
        owner: str,
        owner_node: cst.BaseExpression,
        arg: cst.Arg,
        exits: list[Exit],
    ) -> list[Exit]:
        """``xs.extend(v)``: ``xs += v`` (in place for lists, as ``extend`` is)."""
        assigned = self._entry(exits)
        if arg.keyword is not None or arg.star:
            self.scope.error(arg, "DFC023", "extend takes one iterable", "pass it positionally")
            return exits
        target = self.expr(owner_node, assigned)
        value = self.expr(arg.value, assigned)
        if target is None or value is None:
            return exits
        node, assigned = self.emit(
            "assign", target_label(target), s, exits, op="+=", target=target, value=value
        )
        return [Exit(node.id, "next", assigned)]

    def append(
        self,
        s: cst.CSTNode,
        owner: str,
        owner_node: cst.BaseExpression,
        arg: cst.BaseExpression,
        exits: list[Exit],
    ) -> list[Exit]:
        """``xs.append(v)``; a durable ``v`` first becomes a task handle."""
        assigned = self._entry(exits)
        if self.expr(owner_node, assigned) is None:
            return exits
        if isinstance(arg, cst.Yield):  # xs.append((yield ctx.call_activity(...)))
            exits = self.yield_(s, arg, RESULT_VAR, exits)
            if not exits:
                return exits
            value_text: str | None = RESULT_VAR
        elif is_ctx_call(
            arg, self.ctx, FANOUT | frozenset({"create_timer", "wait_for_external_event"})
        ):
            assert isinstance(arg, cst.Call)
            exits = self.durable(s, arg, "__df_task", False, exits)
            if not exits:
                return exits
            value_text = "__df_task"
        else:
            value_text = self.expr(arg, assigned)
        if value_text is None:
            return exits
        node, assigned = self.emit(
            "assign", owner, s, exits, op="append", target=owner, value=value_text
        )
        return [Exit(node.id, "next", assigned)]

    def assign(
        self,
        s: cst.CSTNode,
        target: cst.BaseAssignTargetExpression,
        value: cst.BaseExpression,
        exits: list[Exit],
    ) -> list[Exit]:
        """``t = yield D`` | ``t = D`` (handle) | ``t = [D for ...]`` | ``t = [D, D]`` | pure."""
        assigned = self._entry(exits)
        if (
            isinstance(target, cst.Name)
            and target.value in self.scope.local_values
            and isinstance(value, cst.Call)
            and (dotted_name(value.func) or "").endswith("RetryPolicy")
        ):
            return exits  # a retry policy held in a local: its calls read it at compile time
        target_text = self.tr.translate(target, assigned, target=True)
        if target_text is None:
            return exits
        if isinstance(value, cst.Yield):
            return self.yield_(s, value, target_text, exits)
        if is_ctx_call(value, self.ctx, SINGLE_TASK):
            assert isinstance(value, cst.Call)
            return self.durable(s, value, target_text, False, exits)
        if is_ctx_call(value, self.ctx, frozenset({"task_all", "task_any"})):
            self.scope.error(
                value,
                "DFC007",
                "task_all/task_any result stored without yield",
                "yield it where it is created: `x = yield ctx.task_all([...])`",
            )
            return exits
        if isinstance(value, cst.ListComp) and is_ctx_call(value.elt, self.ctx, DURABLE_METHODS):
            return self.map_(s, value, target_text, False, exits)
        if isinstance(value, cst.List) and any(
            is_ctx_call(e.value, self.ctx, DURABLE_METHODS) for e in value.elements
        ):
            exits, handles = self.task_list(value, exits, "DFC009")
            if handles is None or not exits:
                return exits
            node, assigned = self.emit(
                "assign",
                target_label(target_text),
                s,
                exits,
                op="=",
                target=target_text,
                value=handles,
            )
            return self._after(node, assigned)
        text = self.expr(value, assigned)
        if text is None:
            return exits
        node, assigned = self.emit(
            "assign", target_label(target_text), s, exits, op="=", target=target_text, value=text
        )
        return self._after(node, assigned)

    def aug_assign(self, s: cst.AugAssign, exits: list[Exit]) -> list[Exit]:
        """``x op= v`` (in place, like Python); ``x += yield D`` waits first."""
        op = AUG_OPS.get(type(s.operator))
        if op is None:
            self.scope.error(s, "DFC013", "augmented operator not supported", "use + - * / // %")
            return exits
        assigned = self._entry(exits)
        target = self.tr.translate(s.target, assigned)  # read before written
        if target is None:
            return exits
        value_node = s.value
        if isinstance(value_node, cst.Yield):
            exits = self.yield_(s, value_node, RESULT_VAR, exits)
            if not exits:
                return exits
            value: str | None = RESULT_VAR
            assigned = self._entry(exits)
        else:
            value = self.expr(value_node, assigned)
        if value is None:
            return exits
        node, assigned = self.emit(
            "assign", target_label(target), s, exits, op=op, target=target, value=value
        )
        return [Exit(node.id, "next", assigned)]

    def return_(self, s: cst.Return, exits: list[Exit]) -> list[Exit]:
        """``return``, ``return v`` or ``return (yield D)``; inside a generator helper lowered
        in place, the value goes to the call's result and the path leaves the helper."""
        if self.helper_frames:
            return self._helper_return(s, exits)
        assigned = self._entry(exits)
        value: str | None = None
        if isinstance(s.value, cst.Yield):
            exits = self.yield_(s, s.value, RESULT_VAR, exits)
            if not exits:
                return []
            value = RESULT_VAR
        elif s.value is not None:
            value = self.expr(s.value, assigned)
            if value is None:
                return []
        self.emit("end", "return", s, exits, value=value)
        return []

    def raise_(self, s: cst.Raise, exits: list[Exit]) -> list[Exit]:
        """``raise Builtin(args)``, ``raise Builtin``, ``raise e`` or a bare ``raise``."""
        assigned = self._entry(exits)
        hint = "raise a built-in exception (ValueError, RuntimeError, ...) or re-raise"
        if s.cause is not None:
            self.scope.error(s, "DFC015", "raise ... from ...", "raise without `from`")
            return []
        exc = s.exc
        if exc is None:
            var = self.reraise[-1] if self.reraise else None
            if var is None:
                self.scope.error(s, "DFC015", "bare raise outside an except block", hint)
                return []
            self.emit("fail", "raise", s, exits, value=var)
            return []
        call_args: list[cst.Arg] = []
        func: cst.BaseExpression = exc
        if isinstance(exc, cst.Call):
            func, call_args = exc.func, list(exc.args)
        dotted = dotted_name(func)
        name = dotted.rsplit(".", 1)[-1] if dotted else None
        if isinstance(exc, cst.Name) and exc.value in self.scope.local_names:
            text = self.expr(exc, assigned)
            if text is not None:
                self.emit("fail", "raise", s, exits, value=text)
            return []
        if name is None or name not in EXCEPTION_CLASSES:
            self.scope.error(
                s, "DFC015", f"raise of {dotted or 'a computed value'} (not a built-in)", hint
            )
            return []
        if any(a.keyword is not None or a.star for a in call_args):
            self.scope.error(
                s, "DFC015", "keyword arguments in raise", "pass arguments by position"
            )
            return []
        texts = [self.expr(a.value, assigned) for a in call_args]
        if any(t is None for t in texts):
            return []
        value = "(" + "".join(f"{t}, " for t in texts).rstrip() + ")" if texts else None
        self.emit("fail", name, s, exits, exception=name, value=value)
        return []

    # -- durable calls --------------------------------------------------------------------------
