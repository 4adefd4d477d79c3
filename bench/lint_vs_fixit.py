"""durable-lint vs Fixit, side by side, on a realistic and on a dense corpus.

Corpora (built in a temporary directory):

(a) the CPython standard library without its tests, plus generated orchestrator modules (~2% of
    the files) in a package that also holds their helper modules;
(b) generated orchestrator modules only (~50k lines).

For each corpus it prints lines/s for durable-lint cold (empty cache) and warm (cached), for Fixit
(one comparable rule: calls to nondeterministic APIs matched by qualified name, which is what
DUR001-DUR003 do), the ratios, and bare LibCST parsing (one process) of the same files. Both tools
run as the user runs them: their command-line entry points, in parallel across the CPUs.

By default corpus (a) uses every other stdlib file (about half, ~160k lines; ``--stdlib-fraction
1`` uses all of it), and Fixit, which runs at a few hundred lines/s, is timed on every 7th file of
each corpus (``--fixit-sample 1`` times it on everything), so the whole run stays near three
minutes on two cores. Rates are lines/s, so a sample measures the same thing.

Usage: python bench/lint_vs_fixit.py [--stdlib-fraction F] [--dense-lines N] [--fixit-sample F]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time
from pathlib import Path

FIXIT_RULE = '''
import libcst as cst
from fixit import LintRule
from libcst.metadata import QualifiedNameProvider

BANNED = {
    "datetime.datetime.now", "datetime.datetime.utcnow", "time.time", "time.sleep",
    "uuid.uuid4", "uuid.uuid1", "random.random", "random.randint", "random.choice",
}


class NondeterministicCall(LintRule):
    """Calls whose result differs on every replay."""

    METADATA_DEPENDENCIES = (QualifiedNameProvider,)
    VALID = []
    INVALID = []

    def visit_Call(self, node: cst.Call) -> None:
        for name in self.get_metadata(QualifiedNameProvider, node.func, set()):
            if name.name in BANNED:
                self.report(node, f"{name.name} is nondeterministic")
'''

_STDLIB_SKIP = {"test", "tests", "idle_test", "site-packages", "__pycache__", "lib2to3"}


def stdlib_files(fraction: float) -> list[Path]:
    """Stdlib ``.py`` files without tests, every ``1/fraction``-th one (sorted, deterministic)."""
    root = Path(sysconfig.get_paths()["stdlib"])
    found: list[Path] = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d for d in dirnames if d not in _STDLIB_SKIP and not d.startswith("test")
        )
        for name in sorted(filenames):
            if name.endswith(".py") and not name.startswith("test_"):
                found.append(Path(directory) / name)
    step = max(1, round(1 / fraction))
    return found[::step]


def _orchestrator(rng: random.Random, index: int, style: str, helper_mod: str) -> str:
    activity = f"step_{index}"
    violation = rng.random()
    extra = ""
    if violation < 0.15:
        extra = "    started = datetime.now()\n"
    elif violation < 0.25:
        extra = "    print('processing', len(items))\n"
    elif violation < 0.3:
        extra = "    token = str(uuid.uuid4())\n"
    ctx = "context" if style == "azure" else "ctx"
    body = f"""
    items = {"context.get_input()" if style == "azure" else "data"} or []
{extra}    results = []
    for item in items:
        if item.get("skip"):
            continue
        value = yield {ctx}.call_activity("{activity}", {helper_mod}.normalize(item))
        results.append(value)
    tasks = [{ctx}.call_activity("{activity}_check", r) for r in results]
    checked = yield {ctx}.task_all(tasks)
    deadline = {ctx}.current_utc_datetime + timedelta(minutes={rng.randint(1, 60)})
    yield {ctx}.create_timer(deadline)
    try:
        summary = yield {ctx}.call_activity("summarize_{index}", checked)
    except Exception as exc:
        summary = {{"error": str(exc)}}
    if not {ctx}.is_replaying:
        log.info("done %s", summary)
    return {{"summary": summary, "count": len(results)}}
"""
    if style == "azure":
        head = (
            f'@my_app.orchestration_trigger(context_name="context")\n'
            f"def orchestrate_{index}(context: adf.DurableOrchestrationContext):"
        )
    elif style == "durabletask":
        head = f"def orchestrate_{index}(ctx: task.OrchestrationContext, data):"
    else:
        head = f"@app.orchestrator\ndef orchestrate_{index}(ctx: df.OrchestrationContext, data):"
    return f"{head}{body}"


def generated_module(seed: int, package: str) -> str:
    """One realistic orchestrator module (~200 lines) in a rotating API style."""
    rng = random.Random(seed)
    style = ("durableflow", "durableflow", "azure", "durabletask")[seed % 4]
    helper_mod = f"helpers_{seed % 5}"
    parts = [
        f'"""Generated orchestrations #{seed} ({style} style)."""\n',
        "import logging\nimport uuid\nfrom datetime import datetime, timedelta\n",
        f"from {package} import {helper_mod}\n",
    ]
    if style == "azure":
        parts.append("import azure.durable_functions as adf\n\nmy_app = adf.DFApp()\n")
    elif style == "durabletask":
        parts.append("from durabletask import task, worker\n")
    else:
        parts.append("import durableflow as df\n\napp = df.App()\n")
    parts.append("log = logging.getLogger(__name__)\n\n")
    for k in range(4):
        parts.append(
            textwrap.dedent(
                f'''
                def activity_{seed}_{k}(item):
                    """An activity: may do anything."""
                    with open("/tmp/out-{k}.txt", "a") as handle:
                        handle.write(str(item))
                    return {{"item": item, "at": datetime.now().isoformat()}}
                '''
            )
        )
    for k in range(5):
        parts.append("\n\n" + _orchestrator(rng, seed * 10 + k, style, helper_mod))
    if style == "durabletask":
        names = ", ".join(f"orchestrate_{seed * 10 + k}" for k in range(5))
        parts.append(
            "\n\ndef run_worker():\n    with worker.TaskHubGrpcWorker() as w:\n"
            f"        for fn in ({names},):\n            w.add_orchestrator(fn)\n"
        )
    return "".join(parts)


def helper_module(index: int) -> str:
    """A helper module the generated orchestrators call into."""
    return textwrap.dedent(
        f'''
        """Helpers #{index}."""
        import json


        def normalize(item):
            """Strip and lower-case the item's name."""
            name = str(item.get("name", "")).strip().lower()
            return {{"name": name, "raw": json.dumps(item, sort_keys=True)}}
        '''
    ).lstrip()


def write_generated(directory: Path, count: int, start: int = 0) -> list[Path]:
    """Write ``count`` orchestrator modules plus helpers into package ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "__init__.py").write_text("")
    for index in range(5):
        (directory / f"helpers_{index}.py").write_text(helper_module(index))
    paths = []
    for seed in range(start, start + count):
        path = directory / f"orchestrations_{seed}.py"
        path.write_text(generated_module(seed, directory.name))
        paths.append(path)
    return paths


def python_files(root: Path) -> list[Path]:
    """All ``.py`` files under ``root``."""
    return sorted(root.rglob("*.py"))


def count_lines(paths: list[Path]) -> int:
    """Total number of lines."""
    return sum(p.read_bytes().count(b"\n") for p in paths)


def bare_parse_seconds(paths: list[Path]) -> float:
    """Seconds to parse every file with LibCST in this process (files that fail are skipped)."""
    import libcst as cst

    sources = [p.read_text(encoding="utf-8", errors="replace") for p in paths]
    start = time.perf_counter()
    for source in sources:
        try:
            cst.parse_module(source)
        except Exception:
            continue
    return time.perf_counter() - start


def timed(cmd: list[str], env: dict[str, str] | None = None, ok: tuple[int, ...] = (0, 1)) -> float:
    """Run a command and return its wall time; fail on an unexpected exit status."""
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in ok:
        raise RuntimeError(f"{cmd[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed


def measure(
    name: str, corpus: Path, jobs: int, work: Path, fixit_sample: float
) -> dict[str, float]:
    """Time bare parsing, durable-lint cold and warm, and Fixit on one corpus.

    Fixit runs on every ``1/fixit_sample``-th file (its rate in lines/s is what is compared; at
    ~300 lines/s on this kind of machine it would take many minutes on the whole corpus).
    """
    files = python_files(corpus)
    lines = count_lines(files)
    step = max(1, round(1 / fixit_sample))
    sample = files[::step]
    sample_lines = count_lines(sample)
    bindir = Path(sys.executable).parent
    cache = work / f"cache-{name}"
    shutil.rmtree(cache, ignore_errors=True)
    lint = [str(bindir / "durable-lint"), "--cache-dir", str(cache), "--jobs", str(jobs)]
    cold = timed([*lint, str(corpus)])
    warm = timed([*lint, str(corpus)])
    env = dict(os.environ, PYTHONPATH=str(work / "fixit_rules"))
    # Fixit exits non-zero when it reports something or cannot parse a file; both are fine here.
    fixit = timed(
        [str(bindir / "fixit"), "--rules", "bench_fixit_rule", "lint", *map(str, sample)],
        env,
        ok=(0, 1, 2, 3),
    )
    parse = bare_parse_seconds(files)
    return {
        "files": len(files),
        "lines": lines,
        "parse": lines / parse,
        "cold": lines / cold,
        "warm": lines / warm,
        "fixit": sample_lines / fixit,
        "fixit_lines": sample_lines,
    }


def main(argv: list[str] | None = None) -> int:
    """Build the corpora, run both tools, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stdlib-fraction", type=float, default=0.5)
    parser.add_argument("--dense-lines", type=int, default=50_000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--fixit-sample", type=float, default=0.15, help="fraction of files Fixit runs on"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lint-bench-") as tmp:
        work = Path(tmp)
        (work / "fixit_rules").mkdir()
        (work / "fixit_rules" / "bench_fixit_rule.py").write_text(FIXIT_RULE)
        realistic = work / "realistic"
        stdlib = stdlib_files(args.stdlib_fraction)
        root = Path(sysconfig.get_paths()["stdlib"])
        for path in stdlib:
            target = realistic / "stdlib" / path.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        write_generated(realistic / "flows", max(1, round(len(stdlib) * 0.02)))
        per_module = generated_module(0, "flows").count("\n")
        dense = work / "dense"
        write_generated(dense / "flows", max(1, args.dense_lines // per_module))
        rows = {
            "(a) stdlib + 2% orchestrators": measure(
                "a", realistic, args.jobs, work, args.fixit_sample
            ),
            "(b) orchestrators only": measure("b", dense, args.jobs, work, args.fixit_sample),
        }
    print(
        f"durable-lint vs fixit (lines/s; {args.jobs} jobs; bare LibCST parse in one process; "
        f"fixit on every {round(1 / args.fixit_sample)}th file)"
    )
    header = (
        f"{'corpus':32} {'files':>6} {'lines':>8} {'parse':>9} {'fixit':>8} {'fx lines':>8} "
        f"{'dl cold':>9} {'dl warm':>10} {'cold/fixit':>10} {'warm/fixit':>10} {'cold/parse':>10}"
    )
    print(header)
    print("-" * len(header))
    for label, r in rows.items():
        print(
            f"{label:32} {r['files']:>6.0f} {r['lines']:>8.0f} {r['parse']:>9.0f} "
            f"{r['fixit']:>8.0f} {r['fixit_lines']:>8.0f} {r['cold']:>9.0f} {r['warm']:>10.0f} "
            f"{r['cold'] / r['fixit']:>9.1f}x {r['warm'] / r['fixit']:>9.1f}x "
            f"{r['cold'] / r['parse']:>9.1f}x"
        )
    a, b = rows["(a) stdlib + 2% orchestrators"], rows["(b) orchestrators only"]
    targets = [
        ("(a) cold >= 10x fixit", a["cold"] >= 10 * a["fixit"]),
        ("(a) cold faster than bare parse", a["cold"] > a["parse"]),
        ("(b) cold >= 3x fixit", b["cold"] >= 3 * b["fixit"]),
        ("(a) warm >= 50x fixit", a["warm"] >= 50 * a["fixit"]),
        ("(b) warm >= 50x fixit", b["warm"] >= 50 * b["fixit"]),
    ]
    for label, met in targets:
        print(f"target {label}: {'met' if met else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
