"""Run the README's code blocks in order, as a reader following it would.

Every fenced ``python`` and ``sh`` block runs in one folder, top to bottom, so a block sees
what the blocks above it made (``myapp.py``, ``durable.db``). A python block whose first
line is ``# NAME.py`` is saved as NAME.py and run as ``python NAME.py``; any other python
block runs as a script on standard input. An sh block runs in ``bash -euo pipefail``, so any
failing command fails it; whatever it left running in the background is stopped after it.
A block preceded by ``<!-- readme-test: skip - REASON -->`` is not run.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

RUNNABLE = ("python", "sh")
_FENCE = re.compile(r"^```(\w*)\s*$")
_SKIP = re.compile(r"^<!--\s*readme-test:\s*skip\s*-\s*(.+?)\s*-->\s*$")
_FILE_NAME = re.compile(r"^#\s*([\w/.-]+\.py)\s*$")


@dataclass(frozen=True, slots=True)
class Block:
    """One fenced code block: its language, text, opening line and skip reason if any."""

    lang: str
    text: str
    line: int
    skip: str | None = None


class BlockFailed(AssertionError):
    """A README block exited non-zero; the message shows the block and its output."""


def blocks(markdown: str) -> list[Block]:
    """Every fenced block of ``markdown``, in order."""
    found: list[Block] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        start = i
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i])
            i += 1
        marker = _SKIP.match(lines[start - 1]) if start > 0 else None
        skip = marker.group(1) if marker else None
        found.append(Block(match.group(1), "\n".join(body) + "\n", start + 1, skip))
        i += 1
    return found


def run_block(block: Block, folder: Path, env: dict[str, str], timeout: float = 180) -> str:
    """Run one block in ``folder``; its combined output. Raises BlockFailed if it fails."""
    if block.lang == "python":
        first = block.text.splitlines()[0] if block.text.strip() else ""
        name = _FILE_NAME.match(first)
        if name is not None:
            (folder / name.group(1)).write_text(block.text, encoding="utf-8")
            argv, stdin = [sys.executable, name.group(1)], None
        else:
            argv, stdin = [sys.executable, "-"], block.text
    elif block.lang == "sh":
        argv, stdin = ["bash", "-euo", "pipefail", "-c", block.text], None
    else:
        raise ValueError(f"README line {block.line}: cannot run a {block.lang!r} block")
    # Output goes to a file, not a pipe: a background job that inherits the pipe would keep
    # it open, and reading it to the end would wait for that job.
    with tempfile.TemporaryFile("w+", encoding="utf-8") as out:
        proc = subprocess.Popen(
            argv,
            cwd=folder,
            env=env,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group, so background jobs can be stopped
        )
        try:
            proc.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            out.write(f"\n(killed after {timeout}s)")
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        out.seek(0)
        output = out.read()
    if proc.returncode != 0:
        raise BlockFailed(
            f"README block at line {block.line} ({block.lang}) exited {proc.returncode}:\n"
            f"{block.text}\n--- output ---\n{output}"
        )
    return output


def run_session(markdown: str, folder: Path, env: dict[str, str]) -> list[Block]:
    """Run every runnable, unskipped block of ``markdown`` in order; the blocks run."""
    ran = []
    for block in blocks(markdown):
        if block.lang in RUNNABLE and block.skip is None:
            run_block(block, folder, env)
            ran.append(block)
    return ran


def session_env() -> dict[str, str]:
    """The environment of a reader with durableflow installed: this venv's ``durable``
    first on PATH, and no store chosen by the environment."""
    env = {k: v for k, v in os.environ.items() if k != "DURABLEFLOW_STORE"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTHONPATH", None)
    return env
