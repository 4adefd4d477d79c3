"""Encoding shared by the store backends: times, payloads, events and failures as text.

Every backend stores payloads and history events as JSON text (no pickle) and times as
integer microseconds since the Unix epoch in UTC, which sort correctly as plain integers.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from durableflow.core import payload
from durableflow.core.errors import PayloadError
from durableflow.core.history import FailureDetails, HistoryEvent, event_from_dict, event_to_dict

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def to_micros(moment: datetime) -> int:
    """``moment`` as integer microseconds since the epoch.

    Raises:
        ValueError: ``moment`` is naive; store times must carry a UTC offset.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"store times must be timezone-aware, got naive {moment.isoformat()}; "
            "pass e.g. datetime.now(timezone.utc)"
        )
    return (moment - EPOCH) // _MICRO


def from_micros(micros: int) -> datetime:
    """The aware UTC datetime for ``micros`` since the epoch."""
    return EPOCH + timedelta(microseconds=micros)


def utc(moment: datetime) -> datetime:
    """``moment`` validated and converted to UTC, exactly as a store gives it back."""
    return from_micros(to_micros(moment))


def opt_from_micros(micros: int | None) -> datetime | None:
    """:func:`from_micros`, keeping ``None``."""
    return None if micros is None else from_micros(micros)


def opt_duration_micros(duration: timedelta | None) -> int | None:
    """A duration in whole microseconds, keeping ``None``."""
    return None if duration is None else duration // _MICRO


def opt_duration(micros: int | None) -> timedelta | None:
    """The duration of :func:`opt_duration_micros`, keeping ``None``."""
    return None if micros is None else timedelta(microseconds=micros)


def encode_value(value: Any, where: str) -> str:
    """A payload as JSON text; ``where`` names it in the error if it is not JSON."""
    return payload.encode(value, where)


def encode_optional(value: Any, where: str) -> str | None:
    """:func:`encode_value`, storing ``None`` as SQL NULL rather than ``"null"``."""
    return None if value is None else payload.encode(value, where)


def decode_value(text: str | None) -> Any:
    """Inverse of :func:`encode_value` (``None`` stays ``None``)."""
    return payload.decode(text)


def check_event(event: HistoryEvent, instance_id: str) -> None:
    """Refuse an event whose times could not be read back.

    Raises:
        ValueError: a time in the event is naive.
    """
    for name in ("timestamp", "fire_at"):
        moment = getattr(event, name, None)
        if isinstance(moment, datetime) and moment.utcoffset() is None:
            raise ValueError(
                f"{event.TYPE} event of instance {instance_id!r}: {name} "
                f"{moment.isoformat()} is not timezone-aware; history times must carry a UTC "
                "offset, e.g. datetime.now(timezone.utc)"
            )


def encode_event(event: HistoryEvent, instance_id: str) -> str:
    """A history event as JSON text.

    Raises:
        ValueError: a time in the event is naive (it could not be read back).
        PayloadError: a payload in the event is not JSON.
    """
    check_event(event, instance_id)
    try:
        return payload.encode(event_to_dict(event), "")
    except PayloadError:
        # Built only on failure: formatting the location costs more than encoding.
        where = f"{event.TYPE} event of instance {instance_id!r}"
        return payload.encode(event_to_dict(event), where)


def decode_event(text: str) -> HistoryEvent:
    """Inverse of :func:`encode_event`."""
    return event_from_dict(json.loads(text), "stored event")


def encode_failure(failure: FailureDetails | None) -> str | None:
    """Failure details as JSON text, or ``None``."""
    if failure is None:
        return None
    return json.dumps(dataclasses.asdict(failure), separators=(",", ":"))


def decode_failure(text: str | None) -> FailureDetails | None:
    """Inverse of :func:`encode_failure`."""
    if text is None:
        return None
    return FailureDetails(**json.loads(text))


def roundtrip_event(event: HistoryEvent, instance_id: str) -> HistoryEvent:
    """``event`` as it reads back from a durable store (for stores that keep objects)."""
    return decode_event(encode_event(event, instance_id))
