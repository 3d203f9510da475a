"""The Python client (clients/python, ``parley_client``) against a real Parley server.

The server is Uvicorn on a seeded SQLite database; the tests kill it with SIGKILL and start it
again on the same port, and check the client's promise from the outside: every subscriber sees
every seq once, in order; a send is stored once whatever happens to the socket; rate limits are
waited out; errors come as typed exceptions; ``close()`` ends reconnecting. The wheel is built
from the repository and installed in a fresh virtualenv without Django. (The frame types' drift
test, which needs no server, is test_python_frames.py.)
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from parley_client import (
    AttachmentData,
    ClientClosed,
    ConnectionState,
    Forbidden,
    InvalidFrame,
    Message,
    NotFound,
    ParleyClient,
    ParleyError,
    PresenceDiff,
    ThreadUpdated,
    TooLarge,
    Unauthorized,
)
from parley_client.sync import ParleyClient as SyncParleyClient
from tests.clients.pyclient_server import RestartableServer
from tests.e2e.site import RoomSpec, UserSpec, copy_sqlite, seed
from tests.servers import NO_RATE_LIMITS, REPO, free_port, server_env

pytestmark = [pytest.mark.e2e]

CLIENT = REPO / "clients" / "python"
# Reconnect quickly: the tests wait for reconnects, and the defaults (0.5 s doubling to 15 s) are
# for servers that stay down longer than a test's restart.
FAST = {"backoff_base": 0.05, "backoff_cap": 0.5}
WAIT = 30.0
USERS = ("alice", "bob", "carol", "dave", "erin", "bot")
ROOMS = (
    "crash", "offline", "gaps", "errors", "closing", "lobby", "sync", "echo", "limits", "installed", "files",
)  # fmt: skip
# The most a file may weigh on the tests' server: a refusal names it.
MAX_FILE = 50_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, migrated_sqlite: Path) -> Iterator[RestartableServer]:
    """One seeded site served by Uvicorn; each test finds it running (a test may have killed it)."""
    directory = tmp_path_factory.mktemp("pyclient")
    database = directory / "parley.sqlite3"
    copy_sqlite(migrated_sqlite, database)
    # A replay of at most 10 messages: resuming further back goes through `history`.
    env = server_env(
        DATABASE_URL=f"sqlite:///{database}",
        PARLEY_REPLAY_LIMIT="10",
        DJANGO_MEDIA_ROOT=str(directory / "media"),
        PARLEY_ATTACHMENT_MAX_SIZE=str(MAX_FILE),
        **NO_RATE_LIMITS,
    )
    rooms = (*(RoomSpec(slug) for slug in ROOMS), RoomSpec("vault", private=True, members=("alice",)))
    users = seed(env, rooms, tuple(UserSpec(name) for name in USERS))
    site = RestartableServer(env=env, users=users, logs=directory, port=free_port())
    site.start()
    yield site
    site.stop()


@pytest.fixture
def live(server: RestartableServer) -> RestartableServer:
    server.ensure_running()
    return server


async def take(client: ParleyClient, count: int) -> list[Message]:
    """The next ``count`` messages of ``client``, failing after ``WAIT`` seconds."""
    taken: list[Message] = []

    async def read() -> None:
        async for message in client.messages():
            taken.append(message)
            if len(taken) == count:
                return

    try:
        await asyncio.wait_for(read(), WAIT)
    except TimeoutError:
        raise AssertionError(f"{len(taken)} of {count} messages arrived: {[m.seq for m in taken]}") from None
    return taken


async def nothing_more(client: ParleyClient, seconds: float = 0.5) -> None:
    """Fail if a message arrives within ``seconds`` (a seq delivered twice would)."""
    try:
        extra = await asyncio.wait_for(anext(aiter(client.messages())), seconds)
    except TimeoutError:
        return
    raise AssertionError(f"an unexpected message arrived: {extra}")


async def wait_for_state(states: asyncio.Queue[str], wanted: str) -> None:
    async with asyncio.timeout(WAIT):
        while await states.get() != wanted:
            pass


def track_states(client: ParleyClient) -> tuple[asyncio.Queue[str], list[str], asyncio.Task[None]]:
    """Every connection state the client goes through, as a queue and as a list."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    seen: list[str] = []
    stream = client.events(ConnectionState)

    async def pump() -> None:
        async for event in stream:
            assert isinstance(event, ConnectionState)
            seen.append(event.state)
            queue.put_nowait(event.state)

    return queue, seen, asyncio.create_task(pump())


async def test_every_subscriber_sees_every_message_once_in_order_across_a_crash(live):
    count = 60
    subscribers = [ParleyClient(live.url, token=live.token(name), **FAST) for name in ("bob", "carol", "dave")]
    sender = ParleyClient(live.url, token=live.token("alice"), **FAST)
    for client in (*subscribers, sender):
        await client.connect()
    for client in subscribers:
        await client.subscribe("crash", since=0)

    bodies = {f"crash-{i}": f"message {i}" for i in range(count)}  # client_id -> body
    acks = []
    window = asyncio.Semaphore(5)  # several sends are in flight when the server dies
    a_third_stored = asyncio.Event()

    async def send(client_id: str, body: str) -> None:
        async with window:
            acks.append(await sender.send("crash", body, client_id=client_id))
            if len(acks) == count // 3:
                a_third_stored.set()
            await asyncio.sleep(0.01)

    sending = [asyncio.create_task(send(client_id, body)) for client_id, body in bodies.items()]
    await asyncio.wait_for(a_third_stored.wait(), WAIT)
    live.kill()
    await asyncio.sleep(0.3)
    await asyncio.to_thread(live.start)
    await asyncio.wait_for(asyncio.gather(*sending), WAIT)

    assert sorted(ack.seq for ack in acks) == list(range(1, count + 1))
    for client in subscribers:
        messages = await take(client, count)
        assert [message.seq for message in messages] == list(range(1, count + 1))
        assert [message.body for message in messages] == [bodies[message.client_id] for message in messages]
        assert {message.client_id for message in messages} == set(bodies)
    for client in subscribers:
        await nothing_more(client)
    stored = await sender.history("crash", before=count + 1, limit=100)
    assert sorted(message.client_id for message in stored) == sorted(bodies)
    for client in (*subscribers, sender):
        await client.close()


async def test_sends_made_while_disconnected_are_stored_once(live):
    client = ParleyClient(live.url, token=live.token("alice"), **FAST)
    states, _, pump = track_states(client)
    await client.connect()
    await client.subscribe("offline", since=0)
    live.kill()
    await wait_for_state(states, "reconnecting")

    sending = [asyncio.create_task(client.send("offline", f"offline {i}")) for i in range(5)]
    await asyncio.sleep(0.3)
    assert not any(task.done() for task in sending), "a send was acknowledged with no server running"
    await asyncio.to_thread(live.start)
    acks = await asyncio.wait_for(asyncio.gather(*sending), WAIT)

    assert sorted(ack.seq for ack in acks) == [1, 2, 3, 4, 5]
    received = await take(client, 5)
    assert [message.seq for message in received] == [1, 2, 3, 4, 5]
    assert sorted(message.body for message in received) == [f"offline {i}" for i in range(5)]
    # The same client_id again is the same message: nothing new is stored.
    again = await client.send("offline", "offline 0", client_id=received[0].client_id)
    assert (again.seq, again.id) == (received[0].seq, received[0].id)
    assert [message.seq for message in await client.history("offline")] == [1, 2, 3, 4, 5]
    await nothing_more(client)
    await client.close()
    await pump


async def test_a_resume_past_the_replay_limit_is_filled_from_history_in_order(live):
    async with ParleyClient(live.url, token=live.token("alice"), **FAST) as writer:
        for i in range(35):
            await writer.send("gaps", f"gap {i}")
    # The server replays only the newest 10 (PARLEY_REPLAY_LIMIT): 1..25 come from `history`.
    async with ParleyClient(live.url, token=live.token("bob"), **FAST) as reader:
        subscribed = await reader.subscribe("gaps", since=0)
        assert (subscribed.head, subscribed.truncated) == (35, True)
        received = await take(reader, 35)
        assert [message.seq for message in received] == list(range(1, 36))
        assert [message.body for message in received] == [f"gap {i}" for i in range(35)]
        await nothing_more(reader)


async def test_rate_limits_are_waited_out_and_nothing_is_stored_twice(live):
    limited = RestartableServer(
        env={**live.env, "PARLEY_SEND_RATE": "2/2"}, users=live.users, logs=live.logs, port=free_port()
    )
    await asyncio.to_thread(limited.start)
    try:
        client = ParleyClient(limited.url, token=live.token("erin"), **FAST)
        _, states, pump = track_states(client)
        await client.connect()
        started = time.monotonic()
        acks = await asyncio.wait_for(asyncio.gather(*(client.send("limits", f"limited {i}") for i in range(8))), WAIT)
        elapsed = time.monotonic() - started
        # A burst of 2, then 2 a second: 6 sends had to wait for the server's retry_after.
        assert elapsed >= 2.5, f"8 sends at 2/s after a burst of 2 took only {elapsed:.2f} s"
        assert len({ack.seq for ack in acks}) == 8
        history = await client.history("limits", limit=100)
        assert sorted(message.body for message in history) == sorted(f"limited {i}" for i in range(8))
        # Waiting as told, the socket was never closed for abuse (4429) and never reconnected.
        assert "reconnecting" not in states
        await client.close()
        await pump
    finally:
        limited.stop()


async def test_errors_are_typed_exceptions_with_the_server_code_and_sentence(live):
    async with ParleyClient(live.url, token=live.token("bob"), **FAST) as client:
        with pytest.raises(NotFound) as missing:
            await client.subscribe("no-such-room")
        assert missing.value.code == "not_found"
        assert missing.value.detail
        with pytest.raises(NotFound):  # a private room is answered as one that does not exist
            await client.subscribe("vault")
        with pytest.raises(InvalidFrame) as blank:
            await client.send("errors", "   ")
        assert blank.value.code == "invalid"
        with pytest.raises(TooLarge):
            await client.send("errors", "x" * 4001)
        async with ParleyClient(live.url, token=live.token("alice"), **FAST) as alice:
            ack = await alice.send("errors", "alice's own")
        with pytest.raises(Forbidden) as forbidden:
            await client.edit("errors", ack.seq, "not yours")
        assert isinstance(forbidden.value, ParleyError)
        assert forbidden.value.code == "forbidden"
        # The connection stays usable after errors.
        assert (await client.send("errors", "still here")).seq == ack.seq + 1


async def test_files_go_up_over_http_and_into_a_reply_in_a_thread(live, tmp_path: Path):
    notes = tmp_path / "notes.txt"
    notes.write_text("the minutes of the meeting\n")
    async with ParleyClient(live.url, token=live.token("carol"), **FAST) as carol:
        assert carol.api_url == f"http://127.0.0.1:{live.port}/api"
        threads = carol.events(ThreadUpdated)
        await carol.subscribe("files")
        question = await carol.send("files", "who has the minutes?")
        from_path = await carol.upload("files", notes)
        assert isinstance(from_path, AttachmentData)
        assert (from_path.name, from_path.content_type, from_path.size) == ("notes.txt", "text/plain", 27)
        # A file object, named for readers by filename=; streamed in pieces from where it stands.
        from_file = await carol.upload("files", io.BytesIO(b"%PDF-1.4\n%%EOF\n"), filename="minutes.pdf")
        assert from_file.content_type == "application/pdf"
        reply = await carol.send("files", "here they are", reply_to=question.seq, attachments=[from_path, from_file.id])
        [original, answer] = await take(carol, 2)
        assert (answer.seq, answer.reply_to) == (reply.seq, question.seq)
        assert [file.name for file in answer.attachments] == ["notes.txt", "minutes.pdf"]
        thread = await asyncio.wait_for(anext(threads), WAIT)
        assert isinstance(thread, ThreadUpdated)
        assert (thread.seq, thread.thread_count, thread.last_reply) == (question.seq, 1, reply.seq)
        page = await carol.history("files", thread=question.seq)
        assert [(m.seq, m.thread_count) for m in page] == [(question.seq, 1), (reply.seq, 0)]
        assert original.seq == question.seq
        # Refusals are typed, with the server's sentence: the limit and the number.
        with pytest.raises(TooLarge) as too_large:
            await carol.upload("files", io.BytesIO(b"x" * (MAX_FILE + 1)), filename="big.txt")
        assert too_large.value.detail.startswith("The file 'big.txt' is ")
        assert too_large.value.detail.endswith(f"the limit per file is 48.8 KB ({MAX_FILE} bytes).")
        with pytest.raises(NotFound):
            await carol.upload("files-nowhere", notes)
        with pytest.raises(NotFound):  # an upload is attached once
            await carol.send("files", "again", attachments=[from_path])
    async with ParleyClient(live.url, name="zed", **FAST) as guest:
        with pytest.raises(Forbidden):
            await guest.upload("files", notes)


def test_the_sync_wrapper_uploads_and_reads_threads(live, tmp_path: Path):
    note = tmp_path / "note.txt"
    note.write_bytes(b"a short note\n")
    with SyncParleyClient(live.url, token=live.token("dave"), **FAST) as dave:
        first = dave.send("files", "thread start")
        uploaded = dave.upload("files", note)
        dave.send("files", "with a note", reply_to=first.seq, attachments=[uploaded])
        [original, reply] = dave.history("files", thread=first.seq)
        assert (original.thread_count, reply.attachments[0].name) == (1, "note.txt")


async def _connect_and_subscribe(client: ParleyClient, room: str) -> None:
    await client.connect()
    await client.subscribe(room, since=0)


async def test_an_unknown_token_ends_the_client_instead_of_reconnecting(live):
    client = ParleyClient(live.url, token="not-a-real-token", **FAST)
    _, states, pump = track_states(client)
    # The server accepts, then closes with 4401: the close can arrive before connect() returns.
    with pytest.raises(Unauthorized) as refused:
        await _connect_and_subscribe(client, "lobby")
    assert refused.value.close_code == 4401
    assert "token" in refused.value.detail
    with pytest.raises(Unauthorized):
        await anext(aiter(client.messages()))
    await asyncio.sleep(1.0)  # several back-off periods: a reconnect would have happened
    assert states[0] == "connecting"
    assert states[-1] == "closed"
    assert "reconnecting" not in states
    assert states.count("connecting") == 1
    await client.close()
    await pump


async def test_close_stops_reconnecting(live):
    client = ParleyClient(live.url, token=live.token("alice"), **FAST)
    queue, states, pump = track_states(client)
    await client.connect()
    await client.subscribe("closing", since=0)
    live.kill()
    await wait_for_state(queue, "reconnecting")
    pending = asyncio.create_task(client.send("closing", "never stored"))
    await asyncio.sleep(0.1)
    await client.close()
    with pytest.raises(ClientClosed):
        await pending
    await asyncio.to_thread(live.start)
    await asyncio.sleep(1.0)  # twice the back-off's cap: a reconnect would have happened
    await pump
    assert states[-1] == "closed"
    assert states.count("open") == 1
    assert client.state == "closed"
    with pytest.raises(ClientClosed):
        await client.send("closing", "after close")
    async with ParleyClient(live.url, token=live.token("bob")) as other:
        assert await other.history("closing") == []


async def test_the_snippet_of_the_issue_works_as_written(live):
    token = live.token("carol")
    seen = []
    async with ParleyClient(live.url, token=token) as client:
        await client.subscribe("lobby", since=0)
        ack = await client.send("lobby", "beep")  # ack.seq, ack.id
        async for message in client.messages():  # every room subscribed; message.room, .seq, .body, .author
            seen.append((message.room, message.seq, message.body, message.author.name))
            if message.seq == ack.seq:
                break
    assert ack.id > 0
    assert seen[-1] == ("lobby", ack.seq, "beep", "carol")


def test_the_sync_wrapper_sends_receives_and_closes(live):
    with SyncParleyClient(live.url, token=live.token("dave"), **FAST) as client:
        subscribed = client.subscribe("sync", since=0)
        assert subscribed.room == "sync"
        acks = [client.send("sync", f"sync {i}") for i in range(3)]
        assert [ack.seq for ack in acks] == [1, 2, 3]
        received = list(client.messages(timeout=1.0))
        assert [(message.seq, message.body) for message in received] == [(1, "sync 0"), (2, "sync 1"), (3, "sync 2")]
        assert [message.body for message in client.history("sync")] == ["sync 0", "sync 1", "sync 2"]
        with pytest.raises(NotFound):
            client.subscribe("no-such-room")
    assert client.state == "closed"
    with pytest.raises(ClientClosed):
        client.send("sync", "after close")


async def test_the_echo_bot_example_answers_once(live):
    bot = await asyncio.create_subprocess_exec(
        sys.executable, str(CLIENT / "examples" / "echo_bot.py"), live.url, "echo", "--replies", "1",
        env={**os.environ, "PARLEY_TOKEN": live.token("bot"), "PYTHONPATH": str(CLIENT / "src")},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        async with ParleyClient(live.url, token=live.token("alice"), **FAST) as alice:
            arrivals = alice.events(PresenceDiff)
            await alice.subscribe("echo")
            async with asyncio.timeout(WAIT):  # the bot follows the room: it will see what comes now
                async for diff in arrivals:
                    assert isinstance(diff, PresenceDiff)
                    if any(person.name == "bot" for person in diff.joined):
                        break
            asked = await alice.send("echo", "!echo hello there")
            replies = await take(alice, 2)
        assert [(m.seq, m.author.name, m.body) for m in replies] == [
            (asked.seq, "alice", "!echo hello there"),
            (asked.seq + 1, "bot", "alice said: hello there"),
        ]
        output, _ = await asyncio.wait_for(bot.communicate(), WAIT)
        assert bot.returncode == 0, output.decode()
        assert f"answered #{asked.seq} with #{asked.seq + 1}" in output.decode()
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()


SNIPPET = """
import asyncio, sys
from parley_client import ParleyClient

async def main(url, token):
    async with ParleyClient(url, token=token) as client:
        await client.subscribe("installed", since=0)
        ack = await client.send("installed", "beep")
        async for message in client.messages():
            if message.seq == ack.seq:
                print(message.room, message.seq, message.body, message.author.name)
                return

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def run(*command: str, cwd: Path | None = None) -> str:
    """Run ``command`` outside this virtualenv's environment; its output, or a failure with it."""
    clean = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(command, cwd=cwd, env=clean, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_the_wheel_builds_and_installs_without_django(live, tmp_path: Path):
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path / "dist"), str(CLIENT))
    wheels = list((tmp_path / "dist").glob("parley_client-*.whl"))
    assert len(wheels) == 1, wheels
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", str(venv))
    python = str(venv / "bin" / "python")
    run(python, "-m", "pip", "install", "--quiet", str(wheels[0]))

    installed = run(python, "-m", "pip", "list", "--format=json")
    names = {package["name"].lower() for package in json.loads(installed)}
    assert "parley-client" in names
    assert "websockets" in names
    assert not names & {"django", "channels", "pydantic"}, names
    probe = "import importlib.util, parley_client; print(importlib.util.find_spec('django') is None)"
    assert run(python, "-c", probe, cwd=tmp_path).strip() == "True"
    (tmp_path / "snippet.py").write_text(SNIPPET)
    output = run(python, "snippet.py", live.url, live.token("alice"), cwd=tmp_path)
    assert output.split() == ["installed", "1", "beep", "alice"]
