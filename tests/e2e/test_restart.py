"""Stored messages outlive the server process: a new process on the same database serves them."""

from __future__ import annotations

import pytest

from tests.e2e.client import Connect, Frame
from tests.e2e.site import RoomSpec, UserSpec

pytestmark = [pytest.mark.e2e]


@pytest.mark.parametrize("stop", ["sigterm", "sigkill"])
async def test_messages_survive_a_restart_with_their_seqs(site_factory, connect: Connect, stop):
    site = site_factory(rooms=(RoomSpec("durable"),), users=(UserSpec("alice"),))
    first = site.start()
    sender = await connect(first, token=site.token("alice"))
    sent: list[Frame] = []
    for i in range(5):
        ack = await sender.request({"type": "send", "room": "durable", "body": f"before {i}", "client_id": f"b-{i}"})
        assert ack["seq"] == i + 1
        sent.append(ack)
    await sender.close()
    if stop == "sigterm":
        first.stop()
    else:
        first.kill()
    assert first.proc is not None
    assert first.proc.poll() is not None

    second = site.start()
    reader = await connect(second, token=site.token("alice"))
    await reader.send({"type": "subscribe", "room": "durable", "since": 0, "ref": "resume"})
    frames = await reader.recv_until("subscribed")
    assert [(f["seq"], f["id"], f["body"], f["client_id"]) for f in frames[:-1]] == [
        (ack["seq"], ack["id"], f"before {i}", f"b-{i}") for i, ack in enumerate(sent)
    ]
    assert frames[-1] == {"type": "subscribed", "ref": "resume", "room": "durable", "head": 5, "truncated": False}

    # A retry of a message sent before the restart is still recognised, and stores nothing.
    retry = await reader.request({"type": "send", "room": "durable", "body": "before 4", "client_id": "b-4"})
    assert retry == {"type": "ack", "room": "durable", "client_id": "b-4", "seq": 5, "id": sent[4]["id"]}

    await reader.send({"type": "send", "room": "durable", "body": "after", "client_id": "a-0"})
    after = {frame["type"]: frame for frame in [await reader.recv(), await reader.recv()]}
    assert after["ack"]["seq"] == 6
    assert (after["message"]["seq"], after["message"]["body"]) == (6, "after")
