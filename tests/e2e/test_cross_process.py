"""Two servers (Daphne, and Gunicorn with two Uvicorn workers) on one PostgreSQL database and one
channel layer, for every layer: every reader on any process gets every message from any process
exactly once, in seq order.
And two deployments that merely share a broker must share nothing else.

Channel-layer group names are made from room ids, and brokers (Redis pub/sub channels, RabbitMQ's
default vhost) are shared by every test run on this machine, so the PostgreSQL database numbers
its rooms from a random offset: concurrent runs then never publish to each other's groups.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from conftest import needs, port_open
from tests.e2e.client import Client, Connect, Frame
from tests.e2e.site import RoomSpec, Site, UserSpec
from tests.servers import ServerProcess

pytestmark = [pytest.mark.e2e]

RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"  # the default vhost "/"
ROOMS = {"redis": "relay-redis", "redis+pubsub": "relay-pubsub", "amqp": "relay-amqp"}
PER_SENDER = 15


@pytest.fixture(scope="module")
def site(site_factory, postgres_url: str) -> Site:
    return site_factory(
        rooms=(*(RoomSpec(slug) for slug in ROOMS.values()), RoomSpec("repaired-daphne"), RoomSpec("repaired-uvicorn")),
        users=(UserSpec("alice"), UserSpec("bob")),
        database_url=postgres_url,
    )


@pytest.fixture(params=["redis", "redis+pubsub", "amqp"])
def layer_url(request: pytest.FixtureRequest) -> str:
    """A CHANNEL_LAYER_URL for the layer under test."""
    scheme: str = request.param
    if scheme == "amqp":
        needs("RabbitMQ", port_open("127.0.0.1", 5672), "run RabbitMQ on 127.0.0.1:5672 (guest/guest)")
        return RABBITMQ_URL
    index: int = request.getfixturevalue("claim_redis_db")()
    return f"{scheme}://127.0.0.1:6379/{index}"


@pytest.fixture
def servers(site: Site, layer_url: str) -> Iterator[list[ServerProcess]]:
    """Daphne and Gunicorn (two Uvicorn workers) on the site's database and ``layer_url``, stopped after the test.

    The hub's gap repair and head sweep would read messages the layer failed to deliver from the
    database, so both are put off beyond the test's timeouts: here only the channel layer delivers.
    """
    env = {"CHANNEL_LAYER_URL": layer_url, "PARLEY_GAP_WAIT": "60", "PARLEY_SWEEP_INTERVAL": "60"}
    started = [site.start("daphne", **env), site.start("gunicorn", **env)]
    yield started
    for server in started:
        server.stop()


async def test_every_reader_gets_every_message_once_in_seq_order(
    site: Site, layer_url: str, servers: list[ServerProcess], connect: Connect
):
    room = ROOMS[layer_url.split(":", 1)[0]]

    readers: list[Client] = []
    for server in servers:
        for name in ("alice", "bob"):
            reader = await connect(server, token=site.token(name))
            reply = await reader.request({"type": "subscribe", "room": room})
            assert reply == {"type": "subscribed", "room": room, "head": 0, "truncated": False}
            readers.append(reader)
    pages = [await connect(server, f"/ws/chat/{room}/", token=site.token("alice")) for server in servers]
    for page in pages:
        # A page follows its room once its handshake is handled (on a Gunicorn worker whose hub has
        # not joined the room yet, that takes a while), and sees only what is sent after that; the
        # answer to a frame means the handshake is done.
        await page.send("not JSON")
        assert (await page.recv())["type"] == "error"
    senders = [
        await connect(server, token=site.token(name)) for server, name in zip(servers, ("alice", "bob"), strict=True)
    ]

    sent: dict[int, Frame] = {}  # the send frames, by the seq their ack gave them
    progress = asyncio.Condition()

    async def send_all(sender: Client, prefix: str) -> None:
        for i in range(PER_SENDER):
            frame = {"type": "send", "room": room, "body": f"{prefix} {i}", "client_id": f"{prefix}-{i}"}
            ack = await sender.request(frame)
            assert ack["type"] == "ack", ack
            async with progress:
                sent[ack["seq"]] = frame
                progress.notify_all()

    async def join_late(server: ServerProcess) -> tuple[int, Client]:
        """Subscribe mid-stream, resuming from a few messages back: replay meets live traffic."""
        async with progress:
            await asyncio.wait_for(progress.wait_for(lambda: len(sent) >= PER_SENDER // 2), 10)
            since = max(sent) - 3
        late = await connect(server, token=site.token("bob"))
        await late.send({"type": "subscribe", "room": room, "since": since})
        return since, late

    *_, late_daphne, late_gunicorn = await asyncio.gather(
        *(send_all(sender, prefix) for sender, prefix in zip(senders, ("d", "g"), strict=True)),
        *(join_late(server) for server in servers),
    )
    total = 2 * PER_SENDER
    assert sorted(sent) == list(range(1, total + 1))
    in_order = [(seq, sent[seq]["client_id"], sent[seq]["body"]) for seq in sorted(sent)]

    for index, reader in enumerate(readers):
        messages = [await reader.recv() for _ in range(total)]
        assert [(m["seq"], m["client_id"], m["body"]) for m in messages] == in_order, f"reader {index}"
        assert await reader.request({"type": "ping", "ref": "end"}) == {"type": "pong", "ref": "end"}
    for page in pages:
        assert [(await page.recv())["message"] for _ in range(total)] == [body for _, _, body in in_order]
    for since, late in (late_daphne, late_gunicorn):
        frames = await late.recv_until("subscribed")
        while total not in [frame.get("seq") for frame in frames]:
            frames.append(await late.recv())
        assert [frame.get("seq") for frame in frames if frame["type"] == "message"] == list(range(since + 1, total + 1))
        assert await late.request({"type": "ping"}) == {"type": "pong"}


@pytest.mark.parametrize(("reading_kind", "writing_kind"), [("daphne", "uvicorn"), ("uvicorn", "daphne")])
async def test_messages_whose_publish_never_arrives_are_repaired_from_storage(
    site: Site, connect: Connect, reading_kind: str, writing_kind: str
):
    """Two processes whose (in-memory) layers never meet: the hub must still bring a reader every
    message the other process stored, from the database, in order and once, last one included.

    A repair delivers what it read as one run, which Uvicorn's sockets get in a single write."""
    env = {"CHANNEL_LAYER_URL": "memory://", "PARLEY_SWEEP_INTERVAL": "0.2"}
    reading, writing = site.start(reading_kind, **env), site.start(writing_kind, **env)
    room = f"repaired-{reading_kind}"
    try:
        reader = await connect(reading, token=site.token("alice"))
        assert (await reader.request({"type": "subscribe", "room": room}))["head"] == 0
        sender = await connect(writing, token=site.token("bob"))
        for i in range(5):
            frame = {"type": "send", "room": room, "body": f"r {i}", "client_id": f"r-{i}"}
            assert (await sender.request(frame))["seq"] == i + 1
        messages = [await reader.recv() for _ in range(5)]
        assert [(m["seq"], m["body"]) for m in messages] == [(i + 1, f"r {i}") for i in range(5)]
        assert await reader.request({"type": "ping"}) == {"type": "pong"}
    finally:
        reading.stop()
        writing.stop()


ISOLATION_SCHEMES = ("redis", "redis+pubsub")


def slug(prefix: str, scheme: str) -> str:
    return f"{prefix}-{scheme.replace('+', '-')}"


@pytest.fixture(scope="module")
def two_deployments(site_factory) -> tuple[Site, Site]:
    """Two sites whose rooms have the same ids: ``one-<scheme>`` in the first, ``two-<scheme>`` in the second."""
    return (
        site_factory(rooms=tuple(RoomSpec(slug("one", scheme), guests=True) for scheme in ISOLATION_SCHEMES)),
        site_factory(rooms=tuple(RoomSpec(slug("two", scheme), guests=True) for scheme in ISOLATION_SCHEMES)),
    )


@pytest.mark.parametrize("scheme", ISOLATION_SCHEMES)
async def test_deployments_on_different_redis_databases_share_nothing(
    two_deployments: tuple[Site, Site], claim_redis_db, connect: Connect, scheme
):
    """Two deployments, each with its own database and its own Redis database index, whose rooms
    happen to have the same id: a message posted in one must never reach the other."""
    one, two = (
        site.start(CHANNEL_LAYER_URL=f"{scheme}://127.0.0.1:6379/{claim_redis_db()}") for site in two_deployments
    )
    try:
        reader = await connect(two, name="reader")
        assert (await reader.request({"type": "subscribe", "room": slug("two", scheme)}))["type"] == "subscribed"
        sender = await connect(one, name="sender")
        frame = {"type": "send", "room": slug("one", scheme), "body": "for deployment one only", "client_id": "c-1"}
        assert (await sender.request(frame))["type"] == "ack"
        # Then a message in the reader's own room: it must get exactly that one, and nothing before it.
        local = await connect(two, name="local")
        frame = {"type": "send", "room": slug("two", scheme), "body": "for deployment two", "client_id": "c-1"}
        assert (await local.request(frame))["seq"] == 1
        message = await reader.recv()
        assert (message["room"], message["seq"], message["body"]) == (slug("two", scheme), 1, "for deployment two")
    finally:
        one.stop()
        two.stop()
