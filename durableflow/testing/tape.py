"""Recorded decisions: :class:`Tape` replays the answers a source gave in an earlier run
(``SimRun.tape``, written down by :func:`~durableflow.testing.world.simulate`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from durableflow.testing.world import Choice, Source

__all__ = ["Tape"]


class Tape:
    """Replays the answers a source gave, recorded by :func:`simulate`; when the code asks
    something the tape does not hold (it behaves differently), answers the default
    (first choice, no delay, result None) and sets ``ran_out``.

    Args:
        answers: ``(method, answer)`` pairs from ``SimRun.tape``; injections in it (flags,
            reruns) are ignored.
        flags: where injections come from instead: a source asked afresh (crashes drawn
            over recorded outcomes), or recorded ``("flag" | "rerun", answer)`` pairs.
            Without it nothing is injected.
    """

    def __init__(
        self,
        answers: Iterable[tuple[str, Any]],
        *,
        flags: Source | Iterable[tuple[str, Any]] | None = None,
    ) -> None:
        self._answers = [a for a in answers if a[0] not in _INJECTIONS]
        self._pos = 0
        self._flags: Source | None = None
        self._injected: list[tuple[str, Any]] = []
        if flags is not None and not hasattr(flags, "flag"):
            self._injected = list(flags)
        else:
            self._flags = flags  # type: ignore[assignment]
        self.ran_out = False

    def _next(self, method: str, default: Any) -> Any:
        if self._pos < len(self._answers) and self._answers[self._pos][0] == method:
            answer = self._answers[self._pos][1]
            self._pos += 1
            return answer
        self.ran_out = True
        return default

    def _injection(self, method: str, default: Any) -> Any:
        if self._injected and self._injected[0][0] == method:
            return self._injected.pop(0)[1]
        return default

    def begin_step(self, step: int) -> None:
        """Tell the injection source, if any."""
        if self._flags is not None:
            self._flags.begin_step(step)

    def choose(self, choices: Sequence[Choice]) -> int:
        """The recorded index (or 0)."""
        index = int(self._next("choose", 0))
        return index if index < len(choices) else 0

    def arrival(self, now: datetime, limit: datetime | None) -> datetime:
        """The recorded time (or now)."""
        answer = self._next("arrival", now)
        return answer if isinstance(answer, datetime) else now

    def timer_time(self, now: datetime, fire_at: datetime) -> datetime:
        """The recorded time (or the due time)."""
        answer = self._next("timer_time", max(now, fire_at))
        return answer if isinstance(answer, datetime) else max(now, fire_at)

    def outcome(self, kind: str, name: str, value: Any) -> tuple[bool, Any]:
        """The recorded outcome (or success with None)."""
        answer = self._next("outcome", (True, None))
        return (bool(answer[0]), answer[1])

    def event_value(self, name: str) -> Any:
        """The recorded payload (or None)."""
        return self._next("event_value", None)

    def together(self) -> bool:
        """The recorded answer (or no)."""
        return bool(self._next("together", False))

    def flag(self, what: str) -> bool:
        """From the injections, if any; otherwise nothing is injected."""
        if self._flags is not None:
            return self._flags.flag(what)
        return bool(self._injection("flag", False))

    def rerun(self, kind: str, name: str, value: Any) -> tuple[bool, Any]:
        """From the injections (a rerun is part of an injection, not of the tape)."""
        if self._flags is not None:
            return self._flags.rerun(kind, name, value)
        answer = self._injection("rerun", (True, None))
        return (bool(answer[0]), answer[1])


_INJECTIONS = ("flag", "rerun")
