"""Helpers the buggy orchestrators call: each hides a replay hazard behind a plain name."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime as _dt
from random import choice as _pick
from uuid import uuid4 as _new_id

WAREHOUSES = ("ams", "fra", "dub")


def nearest_warehouse(items: list[str]) -> str:
    """'Load balancing': any warehouse will do (reads `random` through an alias)."""
    return _pick(WAREHOUSES)


def request_id() -> str:
    """An idempotency key for the payment provider (uuid4 through an alias)."""
    return _new_id().hex


def in_business_hours() -> bool:
    """True between 09:00 and 17:00 (reads the wall clock through an alias)."""
    return 9 <= _dt.now().hour < 17


_reminders_sent: defaultdict[str, int] = defaultdict(int)


def first_reminder(customer: str) -> bool:
    """True the first time it is asked about ``customer`` (module-level state)."""
    _reminders_sent[customer] += 1
    return _reminders_sent[customer] == 1
