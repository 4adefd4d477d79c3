"""``durable compile --explain``: every code explained, with examples the compiler agrees with."""

from __future__ import annotations

import pytest

from durableflow.cli import main
from durableflow.compiler import CompileFailed, compile_source
from durableflow.compiler.errors import CODES
from durableflow.compiler.explain import EXPLANATIONS, explain


def test_every_code_is_explained() -> None:
    assert set(EXPLANATIONS) == set(CODES)


@pytest.mark.parametrize("code", sorted(c for c in EXPLANATIONS if EXPLANATIONS[c].bad))
def test_bad_example_fails_with_its_code_first(code: str) -> None:
    bad = EXPLANATIONS[code].bad
    assert bad is not None
    with pytest.raises(CompileFailed) as info:
        compile_source(bad)
    assert info.value.errors[0].code == code


@pytest.mark.parametrize("code", sorted(EXPLANATIONS))
def test_good_example_compiles(code: str) -> None:
    assert compile_source(EXPLANATIONS[code].good)


def test_explain_prints_the_summary_and_both_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", "--explain", "dfc019"]) == 0
    out = capsys.readouterr().out
    assert out == explain("DFC019")
    assert out.startswith("DFC019: ") and "Bad:" in out and "Good:" in out


def test_explain_of_an_unknown_code_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", "--explain", "DFC999"]) == 2
    assert "unknown compile error code" in capsys.readouterr().err


def test_compile_errors_point_to_the_explanation() -> None:
    with pytest.raises(CompileFailed) as info:
        compile_source(EXPLANATIONS["DFC013"].bad or "")
    assert info.value.errors[0].format().endswith("(`durable compile --explain DFC013`)")
