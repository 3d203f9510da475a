"""A room webhook delivered by a separately started ``manage.py runworker parley.tasks`` over Redis.

A real Daphne serves the socket and the API; with a Redis channel layer it runs no background work
itself (PARLEY_TASKS is ``worker`` by default), so a message stored while no worker runs waits —
in the database and on the ``parley.tasks`` channel — until a worker process starts and POSTs it,
signed, to a real local HTTP receiver, retrying after the receiver's failure.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.client import Connect
from tests.e2e.conftest import claim_redis_db, connect, site_factory  # noqa: F401 - fixtures
from tests.e2e.site import RoomSpec, Site, UserSpec
from tests.servers import REPO
from tests.webhooks.receiver import webhook_receiver

pytestmark = [pytest.mark.e2e]

SECRET = "e2e-webhook-secret-0123456789"


@pytest.fixture(scope="module")
def site(site_factory) -> Site:  # noqa: F811 - the imported fixture
    return site_factory(rooms=(RoomSpec("hooks"),), users=(UserSpec("alice"), UserSpec("boss", staff=True)))


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = tmp_path / f"worker-{len(started)}.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "manage.py", "runworker", "parley.tasks"],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        proc.log = log  # type: ignore[attr-defined]
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def register_webhook(base_url: str, token: str, url: str) -> dict:
    request = urllib.request.Request(
        f"{base_url}/api/rooms/hooks/webhooks",
        data=json.dumps({"url": url, "secret": SECRET}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
        return json.loads(response.read())


def signed(request) -> bool:
    expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    return request.headers["X-Parley-Signature"] == expected


async def test_a_separately_started_worker_delivers_a_signed_post_and_retries(
    site: Site,
    claim_redis_db,  # noqa: F811
    connect: Connect,  # noqa: F811
    start_worker,
):
    layer = f"redis://127.0.0.1:6379/{claim_redis_db()}"
    env = {
        "CHANNEL_LAYER_URL": layer,
        "REDIS_URL": layer,
        "PARLEY_WEBHOOK_RETRY_DELAY": "0.2",
        "PARLEY_TASKS_SWEEP_INTERVAL": "1",
        "PARLEY_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32",  # the receiver runs on this machine
    }
    server = site.start("daphne", **env)
    assert "PARLEY_TASKS" not in server.env  # worker mode comes from the Redis layer
    with webhook_receiver(statuses=[500]) as receiver:
        await asyncio.to_thread(register_webhook, server.http_url, site.token("boss"), receiver.url)
        alice = await connect(server, token=site.token("alice"))
        await alice.send({"type": "send", "room": "hooks", "body": "before the worker", "client_id": "c-1"})
        first_ack = await alice.recv()
        assert first_ack["type"] == "ack", first_ack

        # The server does not deliver webhooks itself when a worker is expected.
        await asyncio.sleep(1.5)
        assert receiver.requests == []

        worker = start_worker({**site.env, **env})
        failed, delivered = await asyncio.to_thread(receiver.wait_for, 2, 30.0)
        assert worker.poll() is None, worker.log.read_text()
        for request in (failed, delivered):
            assert signed(request), request.headers
        assert failed.body == delivered.body
        payload = json.loads(delivered.body)
        assert payload["event"] == "message.created"
        assert payload["message"]["body"] == "before the worker"
        assert payload["message"]["seq"] == first_ack["seq"]

        # With the worker running, the next message arrives without waiting for a sweep.
        await alice.send({"type": "send", "room": "hooks", "body": "with the worker", "client_id": "c-2"})
        second_ack = await alice.recv()
        [*_, third] = await asyncio.to_thread(receiver.wait_for, 3, 30.0)
        assert signed(third)
        assert json.loads(third.body)["message"]["seq"] == second_ack["seq"]
