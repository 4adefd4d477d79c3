"""``durable-lint``: the command-line front of the linter.

It parses arguments, calls ``durableflow.linter`` and prints what it returns. Exit status: 0 when
nothing is found, 1 when something is, 2 for usage or internal errors.
"""

from __future__ import annotations

import argparse
import io
import sys
import tokenize
from collections.abc import Sequence
from pathlib import Path

from durableflow.linter import (
    ConfigError,
    LintConfig,
    LintResult,
    find_pyproject,
    lint_paths,
    load_config,
)
from durableflow.linter.reporters import FORMATS, render

__all__ = ["build_parser", "main"]

_VERSION = "0.1.0"


def _codes(value: str) -> tuple[str, ...]:
    return tuple(code.strip().upper() for code in value.split(",") if code.strip())


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="durable-lint",
        description="Find replay-unsafe code in durable orchestrators (durableflow, Azure "
        "Durable Functions, durabletask, dapr).",
    )
    parser.add_argument("paths", nargs="*", default=["."], help="files or directories")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format")
    parser.add_argument("--select", type=_codes, help="comma-separated code prefixes to check")
    parser.add_argument("--ignore", type=_codes, help="comma-separated code prefixes to skip")
    parser.add_argument(
        "--orchestrator-decorator",
        action="append",
        dest="decorators",
        metavar="NAME",
        help="extra decorator that marks orchestrators (repeatable)",
    )
    parser.add_argument(
        "--orchestrator",
        action="append",
        dest="orchestrators",
        metavar="MODULE:FUNC",
        help="function to treat as an orchestrator (repeatable); nested ones as outer.inner",
    )
    parser.add_argument(
        "--allowed-helper",
        action="append",
        dest="allowed_helpers",
        metavar="PATTERN",
        help="qualified helper names (globs) not to follow (repeatable)",
    )
    parser.add_argument(
        "--exclude",
        action="append",
        metavar="GLOB",
        help="paths not to lint when walking directories (repeatable)",
    )
    parser.add_argument("--config", type=Path, help="pyproject.toml to read (default: nearest)")
    parser.add_argument("--fix", action="store_true", help="apply safe rewrites")
    parser.add_argument(
        "--unsafe-fixes",
        action="store_true",
        help="with --fix or --diff, include rewrites that change meaning (alone: report only)",
    )
    parser.add_argument("--diff", action="store_true", help="print rewrites as a diff, write none")
    parser.add_argument("--explain", metavar="CODE", help="print a rule's documentation")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    parser.add_argument("--cache-dir", type=Path, help="cache directory")
    parser.add_argument("--jobs", "-j", type=int, help="worker processes (default: CPUs)")
    parser.add_argument("--version", action="version", version=f"durable-lint {_VERSION}")
    return parser


def _config(args: argparse.Namespace) -> tuple[LintConfig, Path]:
    pyproject = args.config or find_pyproject(Path.cwd())
    root = pyproject.parent.resolve() if pyproject else Path.cwd().resolve()
    config = load_config(pyproject).merged(
        select=args.select,
        ignore=args.ignore,
        orchestrator_decorators=tuple(args.decorators) if args.decorators else None,
        orchestrators=tuple(args.orchestrators) if args.orchestrators else None,
        allowed_helpers=tuple(args.allowed_helpers) if args.allowed_helpers else None,
        exclude=tuple(args.exclude) if args.exclude else None,
    )
    return config, root


def _apply_fixes(
    args: argparse.Namespace, result: LintResult, config: LintConfig
) -> tuple[int, str]:
    from durableflow.linter.files import module_name_of
    from durableflow.linter.fixes import fix_source, unified_diff

    unsafe = bool(args.unsafe_fixes)
    paths = sorted(
        {f.path for f in result.findings if f.fix is not None and (f.fix.safe or unsafe)}
    )
    changed = 0
    diffs: list[str] = []
    for path in paths:
        raw = Path(path).read_bytes()
        # Keep the file's declared encoding and its line endings.
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        before = raw.decode(encoding)
        module_name, _ = module_name_of(path, {})
        outcome = fix_source(before, path, module_name, config, unsafe=unsafe)
        if outcome.source == before:
            continue
        changed += 1
        if args.diff:
            diffs.append(unified_diff(path, before, outcome.source))
        else:
            Path(path).write_bytes(outcome.source.encode(encoding))
    return changed, "".join(diffs)


def _run(args: argparse.Namespace) -> int:
    if args.explain:
        from durableflow.linter.docs import explain

        try:
            sys.stdout.write(explain(args.explain))
        except KeyError:
            sys.stderr.write(f"durable-lint: unknown rule code {args.explain!r}\n")
            return 2
        return 0
    for path in args.paths:
        if not Path(path).exists():
            sys.stderr.write(f"durable-lint: {path}: no such file or directory\n")
            return 2
    config, root = _config(args)
    cache_dir = None if args.no_cache else (args.cache_dir or root / ".durable-lint-cache")
    result = lint_paths(args.paths, config, root=root, jobs=args.jobs, cache_dir=cache_dir)
    # As in ruff, --unsafe-fixes widens what --fix (or --diff) applies; alone it only
    # reports, and says how many findings the widened --fix would rewrite.
    if args.fix or args.diff:
        changed, diff = _apply_fixes(args, result, config)
        if args.diff:
            sys.stdout.write(diff)
            return 1 if changed else 0
        if changed:
            sys.stderr.write(f"durable-lint: fixed {changed} file(s)\n")
            result = lint_paths(args.paths, config, root=root, jobs=args.jobs, cache_dir=cache_dir)
    sys.stdout.write(render(result.findings, args.format, root, _VERSION))
    if not (args.fix or args.diff):
        _fix_hint(result, bool(args.unsafe_fixes))
    return 1 if result.findings else 0


def _fix_hint(result: LintResult, unsafe: bool) -> None:
    fixable = [f for f in result.findings if f.fix is not None and (f.fix.safe or unsafe)]
    if fixable:
        extra = " --unsafe-fixes" if unsafe else ""
        sys.stderr.write(f"durable-lint: {len(fixable)} fixable with --fix{extra}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``durable-lint`` with ``argv`` (default: the process arguments); return the status."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 for --help/--version
        return int(exc.code or 0)
    try:
        return _run(args)
    except ConfigError as exc:
        sys.stderr.write(f"durable-lint: configuration error: {exc}\n")
        return 2
    except Exception as exc:  # an internal error must not look like "findings" (exit 1)
        sys.stderr.write(f"durable-lint: internal error: {type(exc).__name__}: {exc}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
