"""Every rule's inline VALID and INVALID examples, run through the whole linter."""

from __future__ import annotations

import pytest

from durableflow.linter import lint_source
from durableflow.linter.rules import ALL_RULES, RULES_BY_CODE

VALID = [
    pytest.param(rule.CODE, source, id=f"{rule.CODE}-valid-{i}")
    for rule in ALL_RULES
    for i, source in enumerate(rule.VALID)
]
INVALID = [
    pytest.param(rule.CODE, source, id=f"{rule.CODE}-invalid-{i}")
    for rule in ALL_RULES
    for i, source in enumerate(rule.INVALID)
]


@pytest.mark.parametrize(("code", "source"), VALID)
def test_valid_example_has_no_findings(code: str, source: str) -> None:
    assert [(f.code, f.message) for f in lint_source(source)] == []


@pytest.mark.parametrize(("code", "source"), INVALID)
def test_invalid_example_is_flagged_by_its_rule_only(code: str, source: str) -> None:
    codes = {f.code for f in lint_source(source)}
    assert codes == {code}


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.CODE)
def test_rule_documents_itself(rule: type) -> None:
    assert rule.__doc__ and rule.MESSAGE and rule.NAME
    assert rule.VALID and rule.INVALID


def test_codes_are_unique_and_sequential() -> None:
    codes = [rule.CODE for rule in ALL_RULES]
    assert codes == [f"DUR{n:03d}" for n in range(len(codes))]
    assert set(RULES_BY_CODE) == set(codes)


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.CODE)
def test_every_finding_message_says_what_to_do_instead(rule: type) -> None:
    for source in rule.INVALID:
        for finding in lint_source(source):
            problem, _, remedy = finding.message.partition("; ")
            assert problem and remedy, finding.message
