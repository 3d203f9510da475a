"""Passwords and token secrets never reach a log, even at DEBUG level.

A live server (its whole output captured) and the in-process stack (``caplog``, with SQL logging
forced on) are driven through logins with a wrong and a right password, WebSocket handshakes with
a valid and a revoked bearer token, and a token in the query string (which Parley does not accept:
it must not authenticate, and must not be logged either).
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import logging
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test import Client
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from parley.accounts.services import token_issue, token_revoke, user_get_or_create
from tests.servers import ServerProcess, manage

PASSWORD = "correct-horse-battery-staple-41"
WRONG_PASSWORD = "wrong-horse-battery-staple-42"

SEED = f"""
from parley.accounts.services import token_issue, token_revoke, user_get_or_create
from parley.rooms.services import room_get_or_create
user = user_get_or_create(username="dora", password={PASSWORD!r})
room_get_or_create(slug="lobby", guests_allowed=True)
valid, revoked = token_issue(user=user), token_issue(user=user)
token_revoke(token=revoked.token)
print(valid.secret, revoked.secret)
"""


def log_in(server: ServerProcess, password: str) -> int:
    """Submit the login form (CSRF and all); the status of the answer (302 on success)."""
    jar = http.cookiejar.CookieJar()
    no_redirects = type("NoRedirects", (urllib.request.HTTPRedirectHandler,), {"redirect_request": lambda *a: None})
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), no_redirects)
    url = f"{server.http_url}/accounts/login/"
    with opener.open(url, timeout=10) as response:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.read().decode()).group(1)
    form = urllib.parse.urlencode({"username": "dora", "password": password, "csrfmiddlewaretoken": token})
    try:
        with opener.open(url, data=form.encode(), timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:  # the 302 that was not followed
        return int(error.code)


async def author_name(url: str, headers: dict[str, str]) -> str | None:
    """Post through a socket and return the stored author's name; None if the socket was refused."""
    try:
        async with connect(url, additional_headers=headers, open_timeout=5) as socket:
            await socket.send(json.dumps({"type": "send", "room": "lobby", "body": "hi", "client_id": "x"}))
            while True:
                frame = json.loads(await asyncio.wait_for(socket.recv(), 5))
                if frame["type"] == "ack":
                    return await _author(socket)
                if frame["type"] == "error":
                    return None
    except ConnectionClosed:
        return None


async def _author(socket) -> str:
    await socket.send(json.dumps({"type": "history", "room": "lobby", "limit": 1}))
    while True:
        frame = json.loads(await asyncio.wait_for(socket.recv(), 5))
        if frame["type"] == "history":
            return str(frame["messages"][-1]["author"]["name"])


@pytest.mark.e2e
@pytest.mark.parametrize(("kind", "debug"), [("uvicorn", "0"), ("daphne", "1")])
async def test_no_password_or_token_secret_in_the_server_output(server_factory, kind, debug):
    server = server_factory(kind, PARLEY_LOG_LEVEL="DEBUG", DJANGO_DEBUG=debug, PARLEY_GUESTS="1")
    valid, revoked = (await asyncio.to_thread(manage, server.env, "shell", "-c", SEED)).splitlines()[-1].split()

    assert await asyncio.to_thread(log_in, server, WRONG_PASSWORD) == 200  # the form again, with an error
    assert await asyncio.to_thread(log_in, server, PASSWORD) == 302
    ws = f"{server.ws_url}/ws/"
    assert await author_name(ws, {"Authorization": f"Bearer {valid}"}) == "dora"
    assert await author_name(ws, {"Authorization": f"Bearer {revoked}"}) is None
    # A token in the query string is not a way to sign in: the socket is a guest's.
    guest = await author_name(f"{ws}?token={valid}", {})
    assert guest is not None
    assert guest != "dora"
    server.stop()  # flush and close the log

    output = server.output()
    assert "/ws/" in output, "the server logged no request lines: the test would prove nothing"
    for secret in (PASSWORD, WRONG_PASSWORD, valid, revoked):
        assert secret not in output
    # Nor a telling part of one (a log line cut at a length, or a token prefix shown in full).
    for secret in (valid, revoked):
        assert secret[len("parley_") : len("parley_") + 16] not in output


@pytest.mark.django_db(transaction=True)
async def test_no_password_or_token_secret_in_captured_logs(ws, caplog, make_room):
    caplog.set_level(logging.DEBUG)
    user = await sync_to_async(user_get_or_create)(username="dora", password=PASSWORD)
    await sync_to_async(make_room)("lobby")
    valid = await sync_to_async(token_issue)(user=user)
    revoked = await sync_to_async(token_issue)(user=user)
    await sync_to_async(token_revoke)(token=revoked.token)

    def log_in_twice() -> list[int]:
        connection.force_debug_cursor = True  # log every SQL statement with its parameters
        try:
            client = Client()
            statuses = [client.post("/accounts/login/", {"username": "dora", "password": p}).status_code
                        for p in (WRONG_PASSWORD, PASSWORD)]  # fmt: skip
        finally:
            connection.force_debug_cursor = False
        return statuses

    assert await sync_to_async(log_in_twice)() == [200, 302]
    accepted = await ws(token=valid.secret, origin=None)
    await accepted.send_json_to({"type": "ping"})
    assert await accepted.receive_json_from() == {"type": "pong"}
    refused = await ws(token=revoked.secret, origin=None)
    assert (await refused.receive_json_from())["code"] == "forbidden"
    await ws(f"/ws/?token={valid.secret}", origin=None)

    assert any(record.levelno == logging.DEBUG for record in caplog.records), "nothing was logged at DEBUG"
    logged = caplog.text + "".join(repr(record.args) for record in caplog.records)
    for secret in (PASSWORD, WRONG_PASSWORD, valid.secret, revoked.secret):
        assert secret not in logged


@pytest.mark.parametrize(
    ("line", "cleaned"),
    [
        (
            '127.0.0.1:5 - "WebSocket /ws/?token=parley_abc" [accepted]',
            '127.0.0.1:5 - "WebSocket /ws/?token=[redacted]" [accepted]',
        ),
        ("GET /x?a=1&password=hunter2&b=2 200", "GET /x?a=1&password=[redacted]&b=2 200"),
        ("GET /x?API_KEY=k1 200", "GET /x?API_KEY=[redacted] 200"),
        ("Bearer parley_" + "A" * 43 + " refused", "Bearer parley_[redacted] refused"),
        ("parley_frames_in_total 7", "parley_frames_in_total 7"),
        ("GET /chat/lobby/?name=zed 200", "GET /chat/lobby/?name=zed 200"),
    ],
)
def test_the_log_filter_masks_credentials_and_nothing_else(line, cleaned):
    from parley.accounts.services import TOKEN_PREFIX
    from parley.ops import redaction

    assert redaction.TOKEN_PREFIX == TOKEN_PREFIX
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, "%s", (line,), None)
    assert redaction.RedactSecrets().filter(record) is True
    assert record.getMessage() == cleaned
