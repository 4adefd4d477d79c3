"""Line suppressions: ``# noqa: DUR001`` and ``# durable-lint: ignore[DUR001]``."""

from __future__ import annotations

import re

__all__ = ["is_suppressed", "parse_suppressions"]

_COMMENT = re.compile(
    r"#\s*(?:noqa(?P<noqa>\s*:\s*[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*)?"
    r"|durable-lint:\s*ignore(?:\[(?P<codes>[A-Z0-9,\s]*)\])?)",
    re.IGNORECASE,
)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)


def parse_suppressions(source: str) -> dict[int, tuple[str, ...]]:
    """Return line -> suppressed codes; an empty tuple means every code on that line.

    A bare ``# noqa`` or ``# durable-lint: ignore`` suppresses everything on its line, as in flake8.
    The text is scanned with one regular expression; comments inside strings are rare enough that
    treating them as comments is the accepted flake8 behaviour too.
    """
    found: dict[int, tuple[str, ...]] = {}
    for match in _COMMENT.finditer(source):
        line = source.count("\n", 0, match.start()) + 1
        listed = match.group("noqa") or match.group("codes") or ""
        codes = tuple(code.upper() for code in _CODE.findall(listed))
        previous = found.get(line)
        if previous == () or (previous is not None and not codes):
            found[line] = ()
        else:
            found[line] = (previous or ()) + codes
    return found


def is_suppressed(suppressions: dict[int, tuple[str, ...]], line: int, code: str) -> bool:
    """Whether ``code`` is suppressed on ``line``."""
    codes = suppressions.get(line)
    return codes is not None and (not codes or code in codes)
