"""The ``durable`` command line: parses arguments, calls an API, formats the result.

Each command group lives in its own module with ``register(subparsers)``; a command sets
``func(args) -> int`` as its handler. Exit codes: 0 ok, 1 failure, 2 usage.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from durableflow.core.errors import DurableflowError

# Command groups, in --help order. Each module defines register(subparsers).
COMMAND_MODULES = [
    "durableflow.cli.runtime_commands",
    "durableflow.cli.compiler_commands",
    "durableflow.cli.fuzz_commands",
]


def build_parser() -> argparse.ArgumentParser:
    """The full ``durable`` parser with every command group registered."""
    parser = argparse.ArgumentParser(
        prog="durable", description="Run, inspect, compile and draw durableflow orchestrations."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``durable``; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except DurableflowError as exc:
        print(f"durable: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
