"""Regenerate the durable-lint rule table in README.md from the rule classes.

Usage: ``python scripts/document_rules.py`` (rewrites README.md) or ``--check`` (exit 1 if stale).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from durableflow.linter.docs import update_readme

README = Path(__file__).resolve().parent.parent / "README.md"


def main(argv: list[str] | None = None) -> int:
    """Rewrite the README block, or with ``--check`` report whether it is stale."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if README.md is stale")
    parser.add_argument("--readme", type=Path, default=README)
    args = parser.parse_args(argv)
    text = args.readme.read_text(encoding="utf-8")
    updated = update_readme(text)
    if args.check:
        if updated != text:
            sys.stderr.write(f"{args.readme} rule table is stale; run scripts/document_rules.py\n")
            return 1
        return 0
    if updated != text:
        args.readme.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
