"""Bad input to the real ``durable`` executable: a message and an exit code, no traceback.

Exit 2 when the command line is malformed (it is fixed by retyping it), exit 1 when a
well-formed command fails (a file, store, instance or module that does not exist).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import durableflow as df

DURABLE = str(Path(sys.executable).with_name("durable"))
REPO = Path(__file__).resolve().parents[2]

APP_SOURCE = """
import durableflow as df

app = df.App()


@app.activity
def double(x):
    return 2 * x


@app.orchestrator
def doubler(ctx, x):
    return (yield ctx.call_activity(double, x))
"""

# (arguments, exit code, text the message must contain); run in a folder holding flows.py,
# a store durable.db with instance "known", and its exported history known.json.
CASES = [
    (["compile", "nosuch.py"], 1, "cannot read nosuch.py: No such file"),
    (["graph", "nosuch.py"], 1, "cannot read nosuch.py"),
    (["graph", "nosuch.json"], 1, "nosuch.json"),
    (["graph", "flows.py", "-o", "out.jpg"], 2, "cannot tell the format of out.jpg"),
    (["diff", "a.json", "b.json"], 1, "a.json"),
    (["worker", "./nosuch.py:app"], 1, "nosuch.py is not a Python file"),
    (["worker", "nosuch_module:app"], 1, "cannot import 'nosuch_module'"),
    (["worker", "flows.py"], 2, "APP must look like module:attribute"),
    (["worker", "flows:nothing"], 1, "flows.nothing is nothing"),
    (["worker", "flows:app", "--graphs", "nodir"], 1, "--graphs nodir: no such directory"),
    (["worker", ".flows:app"], 2, "does not name a module"),
    (["start", "doubler", "--input", "{bad"], 2, "--input is not valid JSON"),
    (["start", "doubler", "--input", "@nosuch.json"], 1, "cannot read --input from nosuch"),
    (["start", "doubler", "--input", "@flows.py"], 2, "--input (flows.py) is not valid JSON"),
    (["start", "doubler", "--id", "bad\x01id"], 1, "instance id"),
    (["raise-event", "known", "go", "{bad"], 2, "event data is not valid JSON"),
    (["raise-event", "nosuch", "go"], 1, "nosuch"),
    (["status", "nosuch"], 1, "no instance with id 'nosuch'"),
    (["history", "nosuch"], 1, "nosuch"),
    (["terminate", "nosuch"], 1, "nosuch"),
    (["suspend", "known"], 1, "already COMPLETED"),
    (["purge", "nosuch"], 1, "no instance with id 'nosuch'"),
    (["list", "--status", "done"], 2, "unknown runtime status 'done'"),
    (["list", "--created-from", "2026-13-45"], 2, "is not a date or datetime"),
    (["list", "--limit", "many"], 2, "invalid int value"),
    (["replay", "nosuch.json", "--app", "flows:app"], 1, "cannot read nosuch.json"),
    (["replay", "known.json", "--app", "nosuch_module:app"], 1, "cannot import"),
    (["replay", "known.json", "--app", "examples.saga:app"], 1, "doubler"),
    (["replay", "flows.py", "--app", "flows:app"], 1, "flows.py"),
    (["replay", "nosuch", "--app", "flows:app"], 1, "neither a history file nor an instance"),
    (["run", "nosuch.json", "--app", "flows:app"], 1, "nosuch.json"),
    (["status", "known", "--store", "durable.db"], 1, "did you mean sqlite:///durable.db"),
    (["status", "known", "--store", "postgres://u:pw@127.0.0.1:1/db"], 1, "u:***@127.0.0.1:1"),
    (["status", "known", "--store", "sqlite://durable.db"], 1, "three slashes"),
    (["frobnicate"], 2, "invalid choice: 'frobnicate'"),
    ([], 2, "the following arguments are required: COMMAND"),
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli-errors")
    (root / "flows.py").write_text(APP_SOURCE)
    sys.path.insert(0, str(root))
    try:
        from flows import app  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(root))
    url = f"sqlite:///{root / 'durable.db'}"
    with df.Runtime(app, url) as rt:
        rt.client.start_new("doubler", input=2, instance_id="known")
        rt.client.wait_for_completion("known", timeout=30)
        (root / "known.json").write_text(rt.client.get_history("known").to_json())
    return root


def durable(folder: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(Path(DURABLE).parent), "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [DURABLE, *argv], cwd=folder, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("argv", "code", "message"), CASES, ids=[" ".join(c[0]) or "(nothing)" for c in CASES]
)
def test_bad_input_gets_a_message_and_an_exit_code(
    folder: Path, argv: list[str], code: int, message: str
) -> None:
    done = durable(folder, *argv)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == code, done.stderr
    assert message in done.stderr
    assert done.stdout == ""


def test_a_closed_output_pipe_ends_the_command_quietly(folder: Path) -> None:
    url = f"sqlite:///{folder / 'many.db'}?synchronous=OFF"
    client = df.Client(url)
    for i in range(400):  # enough JSON to overflow a pipe's buffer
        client.start_new("doubler", input=i, instance_id=f"many-{i:04}")
    env = {"PATH": str(Path(DURABLE).parent), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [DURABLE, "list", "--json", "--limit", "1000", "--store", url],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(10) == b"[\n  {\n    "
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141 and err == ""


def test_list_json_is_valid_json_listing_every_instance(folder: Path) -> None:
    done = durable(folder, "list", "--json")
    assert done.returncode == 0 and [s["instance_id"] for s in json.loads(done.stdout)] == ["known"]
