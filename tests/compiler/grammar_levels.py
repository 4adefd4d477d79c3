"""A depth-bounded copy of the expression grammar, for ``hypothesis.extra.lark.from_lark``.

``from_lark`` picks a rule's alternatives uniformly, so a grammar as recursive as an
expression language rarely terminates within hypothesis's buffer and generation crawls. This
rewrites the compiled rules of the shipped ``expr.lark`` into levels: a rule at level ``d``
refers only to rules at level ``d - 1``, and level 0 keeps only alternatives made of
terminals. Every string it generates is a string of the original grammar's terminals in an
order the original grammar allows, up to the depth bound.
"""

from __future__ import annotations

import importlib.resources

from lark import Lark
from lark.grammar import NonTerminal, Terminal

__all__ = ["leveled_grammar", "shipped_grammar"]

_EXPLICIT = {"NAME": "/[a-z]+/", "NUMBER": "/[0-9]+/", "STRING": '/"a"/'}


def shipped_grammar() -> Lark:
    """The package grammar, loaded for inspection."""
    text = importlib.resources.files("durableflow.ir").joinpath("expr.lark").read_text("utf-8")
    return Lark(text, parser="lalr", start="start")


def leveled_grammar(depth: int = 14) -> Lark:
    """A Lark grammar generating the shipped language's strings up to ``depth`` levels."""
    source = shipped_grammar()
    ignore = set(source.ignore_tokens)
    term_names: dict[str, str] = {}
    lines: list[str] = []
    for i, term in enumerate(source.terminals):
        if term.name in ignore:
            continue
        name = term.name if term.name in _EXPLICIT else f"T{i}"
        term_names[term.name] = name
        if name in _EXPLICIT:
            lines.append(f"{name}: {_EXPLICIT[name]}")
        else:
            value = str(term.pattern.value).replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'{name}: "{value}"')
    rule_ids: dict[str, int] = {}
    for rule in source.rules:
        rule_ids.setdefault(rule.origin.name, len(rule_ids))
    alive: dict[tuple[str, int], list[list[str]]] = {}
    for level in range(depth + 1):
        for rule in source.rules:
            symbols: list[str] = []
            ok = True
            for sym in rule.expansion:
                if isinstance(sym, Terminal):
                    symbols.append(term_names[sym.name])
                elif isinstance(sym, NonTerminal):
                    if level == 0 or (sym.name, level - 1) not in alive:
                        ok = False
                        break
                    symbols.append(f"r{rule_ids[sym.name]}_{level - 1}")
            if ok:
                alive.setdefault((rule.origin.name, level), []).append(symbols)
    for (origin, level), expansions in alive.items():
        alts = " | ".join(" ".join(e) if e else '""' for e in expansions)
        lines.append(f"r{rule_ids[origin]}_{level}: {alts}")
    levels = [lv for (origin, lv) in alive if origin == "start"]
    if not levels:
        raise ValueError(f"depth {depth} is too small to derive any expression")
    lines.append(f"start: r{rule_ids['start']}_{max(levels)}")
    lines.append('WS: " "')
    lines.append("%ignore WS")
    return Lark("\n".join(lines), parser="earley", start="start", lexer="dynamic")
