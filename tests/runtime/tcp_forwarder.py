"""A TCP forwarder on a thread: listens on given addresses, pipes each connection to one
target (PostgreSQL listens on loopback only, simulated hosts reach it through this).

It is deliberately dumb, like a network: when a simulated host's link is cut it notices
nothing, so the server side of that host's connections stays open, exactly as a server
behind a pulled cable sees it until its own timeouts fire.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Sequence


class TcpForwarder:
    """Forward ``listen`` addresses (port 0: any free port) to ``target``.

    Use as a context manager; :attr:`ports` maps each listening host to its port once
    started, and :attr:`upstream_ports` each listening host to the local ports of the
    connections made to the target for it (the ``client_port`` a server sees), and
    :attr:`received` how many bytes came in on each.
    """

    def __init__(self, listen: Sequence[str], target: tuple[str, int]) -> None:
        self.listen = list(listen)
        self.target = target
        self.ports: dict[str, int] = {}
        self.upstream_ports: dict[str, set[int]] = {host: set() for host in self.listen}
        self.received: dict[str, int] = dict.fromkeys(self.listen, 0)
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._servers: list[asyncio.Server] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def __enter__(self) -> TcpForwarder:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> None:
        for host in self.listen:
            server = await asyncio.start_server(self._serve, host, 0)
            self.ports[host] = server.sockets[0].getsockname()[1]
            self._servers.append(server)

    async def _stop(self) -> None:
        for server in self._servers:
            server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        listener = writer.get_extra_info("sockname")[0]
        self.upstream_ports.setdefault(listener, set()).add(up_writer.get_extra_info("sockname")[1])
        both = [
            asyncio.ensure_future(_pipe(reader, up_writer, self.received, listener)),
            asyncio.ensure_future(_pipe(up_reader, writer)),
        ]
        self._tasks.update(both)
        try:
            await asyncio.wait(both, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in both:
                task.cancel()
                self._tasks.discard(task)
            for w in (writer, up_writer):
                w.close()


async def _pipe(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    counts: dict[str, int] | None = None,
    key: str = "",
) -> None:
    with contextlib.suppress(ConnectionError, asyncio.CancelledError):
        while data := await reader.read(65536):
            if counts is not None:
                counts[key] = counts.get(key, 0) + len(data)
            writer.write(data)
            await writer.drain()
