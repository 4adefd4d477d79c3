"""SQL literals for client-side binding (``postgres_literals``): whatever a value holds, the
server reads back exactly that value, and what cannot be written is refused or left to
psycopg."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from durableflow.runtime.store import postgres_connect as db
from durableflow.runtime.store.postgres_literals import literal

postgres = pytest.mark.postgres

texts = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)))
bigints = st.integers(min_value=-(2**63), max_value=2**63 - 1)


def _read_back(conn: Any, value: Any, cast: str) -> Any:
    written = literal(value)
    assert written is not None
    return conn.execute(f"SELECT ({written})::{cast}").fetchone()[0]


def _reads_back_as_itself(pg_url: str, values: st.SearchStrategy[Any], cast: str) -> None:
    conn = db.connect(db.parse_url(pg_url, {}))

    @settings(max_examples=300, deadline=None)
    @given(values)
    def check(value: Any) -> None:
        assert _read_back(conn, value, cast) == value

    try:
        check()
    finally:
        conn.close()


@postgres
def test_any_text_reads_back_as_itself(pg_url: str) -> None:
    _reads_back_as_itself(pg_url, texts, "text")


@postgres
def test_any_array_of_texts_and_nulls_reads_back_as_itself(pg_url: str) -> None:
    _reads_back_as_itself(pg_url, st.lists(st.none() | texts, max_size=5), "text[]")


@postgres
def test_integers_booleans_and_their_arrays_read_back_as_themselves(pg_url: str) -> None:
    conn = db.connect(db.parse_url(pg_url, {}))

    @settings(max_examples=100, deadline=None)
    @given(bigints, st.booleans(), st.lists(st.none() | bigints, max_size=5))
    def check(number: int, flag: bool, numbers: list[int | None]) -> None:
        assert _read_back(conn, number, "bigint") == number
        assert _read_back(conn, flag, "boolean") is flag
        assert _read_back(conn, numbers, "bigint[]") == numbers
        assert _read_back(conn, tuple(numbers), "bigint[]") == numbers

    try:
        check()
    finally:
        conn.close()


def test_none_is_null() -> None:
    assert literal(None) == "NULL"


def test_text_with_a_nul_character_is_refused() -> None:
    with pytest.raises(ValueError, match="NUL"):
        literal("a\x00b")
    with pytest.raises(ValueError, match="NUL"):
        literal(["a\x00b"])


def test_values_of_other_kinds_are_left_to_psycopg() -> None:
    assert literal(1.5) is None
    assert literal(b"bytes") is None
    assert literal([1.5]) is None
    assert literal({"a": 1}) is None
