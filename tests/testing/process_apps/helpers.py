"""Helpers the orchestrators in ``app.py`` call, each hiding what breaks replay behind an alias."""

from __future__ import annotations

import itertools
from datetime import datetime as wallclock
from random import choice as pick

REGIONS = frozenset({"us-east", "eu-west", "ap-south", "sa-east", "af-north"})
REVIEWERS = ("ana", "ben", "chen", "dev")
_batches = itertools.count(1)


def regions_to_deploy() -> list[str]:
    """Every region, in the set's iteration order (which changes with PYTHONHASHSEED)."""
    return [region for region in REGIONS]


def in_business_hours() -> bool:
    """True from 09:00 to 17:00 on the wall clock."""
    return 9 <= wallclock.now().hour < 17


def assign_reviewer() -> str:
    """A reviewer drawn at random."""
    return pick(REVIEWERS)


def next_batch_id() -> int:
    """A batch number from a process-wide counter."""
    return next(_batches)
