"""Lowering of control flow: if/elif/else, while, for and try/except."""

from __future__ import annotations

import libcst as cst

from durableflow.compiler.builder import Exit
from durableflow.compiler.lower_durable import DurableLowering, LoopState
from durableflow.compiler.scan import as_back, forget, has_bare_raise, has_durable, target_names
from durableflow.discovery import dotted_name
from durableflow.ir.exceptions import EXCEPTION_CLASSES, TASK_ERRORS

__all__ = ["ControlLowering"]


class _Jumps(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found = False
        self.loops = 0

    def visit_Return(self, node: cst.Return) -> None:
        self.found = True

    def visit_Break(self, node: cst.Break) -> None:
        self.found = self.found or self.loops == 0

    def visit_Continue(self, node: cst.Continue) -> None:
        self.found = self.found or self.loops == 0

    def visit_For(self, node: cst.For) -> None:
        self.loops += 1

    def leave_For(self, original_node: cst.For) -> None:
        self.loops -= 1

    def visit_While(self, node: cst.While) -> None:
        self.loops += 1

    def leave_While(self, original_node: cst.While) -> None:
        self.loops -= 1


def _jumps_out(body: cst.BaseSuite) -> bool:
    finder = _Jumps()
    body.visit(finder)
    return finder.found


class _Yields(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found = False

    def visit_Yield(self, node: cst.Yield) -> None:
        self.found = True


def _has_yield(node: cst.CSTNode) -> bool:
    finder = _Yields()
    node.visit(finder)
    return finder.found


class ControlLowering(DurableLowering):
    """Branches join the exits of their arms; loops turn body exits into back edges; try
    blocks add error edges from the nodes of their body to their handlers."""

    def if_(self, stmt: cst.If, exits: list[Exit]) -> list[Exit]:
        """if/elif/else -> one ``choice`` with ordered guards and an else edge."""
        region = self.b.open_region("if") if has_durable(stmt, self.ctx) else None
        choice, assigned = self.emit("choice", "if", stmt, exits, loop="if")
        out: list[Exit] = []
        arms: list[tuple[str, cst.If]] = [("then", stmt)]
        orelse = stmt.orelse
        while isinstance(orelse, cst.If):
            arms.append((f"elif{len(arms)}", orelse))
            orelse = orelse.orelse
        replaying = self._replay_test(stmt.test)
        for order, (segment, arm) in enumerate(arms):
            guard = self.expr(arm.test, assigned)
            if guard is None:
                continue
            arm_exits = [Exit(choice.id, "guard", assigned, order=order, guard=guard)]
            guarded = order == 0 and replaying is False
            self.replay_guards += guarded
            try:
                out += self._in_region(region, segment, arm.body, arm_exits)
            finally:
                self.replay_guards -= guarded
        else_exits = [Exit(choice.id, "else", assigned)]
        if isinstance(orelse, cst.Else):
            guarded = replaying is True and len(arms) == 1
            self.replay_guards += guarded
            try:
                out += self._in_region(region, "else", orelse.body, else_exits)
            finally:
                self.replay_guards -= guarded
        else:
            out += else_exits
        return out

    def _replay_test(self, test: cst.BaseExpression) -> bool | None:
        """True for ``ctx.is_replaying``, False for ``not ctx.is_replaying``, else None."""
        negated = isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not)
        inner = test.expression if isinstance(test, cst.UnaryOperation) and negated else test
        if dotted_name(inner) == f"{self.ctx}.is_replaying":
            return not negated
        return None

    def _in_region(
        self, region: str | None, segment: str, body: cst.BaseSuite, exits: list[Exit]
    ) -> list[Exit]:
        if region is None:
            return self.block(body, exits)
        self.b.push(f"{region}/{segment}")
        try:
            return self.block(body, exits)
        finally:
            self.b.pop()

    def while_(self, stmt: cst.While, exits: list[Exit]) -> list[Exit]:
        """while -> a ``choice`` whose guard edge enters the body; the body loops back."""
        if stmt.orelse is not None:
            self.scope.error(stmt.orelse, "DFC016", "while ... else", "use a flag or a break")
        region = self.b.open_region("while") if has_durable(stmt, self.ctx) else None
        head, assigned = self.emit("choice", "while", stmt, exits, loop="while")
        guard = self.expr(stmt.test, assigned)
        forever = isinstance(stmt.test, cst.Name) and stmt.test.value == "True"
        loop = LoopState(head.id, len(self.loops))
        self.loops.append(loop)
        try:
            body_in = [Exit(head.id, "guard", assigned, guard=guard or "True")]
            body_out = self._in_region(region, "body", stmt.body, body_in)
        finally:
            self.loops.pop()
        self.b.connect([as_back(e) for e in body_out], head.id)
        out = list(loop.breaks)
        if not forever:
            out.append(Exit(head.id, "else", assigned))
        return out

    def for_(self, stmt: cst.For, exits: list[Exit]) -> list[Exit]:
        """for -> an ``assign`` that snapshots the iterable, then a ``choice`` that takes
        the next item (guard edge into the body) or leaves (else edge)."""
        if stmt.orelse is not None:
            self.scope.error(stmt.orelse, "DFC016", "for ... else", "use a flag or a break")
        if stmt.asynchronous is not None:
            self.scope.error(stmt, "DFC001", "async for", "use a plain for loop")
            return exits
        assigned = self._entry(exits)
        iter_text = self.expr(stmt.iter, assigned)
        item = self.tr.translate(stmt.target, assigned, target=True)
        if iter_text is None or item is None:
            return exits
        region = self.b.open_region("for") if has_durable(stmt, self.ctx) else None
        var = f"__df_loop{len(self.loops)}"
        init, assigned = self.emit(
            "assign", "for", stmt, exits, op="iter", target=var, value=iter_text
        )
        head, assigned = self.emit(
            "choice",
            "for",
            stmt,
            [Exit(init.id, "next", assigned)],
            loop="for",
            iter=var,
            item=item,
        )
        loop = LoopState(head.id, len(self.loops))
        self.loops.append(loop)
        try:
            shown = f"{item} in {iter_text}"  # what a reader sees; the choice takes the next item
            body_in = [Exit(head.id, "guard", assigned | target_names(item), guard=shown)]
            body_out = self._in_region(region, "body", stmt.body, body_in)
        finally:
            self.loops.pop()
        self.b.connect([as_back(e) for e in body_out], head.id)
        return [*loop.breaks, Exit(head.id, "else", assigned)]

    def try_(self, stmt: cst.Try, exits: list[Exit]) -> list[Exit]:
        """try/except -> error edges from every node of the body that can raise what a
        handler catches, in handler order (inner handlers before outer ones)."""
        if stmt.finalbody is not None:
            return self._try_finally(stmt, stmt.finalbody, exits)
        if stmt.orelse is not None:
            self.scope.error(
                stmt.orelse, "DFC014", "try ... else", "move the else block after the try"
            )
            return exits
        region = self.b.open_region("try") if has_durable(stmt, self.ctx) else None
        self.tries.append([])
        try:
            body_out = self._in_region(region, "body", stmt.body, exits)
        finally:
            raisers = self.tries.pop()
        out = list(body_out)
        for i, handler in enumerate(stmt.handlers):
            names = self._exception_names(handler)
            if names is None:
                continue
            bind = (
                handler.name.name.value
                if handler.name and isinstance(handler.name.name, cst.Name)
                else None
            )
            if bind is None and has_bare_raise(handler.body):
                bind = f"__df_error{len(self.reraise)}"
            task_only = all(n in TASK_ERRORS for n in names)
            h_exits = []
            for r in raisers:
                if task_only and not r.durable:
                    continue
                order = self.error_order[r.node]
                self.error_order[r.node] += 1
                extra = frozenset({bind}) if bind else frozenset()
                h_exits.append(Exit(r.node, "error", r.assigned | extra, order, None, names, bind))
            self.reraise.append(bind)
            try:
                h_out = self._in_region(region, f"except{i}", handler.body, h_exits)
            finally:
                self.reraise.pop()
            out += [forget(e, bind) for e in h_out]
        if self.tries:
            self.tries[-1].extend(raisers)
        return out

    def _try_finally(self, stmt: cst.Try, final: cst.Finally, exits: list[Exit]) -> list[Exit]:
        """``try: B finally: F`` as ``try: B except Exception as e: F; raise e`` then ``F``.

        ``F`` runs on the normal path and on every error path, as in Python. A ``yield`` in
        ``F`` is refused (durable-lint's DUR015: the runtime may close the generator there), and
        so is leaving the body with ``return``/``break``/``continue``, which would have to run
        ``F`` on the way out.
        """
        if has_durable(final, self.ctx) or _has_yield(final):
            self.scope.error(
                final,
                "DFC014",
                "durable call or yield in a finally block (durable-lint DUR015)",
                "run the cleanup after the try, and in an except handler that re-raises",
            )
            return exits
        if _jumps_out(stmt.body) or any(_jumps_out(h.body) for h in stmt.handlers):
            self.scope.error(
                stmt,
                "DFC014",
                "return, break or continue inside try ... finally",
                "set a variable in the try and return/break after it",
            )
            return exits
        var = f"__df_finally{self.finally_blocks}"
        self.finally_blocks += 1
        self.scope.local_names.add(var)
        final_stmts = list(final.body.body) if isinstance(final.body, cst.IndentedBlock) else []
        again = cst.SimpleStatementLine([cst.Raise(exc=cst.Name(var))])
        handler = cst.ExceptHandler(
            body=cst.IndentedBlock([*final_stmts, again]),
            type=cst.Name("Exception"),
            name=cst.AsName(cst.Name(var)),
        )
        inner: list[cst.BaseStatement] = (
            [stmt.with_changes(finalbody=None)]
            if stmt.handlers
            else list(stmt.body.body)
            if isinstance(stmt.body, cst.IndentedBlock)
            else []
        )
        wrapper = cst.Try(body=cst.IndentedBlock(inner), handlers=[handler])
        return self.block(final_stmts, self.try_(wrapper, exits))

    def _exception_names(self, handler: cst.ExceptHandler) -> tuple[str, ...] | None:
        hint = (
            "catch built-in exceptions or durableflow's TaskFailedError/EventTimeoutError by name"
        )
        if handler.type is None:
            self.scope.error(handler, "DFC014", "bare except", "name the exception: " + hint)
            return None
        elements = (
            [e.value for e in handler.type.elements]
            if isinstance(handler.type, cst.Tuple)
            else [handler.type]
        )
        names: list[str] = []
        for el in elements:
            dotted = dotted_name(el)
            name = dotted.rsplit(".", 1)[-1] if dotted else None
            if name is None or name not in EXCEPTION_CLASSES:
                self.scope.error(el, "DFC014", f"except {dotted or '?'}: unknown exception", hint)
                return None
            names.append(name)
        return tuple(names)
