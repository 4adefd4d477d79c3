"""The expression language: parsing, printing, evaluation and their properties."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark

from durableflow.core.errors import DurableflowError
from durableflow.ir import (
    ExpressionEvalError,
    ExpressionSyntaxError,
    evaluate,
    parse_expression,
    print_expression,
)
from tests.compiler.grammar_levels import leveled_grammar

PROPS = settings.get_profile("compiler-properties")

ROUND_TRIPS = [
    ("a + b * -c ** 2", "a + b * -c ** 2"),
    ("(a+b)*c", "(a + b) * c"),
    ("a - (b - c)", "a - (b - c)"),
    ("(-2) ** 2", "(-2) ** 2"),
    ("x if y else z", "x if y else z"),
    ("a < b not in c", "a < b not in c"),
    ("f(x, y=2)[1:2]", "f(x, y=2)[1:2]"),
    ("[x * 2 for x in y if x]", "[x * 2 for x in y if x]"),
    ("{'k': [1, (2,)]}", "{'k': [1, (2,)]}"),
    ("a, b", "(a, b)"),
    ("not a is not b", "not a is not b"),
    ('"s" "t"', "'st'"),
    ("(1).real", "(1).real"),
    ("[i for i, in xs]", "[i for i, in xs]"),
]


@pytest.mark.parametrize(("text", "printed"), ROUND_TRIPS, ids=[t for t, _ in ROUND_TRIPS])
def test_printing_is_canonical_and_reparses_to_the_same_tree(text: str, printed: str) -> None:
    tree = parse_expression(text)
    assert print_expression(tree) == printed
    assert parse_expression(printed) == tree


def test_syntax_error_shows_the_caret_line() -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        parse_expression("1 +* 2")
    assert (info.value.line, info.value.column) == (1, 4)
    assert "1 +* 2\n   ^" in str(info.value)


def test_python_keywords_are_not_names() -> None:
    with pytest.raises(ExpressionSyntaxError, match="lambda"):
        parse_expression("lambda")


def test_expression_errors_share_the_durableflow_root() -> None:
    assert issubclass(ExpressionSyntaxError, DurableflowError)
    assert issubclass(ExpressionEvalError, DurableflowError)


EVALUATIONS = [
    ("sum(xs) * 2", 12),
    ("[x * 2 for x in xs if x > 1]", [4, 6]),
    ("[(i, x) for i, x in enumerate(xs)][1]", (1, 2)),
    ("d.get('a', 0) + d.get('z', 5)", 6),
    ("timedelta(hours=1).total_seconds()", 3600.0),
    ("xs[1:]", [2, 3]),
    ("max(xs) if xs else 0", 3),
    ("1 < 2 < 3 and not 3 < 2", True),
    ("'a' + str(len(xs))", "a3"),
    ("sorted(xs, reverse=True)", [3, 2, 1]),
    ("timedelta(minutes=d['a'])", timedelta(minutes=1)),
]


@pytest.mark.parametrize(("text", "value"), EVALUATIONS, ids=[t for t, _ in EVALUATIONS])
def test_evaluation_follows_python(text: str, value: object) -> None:
    assert evaluate(parse_expression(text), {"xs": [1, 2, 3], "d": {"a": 1}}) == value


@pytest.mark.parametrize(
    "text",
    ["open('f')", "d.__class__", "xs.append(1)", "eval('1')", "9 ** 999999", "'a' * 10 ** 9"],
)
def test_evaluation_refuses_anything_outside_the_whitelist(text: str) -> None:
    with pytest.raises(ExpressionEvalError):
        evaluate(parse_expression(text), {"xs": [1], "d": {}})


def test_evaluation_keeps_the_original_python_error() -> None:
    with pytest.raises(ExpressionEvalError) as info:
        evaluate(parse_expression("d['missing']"), {"d": {}})
    assert isinstance(info.value.original, KeyError)


_TEXTS = from_lark(
    leveled_grammar(13),
    explicit={
        "STRING": st.sampled_from(['"a"', "'b c'", "''", "'\\n'"]),
        "NAME": st.sampled_from(["a", "b", "x", "len", "sum", "range", "if", "lambda", "_p"]),
        "NUMBER": st.sampled_from(["0", "1", "2.5", "10", "1e999", "1_0", "99999"]),
    },
)


@PROPS
@given(text=_TEXTS)
def test_generated_text_parses_or_raises_the_syntax_error(text: str) -> None:
    with contextlib.suppress(ExpressionSyntaxError):
        parse_expression(text)


@PROPS
@given(text=_TEXTS)
def test_parse_print_parse_is_stable(text: str) -> None:
    try:
        tree = parse_expression(text)
    except ExpressionSyntaxError:
        return
    printed = print_expression(tree)
    assert parse_expression(printed) == tree
    assert print_expression(parse_expression(printed)) == printed


_ENV_VALUES = st.one_of(
    st.integers(-5, 5), st.text(max_size=3), st.lists(st.integers(0, 3), max_size=3), st.none()
)


@PROPS
@given(text=_TEXTS, env=st.dictionaries(st.sampled_from(["a", "b", "x"]), _ENV_VALUES))
def test_evaluation_raises_only_the_evaluation_error(text: str, env: dict[str, object]) -> None:
    try:
        tree = parse_expression(text)
    except ExpressionSyntaxError:
        return
    with contextlib.suppress(ExpressionEvalError):
        evaluate(tree, env)
