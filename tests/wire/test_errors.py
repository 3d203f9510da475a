"""One refusal, translated once per transport.

A service refuses by raising a ``ParleyError``; the socket answers it with an ``error`` frame, the
HTTP API with its JSON error and the code's status, a management command with a ``CommandError``,
a web page with the sentence and the same status. Each test takes the refusal from the service
itself and checks that the transport carries its code and sentence unchanged.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.core.management import CommandError, call_command
from django.core.management.base import CommandParser
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from parley.accounts.identity import user_identity
from parley.accounts.services import token_issue
from parley.accounts.users import User, name_lookup, users
from parley.management.base import ParleyCommand
from parley.moderation.services import member_ban, member_invite, member_mute
from parley.rooms.models import Membership, Room
from parley.rooms.selectors import room_for_reader
from parley.rooms.services import membership_join, message_post, room_create
from parley.wire.errors import ParleyError

MUTED_UNTIL = timezone.now().replace(microsecond=0) + timedelta(days=2)


def muted_member(make_user: Any) -> tuple[User, ParleyError]:
    """bob, a member of #team muted by its owner, and the refusal the service gives him when he posts."""
    owner, bob = make_user("owner"), make_user("bob")
    room = room_create(slug="team", creator=owner)
    membership_join(room=room, user=bob)
    member_mute(room=room, actor=owner, username="bob", until=MUTED_UNTIL)
    with pytest.raises(ParleyError) as refused:
        message_post(room=room, sender=user_identity(bob), body="hi", client_id="c0")
    assert refused.value.code == "forbidden"
    assert refused.value.detail.startswith("You are muted in #team until ")
    return bob, refused.value


def outsider(make_user: Any, make_room: Any) -> tuple[User, ParleyError]:
    """bob, who is not a member of the private #secret, and the refusal he gets when he reads it."""
    bob = make_user("bob")
    make_room("secret", is_private=True)
    with pytest.raises(ParleyError) as refused:
        room_for_reader(slug="secret", identity=user_identity(bob))
    assert refused.value.code == "not_found"
    return bob, refused.value


def api(user: User) -> Client:
    return Client(headers={"Authorization": f"Bearer {token_issue(user=user).secret}"})


# --- the socket: an error frame ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_the_socket_answers_a_refused_send_with_the_services_code_and_sentence(ws, make_user):
    bob, refusal = await sync_to_async(muted_member)(make_user)
    client = await ws(user=bob)
    await client.send_json_to({"type": "send", "room": "team", "body": "hi", "client_id": "c1", "ref": "r1"})
    assert await client.receive_json_from() == {
        "type": "error",
        "ref": "r1",
        "code": "forbidden",
        "detail": refusal.detail,
    }


@pytest.mark.django_db(transaction=True)
async def test_the_socket_answers_a_hidden_room_with_the_services_code_and_sentence(ws, make_user, make_room):
    bob, refusal = await sync_to_async(outsider)(make_user, make_room)
    client = await ws(user=bob)
    await client.send_json_to({"type": "subscribe", "room": "secret", "ref": 2})
    error = await client.receive_json_from()
    assert error == {"type": "error", "ref": 2, "code": "not_found", "detail": refusal.detail}


# --- the HTTP API: the JSON error with the code's status --------------------------------------


@pytest.mark.django_db
def test_the_api_answers_a_refused_post_with_the_codes_status_and_the_sentence(make_user):
    bob, refusal = muted_member(make_user)
    response = api(bob).post("/api/rooms/team/messages", {"body": "hi"}, content_type="application/json")
    assert response.status_code == 403
    assert response.json() == {"code": "forbidden", "detail": refusal.detail}


@pytest.mark.django_db
def test_the_api_answers_a_hidden_room_with_404_and_the_sentence(make_user, make_room):
    bob, refusal = outsider(make_user, make_room)
    response = api(bob).get("/api/search", {"q": "olive", "room": "secret"})
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": refusal.detail}


@pytest.mark.django_db
def test_the_api_answers_with_the_status_a_refusal_names(make_user):
    # The room's current state forbids it: the protocol's "invalid", answered with 409, not 400.
    owner, bob = make_user("owner"), make_user("bob")
    room = room_create(slug="team", creator=owner)
    member_ban(room=room, actor=owner, username="bob")
    with pytest.raises(ParleyError) as refused:
        member_invite(room=room, actor=owner, username="bob")
    assert (refused.value.code, refused.value.http_status) == ("invalid", 409)
    response = api(owner).post("/api/rooms/team/members", {"username": "bob"}, content_type="application/json")
    assert response.status_code == 409
    assert response.json() == {"code": "invalid", "detail": refused.value.detail}
    assert not Membership.objects.filter(room=room, user=bob).exists()


# --- a management command: a CommandError -----------------------------------------------------


class PostCommand(ParleyCommand):
    """A command that posts as a user through the service, as a host's script might."""

    help = "Post BODY in ROOM as USERNAME."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("room")
        parser.add_argument("username")
        parser.add_argument("body")

    def handle(self, *args: Any, room: str, username: str, body: str, **options: Any) -> None:
        sender = user_identity(users().get(**{name_lookup(): username}))
        message_post(room=Room.objects.get(slug=room), sender=sender, body=body, client_id="c2")
        self.stdout.write("posted")


@pytest.mark.django_db
def test_a_command_ends_with_the_refusals_sentence(make_user):
    _, refusal = muted_member(make_user)
    with pytest.raises(CommandError) as ended:
        call_command(PostCommand(), "team", "bob", "hi")
    assert str(ended.value) == refusal.detail
    assert type(ended.value.__cause__) is type(refusal)  # the refusal stays readable with --traceback


# --- a web page: the sentence, with the code's status -----------------------------------------


@pytest.mark.django_db
def test_the_search_page_answers_a_hidden_room_with_404_and_the_sentence(make_user, make_room):
    bob, refusal = outsider(make_user, make_room)
    browser = Client()
    browser.force_login(bob)
    page = browser.get("/search/", {"q": "olive", "room": "secret"})
    assert page.status_code == 404
    assert escape(refusal.detail) in page.content.decode()
