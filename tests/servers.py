"""Real Parley server processes for end-to-end and browser tests.

A test starts Daphne, Uvicorn or Gunicorn exactly as a deployment would (``config.asgi:application``), on a
free port of 127.0.0.1, with its own database and channel layer named by environment variables,
and talks to it over real sockets.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The example project: ``config`` (the site) and ``orders`` (the demo shop) import from here.
EXAMPLE = REPO / "example"
BIN = Path(sys.executable).parent


def shared_tools() -> Path:
    """Where the reference tools (the article's tutorial app, the bare WebSocket server) are.

    ``PARLEY_SHARED_TOOLS`` when set; else ``../shared/tools`` beside the repository; else beside
    the checkout this one was cloned from (a fresh clone in a temporary folder, as CI makes).
    """
    if os.environ.get("PARLEY_SHARED_TOOLS"):
        return Path(os.environ["PARLEY_SHARED_TOOLS"])
    beside = REPO.parent / "shared" / "tools"
    if beside.exists():
        return beside
    origin = subprocess.run(
        ["git", "-C", str(REPO), "remote", "get-url", "origin"], capture_output=True, text=True, check=False
    ).stdout.strip()
    if origin and Path(origin).is_dir():
        cloned_from = Path(origin).resolve().parent / "shared" / "tools"
        if cloned_from.exists():
            return cloned_from
    return beside


SHARED_TOOLS = shared_tools()
GUNICORN_CONFIG = REPO / "deploy" / "gunicorn.conf.py"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_listening(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30.0) -> None:
    """Block until the server accepts TCP connections, or fail with its log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not listen on {port} within {timeout}s:\n{log.read_text()[-4000:]}")


def wait_until_answering(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30.0) -> None:
    """Block until the server answers an HTTP request (any status), or fail with its log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
        finally:
            connection.close()
    raise RuntimeError(f"server did not answer on {port} within {timeout}s:\n{log.read_text()[-4000:]}")


# Load generators (bench/) and fault tests (tests/faults/) drive hundreds of sockets and sends from
# one address and a few tokens, far over the default rate limits on purpose: what they measure is
# speed and delivery, so their servers run with every limit off. tests/realtime/test_rate_limits.py
# and tests/e2e/test_rate_limits_redis.py test the limits themselves.
NO_RATE_LIMITS = {
    name: "0"
    for name in (
        "PARLEY_SEND_RATE", "PARLEY_SUBSCRIBE_RATE", "PARLEY_HISTORY_RATE", "PARLEY_FRAME_RATE", "PARLEY_API_RATE",
        "PARLEY_HANDSHAKE_RATE",
    )
}  # fmt: skip


def server_env(**overrides: str) -> dict[str, str]:
    """The environment a test server runs with: production-like settings plus ``overrides``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_SECRET_KEY": "parley-e2e-secret-key-not-for-production",
            "DJANGO_DEBUG": "0",
            "PARLEY_GUESTS": "1",
            "CHANNEL_LAYER_URL": "memory://",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": example_pythonpath(os.environ.get("PYTHONPATH", "")),
        }
    )
    env.update(overrides)
    return env


def example_pythonpath(existing: str = "") -> str:
    """``PYTHONPATH`` for a server or command of the example site: ``example/`` first."""
    return os.pathsep.join(part for part in (str(EXAMPLE), existing) if part)


def manage(env: dict[str, str], *args: str) -> str:
    """Run ``manage.py`` with ``env`` and return its standard output."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


@dataclass
class ServerProcess:
    """One Daphne, Uvicorn or Gunicorn (with Uvicorn workers) server of ``config.asgi:application``."""

    env: dict[str, str]
    log: Path
    kind: str = "daphne"
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        if self.kind == "daphne":
            return [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(self.port), "config.asgi:application"]
        if self.kind == "uvicorn":
            # As the README runs it: Parley's protocol closes requests whose header comes too slowly,
            # and permessage-deflate is declined (bench/: it doubles a socket's memory).
            return [
                str(BIN / "uvicorn"), "config.asgi:application", "--host", "127.0.0.1",
                "--port", str(self.port), "--no-access-log", "--http", "parley.ops.servers:HeaderTimeoutProtocol",
                "--ws-per-message-deflate", "false",
            ]  # fmt: skip
        if self.kind == "gunicorn":
            # The production configuration (Uvicorn workers, Parley's log format), with two workers
            # so that sockets on one port are spread over two processes, and a graceful timeout
            # that ends within stop()'s wait.
            return [
                str(BIN / "gunicorn"), "-c", str(GUNICORN_CONFIG), "config.asgi:application",
                "-w", "2", "--graceful-timeout", "5", "-b", f"127.0.0.1:{self.port}",
            ]  # fmt: skip
        raise ValueError(f"unknown server kind {self.kind!r}")

    def start(self) -> ServerProcess:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.command(), cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        wait_until_listening(self.port, self.proc, self.log)
        if self.kind == "gunicorn":
            # Gunicorn's master listens before any worker has loaded the application.
            wait_until_answering(self.port, self.proc, self.log)
        return self

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), then kill if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def kill(self) -> None:
        """Kill with SIGKILL, as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")
