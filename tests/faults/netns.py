"""Hosts of a test's own on one machine: network namespaces joined by veth pairs to one bridge.

The machine itself (its root namespace) is the bridge's end at ``.1``: a host reaches this
machine's PostgreSQL and Redis there, through ``tests/faults/forwarder.py`` (they listen on
127.0.0.1 only, and the test does not reconfigure them). Each host is a namespace with one veth
link to the bridge; taking the bridge's end of a link down partitions that host from everyone.
A client host runs an asyncio loop in a thread that has entered its namespace, so the test's own
clients connect from there.

Needs root and iproute2; ``Network.unavailable()`` says why a machine cannot make namespaces.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import secrets
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Coroutine
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tests.servers import REPO, ServerProcess

CLONE_NEWNET = 0x40000000
T = TypeVar("T")


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check, timeout=30)


@dataclass
class Network:
    """A bridge ``<tag>br`` on 10.X.Y.0/24 and hosts added with ``add_host``; ``remove()`` undoes all."""

    tag: str = field(default_factory=lambda: f"p{secrets.token_hex(2)}")
    subnet: str = field(default_factory=lambda: f"10.{secrets.randbelow(150) + 100}.{secrets.randbelow(256)}")
    hosts: dict[str, str] = field(default_factory=dict)  # name -> address

    @staticmethod
    def unavailable() -> str | None:
        """Why this machine cannot make network namespaces, or None if it can."""
        if os.geteuid() != 0:
            return "network namespaces need root"
        if shutil.which("ip") is None:
            return "ip (Debian's iproute2) is not installed"
        probe = f"p{secrets.token_hex(3)}"
        made = ip("netns", "add", probe, check=False)
        if made.returncode != 0:
            return f"ip netns add failed: {made.stderr.strip()}"
        ip("netns", "del", probe, check=False)
        return None

    @property
    def gateway(self) -> str:
        """This machine's address on the bridge."""
        return f"{self.subnet}.1"

    def create(self) -> Network:
        bridge = f"{self.tag}br"
        ip("link", "add", bridge, "type", "bridge")
        ip("addr", "add", f"{self.gateway}/24", "dev", bridge)
        ip("link", "set", bridge, "up")
        return self

    def add_host(self, name: str, number: int) -> str:
        """A namespace ``<tag><name>`` at ``subnet.number``, linked to the bridge; its address."""
        namespace, inside, outside = self.namespace(name), f"{self.tag}{name}0", f"{self.tag}{name}1"
        address = f"{self.subnet}.{number}"
        ip("netns", "add", namespace)
        self.hosts[name] = address
        ip("link", "add", inside, "type", "veth", "peer", "name", outside)
        ip("link", "set", inside, "netns", namespace)
        ip("link", "set", outside, "master", f"{self.tag}br", "up")
        ip("-n", namespace, "addr", "add", f"{address}/24", "dev", inside)
        ip("-n", namespace, "link", "set", inside, "up")
        ip("-n", namespace, "link", "set", "lo", "up")
        return address

    def namespace(self, name: str) -> str:
        return f"{self.tag}{name}"

    def partition(self, name: str) -> None:
        """Cut the host off from every other (its link goes down at the bridge)."""
        ip("link", "set", f"{self.tag}{name}1", "down")

    def heal(self, name: str) -> None:
        ip("link", "set", f"{self.tag}{name}1", "up")

    def remove(self) -> None:
        """Delete every namespace and the bridge (the veth pairs go with their namespaces)."""
        for name in self.hosts:
            ip("netns", "del", self.namespace(name), check=False)
        ip("link", "del", f"{self.tag}br", check=False)


@dataclass
class NamespacedServer(ServerProcess):
    """A ServerProcess run inside a host's namespace, listening on the host's address."""

    namespace: str = ""
    address: str = ""

    @property
    def http_url(self) -> str:
        return f"http://{self.address}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.address}:{self.port}"

    def command(self) -> list[str]:
        inside = [self.address if part == "127.0.0.1" else part for part in super().command()]
        return ["ip", "netns", "exec", self.namespace, *inside]

    def start(self) -> NamespacedServer:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.command(), env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.output()[-4000:]}")
            try:
                with socket.create_connection((self.address, self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not listen on {self.address}:{self.port}:\n{self.output()[-4000:]}")


class NamespaceLoop:
    """An asyncio loop in a thread that has entered a network namespace: sockets it opens are the
    namespace's. ``await run(coroutine)`` runs a coroutine there from the test's own loop."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.loop = asyncio.new_event_loop()
        self._ready: Future[None] = Future()
        self._thread = threading.Thread(target=self._main, name=f"netns-{namespace}", daemon=True)
        self._thread.start()
        self._ready.result(timeout=10)

    def _main(self) -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            with open(f"/var/run/netns/{self.namespace}") as handle:
                if libc.setns(handle.fileno(), CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), f"setns into {self.namespace}")
        except BaseException as error:
            self._ready.set_exception(error)
            return
        asyncio.set_event_loop(self.loop)
        self._ready.set_result(None)
        self.loop.run_forever()

    async def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self.loop))

    def close(self) -> None:
        async def cancel_all() -> None:
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        if self.loop.is_running():
            asyncio.run_coroutine_threadsafe(cancel_all(), self.loop).result(timeout=10)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=10)
