"""DUR014: dynamic code."""

from __future__ import annotations

from collections.abc import Iterator

from durableflow.linter.facts import FunctionFacts
from durableflow.linter.modinfo import ModuleInfo
from durableflow.linter.rules.base import BannedApiRule, Hit, RuleContext, orchestrator_example

__all__ = ["DynamicCode"]


class DynamicCode(BannedApiRule):
    """``importlib``, ``__import__``, ``exec``/``eval``, star imports, imports in orchestrators.

    Code loaded or built at run time can differ between workers and deployments, and neither this
    linter nor the compiler can see what it does. An import inside an orchestrator runs module code
    during replay. Import at module level and call functions directly; a star import in an
    orchestrator module hides where names come from, so it is reported too.
    """

    CODE = "DUR014"
    NAME = "dynamic-code"
    MESSAGE = (
        "dynamic code/imports in orchestrators are invisible to replay; import at module level"
    )
    VALID = (orchestrator_example('return json.loads(data["payload"])', "import json"),)
    INVALID = (
        orchestrator_example('import json\nreturn json.loads(data["payload"])'),
        orchestrator_example('return eval(data["expr"])'),
        orchestrator_example(
            'mod = importlib.import_module(data["plugin"])\nreturn mod.NAME', "import importlib"
        ),
        orchestrator_example('return loads(data["payload"])', "from json import *"),
    )

    def check(self, facts: FunctionFacts, context: RuleContext) -> Iterator[Hit]:
        """Report dynamic-code APIs, and imports inside orchestrators."""
        yield from super().check(facts, context)
        if facts.is_orchestrator:
            for stmt in facts.imports:
                yield Hit(
                    stmt,
                    "import inside an orchestrator runs module code during replay; "
                    "import at module level",
                )

    def check_module(self, module: ModuleInfo) -> Iterator[Hit]:
        """Report star imports in a module that defines orchestrators."""
        for stmt in module.star_imports:
            yield Hit(
                stmt,
                "star import hides which names orchestrators use; import the names explicitly",
            )
