"""Testing durable workflows: strict replay of recorded histories, and the harness's helpers.

``strict_replay`` checks that the current code reproduces a recorded history exactly,
inputs included; ``check_process_conditions`` replays histories with the wall clock moved,
``random`` reseeded, in the same process again and in a fresh interpreter with another
``PYTHONHASHSEED``; ``check_deploy`` is the deploy gate. See ``docs/testing.md``.
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

__all__ = [
    "DEFAULT_CLOCK_SHIFTS",
    "DEFAULT_RANDOM_SEEDS",
    "ActionRecord",
    "Condition",
    "ConditionFailure",
    "DeployReport",
    "Divergence",
    "ExecutionOutcome",
    "HistorySource",
    "InstanceVerdict",
    "ProcessConditionsError",
    "check_actions",
    "check_deploy",
    "check_output",
    "check_process_conditions",
    "import_app",
    "load_history",
    "other_hash_seed",
    "replay_in_fresh_interpreters",
    "replay_in_this_process",
    "replay_with_clock_shifts",
    "replay_with_random_seeds",
    "strict_replay",
]
