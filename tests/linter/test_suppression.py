"""Line suppressions and their parsing."""

from __future__ import annotations

import pytest

from durableflow.linter import lint_source
from durableflow.linter.suppress import parse_suppressions

TEMPLATE = """import time
import durableflow as df

app = df.App()

@app.orchestrator
def orch(ctx, data):
    yield ctx.call_activity("a", time.time())  {comment}
"""


@pytest.mark.parametrize(
    "comment",
    [
        "# noqa: DUR001",
        "# noqa:DUR001,DUR002",
        "# noqa",
        "# durable-lint: ignore[DUR001]",
        "# durable-lint: ignore",
        "# NOQA: dur001",
    ],
)
def test_suppression_comment_silences_the_finding(comment: str) -> None:
    assert lint_source(TEMPLATE.format(comment=comment)) == []


@pytest.mark.parametrize(
    "comment", ["# noqa: DUR002", "# durable-lint: ignore[DUR012]", "# noqa: E501", ""]
)
def test_suppression_of_other_codes_keeps_the_finding(comment: str) -> None:
    assert [f.code for f in lint_source(TEMPLATE.format(comment=comment))] == ["DUR001"]


def test_suppression_applies_only_to_its_own_line() -> None:
    source = TEMPLATE.format(comment="").replace(
        "def orch(ctx, data):", "def orch(ctx, data):  # noqa: DUR001"
    )
    assert [f.code for f in lint_source(source)] == ["DUR001"]


def test_parse_suppressions_maps_lines_to_codes() -> None:
    source = "a = 1  # noqa: DUR001, DUR003\nb = 2\nc = 3  # durable-lint: ignore\n"
    assert parse_suppressions(source) == {1: ("DUR001", "DUR003"), 3: ()}
