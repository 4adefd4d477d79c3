"""The pytest plugin (entry point ``pytest11``), loaded wherever durableflow is installed.

Fixtures:
    virtual_clock: a ``FakeClock`` at 2024-01-01T00:00Z.
    durable_runtime: a factory ``durable_runtime(app, **kwargs)`` -> a started
        ``Runtime`` on a private memory store and ``virtual_clock``, stopped after the test.
    durable_examples: how many examples ``replay_fuzz`` runs per orchestrator.

Options:
    ``--durable-examples N``: examples per ``replay_fuzz`` call (sets ``DURABLE_EXAMPLES``).

Hypothesis profiles ``durable-dev`` (fast, 25 examples) and ``durable-ci`` (500 examples,
derandomized) are registered; pick one with ``--hypothesis-profile``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from durableflow.core.app import App
from durableflow.runtime.clock import FakeClock
from durableflow.runtime.runtime import Runtime
from durableflow.testing.world import T0

settings.register_profile("durable-dev", max_examples=25, deadline=None)
settings.register_profile(
    "durable-ci",
    max_examples=500,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--durable-examples``."""
    group = parser.getgroup("durableflow", "durableflow replay fuzzing")
    group.addoption(
        "--durable-examples",
        type=int,
        default=None,
        metavar="N",
        help="examples per replay_fuzz call (default 100, or DURABLE_EXAMPLES)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Pass ``--durable-examples`` on to ``replay_fuzz`` (and to xdist workers)."""
    examples = config.getoption("--durable-examples", default=None)
    if examples is not None:
        if examples < 1:
            raise pytest.UsageError(f"--durable-examples must be at least 1, got {examples}")
        os.environ["DURABLE_EXAMPLES"] = str(examples)


@pytest.fixture
def durable_examples() -> int:
    """Examples per ``replay_fuzz`` call in this session."""
    from durableflow.testing.fuzz import default_examples

    return default_examples()


@pytest.fixture
def virtual_clock() -> FakeClock:
    """A virtual clock at 2024-01-01T00:00Z; ``advance`` it, or let a driver skip time."""
    return FakeClock(T0)


@pytest.fixture
def durable_runtime(virtual_clock: FakeClock) -> Iterator[Callable[..., Runtime]]:
    """A factory of started runtimes on private memory stores and the virtual clock."""
    started: list[Runtime] = []

    def make(app: App, **kwargs: Any) -> Runtime:
        kwargs.setdefault("clock", virtual_clock)
        runtime = Runtime(app, kwargs.pop("store", "memory://"), **kwargs).start()
        started.append(runtime)
        return runtime

    yield make
    for runtime in started:
        runtime.stop()
