"""Testing orchestrators without a host: run them on a virtual clock, fuzz their histories.

``run_orchestration`` runs one instance to the end on the real worker and memory store with
stubbed activities, scripted events and time skipping. ``replay_fuzz`` generates the
histories that break an orchestrator (hypothesis) and checks every property on them; each
property is also callable alone (``check_*``). ``strict_replay`` checks that the current
code reproduces a recorded history exactly, inputs included; ``check_process_conditions``
replays histories with the wall clock moved, ``random`` reseeded, in the same process again
and in a fresh interpreter with another ``PYTHONHASHSEED``. The simulated world
(:mod:`durableflow.testing.world`) drives the pure replay executor for fuzzing and for the
compiler's equivalence check. ``check_deploy`` is the deploy gate. See ``docs/testing.md``.
"""

from durableflow.testing.conditions import (
    DEFAULT_CLOCK_SHIFTS,
    DEFAULT_RANDOM_SEEDS,
    Condition,
    ConditionFailure,
    ProcessConditionsError,
    check_process_conditions,
    import_app,
    other_hash_seed,
    replay_in_fresh_interpreters,
    replay_in_this_process,
    replay_with_clock_shifts,
    replay_with_random_seeds,
)
from durableflow.testing.deploy_gate import DeployReport, InstanceVerdict, check_deploy
from durableflow.testing.fuzz import FuzzFailure, FuzzResult, recheck_document, replay_fuzz
from durableflow.testing.properties import (
    PROPERTIES,
    Violation,
    check_bounded,
    check_crash_equivalence,
    check_graph_equivalence,
    check_nothing_left_open,
    check_store_crash_resume,
    check_strict_replay,
)
from durableflow.testing.reports import FuzzReport
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
from durableflow.testing.world import T0, SimRun, simulate

__all__ = [
    "DEFAULT_CLOCK_SHIFTS",
    "DEFAULT_RANDOM_SEEDS",
    "PROPERTIES",
    "T0",
    "ActionRecord",
    "ActivityCalls",
    "Condition",
    "ConditionFailure",
    "DeployReport",
    "Divergence",
    "ExecutionOutcome",
    "FuzzFailure",
    "FuzzReport",
    "FuzzResult",
    "HistorySource",
    "InstanceVerdict",
    "OrchestrationRun",
    "ProcessConditionsError",
    "RaiseEvent",
    "SimRun",
    "Violation",
    "check_actions",
    "check_bounded",
    "check_crash_equivalence",
    "check_deploy",
    "check_graph_equivalence",
    "check_nothing_left_open",
    "check_output",
    "check_process_conditions",
    "check_store_crash_resume",
    "check_strict_replay",
    "import_app",
    "load_history",
    "other_hash_seed",
    "recheck_document",
    "replay_fuzz",
    "replay_in_fresh_interpreters",
    "replay_in_this_process",
    "replay_with_clock_shifts",
    "replay_with_random_seeds",
    "run_orchestration",
    "sequence",
    "simulate",
    "strict_replay",
]
