"""``PARLEY_LOG_FORMAT=json``: every line a real server writes is one JSON object that a log
collector can read, with the context Parley passes (here: which dependency is down).

Gunicorn (with deploy/gunicorn.conf.py) and Uvicorn send every line through Django's logging.
Daphne writes its access log to stdout itself, in its own format (see the README: run it with
``-v 0`` or ``--access-log FILE``), so it is not among the servers checked here.
"""

from __future__ import annotations

import json

import pytest

from tests.e2e.client import Client
from tests.servers import ServerProcess, free_port, manage

pytestmark = [pytest.mark.e2e]

KEYS = {"timestamp", "level", "logger", "message"}
OUTAGE = "the channel layer is unreachable"


def json_lines(server: ServerProcess) -> list[dict]:
    """Every line of the server's output, parsed; a line that is not a JSON object fails the test."""
    records = []
    for line in server.output().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            pytest.fail(f"not a JSON line in the {server.kind} log: {line!r}")
        assert isinstance(record, dict), line
        assert record.keys() >= KEYS, record
        records.append(record)
    return records


@pytest.mark.parametrize("kind", ["gunicorn", "uvicorn"])
async def test_every_line_is_json_with_the_context_of_the_event(server_factory, kind):
    # A Redis channel layer where nothing listens: the first subscribe logs an outage.
    server = server_factory(kind, PARLEY_LOG_FORMAT="json", CHANNEL_LAYER_URL=f"redis://127.0.0.1:{free_port()}/0")
    manage(server.env, "createroom", "lobby", "--guests")
    client = await Client.open(f"{server.ws_url}/ws/?name=zed")
    try:
        # The hub fails to join the room's group and logs it before the reply; the room is then
        # followed from storage, so the subscribe still succeeds.
        assert (await client.request({"type": "subscribe", "room": "lobby"}))["type"] == "subscribed"
    finally:
        await client.close()
    server.stop()

    records = json_lines(server)
    (outage,) = [record for record in records if record["message"].startswith(OUTAGE)]
    assert outage["level"] == "ERROR"
    assert outage["logger"] == "parley.outages"
    assert outage["dependency"] == "the channel layer"
    assert "Traceback" in outage["exc_info"]
    assert all(record["timestamp"].endswith("+00:00") for record in records)
