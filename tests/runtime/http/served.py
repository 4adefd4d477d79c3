"""`durable serve` as a subprocess for tests: a free port, readiness polled with a deadline,
and SIGTERM at the end."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

REPO = Path(__file__).resolve().parents[3]
APP = "tests.runtime.http.apps:app"
BASE = "/runtime/webhooks/durabletask"


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Served:
    """One running `durable serve` process."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path
    store: str
    extra: list[str] = field(default_factory=list)

    def client(self, **kw: object) -> httpx.Client:
        """An HTTP client for this server."""
        return httpx.Client(base_url=self.url, timeout=30, **kw)  # type: ignore[arg-type]

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM, then wait for the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            message = f"durable serve did not stop within {timeout}s:\n{self.output()}"
            raise AssertionError(message) from None

    def output(self) -> str:
        """What the server printed so far."""
        return self.log.read_text(errors="replace")


def start_server(
    tmp: Path,
    *args: str,
    store: str | None = None,
    env: dict[str, str] | None = None,
    deadline: float = 60.0,
    app: str = APP,
) -> Served:
    """Start `durable serve APP` on a free port and wait until /healthz answers."""
    port = free_port()
    store = store or f"sqlite:///{tmp / 'served.db'}"
    log = tmp / f"serve-{port}.log"
    command = [
        sys.executable,
        "-m",
        "durableflow.cli",
        "serve",
        app,
        "--store",
        store,
        "--port",
        str(port),
        "--log-level",
        "warning",
        *args,
    ]
    handle = log.open("wb")
    process = subprocess.Popen(
        command,
        cwd=REPO,
        stdout=handle,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )
    served = Served(process, f"http://127.0.0.1:{port}", log, store)
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if process.poll() is not None:
            raise AssertionError(
                f"durable serve exited with {process.returncode}:\n{served.output()}"
            )
        try:
            if httpx.get(served.url + "/healthz", timeout=1).status_code == 200:
                return served
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    served.stop()
    raise AssertionError(f"durable serve was not ready within {deadline}s:\n{served.output()}")


def wait_for_status(
    http: httpx.Client, iid: str, wanted: str, deadline: float = 30.0
) -> dict[str, object]:
    """Poll the status URL until the instance's runtimeStatus is ``wanted``."""
    end = time.monotonic() + deadline
    body: dict[str, object] = {}
    while time.monotonic() < end:
        response = http.get(f"{BASE}/instances/{iid}")
        body = response.json()
        if body.get("runtimeStatus") == wanted:
            return body
        time.sleep(0.02)
    raise AssertionError(f"instance {iid} is {body.get('runtimeStatus')}, not {wanted}")


@contextlib.contextmanager
def serve_in_thread(asgi: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a thread of this process; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(asgi, port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    end = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > end or not thread.is_alive():
            raise AssertionError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(60)
