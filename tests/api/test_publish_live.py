"""A server-side publish reaches live sockets: in-process over the ASGI stack, and from curl to a
real server."""

from __future__ import annotations

import asyncio
import json
import subprocess

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient
from websockets.asyncio.client import connect as open_socket

from parley.accounts.services import token_issue
from tests.frames import received_frame
from tests.servers import manage

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_publish_from_a_staff_token_reaches_room_and_user_sockets(ws, make_user, make_room, settings):
    settings.PARLEY = {**settings.PARLEY, "API_RATE": None}
    alice = await sync_to_async(make_user)("alice")
    ops = await sync_to_async(make_user)("ops", staff=True)
    await sync_to_async(make_room)("lobby")
    secret = await sync_to_async(lambda: token_issue(user=ops).secret)()
    reader = await ws(user=alice)
    await reader.send_json_to({"type": "subscribe", "room": "lobby"})
    assert (await reader.receive_json_from(timeout=3))["type"] == "subscribed"

    response = await AsyncClient().post(
        "/api/publish",
        {
            "rooms": ["lobby"],
            "message": {"body": "shipped"},
            "users": ["alice"],
            "notification": {"kind": "order.status", "data": {"order_id": 9}},
        },
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 201
    frames = [await reader.receive_json_from(timeout=3) for _ in range(3)]
    by_type = {frame["type"]: frame for frame in frames}
    message, notification = by_type["message"], by_type["notification"]
    assert (message["room"], message["seq"], message["body"]) == ("lobby", 1, "shipped")
    assert message["author"] == {"id": ops.pk, "name": "ops", "guest": False}
    assert message["id"] == response.json()["messages"][0]["id"]
    assert notification["id"] == response.json()["notifications"][0]["id"]
    assert (notification["kind"], notification["data"]) == ("order.status", {"order_id": 9})
    assert by_type["notifications_unread"]["count"] == 1


async def test_a_refused_publish_delivers_nothing(ws, make_user, make_room, settings):
    settings.PARLEY = {**settings.PARLEY, "API_RATE": None}
    alice = await sync_to_async(make_user)("alice")
    ops = await sync_to_async(make_user)("ops", staff=True)
    await sync_to_async(make_room)("lobby")
    secret = await sync_to_async(lambda: token_issue(user=ops).secret)()
    reader = await ws(user=alice)
    await reader.send_json_to({"type": "subscribe", "room": "lobby"})
    await reader.receive_json_from(timeout=3)
    response = await AsyncClient().post(
        "/api/publish",
        {"rooms": ["lobby", "gone"], "message": {"body": "x"}, "users": ["alice"], "notification": {"kind": "k"}},
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 404
    assert await reader.receive_nothing(timeout=0.5)


@pytest.mark.e2e
async def test_publish_from_curl_reaches_a_websocket_of_a_real_server(server_factory):
    server = await asyncio.to_thread(server_factory, "uvicorn")
    env = server.env
    await asyncio.to_thread(manage, env, "createroom", "lobby")
    reader_token = (await asyncio.to_thread(manage, env, "issuetoken", "alice", "--create")).split()[-1]
    staff_token = (await asyncio.to_thread(manage, env, "issuetoken", "ops", "--create", "--staff")).split()[-1]
    async with open_socket(
        f"{server.ws_url}/ws/", additional_headers={"Authorization": f"Bearer {reader_token}"}
    ) as sock:
        await sock.send(json.dumps({"type": "subscribe", "room": "lobby"}))
        assert received_frame(await asyncio.wait_for(sock.recv(), 5))["type"] == "subscribed"
        payload = {"rooms": ["lobby"], "message": {"body": "from curl"}, "users": ["alice"],
                   "notification": {"kind": "deploy", "data": {"ok": True}}}  # fmt: skip
        curl = await asyncio.to_thread(
            subprocess.run,
            ["curl", "-sS", "-X", "POST", f"{server.http_url}/api/publish", "-H", "Content-Type: application/json",
             "-H", f"Authorization: Bearer {staff_token}", "-H", "Host: localhost", "-d", json.dumps(payload),
             "-w", "\n%{http_code}"],
            capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
        body, status = curl.stdout.rsplit("\n", 1)
        assert status == "201", curl.stdout
        frames = [received_frame(await asyncio.wait_for(sock.recv(), 5)) for _ in range(3)]
    by_type = {frame["type"]: frame for frame in frames}
    assert by_type["message"]["body"] == "from curl"
    assert by_type["message"]["id"] == json.loads(body)["messages"][0]["id"]
    assert by_type["notification"]["data"] == {"ok": True}
