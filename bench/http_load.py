"""The async HTTP API under load: durableflow's ``durable serve`` vs DBOS behind Starlette.

``--instances`` (1,000) instances of a three-step workflow are started and polled to
completion by ``--clients`` (50) concurrent HTTP clients, each of which starts one instance
(``POST /api/orchestrators/three_steps`` -> 202 + ``Location``) and polls its status URL
every ``--poll`` seconds until 200, then takes the next. The same load runs against

- durableflow: ``durable serve http_load_apps:app`` on a fresh SQLite file (WAL,
  ``synchronous=FULL``, the default);
- DBOS (PyPI ``dbos``) on a fresh SQLite system database, switched to WAL and the same
  ``synchronous`` level, behind a minimal Starlette app with the same two routes
  (``http_load_dbos.py``), served by uvicorn with the same log level.

Each server is its own process; the clients run in this one (asyncio + httpx). Each system
gets a warm-up of ``--warmup`` instances before the timed run. Printed per system:
instances completed per second (throughput), requests per second, p50/p99 latency of a
single request and of an instance (start to 200), and the error count (any unexpected status
or transport error); then the throughput ratio.

Usage::

    .venv/bin/python bench/http_load.py [--instances 1000] [--clients 50] [--poll 0.05]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


@dataclass
class Result:
    """What one timed run measured."""

    system: str
    instances: int
    wall: float
    requests: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    request_latencies: list[float] = field(default_factory=list)
    instance_latencies: list[float] = field(default_factory=list)
    server_cpu: float = float("nan")

    @property
    def throughput(self) -> float:
        """Instances completed per second."""
        return (self.instances - self.errors) / self.wall

    @property
    def cpu_per_instance(self) -> float:
        """Server CPU milliseconds (user + system, all threads) per instance: steadier than
        wall time on a machine other work shares."""
        return 1000 * self.server_cpu / self.instances

    @property
    def rps(self) -> float:
        """HTTP requests per second."""
        return self.requests / self.wall


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank), in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    """A server process, ready when /healthz answers."""

    def __init__(self, command: list[str], port: int, log: Path, cwd: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self._handle = log.open("wb")
        self.process = subprocess.Popen(
            command, cwd=cwd, stdout=self._handle, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {log.read_text()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server not ready: {log.read_text()}")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server process has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        """SIGTERM and wait."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._handle.close()


async def drive(url: str, instances: int, clients: int, poll: float, system: str) -> Result:
    """Start and poll ``instances`` instances with ``clients`` concurrent clients."""
    result = Result(system, instances, 0.0)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(instances):
        queue.put_nowait(i)
    # One connection per client, each in its own pool: httpx scans every connection of a
    # pool on each request, so one shared pool of 50 spends more CPU in this process than
    # the servers under test do, and on two cores the load generator becomes the bottleneck.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)

    async def timed(client: httpx.AsyncClient, target: str) -> int:
        """GET ``target``: its status code, or -1 for a transport error."""
        t0 = time.perf_counter()
        result.requests += 1
        try:
            response = await client.get(target)
        except httpx.HTTPError as exc:
            note(f"GET: {type(exc).__name__}: {exc}")
            return -1
        result.request_latencies.append(time.perf_counter() - t0)
        if response.status_code not in (200, 202):
            note(f"GET {response.status_code}: {response.text[:200]}")
        return response.status_code

    def note(text: str) -> None:
        if len(result.error_samples) < 5:
            result.error_samples.append(text)

    async def worker(client: httpx.AsyncClient) -> None:
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            t0 = time.perf_counter()
            result.requests += 1
            try:
                start = await client.post("/api/orchestrators/three_steps", json=i)
            except httpx.HTTPError as exc:
                note(f"POST: {type(exc).__name__}: {exc}")
                result.errors += 1
                continue
            result.request_latencies.append(time.perf_counter() - t0)
            location = start.headers.get("location")
            if start.status_code != 202 or not location:
                note(f"POST {start.status_code}: {start.text[:200]}")
                result.errors += 1
                continue
            while True:
                await asyncio.sleep(poll)
                code = await timed(client, location)
                if code == 200:
                    result.instance_latencies.append(time.perf_counter() - t0)
                    break
                if code != 202:
                    result.errors += 1
                    break

    pool = [httpx.AsyncClient(base_url=url, limits=limits, timeout=60) for _ in range(clients)]
    try:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(client) for client in pool))
        result.wall = time.perf_counter() - t0
    finally:
        for client in pool:
            await client.aclose()
    return result


def run_system(
    name: str, command: list[str], port: int, workdir: Path, args: argparse.Namespace
) -> Result:
    """Start the server, warm it up, time one run, stop it."""
    server = Server(command, port, workdir / f"{name}.log", HERE)
    try:
        asyncio.run(drive(server.url, args.warmup, args.clients, args.poll, name))
        cpu = server.cpu_seconds()
        result = asyncio.run(drive(server.url, args.instances, args.clients, args.poll, name))
        result.server_cpu = server.cpu_seconds() - cpu
        return result
    finally:
        server.stop()


def main() -> int:
    """Run both systems and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--poll", type=float, default=0.05, help="seconds between polls")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--synchronous", default="FULL")
    parser.add_argument("--dir", help="where the database files go (default: a temp dir)")
    parser.add_argument("--skip-dbos", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        workdir = Path(tmp)
        results: list[Result] = []
        port = free_port()
        durable = [
            sys.executable, "-m", "durableflow.cli", "serve", "http_load_apps:app",
            "--store", f"sqlite:///{workdir / 'durableflow.db'}?synchronous={args.synchronous}",
            "--port", str(port), "--log-level", "warning", "--no-compile",
        ]  # fmt: skip
        results.append(run_system("durableflow", durable, port, workdir, args))
        if not args.skip_dbos:
            port = free_port()
            dbos = [
                sys.executable, str(HERE / "http_load_dbos.py"), "--db",
                str(workdir / "dbos.db"), "--port", str(port),
                "--synchronous", args.synchronous,
            ]  # fmt: skip
            try:
                results.append(run_system("DBOS", dbos, port, workdir, args))
            except RuntimeError as exc:
                print(f"DBOS could not run: {exc}", file=sys.stderr)
    print(
        f"{args.instances} instances x 3 steps, {args.clients} clients, poll every "
        f"{args.poll}s, synchronous={args.synchronous}, {os.cpu_count()} CPUs"
    )
    print(
        "| system | instances/s | requests/s | request p50 ms | request p99 ms "
        "| instance p50 ms | instance p99 ms | server CPU ms/instance | errors |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(
            f"| {r.system} | {r.throughput:.1f} | {r.rps:.1f} | {pct(r.request_latencies, 50):.1f}"
            f" | {pct(r.request_latencies, 99):.1f} | {pct(r.instance_latencies, 50):.1f}"
            f" | {pct(r.instance_latencies, 99):.1f} | {r.cpu_per_instance:.2f} | {r.errors} |"
        )
    for r in results:
        for sample in r.error_samples:
            print(f"{r.system} error: {sample}")
    if len(results) == 2:
        ratio = results[0].throughput / results[1].throughput
        print(f"throughput ratio durableflow / DBOS: {ratio:.2f}x")
    return 1 if any(r.errors for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
