"""A real Parley server for the Python client's tests, that can crash and come back on its port.

The client's promise is about what happens across a server's death: the tests kill the process
with SIGKILL and start a new one on the same SQLite database and the same port, as a supervisor
would, so that the client reconnects to the address it knows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e.site import SeededUser
from tests.servers import ServerProcess


@dataclass
class RestartableServer:
    """One Uvicorn server of a seeded site, restartable on its port."""

    env: dict[str, str]
    users: dict[str, SeededUser]
    logs: Path
    port: int
    processes: list[ServerProcess] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The socket address clients connect to."""
        return f"ws://127.0.0.1:{self.port}/ws/"

    @property
    def running(self) -> bool:
        return bool(self.processes) and self.processes[-1].proc is not None and self.processes[-1].proc.poll() is None

    def start(self) -> None:
        """Start a new process on the same port and database."""
        log = self.logs / f"server-{self.port}-{len(self.processes)}.log"
        server = ServerProcess(env=self.env, log=log, kind="uvicorn", port=self.port)
        self.processes.append(server)
        server.start()

    def ensure_running(self) -> None:
        if not self.running:
            self.start()

    def kill(self) -> None:
        """SIGKILL the process, as a crash would: no close frames, nothing flushed."""
        self.processes[-1].kill()

    def stop(self) -> None:
        for server in self.processes:
            server.stop()

    def token(self, name: str) -> str:
        return self.users[name].token
