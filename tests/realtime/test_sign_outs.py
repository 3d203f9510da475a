"""A sign-in that ends closes its sockets (4401): a deactivated or deleted account every socket of
the user, a log-out the sockets of that session, a new password the sockets of the user's sessions
(not those of API tokens); and a deactivated user's sends are refused even before the close."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.test import Client

from conftest import HOST, ORIGIN, Communicator
from parley.accounts.services import token_issue
from parley.rooms.models import Message

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in_browser(user: User) -> Client:
    """A browser signed in as ``user`` (its own session)."""
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
async def session_ws():
    """Open a socket with a browser's session cookie: ``await session_ws(browser)``."""
    from config.asgi import application

    opened: list[Communicator] = []

    async def connect(browser: Client) -> Communicator:
        cookie = f"sessionid={browser.cookies['sessionid'].value}".encode()
        headers = [(b"origin", ORIGIN), (b"host", HOST), (b"cookie", cookie)]
        communicator = Communicator(application, "/ws/", headers=headers)
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        opened.append(communicator)
        return communicator

    yield connect
    for communicator in opened:
        if not communicator.future.done():
            await communicator.disconnect()


async def signed_in_as(socket: Any) -> None:
    """The socket answers as a signed-in one (it has notifications)."""
    await socket.send_json_to({"type": "notifications", "ref": "n"})
    reply = await socket.receive_json_from(timeout=3)
    assert reply["type"] == "notifications", reply


async def closed_saying(socket: Any, words: str) -> None:
    error = await socket.receive_json_from(timeout=3)
    assert (error["type"], error["code"]) == ("error", "forbidden"), error
    assert words in error["detail"]
    assert await socket.receive_output(timeout=3) == {"type": "websocket.close", "code": 4401}


async def still_open(socket: Any) -> None:
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=3) == {"type": "pong"}


async def test_deactivating_a_user_closes_every_socket_and_forgets_the_cached_token(ws, session_ws, alice, bob, lobby):
    issued = await sync_to_async(token_issue)(user=alice)
    by_token = await ws(token=issued.secret, origin=None)  # its handshake cached the token
    by_session = await session_ws(await sync_to_async(signed_in_browser)(alice))
    tutorial = await ws("/ws/chat/lobby/", token=issued.secret, origin=None)
    bobs = await ws(user=bob)
    for socket in (by_token, by_session):
        await signed_in_as(socket)

    alice.is_active = False
    await sync_to_async(alice.save)()

    for socket in (by_token, by_session):
        await closed_saying(socket, "deactivated")
    # The article's page cannot show an error: its socket is closed with the same code.
    assert await tutorial.receive_output(timeout=3) == {"type": "websocket.close", "code": 4401}
    await still_open(bobs)
    again = await ws(token=issued.secret, origin=None)  # not let in from the handshake cache
    assert "unknown or revoked" in (await again.receive_json_from(timeout=3))["detail"]
    assert await again.receive_output(timeout=3) == {"type": "websocket.close", "code": 4401}


async def test_deleting_a_user_closes_every_socket(ws, session_ws, alice):
    issued = await sync_to_async(token_issue)(user=alice)
    by_token = await ws(token=issued.secret, origin=None)
    by_session = await session_ws(await sync_to_async(signed_in_browser)(alice))
    await signed_in_as(by_token)
    await sync_to_async(alice.delete)()
    for socket in (by_token, by_session):
        await closed_saying(socket, "deleted")


async def test_logging_out_closes_the_sockets_of_that_session_only(ws, session_ws, alice):
    leaving = await sync_to_async(signed_in_browser)(alice)
    staying = await sync_to_async(signed_in_browser)(alice)
    issued = await sync_to_async(token_issue)(user=alice)
    left_behind = [await session_ws(leaving), await session_ws(leaving)]
    other_session, by_token = await session_ws(staying), await ws(token=issued.secret, origin=None)
    await signed_in_as(left_behind[0])

    await sync_to_async(leaving.logout)()

    for socket in left_behind:
        await closed_saying(socket, "You signed out")
    for socket in (other_session, by_token):
        await still_open(socket)


async def test_a_new_password_closes_the_session_sockets_but_not_the_token_ones(ws, session_ws, alice, bob):
    sessions = [
        await session_ws(await sync_to_async(signed_in_browser)(alice)),
        await session_ws(await sync_to_async(signed_in_browser)(alice)),
    ]
    issued = await sync_to_async(token_issue)(user=alice)
    by_token, bobs = await ws(token=issued.secret, origin=None), await ws(user=bob)
    await signed_in_as(sessions[0])

    def change_password() -> None:
        user = User.objects.get(pk=alice.pk)
        user.set_password("a-brand-new-password-1")
        user.save()

    await sync_to_async(change_password)()

    for socket in sessions:
        await closed_saying(socket, "password was changed")
    for socket in (by_token, bobs):
        await still_open(socket)


async def test_a_save_that_changes_neither_password_nor_active_closes_nothing(session_ws, alice):
    socket = await session_ws(await sync_to_async(signed_in_browser)(alice))
    alice.first_name = "Alice"
    await sync_to_async(alice.save)()
    await sync_to_async(signed_in_browser)(alice)  # a log-in saves last_login
    await still_open(socket)


async def test_a_deactivated_users_send_is_refused_before_the_socket_is_closed(ws, alice, lobby):
    """``QuerySet.update`` sends no signal: the socket stays open, yet its send stores nothing."""
    issued = await sync_to_async(token_issue)(user=alice)
    socket = await ws(token=issued.secret, origin=None)
    await sync_to_async(User.objects.filter(pk=alice.pk).update)(is_active=False)
    await socket.send_json_to({"type": "send", "room": "lobby", "body": "still here?", "client_id": "c1", "ref": 1})
    error = await socket.receive_json_from(timeout=3)
    assert (error["type"], error["code"], error["ref"]) == ("error", "forbidden", 1)
    assert "deactivated" in error["detail"]
    assert not await sync_to_async(Message.objects.filter(room=lobby).exists)()
