"""The ``durable`` command line: parses arguments, calls an API, formats the result.

Each command group lives in its own module with ``register(subparsers)``; a command sets
``func(args) -> int`` as its handler. Exit codes: 0 ok, 1 failure, 2 usage (a malformed
command line), 130 interrupted, 141 output pipe closed early (``durable list | head``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from durableflow.cli.logs import configure_logging, level_for
from durableflow.cli.options import UsageError
from durableflow.core.errors import DurableflowError

# Command groups, in --help order. Each module defines register(subparsers).
COMMAND_MODULES = [
    "durableflow.cli.runtime_commands",
    "durableflow.cli.compiler_commands",
    "durableflow.cli.serve_commands",
    "durableflow.cli.fuzz_commands",
    "durableflow.cli.db_commands",
]

_BROKEN_PIPE_EXIT = 141  # what a shell reports for a process ended by SIGPIPE


def build_parser() -> argparse.ArgumentParser:
    """The full ``durable`` parser with every command group registered."""
    parser = argparse.ArgumentParser(
        prog="durable", description="Run, inspect, compile and draw durableflow orchestrations."
    )
    parser.add_argument("--version", action="version", version=f"durable {_version()}")
    _add_verbosity(parser, "_before")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    for command in sub.choices.values():
        _add_verbosity(command, "")
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("durableflow")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed)"


def _add_verbosity(parser: argparse.ArgumentParser, suffix: str) -> None:
    # Accepted before and after the command, counted apart (a command's parser overwrites
    # what it shares with the main one) and added up: `durable -v worker APP -v` is -vv.
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        dest=f"verbose{suffix}",
        help="more log output (repeatable)",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="count",
        default=0,
        dest=f"quiet{suffix}",
        help="less log output (repeatable)",
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``durable``; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    base = getattr(args, "log_level_base", "WARNING")
    verbose, quiet = args.verbose + args.verbose_before, args.quiet + args.quiet_before
    configure_logging(level_for(base, verbose, quiet))
    try:
        code: int = args.func(args)
        sys.stdout.flush()
    except UsageError as exc:
        print(f"durable {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except DurableflowError as exc:
        print(f"durable: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (`durable list | head`): stop quietly, and point stdout at
        # /dev/null so that the interpreter's final flush does not complain either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return _BROKEN_PIPE_EXIT
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
