"""DUR010: environment variables and host identity."""

from __future__ import annotations

from durableflow.linter.rules.base import BannedApiRule, orchestrator_example

__all__ = ["Environment"]


class Environment(BannedApiRule):
    """Environment variables, process ids, host names, platform and ``sys.argv``.

    A replay can run on another worker, with another environment, pid and host name, so code that
    branches on them takes another path on replay. Pass configuration in the orchestration input,
    or read it in an activity so that its value is recorded.
    """

    CODE = "DUR010"
    NAME = "environment"
    MESSAGE = "environment/host identity can differ on replay; pass it in the input"
    VALID = (
        orchestrator_example('region = data["region"]\nyield ctx.call_activity("deploy", region)'),
    )
    INVALID = (
        orchestrator_example(
            'yield ctx.call_activity("deploy", os.environ["REGION"])', "import os"
        ),
        orchestrator_example(
            'yield ctx.call_activity("deploy", getenv("REGION"))', "from os import getenv"
        ),
        orchestrator_example('yield ctx.call_activity("log", platform.node())', "import platform"),
        orchestrator_example(
            'yield ctx.call_activity("log", socket.gethostname())', "import socket"
        ),
    )
