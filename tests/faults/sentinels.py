"""A Redis master, a replica and three Sentinels of a test's own, on free ports of 127.0.0.1.

Debian's redis-server and redis-sentinel (``make system-packages`` installs them), each in the
foreground as a child of the test, with no persistence and a working directory under the test's
temporary folder. The sentinels take a master for down after one second without an answer and
need two of three to agree, so a SIGKILLed master is replaced within a few seconds.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import redis

from tests.servers import free_port

SERVICE = "parley"
DOWN_AFTER_MS = 1000


class SentinelGroup:
    """Start with ``start()``; ``url(db)`` names the master through the sentinels; ``stop()`` ends all."""

    def __init__(self, directory: Path, *, password: str = "", sentinel_password: str = "") -> None:
        """``password``: the master's and replica's; ``sentinel_password``: the sentinels' own."""
        self.directory = directory
        self.password = password
        self.sentinel_password = sentinel_password
        self.ports = {"master": free_port(), "replica": free_port()}
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None and shutil.which("redis-sentinel") is not None

    def url(self, db: int) -> str:
        sentinels = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        credentials = f":{quote(self.password, safe='')}@" if self.password else ""
        query = f"?sentinel_password={quote(self.sentinel_password, safe='')}" if self.sentinel_password else ""
        return f"redis+sentinel://{credentials}{sentinels}/{SERVICE}/{db}{query}"

    def start(self, timeout: float = 20.0) -> SentinelGroup:
        self._redis("master")
        self._redis("replica", "--replicaof", "127.0.0.1", str(self.ports["master"]))
        for index, port in enumerate(self.sentinel_ports):
            self._sentinel(index, port)
        self._wait(self._ready, timeout, "the replica and the sentinels did not find each other")
        return self

    def master_port(self) -> int | None:
        """The master's port as the first sentinel that answers says, None while none names one."""
        for port in self.sentinel_ports:
            try:
                with self._sentinel_client(port) as sentinel:
                    address = sentinel.sentinel_get_master_addr_by_name(SERVICE)
            except redis.RedisError:
                continue
            if address:
                return int(address[1])
        return None

    def kill_master(self) -> None:
        """SIGKILL the master, as a crash of its machine would."""
        self.processes["master"].kill()
        self.processes["master"].wait(timeout=10)

    def wait_promoted(self, timeout: float = 30.0) -> float:
        """Wait until the sentinels name the replica as master; the time.monotonic() they did."""
        self._wait(
            lambda: self.master_port() == self.ports["replica"] and self._replica_is_master(), timeout, "no failover"
        )
        return time.monotonic()

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text()[-2000:]}" for path in sorted(self.directory.glob("*.log"))
        )

    def _sentinel_client(self, port: int) -> redis.Redis:
        return redis.Redis(port=port, password=self.sentinel_password or None, socket_timeout=0.5)

    def _redis(self, name: str, *extra: str) -> None:
        if self.password:
            extra = (*extra, "--requirepass", self.password, "--masterauth", self.password)
        port = self.ports[name]
        workdir = self.directory / name
        workdir.mkdir(parents=True, exist_ok=True)
        command = [
            "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(workdir), "--logfile", str(self.directory / f"{name}.log"), *extra,
        ]  # fmt: skip
        self.processes[name] = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

    def _sentinel(self, index: int, port: int) -> None:
        config = self.directory / f"sentinel-{index}.conf"
        config.write_text(
            f"port {port}\nbind 127.0.0.1\ndir {self.directory}\n"
            f"logfile {self.directory / f'sentinel-{index}.log'}\n"
            f"sentinel monitor {SERVICE} 127.0.0.1 {self.ports['master']} 2\n"
            f"sentinel down-after-milliseconds {SERVICE} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {SERVICE} 10000\n"
            f"sentinel parallel-syncs {SERVICE} 1\n"
            + (f"sentinel auth-pass {SERVICE} {self.password}\n" if self.password else "")
            + (
                f"requirepass {self.sentinel_password}\nsentinel sentinel-pass {self.sentinel_password}\n"
                if self.sentinel_password
                else ""
            )
        )
        self.processes[f"sentinel-{index}"] = subprocess.Popen(
            ["redis-sentinel", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )

    def _ready(self) -> bool:
        try:
            with redis.Redis(port=self.ports["replica"], password=self.password or None, socket_timeout=0.5) as replica:
                if replica.info("replication").get("master_link_status") != "up":
                    return False
            for port in self.sentinel_ports:
                with self._sentinel_client(port) as sentinel:
                    if len(sentinel.sentinel_slaves(SERVICE)) < 1 or len(sentinel.sentinel_sentinels(SERVICE)) < 2:
                        return False
        except redis.RedisError:
            return False
        return True

    def _replica_is_master(self) -> bool:
        try:
            with redis.Redis(port=self.ports["replica"], password=self.password or None, socket_timeout=0.5) as replica:
                return replica.info("replication").get("role") == "master"
        except redis.RedisError:
            return False

    def _wait(self, condition, timeout: float, failure: str) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while not condition():
            for name, process in self.processes.items():
                if process.poll() is not None and not (name == "master" and process.returncode < 0):
                    raise RuntimeError(f"{name} exited with {process.returncode}:\n{self.logs()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{failure} within {timeout} s:\n{self.logs()}")
            time.sleep(0.05)
