"""Live orchestrator generators kept between steps (Durable Functions' extended sessions).

Replaying a whole history on every step costs O(n) a step and O(n^2) an instance. A worker
keeps each instance's :class:`~durableflow.runtime.executor.Replayer` after a step and feeds
it only the new events while the stored history is exactly what it has seen; anything else
(a restart, an eviction, a lost lease, another execution) falls back to a full replay.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from durableflow.core import history as h
from durableflow.runtime.executor import Replayer
from durableflow.runtime.store.base import InstanceRecord, OrchestrationWorkItem


@dataclass(slots=True)
class Session:
    """A live generator, and what deciding a step on it needs besides.

    Attributes:
        replayer: the generator and its replay state.
        instance: the instance as the last step saw it (id, name, execution, parent).
        epoch: the store's history epoch then.
        started: the execution's ExecutionStarted (a child's parent execution is in it).
        pending: steps decided on this generator whose transactions have not ended yet:
            until they do, its state may be ahead of the store's, and nothing else may use
            it.
    """

    replayer: Replayer
    instance: InstanceRecord
    epoch: str
    started: h.ExecutionStarted | None
    pending: int = 0


class Sessions:
    """Up to ``size`` sessions, least recently used dropped first.

    Not thread-safe: the worker calls it under its step lock.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def get(self, instance_id: str) -> Session | None:
        """The session of ``instance_id``, if one is kept."""
        return self._sessions.get(instance_id)

    def keep(self, instance_id: str, session: Session) -> None:
        """Keep ``session`` as the one of ``instance_id``."""
        self._sessions[instance_id] = session
        self._sessions.move_to_end(instance_id)
        while len(self._sessions) > self._size:
            self._sessions.popitem(last=False)

    def evict(self, instance_id: str, replayer: Replayer | None = None) -> None:
        """Drop the session of ``instance_id`` (only if it holds ``replayer``, if given)."""
        session = self._sessions.get(instance_id)
        if session is not None and (replayer is None or session.replayer is replayer):
            del self._sessions[instance_id]

    def replayer_for(self, item: OrchestrationWorkItem) -> Replayer | None:
        """The kept replayer that has seen exactly ``item``'s history, if any.

        A session of another execution or history length is dropped; a pending one is left
        alone (its step decides what becomes of it).
        """
        inst = item.instance
        session = self._sessions.get(inst.instance_id)
        if session is None or session.pending:
            return None
        replayer = session.replayer
        if session.instance.execution_id == inst.execution_id and replayer.events_seen == len(
            item.history
        ):
            return replayer
        self.evict(inst.instance_id)
        return None
