"""Say findings in the API a file is written against.

The rules and the banned-API table word their advice in durableflow's API with a context named
``ctx``. Durable Functions, durabletask and dapr code receive other contexts: the parameter is often
``context``, durabletask and dapr fan in with module functions (``task.when_all``,
``wf.when_all``) rather than ``ctx.task_all``, only durableflow has ``ctx.logger``, dapr has no
``new_uuid()``, and durabletask's (and so dapr's) ``current_utc_datetime`` is a naive UTC
datetime. ``Dialect.speak`` rewrites a message accordingly; the rules ask ``naive_clock`` and
``str_uuid`` to choose their rewrites.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from durableflow.discovery import (
    API_AZURE,
    API_DAPR,
    API_DURABLEFLOW,
    API_DURABLETASK,
    ImportTable,
)

__all__ = ["Dialect", "naive_clock", "str_uuid"]

_CTX = re.compile(r"(?<![\w.])ctx\.")
_FAN_IN = re.compile(r"(?<![\w.])ctx\.task_(all|any)\b")
_FAN_IN_MODULE = {API_DURABLETASK: "durabletask.task", API_DAPR: "dapr.ext.workflow"}
_FAN_IN_DEFAULT = {API_DURABLETASK: "task", API_DAPR: "wf"}


def naive_clock(api: str) -> bool:
    """True if the API's ``current_utc_datetime`` carries no timezone (durabletask, dapr)."""
    return api in (API_DURABLETASK, API_DAPR)


def str_uuid(api: str) -> bool:
    """True if the API's ``new_uuid()`` returns ``str`` (durableflow, Durable Functions,
    durabletask; dapr has none)."""
    return api in (API_DURABLEFLOW, API_AZURE, API_DURABLETASK)


@dataclass(frozen=True, slots=True)
class Dialect:
    """How to word advice for one function.

    Attributes:
        api: ``"durableflow"``, ``"azure"``, ``"durabletask"`` or ``"dapr"``.
        ctx: The context parameter's real name (``ctx`` when unknown, as in helpers).
        fan_in: What ``ctx.task_all`` is spelt as (``task.when_all`` prefix: ``task``).
    """

    api: str = API_DURABLEFLOW
    ctx: str = "ctx"
    fan_in: str = ""

    @classmethod
    def of(cls, api: str, ctx: str | None, imports: ImportTable) -> Dialect:
        """The dialect of a function of a module with ``imports`` receiving ``api``'s context."""
        fan_in = ""
        module = _FAN_IN_MODULE.get(api)
        if module is not None:
            fan_in = _FAN_IN_DEFAULT[api]
            for local, target in sorted(imports.aliases.items()):
                if target == module:
                    fan_in = local
                    break
                if target in (f"{module}.when_all", f"{module}.when_any"):
                    fan_in = "."
        return cls(api, ctx or "ctx", fan_in)

    def speak(self, message: str) -> str:
        """Reword a message written for durableflow's ``ctx``."""
        if self.api == API_DURABLEFLOW and self.ctx == "ctx":
            return message
        if self.api != API_DURABLEFLOW:
            message = message.replace("use `ctx.logger`, or guard it with", "guard it with")
            message = message.replace("use `ctx.logger` or `ctx.is_replaying`", "guard it with")
        if self.fan_in:
            prefix = "" if self.fan_in == "." else f"{self.fan_in}."
            message = _FAN_IN.sub(lambda m: f"{prefix}when_{m.group(1)}", message)
        if naive_clock(self.api):
            message = message.replace(
                "`ctx.current_utc_datetime.timestamp()`",
                "`ctx.current_utc_datetime.replace(tzinfo=timezone.utc).timestamp()`",
            )
            message = message.replace(
                "`ctx.current_utc_datetime`", "`ctx.current_utc_datetime` (naive UTC)"
            )
        if self.api == API_DAPR:
            message = message.replace(
                "`ctx.new_uuid()`", "an id made by an activity, or derived from `ctx.instance_id`"
            )
        return _CTX.sub(f"{self.ctx}.", message)
