"""Rule documentation generated from the rule classes: ``--explain`` and the README table."""

from __future__ import annotations

import inspect

from durableflow.linter.rules import ALL_RULES, RULES_BY_CODE

__all__ = [
    "CONFIG_EXAMPLE",
    "README_END",
    "README_START",
    "explain",
    "rule_table",
    "update_readme",
    "usage",
]

README_START = "<!-- durable-lint-rules:start -->"
README_END = "<!-- durable-lint-rules:end -->"


def explain(code: str) -> str:
    """The documentation of one rule, with a bad and a good example.

    Raises:
        KeyError: ``code`` is not a rule code.
    """
    rule = RULES_BY_CODE[code.upper()]
    doc = inspect.cleandoc(rule.__doc__ or "")
    bad = rule.INVALID[0].rstrip("\n")
    good = rule.VALID[0].rstrip("\n")
    return (
        f"{rule.CODE} ({rule.NAME}): {rule.MESSAGE}\n\n{doc}\n\n"
        f"Bad:\n\n{_indent(bad)}\n\nGood:\n\n{_indent(good)}\n"
    )


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" if line else "" for line in text.split("\n"))


CONFIG_EXAMPLE = """\
[tool.durable-lint]
select = ["DUR"]                        # code prefixes; default: every rule
ignore = ["DUR013"]
orchestrator-decorators = ["workflow"]  # extra decorators that mark orchestrators
orchestrators = ["myapp.flows:legacy"]  # functions that are orchestrators whatever they look like
allowed-helpers = ["myapp.pure.*"]      # helpers trusted, not followed
exclude = ["build/*"]

[tool.durable-lint.per-file-ignores]
"tests/*" = ["DUR012"]

[tool.durable-lint.extend-banned-apis]
"myapp.clock.now" = { code = "DUR001", replacement = "`ctx.current_utc_datetime`" }
"""

_PRE_COMMIT = """\
repos:
  - repo: <url of this repository>
    rev: <tag or commit>
    hooks:
      - id: durable-lint
"""


def usage() -> str:
    """How to run and configure durable-lint, as shown above the rule table in the README."""
    return (
        "`durable-lint [PATHS]` checks orchestrators (durableflow, Azure Durable Functions and "
        "durabletask styles) and the helpers they call, across modules. `--fix` applies safe "
        "rewrites, `--fix --unsafe-fixes` also meaning-changing ones (`--unsafe-fixes` alone "
        "only reports), `--diff` shows them; "
        "`--format json|sarif|github`; `# noqa: DUR001` or `# durable-lint: ignore[DUR001]` "
        "silences a line. Exit status: 0 clean, 1 findings, 2 usage or internal error. "
        "Design notes: `docs/linter.md`.\n\n"
        f"```toml\n{CONFIG_EXAMPLE}```\n\n"
        f"pre-commit:\n\n```yaml\n{_PRE_COMMIT}```\n\n"
    )


def rule_table() -> str:
    """The Markdown table of rules (code, name, what it flags), as in the README."""
    rows = [
        "Generated from the rule classes by `scripts/document_rules.py`; "
        "`durable-lint --explain CODE` shows a rule's full documentation with examples.",
        "",
        "| Code | Name | What it flags | Message |",
        "| --- | --- | --- | --- |",
    ]
    for rule in ALL_RULES:
        summary = inspect.cleandoc(rule.__doc__ or "").split("\n\n")[0].replace("\n", " ")
        fixable = " (fixable)" if rule.FIXES else ""
        cell = summary.replace("|", "\\|")
        message = rule.MESSAGE.replace("|", "\\|")
        rows.append(f"| `{rule.CODE}` | {rule.NAME}{fixable} | {cell} | {message} |")
    return "\n".join(rows) + "\n"


def update_readme(text: str) -> str:
    """Return README text with the block between the markers regenerated.

    Raises:
        ValueError: the markers are missing.
    """
    start = text.find(README_START)
    end = text.find(README_END)
    if start < 0 or end < start:
        raise ValueError(f"README lacks the {README_START} ... {README_END} markers")
    head = text[: start + len(README_START)]
    return f"{head}\n{usage()}{rule_table()}{text[end:]}"
