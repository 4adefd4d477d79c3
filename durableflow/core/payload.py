"""The JSON payload codec. No pickle anywhere: every durable value is JSON."""

from __future__ import annotations

import json
import math
from typing import Any

from durableflow.core.errors import PayloadError


def encode(value: Any, where: str) -> str:
    """Serialize ``value`` to canonical JSON text.

    Args:
        value: the value to serialize.
        where: what the value belongs to, used in the error message
            (e.g. ``"input of orchestration 'checkout'"``).

    Raises:
        PayloadError: the value is not JSON-serializable (or holds NaN/Infinity).
    """
    try:
        return _ENCODER.encode(value)
    except (TypeError, ValueError) as exc:
        raise PayloadError(
            f"{where} is not JSON-serializable: {exc}. Durable payloads must be JSON "
            "(dict with str keys, list, str, int, float, bool, None); convert it first, "
            "e.g. to a dict or an ISO date string"
        ) from None


def decode(text: str | None) -> Any:
    """Parse JSON text produced by :func:`encode`; ``None`` stays ``None``."""
    if text is None:
        return None
    return json.loads(text)


def normalize(value: Any, where: str) -> Any:
    """Round-trip ``value`` through JSON so live runs see exactly what replays will see."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    return json.loads(encode(value, where))


def _reject(obj: Any) -> Any:
    raise TypeError(f"object of type {type(obj).__name__} is not JSON serializable")


# One encoder, built once: json.dumps builds a new one per call when given options.
_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False, default=_reject)
