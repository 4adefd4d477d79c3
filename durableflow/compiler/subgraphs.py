"""``yield from helper(ctx, ...)``: a generator helper of the same module lowered in place.

Orchestrators split long flows into generator helpers that take the context (``receipt = yield
from charge_steps(ctx, order)``). The helper's statements are lowered where the call is, as a
region of the caller (``yieldfrom#k``), after renaming: its context parameter becomes the
caller's, and its parameters and locals get private names (``__df_h<k>_<name>``) so they can
neither read nor clobber the caller's variables. Parameters become assignments of the
arguments; a ``return v`` assigns ``v`` to the call's result and leaves the helper's region.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from durableflow.compiler.builder import Exit
from durableflow.compiler.inline import rename
from durableflow.compiler.lower_control import ControlLowering
from durableflow.compiler.lower_durable import LoopState
from durableflow.compiler.scan import RESULT_VAR, bound_names, target_label
from durableflow.discovery import is_generator

__all__ = ["HelperCall", "HelperLowering", "generator_helpers", "prepare_call"]


def generator_helpers(module: cst.Module, exclude: set[str]) -> dict[str, cst.FunctionDef]:
    """Undecorated module-level generator functions that take the context first."""
    return {
        stmt.name.value: stmt
        for stmt in module.body
        if isinstance(stmt, cst.FunctionDef)
        and not stmt.decorators
        and stmt.asynchronous is None
        and stmt.name.value not in exclude
        and is_generator(stmt)
        and stmt.params.params
    }


@dataclass(frozen=True)
class HelperCall:
    """A helper call ready to lower.

    Attributes:
        name: The helper's name.
        arguments: ``(private parameter name, argument expression)`` in order.
        body: The helper's statements, renamed.
        result: The private name its ``return`` assigns.
        locals: Every private name the body binds (parameters included).
    """

    name: str
    arguments: tuple[tuple[str, cst.BaseExpression], ...]
    body: tuple[cst.BaseStatement, ...]
    result: str
    locals: frozenset[str]


def prepare_call(
    call: cst.Call, helper: cst.FunctionDef, ctx: str, number: int
) -> HelperCall | str:
    """Bind ``call``'s arguments to ``helper`` and rename its body; a reason if impossible."""
    params = helper.params
    if params.star_kwarg is not None or isinstance(params.star_arg, cst.Param | cst.ParamStar):
        return "the helper takes *args or **kwargs"
    if params.kwonly_params or params.posonly_params:
        return "the helper has keyword-only or positional-only parameters"
    names = [p.name.value for p in params.params]
    bound: dict[str, cst.BaseExpression] = {}
    for i, arg in enumerate(call.args):
        if arg.star:
            return "the call passes *args or **kwargs"
        key = (
            arg.keyword.value if arg.keyword is not None else (names[i] if i < len(names) else None)
        )
        if key is None or key not in names or key in bound:
            return "the arguments do not match the helper's parameters"
        bound[key] = arg.value
    for p in params.params:
        if p.name.value not in bound:
            if p.default is None:
                return f"no argument for parameter {p.name.value!r}"
            bound[p.name.value] = p.default
    ctx_param = names[0]
    first = bound[ctx_param]
    if not (isinstance(first, cst.Name) and first.value == ctx):
        return f"the first argument must be the context `{ctx}`"
    prefix = f"__df_h{number}_"
    local = (set(names[1:]) | bound_names(helper.body)) - {ctx_param}
    mapping = {name: prefix + name for name in sorted(local)}
    mapping[ctx_param] = ctx
    body = rename(helper.body, mapping)
    if not isinstance(body, cst.IndentedBlock):
        return "the helper's body is on one line"
    arguments = tuple((prefix + n, bound[n]) for n in names[1:])
    return HelperCall(
        helper.name.value,
        arguments,
        tuple(body.body),
        f"{prefix}return",
        frozenset(mapping[n] for n in local) | {f"{prefix}return"},
    )


class HelperLowering(ControlLowering):
    """Lowering of ``yield from`` a generator helper, and of ``return`` inside one."""

    def yield_from(
        self, s: cst.CSTNode, value: cst.BaseExpression, target: str | None, exits: list[Exit]
    ) -> list[Exit]:
        """``[target =] yield from helper(ctx, ...)``: the helper's body in a region of its own
        (see :mod:`durableflow.compiler.subgraphs`)."""
        hint = "yield durable tasks one at a time, or call a generator helper of this module"
        name = (
            value.func.value
            if isinstance(value, cst.Call) and isinstance(value.func, cst.Name)
            else None
        )
        helper = None
        if name is not None and name not in self.scope.local_names:
            helper = self.scope.generators.get(name)
        if helper is None or name is None or not isinstance(value, cst.Call):
            self.scope.error(
                s, "DFC006", "yield from something other than a generator helper", hint
            )
            return exits
        if any(frame[0] == name for frame in self.helper_frames):
            self.scope.error(s, "DFC006", f"yield from {name}: recursive helper", hint)
            return exits
        prepared = prepare_call(value, helper, self.ctx, self.helper_calls)
        self.helper_calls += 1
        if isinstance(prepared, str):
            self.scope.error(s, "DFC006", f"yield from {name}: {prepared}", hint)
            return exits
        self.scope.local_names |= prepared.locals
        node, assigned = self.emit(
            "assign", prepared.result, s, exits, op="=", target=prepared.result, value="None"
        )
        exits = self._after(node, assigned)
        for param, argument in prepared.arguments:
            text = self.expr(argument, self._entry(exits))
            if text is None:
                return exits
            node, assigned = self.emit("assign", param, s, exits, op="=", target=param, value=text)
            exits = self._after(node, assigned)
        frame = LoopState("", len(self.loops))
        self.helper_frames.append((name, prepared.result, frame))
        region = self.b.open_region("yieldfrom")
        saved_loops, self.loops = self.loops, []  # the helper's break/continue are its own
        try:
            body = cst.IndentedBlock(body=list(prepared.body))
            out = self._in_region(region, name, body, exits) + frame.breaks
        finally:
            self.loops = saved_loops
            self.helper_frames.pop()
        if not out or target is None:
            return out
        node, assigned = self.emit(
            "assign", target_label(target), s, out, op="=", target=target, value=prepared.result
        )
        return self._after(node, assigned)

    def _helper_return(self, s: cst.Return, exits: list[Exit]) -> list[Exit]:
        _, result, frame = self.helper_frames[-1]
        value: str | None = "None"
        if isinstance(s.value, cst.Yield):
            exits = self.yield_(s, s.value, RESULT_VAR, exits)
            if not exits:
                return []
            value = RESULT_VAR
        elif s.value is not None:
            value = self.expr(s.value, self._entry(exits))
        if value is None:
            return []
        node, assigned = self.emit("assign", result, s, exits, op="=", target=result, value=value)
        frame.breaks.extend(self._after(node, assigned))
        return []
