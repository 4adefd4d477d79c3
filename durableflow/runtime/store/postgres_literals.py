"""SQL literals for the values the PostgreSQL store binds on the client side.

:class:`~postgres_rounds.Rounds` sends a round as one simple-protocol string, so each
parameter is written into it as a literal. psycopg's general-purpose quoting costs more
than the server's work for a short statement; the values of the step statements are only
None, integers, strings and lists of those, and these have exact literals when the
session has ``standard_conforming_strings`` on (every store connection sets it, see
:func:`postgres_connect.connection_kwargs`): inside ``'...'`` only the quote itself is
special, and is doubled. Every literal but NULL and integers is untyped (``'...'``), so the
server reads it as the type of the parameter it fills.
"""

from __future__ import annotations

from typing import Any


def _text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("PostgreSQL text cannot contain NUL (0x00) characters")
    return "'" + value.replace("'", "''") + "'"


def _element(value: Any) -> str:
    """One element of an array literal (``{...}``): NULL, a number, or a quoted string."""
    if value is None:
        return "NULL"
    if type(value) is int:
        return str(value)
    if type(value) is str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(type(value).__name__)


def literal(value: Any) -> str | None:
    """``value`` as an SQL literal, or None if it is not of a kind written here (None,
    bool, int, str, or a list or tuple of None, int and str)."""
    kind = type(value)
    if value is None:
        return "NULL"
    if kind is str:
        return _text(value)
    if kind is int:
        return str(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is list or kind is tuple:
        try:
            return _text("{" + ",".join(map(_element, value)) + "}")
        except TypeError:
            return None
    return None
