"""What replaying one instance's history through a graph showed: the data behind drawing
overlays and per-instance verdicts of ``durable diff`` (computed by the runtime's graph
interpreter, consumed by the compiler's renderer and differ)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["InstanceTrace", "TracedAction"]


@dataclass(frozen=True, slots=True)
class TracedAction:
    """One durable action the graph created while replaying.

    Attributes:
        seq: Sequence number.
        kind: ``activity``, ``timer`` or ``sub_orchestration``.
        name: Activity or orchestration name (``timer`` for timers).
        node: Id of the node that created it.
    """

    seq: int
    kind: str
    name: str
    node: str | None


@dataclass(frozen=True)
class InstanceTrace:
    """The replay of one history through one graph.

    Attributes:
        path: Node ids in the order they were entered.
        visits: Node id -> times entered (loop iteration counts).
        taken: (source, target) of every edge followed.
        actions: Actions the graph created, in sequence order.
        recorded: (seq, kind, name) of the actions the history records.
        task_states: Sequence number -> ``completed``, ``failed`` or ``running``.
        status: The replay's runtime status (``RUNNING``, ``COMPLETED``, ``FAILED``...).
        failure: Failure message, if the replay failed.
        diverged_at: First sequence number where the graph's action differs from the
            history's (None when the history replays cleanly).
    """

    path: tuple[str, ...]
    visits: dict[str, int]
    taken: frozenset[tuple[str, str]]
    actions: tuple[TracedAction, ...]
    recorded: tuple[tuple[int, str, str], ...]
    task_states: dict[int, str]
    status: str
    failure: str | None = None
    diverged_at: int | None = None
    node_tasks: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def breaks(self) -> bool:
        """True when the history cannot be replayed on the graph."""
        return self.diverged_at is not None

    def node_at(self, seq: int) -> str | None:
        """The node that created action ``seq``, if the graph created one."""
        for action in self.actions:
            if action.seq == seq:
                return action.node
        return None

    def node_state(self, node_id: str) -> str:
        """``completed``, ``running``, ``failed`` or ``not_reached`` for drawing.

        Once the instance has ended nothing of it is still running: a task that never
        completed there (the loser of a race, an event that won one and carries no task
        result) is drawn completed, its node having done its part.
        """
        if node_id not in self.visits:
            return "not_reached"
        tasks = self.node_tasks.get(node_id, ())
        states = [self.task_states.get(seq, "running") for seq in tasks]
        last = self.path[-1] if self.path else None
        if node_id == last and self.status == "FAILED":
            return "failed"
        ended = self.status in ("COMPLETED", "FAILED", "TERMINATED", "CONTINUED_AS_NEW")
        if "running" in states and not ended:
            return "running"
        if states and states[-1] == "failed":
            return "failed"
        if node_id == last and self.status in ("RUNNING", "SUSPENDED"):
            return "running"
        return "completed"
