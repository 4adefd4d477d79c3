"""The lint run: pick files, analyse them in parallel with caching, follow helpers, report.

Phases:

1. List ``.py`` files and read each once for the text pre-filter (or skip reading it when the
   cache index says it is unchanged). Only files that can define or register orchestrators are
   parsed.
2. Analyse those modules (in worker processes when there are many). Each result lists the calls
   its checked functions make into other modules.
3. Ask the modules that define those functions to analyse them as helper roots; repeat until no
   new helper turns up. Modules that are never called into are never parsed.
4. Build the call graph, attach call chains to helper findings, apply suppressions.
"""

from __future__ import annotations

import hashlib
import os
import tokenize
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from durableflow.linter.cache import ResultCache, linter_version
from durableflow.linter.config import LintConfig
from durableflow.linter.files import (
    SourceFile,
    candidate_markers,
    is_candidate,
    iter_python_files,
    module_name_of,
)
from durableflow.linter.ftypes import Finding, FixInfo, ModuleResult, Span
from durableflow.linter.suppress import is_suppressed

__all__ = ["LintResult", "lint_paths", "lint_source"]

_PARALLEL_MIN_FILES = 8


@dataclass(slots=True)
class LintResult:
    """What a run found.

    Attributes:
        findings: Problems, sorted by path and position.
        files_seen: Python files looked at (pre-filtered).
        files_analysed: Files parsed and analysed (or taken from the cache).
        from_cache: True if the whole run was answered from the cache.
    """

    findings: list[Finding] = field(default_factory=list)
    files_seen: int = 0
    files_analysed: int = 0
    from_cache: bool = False


@dataclass(frozen=True, slots=True)
class _Task:
    path: str
    module_name: str
    is_package: bool
    roots: tuple[str, ...]
    foreign_activities: tuple[str, ...] = ()
    orchestrator_roots: tuple[tuple[str, str], ...] = ()


def _analyse_task(task: _Task, config: LintConfig) -> dict[str, Any]:
    from durableflow.linter.analyze import Analysis, analyze_source, syntax_error_finding
    from durableflow.linter.ftypes import ModuleResult

    try:
        # tokenize.open honours a BOM and a PEP 263 coding cookie, as the interpreter does.
        with tokenize.open(task.path) as handle:
            source = handle.read()
    except (OSError, UnicodeDecodeError, SyntaxError) as exc:
        finding = syntax_error_finding(exc)
        return ModuleResult(task.path, task.module_name, (), (), (finding,)).to_json()
    try:
        analysis: Analysis = analyze_source(
            source,
            task.path,
            task.module_name,
            config,
            is_package=task.is_package,
            roots=task.roots,
            foreign_activities=task.foreign_activities,
            orchestrator_roots=task.orchestrator_roots,
        )
    except Exception as exc:  # a linter bug: say which file triggered it
        raise RuntimeError(f"while linting {task.path}: {type(exc).__name__}: {exc}") from exc
    return analysis.result.to_json()


def _run_tasks(tasks: Sequence[_Task], config: LintConfig, jobs: int) -> list[dict[str, Any]]:
    if jobs <= 1 or len(tasks) < _PARALLEL_MIN_FILES:
        return [_analyse_task(task, config) for task in tasks]
    workers = min(jobs, len(tasks))
    chunk = max(1, len(tasks) // (workers * 4))
    try:
        pool = ProcessPoolExecutor(max_workers=workers)
    except (OSError, NotImplementedError):
        # No process support here (some sandboxes lack semaphores): lint in this process.
        return [_analyse_task(task, config) for task in tasks]
    with pool:
        return list(pool.map(_analyse_task, tasks, [config] * len(tasks), chunksize=chunk))


class _Run:
    def __init__(self, config: LintConfig, cache: ResultCache | None, jobs: int) -> None:
        self.config = config
        self.cache = cache
        self.jobs = jobs
        self.shas: dict[str, str] = {}
        self.results: dict[str, ModuleResult] = {}
        self.roots: dict[str, set[str]] = {}
        self.files: dict[str, SourceFile] = {}
        self.by_module: dict[str, list[str]] = {}
        self.aliases: dict[str, str] = {}
        self.foreign: dict[str, set[str]] = {}
        self.orchestrator_roots: dict[str, set[tuple[str, str]]] = {}

    def prefilter(self, paths: list[str]) -> list[str]:
        markers = candidate_markers(self.config.orchestrator_decorators, self.config.orchestrators)
        candidates = []
        for path in paths:
            stat = os.stat(path)
            known = self.cache.lookup_file(path, stat) if self.cache else None
            if known is None:
                with open(path, "rb") as handle:
                    data = handle.read()
                sha = hashlib.sha256(data).hexdigest()
                candidate = is_candidate(data, markers)
                if self.cache:
                    self.cache.remember_file(path, stat, sha, candidate)
            else:
                sha, candidate = known
            self.shas[path] = sha
            if candidate:
                candidates.append(path)
        return candidates

    def analyse(self, paths: Iterable[str]) -> None:
        pending: list[_Task] = []
        keys: dict[str, str] = {}
        for path in paths:
            source = self.files[path]
            roots = tuple(sorted(self.roots.get(path, ())))
            foreign = tuple(sorted(self.foreign.get(path, ())))
            registered = tuple(sorted(self.orchestrator_roots.get(path, ())))
            task = _Task(path, source.module_name, source.is_package, roots, foreign, registered)
            if self.cache is not None:
                key = self.cache.key(
                    "module",
                    self.shas[path],
                    path,
                    source.module_name,
                    str(source.is_package),
                    *roots,
                    "activities:",
                    *foreign,
                    "registered:",
                    *(f"{local}={api}" for local, api in registered),
                )
                cached = self.cache.get("results", key)
                if cached is not None:
                    self.results[path] = ModuleResult.from_json(cached)
                    continue
                keys[path] = key
            pending.append(task)
        for data in _run_tasks(pending, self.config, self.jobs):
            result = ModuleResult.from_json(data)
            self.results[result.path] = result
            if self.cache is not None:
                self.cache.put("results", keys[result.path], data)

    def _module_path(self, qualified: str, near: str) -> str | None:
        parts = qualified.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            candidates = self.by_module.get(".".join(parts[:cut]))
            if candidates:
                here = os.path.dirname(os.path.abspath(near))
                return max(
                    candidates,
                    key=lambda p: len(os.path.commonpath([here, os.path.abspath(p)])),
                )
        return None

    def _request(self, callee: str, near: str) -> set[str]:
        """Ask the module defining ``callee`` to analyse it; return that module's path if new."""
        path = self._module_path(callee, near)
        if path is None or callee in self.roots.setdefault(path, set()):
            return set()
        known = self.results.get(path)
        if known is not None and callee not in known.defined and callee not in known.reexports:
            return set()
        self.roots[path].add(callee)
        return {path}

    def _registered_elsewhere(self) -> set[str]:
        """Ask modules whose functions other modules register as orchestrators to check them."""
        requested: set[str] = set()
        for result in list(self.results.values()):
            for qualified, api in result.registers:
                path = self._module_path(qualified, result.path)
                known = self.results.get(path) if path is not None else None
                if known is not None and qualified not in known.defined:
                    qualified = known.reexports.get(qualified, qualified)
                    path = self._module_path(qualified, known.path)
                if path is None:
                    continue
                module = self.files[path].module_name
                local = qualified.removeprefix(module + ".")
                wanted = self.orchestrator_roots.setdefault(path, set())
                if local != qualified and (local, api) not in wanted:
                    wanted.add((local, api))
                    requested.add(path)
        return requested

    def follow_helpers(self) -> None:
        while True:
            analysed = {f.qualname for r in self.results.values() for f in r.functions}
            requested = self._registered_elsewhere()
            for result in list(self.results.values()):
                for function in result.functions:
                    for callee in function.calls:
                        if callee in analysed:
                            continue
                        path = self._module_path(callee, result.path)
                        if path is None:
                            continue
                        known = self.results.get(path)
                        if known is not None and callee in known.activities:
                            # Called directly: the caller reports DUR016 once it knows.
                            if callee not in self.foreign.setdefault(result.path, set()):
                                self.foreign[result.path].add(callee)
                                requested.add(result.path)
                            continue
                        if known is not None and callee not in known.defined:
                            target = known.reexports.get(callee)
                            if target is not None and target != callee:
                                self.aliases[callee] = target
                                requested |= self._request(target, known.path)
                            continue
                        if callee not in self.roots.setdefault(path, set()):
                            self.roots[path].add(callee)
                            requested.add(path)
            if not requested:
                return
            self.analyse(sorted(requested))


def _display(chain: tuple[str, ...], results: dict[str, str]) -> str:
    names = []
    previous_module = None
    for qualified in chain:
        module = results.get(qualified, "")
        short = qualified.removeprefix(module + ".") if module else qualified
        names.append(short if module == previous_module else qualified)
        previous_module = module
    return " -> ".join(names)


def _findings(run: _Run, root: Path) -> list[Finding]:
    from durableflow.linter.graph import call_chains

    results = list(run.results.values())
    chains = call_chains(results, run.aliases)
    module_of = {f.qualname: r.module_name for r in results for f in r.functions}
    findings: set[Finding] = set()
    config = run.config
    for result in results:
        try:
            relative = Path(result.path).resolve().relative_to(root).as_posix()
        except ValueError:
            relative = Path(result.path).as_posix()

        def keep(
            code: str, span: Span, result: ModuleResult = result, relative: str = relative
        ) -> bool:
            if not config.enabled(code) or config.ignored_in(relative, code):
                return False
            sup = result.suppressions
            return not (
                is_suppressed(sup, span.line, code) or is_suppressed(sup, span.end_line, code)
            )

        for raw in result.module_findings:
            if keep(raw.code, raw.span):
                findings.add(Finding(result.path, raw.span, raw.code, raw.message, raw.fix))
        for function in result.functions:
            chain = chains.get(function.qualname)
            if chain is None:
                continue
            for raw in function.findings:
                if not keep(raw.code, raw.span):
                    continue
                message, fix = raw.message, raw.fix
                if len(chain) > 1:
                    message = f"{message} (in helper, called {_display(chain, module_of)})"
                    fix = None
                findings.add(Finding(result.path, raw.span, raw.code, message, fix, chain))
    return sorted(findings, key=lambda f: f.sort_key)


def _finding_json(finding: Finding) -> list[Any]:
    span = finding.span
    fix = None if finding.fix is None else [finding.fix.replacement, finding.fix.safe]
    return [
        finding.path,
        [span.line, span.column, span.end_line, span.end_column],
        finding.code,
        finding.message,
        fix,
        list(finding.chain),
    ]


def _finding_from_json(data: list[Any]) -> Finding:
    fix = None if data[4] is None else FixInfo(data[4][0], data[4][1])
    return Finding(data[0], Span(*data[1]), data[2], data[3], fix, tuple(data[5]))


def lint_paths(
    paths: Sequence[str],
    config: LintConfig | None = None,
    *,
    root: Path | None = None,
    jobs: int | None = None,
    cache_dir: Path | None = None,
) -> LintResult:
    """Lint files and directories.

    Args:
        paths: Files and directories to lint.
        config: Effective configuration (defaults if None).
        root: Project root; ``per-file-ignores`` globs are relative to it (default: cwd).
        jobs: Worker processes (default: CPU count; 1 disables parallelism).
        cache_dir: Cache directory, or None for no caching.
    """
    config = config or LintConfig()
    root = (root or Path.cwd()).resolve()
    jobs = jobs if jobs is not None else (os.cpu_count() or 1)
    cache = ResultCache(cache_dir, config.fingerprint(), linter_version()) if cache_dir else None
    run = _Run(config, cache, jobs)
    files = list(dict.fromkeys(iter_python_files(paths, config.exclude)))
    candidates = run.prefilter(files)
    run_key = None
    if cache is not None:
        run_key = cache.key("run", *(f"{p}={run.shas[p]}" for p in files))
        cached = cache.get("runs", run_key)
        if cached is not None:
            cache.flush()
            found = [_finding_from_json(item) for item in cached["findings"]]
            return LintResult(found, len(files), cached["analysed"], from_cache=True)
    package_dirs: dict[str, bool] = {}
    for path in files:
        name, is_package = module_name_of(path, package_dirs)
        run.files[path] = SourceFile(path, name, is_package)
        run.by_module.setdefault(name, []).append(path)
    run.analyse(candidates)
    run.follow_helpers()
    findings = _findings(run, root)
    if cache is not None and run_key is not None:
        cache.put(
            "runs",
            run_key,
            {"findings": [_finding_json(f) for f in findings], "analysed": len(run.results)},
        )
        cache.flush()
    return LintResult(findings, len(files), len(run.results))


def lint_source(
    source: str, path: str = "example.py", config: LintConfig | None = None
) -> list[Finding]:
    """Lint one module given as text (rule examples, editors, tests). No helpers, no cache."""
    from durableflow.linter.analyze import analyze_source

    config = config or LintConfig()
    name = Path(path).stem
    result = analyze_source(source, path, name, config).result
    run = _Run(config, None, 1)
    run.results[path] = result
    return _findings(run, Path.cwd())
