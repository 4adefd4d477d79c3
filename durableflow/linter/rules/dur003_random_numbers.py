"""DUR003: random numbers."""

from __future__ import annotations

from durableflow.linter.rules.base import BannedApiRule, orchestrator_example

__all__ = ["RandomNumbers"]


class RandomNumbers(BannedApiRule):
    """The ``random`` module, ``secrets``, ``os.urandom`` and unseeded generators differ on replay.

    A random choice made in an orchestrator is made again, differently, on every replay. Draw the
    value in an activity (its result is recorded in history), or use ``random.Random(seed)`` with a
    seed taken from the orchestration input. A generator passed in as a parameter is not flagged.
    """

    CODE = "DUR003"
    NAME = "random-numbers"
    MESSAGE = "random numbers differ on replay; draw them in an activity or seed from the input"
    VALID = (
        orchestrator_example(
            'rng = random.Random(data["seed"])\n'
            'yield ctx.call_activity("pick", rng.choice(data["items"]))',
            "import random",
        ),
        orchestrator_example(
            'picked = yield ctx.call_activity("pick_random", data["items"])\n'
            'yield ctx.call_activity("use", picked)',
        ),
    )
    INVALID = (
        orchestrator_example(
            'yield ctx.call_activity("pick", random.choice(data["items"]))', "import random"
        ),
        orchestrator_example(
            'r = rnd\nyield ctx.call_activity("pick", r())', "from random import random as rnd"
        ),
        orchestrator_example(
            'rng = random.Random()\nyield ctx.call_activity("pick", rng.random())', "import random"
        ),
        orchestrator_example(
            'yield ctx.call_activity("token", secrets.token_hex(8))', "import secrets"
        ),
    )
