"""Durations written as a number and a unit (``30d``, ``12h``, ``90m``, ``45s``), for options."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
_FORM = re.compile(r"(\d+(?:\.\d+)?)([dhms])")


def parse_duration(text: str) -> timedelta:
    """``"30d"`` -> 30 days. Units: d, h, m, s; several may be joined (``"1d12h"``).

    Raises:
        ValueError: not of that form, or zero.
    """
    compact = text.strip().lower()
    parts = _FORM.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise ValueError(
            f"{text!r} is not a duration; write a number and a unit (d, h, m or s), "
            "e.g. 30d, 12h, 90m, 45s or 1d12h"
        )
    total = sum((timedelta(**{_UNITS[u]: float(n)}) for n, u in parts), timedelta())
    if total <= timedelta(0):
        raise ValueError(f"{text!r} is not a positive duration")
    return total
