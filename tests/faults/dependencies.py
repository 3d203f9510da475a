"""Stop and start this machine's PostgreSQL and Redis, as an outage would, and wait until they answer.

Only fault tests call these. Every caller restarts what it stopped in a ``finally``: others run
tests on this machine too, so an outage lasts a few seconds and always ends.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import redis

from conftest import port_open

REDIS_SERVER = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "",
    "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log",
]  # fmt: skip


def postgres_cluster() -> list[str]:
    """The ``pg_ctlcluster`` arguments naming this machine's one cluster."""
    (version,) = sorted(path.name for path in Path("/etc/postgresql").iterdir())
    return ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main"]


def postgres_stop() -> None:
    """Stop PostgreSQL at once (``-m fast``: sessions are ended, transactions rolled back)."""
    subprocess.run([*postgres_cluster(), "stop", "-m", "fast"], check=True, capture_output=True, timeout=60)


def postgres_start(timeout: float = 60.0) -> None:
    """Start PostgreSQL if it is down, and wait until ``pg_isready`` says it accepts connections."""
    if not postgres_ready():
        subprocess.run([*postgres_cluster(), "start"], check=False, capture_output=True, timeout=timeout)
    wait_until(postgres_ready, "PostgreSQL did not come back", timeout, 0.2)


def wait_until(ready: Callable[[], bool], failure: str, timeout: float, interval: float) -> None:
    """Poll ``ready`` until it holds, or raise ``failure`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{failure} within {timeout} s")
        time.sleep(interval)


def postgres_ready() -> bool:
    return subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"], check=False, timeout=30).returncode == 0


def redis_stop() -> None:
    """Stop Redis without saving: when it starts again it holds nothing."""
    subprocess.run(["redis-cli", "shutdown", "nosave"], check=False, capture_output=True, timeout=30)
    wait_until(lambda: not port_open("127.0.0.1", 6379), "Redis did not stop", 30.0, 0.05)


def redis_start(timeout: float = 30.0) -> None:
    """Start Redis if it is down, and wait until it answers PING."""
    if not port_open("127.0.0.1", 6379):
        subprocess.run(REDIS_SERVER, check=False, capture_output=True, timeout=timeout)
    wait_until(redis_ready, "Redis did not come back", timeout, 0.05)


def redis_ready() -> bool:
    try:
        with redis.Redis(host="127.0.0.1", port=6379, socket_timeout=1) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False
