"""DUR005: network."""

from __future__ import annotations

from durableflow.linter.rules.base import BannedApiRule, orchestrator_example

__all__ = ["Network"]


class Network(BannedApiRule):
    """Network calls (sockets, HTTP clients, gRPC, mail) in orchestrator code.

    A request made from an orchestrator is sent again on every replay, and its answer can differ.
    Call the service from an activity; the activity's result is recorded in history.
    """

    CODE = "DUR005"
    NAME = "network"
    MESSAGE = "network I/O repeats on replay and can change; do it in an activity"
    VALID = (
        orchestrator_example(
            'body = yield ctx.call_activity("http_get", data["url"])\nreturn len(body)'
        ),
    )
    INVALID = (
        orchestrator_example('return requests.get(data["url"]).json()', "import requests"),
        orchestrator_example(
            'with urlopen(data["url"]) as resp:\n    return resp.read()',
            "from urllib.request import urlopen",
        ),
        orchestrator_example(
            's = socket.create_connection(("example.com", 80))\nreturn s.recv(10)', "import socket"
        ),
    )
