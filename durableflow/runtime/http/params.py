"""Query-string values of the management API, parsed strictly: a value that does not parse
is a 400 that names the parameter, never a silent default."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from starlette.datastructures import QueryParams

from durableflow.core.status import RuntimeStatus
from durableflow.runtime.http.payloads import parse_status

__all__ = ["BadParameterError", "boolean", "number", "statuses", "timestamp", "whole"]


class BadParameterError(ValueError):
    """A query parameter whose value does not parse."""


def boolean(query: QueryParams, name: str, default: bool) -> bool:
    """``true``/``false`` in any case (clients send ``True`` too), else ``default``."""
    text = query.get(name)
    if text is None or text == "":
        return default
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise BadParameterError(f"query parameter {name}={text!r} must be true or false")


def number(query: QueryParams, name: str, low: float, high: float) -> float | None:
    """A number of seconds within ``[low, high]``, or None when absent."""
    text = query.get(name)
    if text is None or text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not low <= value <= high:
        raise BadParameterError(
            f"query parameter {name}={text!r} must be a number of seconds from {low:g} to {high:g}"
        )
    return value


def whole(query: QueryParams, name: str, low: int, high: int) -> int | None:
    """An integer within ``[low, high]``, or None when absent."""
    text = query.get(name)
    if text is None or text == "":
        return None
    if not text.strip().isdigit() or not low <= int(text) <= high:
        raise BadParameterError(
            f"query parameter {name}={text!r} must be a whole number from {low} to {high}"
        )
    return int(text)


def timestamp(query: QueryParams, name: str) -> datetime | None:
    """An ISO 8601 time (``Z`` or an offset; none means UTC), or None when absent."""
    text = query.get(name)
    if text is None or text == "":
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "+"))
    except ValueError:
        raise BadParameterError(
            f"query parameter {name}={text!r} is not an ISO 8601 time such as 2026-01-31T12:00:00Z"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def statuses(query: QueryParams, name: str = "runtimeStatus") -> frozenset[RuntimeStatus] | None:
    """A comma list (or repeated parameter) of runtime statuses, or None when absent."""
    values = [part for text in query.getlist(name) for part in text.split(",") if part.strip()]
    if not values:
        return None
    try:
        return frozenset(parse_status(v) for v in values)
    except ValueError as exc:
        raise BadParameterError(f"query parameter {name}: {exc}") from None
