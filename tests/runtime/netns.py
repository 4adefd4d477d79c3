"""Simulated hosts for tests: network namespaces joined to this one by veth pairs.

Each :class:`SimulatedHost` is a namespace with one veth pair: ``10.77.N.2/30`` inside,
``10.77.N.1/30`` on this side, and no other route, so what runs inside reaches only the
host side's address (where a test listens, e.g. with :mod:`tests.runtime.tcp_forwarder`).
Cutting the link (``ip link set ... down`` on this side) silences it both ways: packets
are dropped, not refused, as when a cable is pulled, so connections hang and resume.

Names carry a per-run suffix and are removed by :func:`remove` (the namespace takes its
end of the pair with it), so runs side by side and runs that crashed do not collide.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import subprocess
import uuid
from dataclasses import dataclass

SUBNET = "10.77"


class NamespacesUnavailable(Exception):
    """This machine cannot make network namespaces (not root, no ``ip``, no permission)."""


def ip(*args: str) -> str:
    """Run ``ip ARGS``; its output (raises ``CalledProcessError`` with stderr on failure)."""
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        cmd = ["ip", *args]
        raise subprocess.CalledProcessError(done.returncode, cmd, done.stdout, done.stderr)
    return done.stdout


def check_available() -> None:
    """Raise :class:`NamespacesUnavailable`, saying why, where hosts cannot be made."""
    if shutil.which("ip") is None:
        raise NamespacesUnavailable("the `ip` command (Debian: iproute2) is not installed")
    if os.geteuid() != 0:
        raise NamespacesUnavailable("creating network namespaces needs root")


@dataclass
class SimulatedHost:
    """One namespace and its veth pair (see the module doc)."""

    namespace: str
    outer: str  # this side's end of the pair
    inner: str  # the namespace's end
    subnet: int  # N of 10.77.N.0/30

    @property
    def gateway(self) -> str:
        """This side's address: what programs inside connect to."""
        return f"{SUBNET}.{self.subnet}.1"

    @property
    def address(self) -> str:
        """The namespace's own address."""
        return f"{SUBNET}.{self.subnet}.2"

    def exec_prefix(self) -> list[str]:
        """The command prefix that runs a program inside the namespace."""
        return ["ip", "netns", "exec", self.namespace]

    def cut(self) -> None:
        """Take the link down: nothing gets in or out until :meth:`restore`."""
        ip("link", "set", self.outer, "down")

    def restore(self) -> None:
        """Bring the link back up."""
        ip("link", "set", self.outer, "up")


def _free_subnet(rng: random.Random) -> int:
    used = ip("-o", "-4", "addr", "show")
    for _ in range(200):
        n = rng.randrange(1, 255)
        if f" {SUBNET}.{n}." not in used:
            return n
    raise NamespacesUnavailable(f"no free {SUBNET}.N.0/30 subnet")


def create(label: str) -> SimulatedHost:
    """Make one simulated host; ``label`` is a letter or two to tell hosts apart.

    Raises:
        NamespacesUnavailable: this machine cannot (see :func:`check_available`), or
            ``ip netns add`` was refused.
    """
    check_available()
    tag = uuid.uuid4().hex[:6]
    host = SimulatedHost(
        namespace=f"dfhost-{tag}{label}",
        outer=f"dfo{tag}{label}",
        inner=f"dfi{tag}{label}",
        subnet=_free_subnet(random.Random()),
    )
    try:
        ip("netns", "add", host.namespace)
    except subprocess.CalledProcessError as err:
        raise NamespacesUnavailable(f"`ip netns add` failed: {err.stderr.strip()}") from err
    try:
        ip("link", "add", host.outer, "type", "veth", "peer", "name", host.inner)
        ip("link", "set", host.inner, "netns", host.namespace)
        ip("addr", "add", f"{host.gateway}/30", "dev", host.outer)
        ip("link", "set", host.outer, "up")
        inside = ["-n", host.namespace]
        ip(*inside, "addr", "add", f"{host.address}/30", "dev", host.inner)
        ip(*inside, "link", "set", host.inner, "up")
        ip(*inside, "link", "set", "lo", "up")
    except BaseException:
        remove(host)
        raise
    return host


def remove(host: SimulatedHost) -> None:
    """Delete the namespace and the pair (never raises: this runs in finalizers)."""
    for args in (("netns", "del", host.namespace), ("link", "del", host.outer)):
        # Already gone is fine: deleting the namespace deletes the pair.
        with contextlib.suppress(subprocess.CalledProcessError, OSError, subprocess.TimeoutExpired):
            ip(*args)
