"""Testing orchestrators without a host: run them on a virtual clock, fuzz their histories.

``run_orchestration`` runs one instance to the end on the real worker and memory store with
stubbed activities, scripted events and time skipping. ``strict_replay`` checks that the
current code reproduces a recorded history exactly, inputs included. The simulated world
(:mod:`durableflow.testing.world`) drives the pure replay executor for fuzzing and for the
compiler's equivalence check. See ``docs/testing.md``.
"""

from durableflow.testing.run import OrchestrationRun, RaiseEvent, run_orchestration
from durableflow.testing.strict_replay import (
    ActionRecord,
    Divergence,
    ExecutionOutcome,
    HistorySource,
    check_actions,
    check_output,
    load_history,
    strict_replay,
)
from durableflow.testing.stubs import ActivityCalls, sequence
from durableflow.testing.world import T0

__all__ = [
    "T0",
    "ActionRecord",
    "ActivityCalls",
    "Divergence",
    "ExecutionOutcome",
    "HistorySource",
    "OrchestrationRun",
    "RaiseEvent",
    "check_actions",
    "check_output",
    "load_history",
    "run_orchestration",
    "sequence",
    "strict_replay",
]
