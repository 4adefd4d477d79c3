"""The deploy gate: which in-flight instances would the current code break?

Before a deploy, :func:`check_deploy` replays every instance in a store that has not ended
(pending, running, suspended) against the code about to ship, with strict replay. An
instance *breaks* when the runtime itself would fail it after the deploy: an action of
another kind or name at a recorded sequence number, a recorded action the code no longer
creates, or a replay that ends differently (a parked instance that now completes or
fails). An instance whose recorded actions only had other *inputs* keeps running (the
runtime compares kinds and names only) but no longer does what its history says; it is
reported apart, and counts as breaking with ``strict=True``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from durableflow.core.app import App
from durableflow.core.errors import HistoryFormatError, UnknownFunctionError
from durableflow.core.history import HistoryDocument
from durableflow.core.status import RuntimeStatus
from durableflow.runtime.store import InstanceQuery, InstanceRecord, Store, open_store
from durableflow.testing.divergence import Divergence
from durableflow.testing.strict_replay import strict_replay

__all__ = ["DeployReport", "InstanceVerdict", "Verdict", "check_deploy"]

Verdict = Literal[
    "replays", "breaks", "inputs-differ", "new-actions", "unknown-orchestrator", "not-started"
]

_LIVE = frozenset(s for s in RuntimeStatus if not s.is_terminal)


@dataclass(frozen=True, slots=True)
class InstanceVerdict:
    """What the current code would do to one in-flight instance.

    Attributes:
        instance_id: the instance.
        name: its orchestrator.
        status: its status in the store.
        verdict: ``replays``, ``breaks``, ``inputs-differ`` (it keeps running, but
            recorded actions had other inputs), ``new-actions`` (it replays, and the new
            code schedules work the old one had not reached yet: it runs next),
            ``unknown-orchestrator`` (the app no longer has it: it breaks) or
            ``not-started`` (no history yet: it will start on the new code).
        breaks: True when the instance fails the gate.
        divergence: the first divergence (``None`` when it replays or has no history).
    """

    instance_id: str
    name: str
    status: RuntimeStatus
    verdict: Verdict
    breaks: bool
    divergence: Divergence | None = None

    def summary(self) -> str:
        """One line: the instance, and where and how it diverges."""
        head = f"{self.instance_id} ({self.name}, {self.status.value})"
        d = self.divergence
        if self.verdict == "unknown-orchestrator":
            return f"{head}: the app has no orchestrator {self.name!r} any more"
        if d is None:
            return f"{head}: {self.verdict}"
        if self.verdict == "new-actions" and d.new is not None:
            return f"{head}: replays, then the new code calls {d.new.describe()}"
        if d.kind == "output":
            assert d.recorded_outcome is not None and d.new_outcome is not None
            return (
                f"{head}: the history is {d.recorded_outcome.describe()}, the replay "
                f"{d.new_outcome.describe()}"
            )
        recorded = "nothing" if d.recorded is None else d.recorded.describe()
        new = "nothing" if d.new is None else d.new.describe()
        where = f" at {d.line}" if d.line else ""
        return (
            f"{head}: sequence number {d.sequence_number}: recorded {recorded}, "
            f"new code {new}{where}"
        )


@dataclass(frozen=True, slots=True)
class DeployReport:
    """Every in-flight instance the gate checked, oldest first.

    Attributes:
        instances: one verdict per instance that had not ended.
    """

    instances: tuple[InstanceVerdict, ...]

    @property
    def breaking(self) -> tuple[InstanceVerdict, ...]:
        """The instances that fail the gate."""
        return tuple(v for v in self.instances if v.breaks)

    @property
    def ok(self) -> bool:
        """True when no instance fails the gate."""
        return not self.breaking


def check_deploy(
    app: App, store: Store | str, *, strict: bool = False, every_prefix: bool = False
) -> DeployReport:
    """Replay every instance of ``store`` that has not ended against ``app``'s code.

    Args:
        app: the app about to be deployed.
        store: a store, or its URL. A SQLite URL must name an existing file: a mistyped
            path would otherwise open an empty store and pass.
        strict: count instances whose recorded actions only had other inputs as breaking.
        every_prefix: as for :func:`~durableflow.testing.strict_replay.strict_replay`
            (default: the O(n) route: step by step as a live worker ran it, and the whole
            history from scratch, as a worker does after the deploy).

    Returns:
        A verdict per in-flight instance, oldest first.

    Raises:
        StoreNotFoundError: a SQLite file does not exist.
        StoreError: the store cannot be opened.
    """
    own = isinstance(store, str)
    # Never create it: a mistyped path would open an empty store, and an empty store passes.
    opened = open_store(store, create=False) if isinstance(store, str) else store
    try:
        records = _live_instances(opened)
        verdicts = [_verdict(app, opened, r, strict, every_prefix) for r in records]
    finally:
        if own:
            opened.close()
    return DeployReport(tuple(verdicts))


def _live_instances(store: Store) -> list[InstanceRecord]:
    limit = 1000
    while True:
        found = store.list_instances(InstanceQuery(statuses=_LIVE, limit=limit))
        if len(found) < limit:
            return sorted(found, key=lambda r: (r.created_at, r.instance_id))
        limit *= 4


def _verdict(
    app: App, store: Store, record: InstanceRecord, strict: bool, every_prefix: bool
) -> InstanceVerdict:
    def verdict(kind: Verdict, breaks: bool, d: Divergence | None = None) -> InstanceVerdict:
        return InstanceVerdict(record.instance_id, record.name, record.status, kind, breaks, d)

    events = store.get_history(record.instance_id)
    if not events:
        return verdict("not-started", False)
    doc = HistoryDocument(instance_id=record.instance_id, name=record.name, events=events)
    try:
        loose = strict_replay(app, doc, every_prefix=every_prefix, compare_inputs=False)
        if loose is not None:
            return verdict("breaks", True, loose)
        exact = strict_replay(app, doc, every_prefix=every_prefix)
    except UnknownFunctionError:
        return verdict("unknown-orchestrator", True)
    except HistoryFormatError:
        # A pending instance whose ExecutionStarted is still in its inbox.
        return verdict("not-started", False)
    if exact is None:
        return verdict("replays", False)
    if (
        exact.recorded is not None
        and exact.new is not None
        and not exact.recorded.same_as(exact.new)
    ):
        return verdict("inputs-differ", strict, exact)
    return verdict("new-actions", False, exact)
