"""Nondeterministic APIs and the hint for each: durable-lint's table, so both say the same.

``durableflow.linter.banned`` is the single source; the small fallback below is used only
when the linter is not installed alongside the compiler.
"""

from __future__ import annotations

__all__ = ["nondeterminism_hint"]

try:
    from durableflow.linter.banned import lookup as _lookup
except ImportError:  # pragma: no cover - the linter ships in the same package
    _lookup = None  # type: ignore[assignment]

_FALLBACK = {
    "datetime.datetime.now": "returns a different time on every replay; use "
    "`ctx.current_utc_datetime`",
    "datetime.datetime.utcnow": "returns a different time on every replay; use "
    "`ctx.current_utc_datetime`",
    "time.time": "returns a different time on every replay; use `ctx.current_utc_datetime`",
    "random": "differs on every replay; use a value computed in an activity",
    "uuid.uuid4": "differs on every replay; use a value computed in an activity",
    "time.sleep": "blocks the worker; use `yield ctx.create_timer(...)`",
    "os.environ": "depends on the host or process; pass it in the orchestration input",
    "builtins.open": "does I/O; use an activity (`ctx.call_activity`)",
    "builtins.print": "repeats on every replay; use `ctx.logger`",
}


def nondeterminism_hint(qualified: str) -> str | None:
    """durable-lint's message for a use of ``qualified`` (``datetime.datetime.now``), or None."""
    if _lookup is not None:
        found = _lookup(qualified)
        if found is None:
            return None
        return found[1].message(qualified)
    key = qualified
    while key:
        if key in _FALLBACK:
            return f"`{qualified}` {_FALLBACK[key]}"
        key = key.rpartition(".")[0]
    return None
