"""The corpus of realistic orchestrators: every expected finding, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from durableflow.linter import Finding, lint_paths

CORPUS = Path(__file__).parent / "corpus"
EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>DUR\d{3}(?:\s*,\s*DUR\d{3})*)")


def expected_findings() -> set[tuple[str, int, str]]:
    expected = set()
    for path in sorted(CORPUS.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            match = EXPECT.search(line)
            if match:
                for code in re.findall(r"DUR\d{3}", match.group("codes")):
                    expected.add((path.relative_to(CORPUS).as_posix(), number, code))
    return expected


@pytest.fixture(scope="module")
def findings() -> list[Finding]:
    return lint_paths([str(CORPUS)], root=CORPUS, jobs=1).findings


def test_corpus_has_expectations_in_every_api_style() -> None:
    files = {path for path, _, _ in expected_findings()}
    assert {
        "shop/orders.py",
        "azure_app.py",
        "azure_classic.py",
        "dt_worker.py",
        "dt_tests_nested.py",
        "dapr_workflows.py",
        "registry/flows.py",
    } <= files


def test_corpus_findings_match_expectations_exactly(findings: list[Finding]) -> None:
    actual = {(Path(f.path).relative_to(CORPUS).as_posix(), f.span.line, f.code) for f in findings}
    assert actual == expected_findings()


def test_helper_finding_in_other_module_names_the_chain(findings: list[Finding]) -> None:
    (env,) = [f for f in findings if f.code == "DUR010" and "shop" in f.path]
    assert env.chain == ("shop.orders.place_order", "shop.pricing.total_of", "shop.pricing._rate")
    assert "called shop.orders.place_order -> shop.pricing.total_of -> _rate" in env.message


def test_corpus_is_linted_the_same_in_parallel(findings: list[Finding]) -> None:
    assert lint_paths([str(CORPUS)], root=CORPUS, jobs=2).findings == findings


def test_orchestrator_registered_from_another_module_is_checked_as_an_orchestrator(
    findings: list[Finding],
) -> None:
    flows = {f.chain for f in findings if f.path.endswith("registry/flows.py")}
    assert flows == {
        ("registry.flows.fulfil",),
        ("registry.flows.refund",),
        ("registry.flows.approve",),
    }


def test_orchestrators_nested_in_tests_are_checked(findings: list[Finding]) -> None:
    chains = {f.chain for f in findings if f.path.endswith("dt_tests_nested.py")}
    assert chains == {
        ("dt_tests_nested.test_timer_and_jitter.delayed",),
        ("dt_tests_nested.test_timer_and_jitter.racer",),
        ("dt_tests_nested.test_fan_out.fan_out",),
    }
