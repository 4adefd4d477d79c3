"""Testing durable workflows: strict replay of recorded histories, and the harness's helpers.

``strict_replay`` checks that the current code reproduces a recorded history exactly,
inputs included; see ``docs/testing.md``.
"""

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
    "ActionRecord",
    "Divergence",
    "ExecutionOutcome",
    "HistorySource",
    "check_actions",
    "check_output",
    "load_history",
    "strict_replay",
]
