"""Hypothesis profiles for the compiler tests.

``DURABLEFLOW_EQUIVALENCE_EXAMPLES`` sets how many worlds the equivalence property tries per
orchestrator (CI: at least 200, the default).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "compiler-properties",
    max_examples=int(os.environ.get("DURABLEFLOW_PROPERTY_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.register_profile(
    "equivalence",
    max_examples=int(os.environ.get("DURABLEFLOW_EQUIVALENCE_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
