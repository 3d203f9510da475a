"""Rate limits through ``WebsocketCommunicator`` on the real ASGI stack, at the default limits
(send 10/20, subscribe 5/30, history 10/30, other frames 10/60, handshake 10/100, close after 50 refusals
in 10 s).

Buckets refill while frames are handled, so a test that counts a burst exactly stops the limiter's
clock (``clock``): on a loaded machine twenty sends can take longer than the 0.1 s in which a
token comes back. The retry test moves the stopped clock by exactly the ``retry_after`` it was told.
"""

from __future__ import annotations

import time

import pytest
from asgiref.sync import sync_to_async
from django.core.exceptions import ImproperlyConfigured

from conftest import Communicator
from parley.conf import parley_settings
from parley.realtime import ratelimit
from parley.realtime.auth import client_address
from parley.realtime.ratelimit import LocalBuckets, Rate, TokenBucket, api_call_allowed
from parley.rooms.models import Message
from parley.wire import frames
from tests.frames import received_frame

pytestmark = pytest.mark.django_db(transaction=True)

SEND_BURST = 20
ABUSE_REFUSALS = 50


class StoppedClock:
    """Stands in for the ``time`` module in ``parley.realtime.ratelimit``: monotonic time moves
    only when a test moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return time.time()


@pytest.fixture
def clock(monkeypatch) -> StoppedClock:
    stopped = StoppedClock()
    monkeypatch.setattr(ratelimit, "time", stopped)
    return stopped


def send_frame(i: int, prefix: str = "c") -> dict:
    return {"type": "send", "room": "lobby", "body": f"m{i}", "client_id": f"{prefix}-{i}", "ref": f"{prefix}-{i}"}


async def replies(client: Communicator, count: int) -> list[dict]:
    """The next ``count`` replies, leaving out the live ``message`` frames of a subscribed socket."""
    frames: list[dict] = []
    while len(frames) < count:
        frame = await client.receive_json_from(timeout=3)
        if frame["type"] != "message":
            frames.append(frame)
    return frames


async def stored() -> int:
    return await sync_to_async(Message.objects.count)()


async def test_sends_over_the_burst_are_refused_with_retry_after_and_nothing_is_stored(ws, alice, lobby, clock):
    client = await ws(user=alice)
    for i in range(SEND_BURST):
        await client.send_json_to(send_frame(i))
    assert [frame["type"] for frame in await replies(client, SEND_BURST)] == ["ack"] * SEND_BURST

    await client.send_json_to(send_frame(SEND_BURST))
    [error] = await replies(client, 1)
    assert (error["type"], error["code"], error["ref"]) == ("error", "rate_limited", f"c-{SEND_BURST}")
    assert 0 < error["retry_after"] <= 0.1  # one token comes back every 1/10 s
    assert "Retry in" in error["detail"]
    assert await stored() == SEND_BURST
    assert not await sync_to_async(Message.objects.filter(client_id=f"c-{SEND_BURST}").exists)()

    await client.send_json_to({"type": "ping", "ref": "p"})
    assert await client.receive_json_from() == {"type": "pong", "ref": "p"}


async def test_a_refused_send_is_stored_when_sent_again_after_retry_after(ws, alice, lobby, clock):
    client = await ws(user=alice)
    # Fewer than burst + 50 frames: refusals stop short of closing the socket.
    for i in range(60):
        await client.send_json_to(send_frame(i))
    frames = await replies(client, 60)
    refused = next(i for i, frame in enumerate(frames) if frame["type"] == "error")
    assert refused >= SEND_BURST
    assert frames[refused]["code"] == "rate_limited"
    acked = sum(frame["type"] == "ack" for frame in frames)
    assert await stored() == acked

    # On the real clock, sends acked after the refusal (tokens refill while 60 frames are handled)
    # would spend the token that retry_after promised; the stopped clock keeps the promise exact.
    clock.now += frames[refused]["retry_after"]
    await client.send_json_to(send_frame(refused))
    [ack] = await replies(client, 1)
    assert (ack["type"], ack["client_id"], ack["seq"]) == ("ack", f"c-{refused}", acked + 1)


async def test_sockets_of_one_user_share_the_limit_and_other_users_keep_theirs(ws, alice, make_user, lobby, clock):
    bob = await sync_to_async(make_user)("bob")
    first, second, other = await ws(user=alice), await ws(user=alice), await ws(user=bob)
    for i in range(SEND_BURST // 2):
        await first.send_json_to(send_frame(i, "first"))
        await second.send_json_to(send_frame(i, "second"))
    for client in (first, second):
        assert {frame["type"] for frame in await replies(client, SEND_BURST // 2)} == {"ack"}

    await second.send_json_to(send_frame(99, "second"))
    assert (await replies(second, 1))[0]["code"] == "rate_limited"
    await other.send_json_to(send_frame(0, "bob"))
    assert (await replies(other, 1))[0]["type"] == "ack"
    assert await stored() == SEND_BURST + 1


async def test_sustained_abuse_closes_the_socket_with_4429(ws, alice, lobby, clock):
    client = await ws(user=alice)
    for i in range(SEND_BURST + ABUSE_REFUSALS):
        await client.send_json_to(send_frame(i))
    frames = [await client.receive_output(timeout=3) for _ in range(SEND_BURST + ABUSE_REFUSALS + 1)]
    texts = [protocol_frame(frame) for frame in frames[:-1]]
    assert [frame["type"] for frame in texts] == ["ack"] * SEND_BURST + ["error"] * ABUSE_REFUSALS
    assert {frame["code"] for frame in texts[SEND_BURST:]} == {"rate_limited"}
    assert "closing" in texts[-1]["detail"]
    assert frames[-1] == {"type": "websocket.close", "code": 4429}
    assert await stored() == SEND_BURST


def protocol_frame(output: dict) -> dict:
    assert output["type"] == "websocket.send", output
    return received_frame(output["text"])


async def test_a_limit_set_to_0_is_off(ws, alice, lobby, settings):
    settings.PARLEY = {**settings.PARLEY, "SEND_RATE": "0"}
    assert parley_settings.SEND_RATE is None
    client = await ws(user=alice)
    for i in range(2 * SEND_BURST):
        await client.send_json_to(send_frame(i))
    assert {frame["type"] for frame in await replies(client, 2 * SEND_BURST)} == {"ack"}
    assert await stored() == 2 * SEND_BURST


@pytest.mark.parametrize(
    ("frame", "answer", "burst"),
    [
        ({"type": "subscribe", "room": "lobby"}, "subscribed", 30),
        ({"type": "history", "room": "lobby", "limit": 1}, "history", 30),
        # Every other frame counts too (tests/realtime/test_frame_limits.py): the cheap ones
        # against PARLEY_FRAME_RATE (10/60), notifications against the history limit.
        ({"type": "ping"}, "pong", 60),
        ({"type": "unsubscribe", "room": "lobby"}, "unsubscribed", 60),
        ({"type": "notifications"}, "notifications", 30),
        ({"type": "notification_read", "all": True}, "notifications_unread", 30),
    ],
)
async def test_subscribes_and_history_have_their_own_limits(ws, alice, lobby, frame, answer, burst, clock):
    client = await ws(user=alice)
    for i in range(burst):
        await client.send_json_to({**frame, "ref": i})
    assert {reply["type"] for reply in await replies(client, burst)} == {answer}
    await client.send_json_to({**frame, "ref": "over"})
    [error] = await replies(client, 1)
    assert (error["code"], error["ref"]) == ("rate_limited", "over")
    await client.send_json_to(send_frame(0))
    assert (await replies(client, 1))[0]["type"] == "ack"  # sends keep their own bucket


async def test_the_tutorial_endpoint_drops_messages_over_the_limit(ws, lobby, clock):
    page = await ws("/ws/chat/lobby/", name="zed")
    for i in range(SEND_BURST + 1):
        await page.send_json_to({"message": f"m{i}"})
    frames = [await page.receive_json_from(timeout=3) for _ in range(SEND_BURST + 1)]
    errors = [frame for frame in frames if "message" not in frame]
    assert [(error["code"], error["retry_after"] > 0) for error in errors] == [("rate_limited", True)]
    assert await stored() == SEND_BURST


async def handshake(address: str) -> tuple[Communicator, bool]:
    from config.asgi import application

    communicator = Communicator(
        application, "/ws/?name=zed", headers=[(b"origin", b"http://localhost"), (b"host", b"localhost")]
    )
    # The scope is handed to the application when it first runs: the client's address goes in first.
    communicator.scope["client"] = [address, 40000]
    connected, _ = await communicator.connect(timeout=5)
    return communicator, connected


async def test_handshakes_over_the_limit_get_retry_after_and_close_4429(lobby, clock):
    opened = []
    try:
        for _ in range(100):
            communicator, connected = await handshake("203.0.113.7")
            opened.append(communicator)
            assert connected
        refused, connected = await handshake("203.0.113.7")
        opened.append(refused)
        assert connected  # accepted only to say why it closes
        error = await refused.receive_json_from()
        assert (error["type"], error["code"]) == ("error", "rate_limited")
        assert 0 < error["retry_after"] <= 0.1
        assert await refused.receive_output() == {"type": "websocket.close", "code": 4429}

        other, connected = await handshake("198.51.100.1")
        opened.append(other)
        await other.send_json_to({"type": "ping"})
        assert await other.receive_json_from() == {"type": "pong"}
    finally:
        for communicator in opened:
            if not communicator.future.done():
                await communicator.disconnect()


def test_the_client_address_is_the_peer_unless_proxies_are_trusted(settings):
    scope = {"client": ["10.0.0.2", 5000], "headers": [(b"x-forwarded-for", b"6.6.6.6, 203.0.113.9")]}
    assert client_address(scope) == "10.0.0.2"
    settings.PARLEY = {**settings.PARLEY, "TRUSTED_PROXIES": 1}
    assert client_address(scope) == "203.0.113.9"  # what our proxy saw; the client wrote the rest
    settings.PARLEY = {**settings.PARLEY, "TRUSTED_PROXIES": 2}
    assert client_address(scope) == "6.6.6.6"
    assert client_address({"client": ["10.0.0.2", 5000], "headers": []}) == "10.0.0.2"
    assert client_address({"client": None, "headers": []}) is None


async def test_api_calls_are_limited_per_caller(clock):
    decisions = [await api_call_allowed("user:1") for _ in range(31)]
    assert [decision.allowed for decision in decisions] == [True] * 30 + [False]
    assert 0 < decisions[-1].retry_after <= 0.1
    assert (await api_call_allowed("user:2")).allowed


async def test_while_redis_is_unreachable_each_process_keeps_its_own_limits(ws, alice, lobby, settings, clock):
    settings.PARLEY = {**settings.PARLEY, "REDIS_URL": "redis://127.0.0.1:1/0"}  # nothing listens on port 1
    client = await ws(user=alice)
    for i in range(SEND_BURST + 1):
        await client.send_json_to(send_frame(i))
    frames = await replies(client, SEND_BURST + 1)
    assert [frame["type"] for frame in frames] == ["ack"] * SEND_BURST + ["error"]
    assert frames[-1]["code"] == "rate_limited"


def test_a_token_bucket_lets_the_burst_through_then_one_per_interval():
    rate = Rate(per_second=10, burst=20)
    bucket = TokenBucket(rate, now=100.0)
    assert [bucket.take(rate, 100.0) for _ in range(20)] == [0.0] * 20
    assert bucket.take(rate, 100.0) == pytest.approx(0.1)
    assert bucket.take(rate, 100.05) == pytest.approx(0.05)
    assert bucket.take(rate, 100.1) == 0.0
    assert bucket.take(rate, 100.1) == pytest.approx(0.1)
    assert [bucket.take(rate, 200.0) for _ in range(21)][-2:] == [0.0, pytest.approx(0.1)]  # full again, no more


def test_full_buckets_are_forgotten():
    buckets = LocalBuckets()
    rate = Rate(per_second=1e9, burst=1)  # full again a nanosecond after each hit
    for i in range(5 * LocalBuckets.PRUNE_FLOOR):
        buckets.hit("send", rate, f"key-{i}")
    assert len(buckets._buckets) <= 2 * LocalBuckets.PRUNE_FLOOR


@pytest.mark.parametrize(("text", "expected"), [("10/20", (10.0, 20)), (" 0.5/3 ", (0.5, 3)), ("0", None)])
def test_rate_settings_are_rate_slash_burst_or_0(settings, text, expected):
    settings.PARLEY = {**settings.PARLEY, "SEND_RATE": text}
    assert expected == parley_settings.SEND_RATE


@pytest.mark.parametrize("text", ["10", "ten/20", "10/0", "0/20", "-1/5", "10/2.5", "inf/3"])
def test_bad_rate_settings_stop_the_server_with_a_sentence(settings, text):
    settings.PARLEY = {**settings.PARLEY, "SEND_RATE": text}
    with pytest.raises(ImproperlyConfigured, match=r'PARLEY\["SEND_RATE"\] is .*write "rate/burst"'):
        _ = parley_settings.SEND_RATE


def test_errors_carry_retry_after_only_when_rate_limited():
    assert "retry_after" not in frames.Error(code="invalid", detail="Bad.").to_json()
    limited = frames.Error(ref=3, code="rate_limited", detail="Slow down.", retry_after=0.25).to_json()
    assert limited == '{"type":"error","ref":3,"code":"rate_limited","detail":"Slow down.","retry_after":0.25}'
