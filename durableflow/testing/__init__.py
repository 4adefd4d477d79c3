"""Testing orchestrators without a host: run them on a virtual clock, fuzz their histories.

``run_orchestration`` runs one instance to the end on the real worker and memory store with
stubbed activities, scripted events and time skipping. The simulated world
(:mod:`durableflow.testing.world`) drives the pure replay executor for fuzzing and for the
compiler's equivalence check.
"""

from durableflow.testing.run import OrchestrationRun, RaiseEvent, run_orchestration
from durableflow.testing.stubs import ActivityCalls, sequence
from durableflow.testing.world import T0

__all__ = [
    "T0",
    "ActivityCalls",
    "OrchestrationRun",
    "RaiseEvent",
    "run_orchestration",
    "sequence",
]
