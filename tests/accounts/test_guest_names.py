"""Guests cannot take registered users' names, nor names that differ from one only by case,
Unicode form or look-alike letters; what shows a guest's name says it is a guest's."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User

from parley.accounts.models import UsernameKey
from parley.accounts.names import name_key
from parley.accounts.selectors import name_registered
from parley.mentions.email import mention_author

pytestmark = pytest.mark.django_db

# Each looks like "alice" to a reader.
ALICE_LOOKALIKES = [
    "alice",
    "ALICE",
    "Alice",
    "\u0430lice",  # Cyrillic a
    "\u0410LICE",  # Cyrillic A
    "al\u0456c\u0435",  # Cyrillic i and e
    "\u03b1lice",  # Greek alpha
    "\uff41\uff4c\uff49\uff43\uff45",  # fullwidth
    "\U0001d41a\U0001d425\U0001d422\U0001d41c\U0001d41e",  # mathematical bold
    "a1ice",  # digit one for l
    " alice ",
]


@pytest.mark.parametrize("name", ALICE_LOOKALIKES)
def test_names_that_look_like_alice_share_her_key(name):
    assert name_key(name) == "alice"


@pytest.mark.parametrize("name", ["alicia", "bob", "alice2", "al ice", "malice"])
def test_other_names_keep_their_own_key(name):
    assert name_key(name) != "alice"


@pytest.mark.parametrize("name", ALICE_LOOKALIKES)
def test_a_registered_username_and_its_lookalikes_are_taken(make_user, name):
    make_user("alice")
    assert name_registered(name=name)


def test_a_registered_lookalike_username_takes_the_plain_name_too(make_user):
    make_user("\u0430dmin")  # registered with a Cyrillic a
    assert name_registered(name="admin")
    assert name_registered(name="ADMIN")
    assert not name_registered(name="administrator")


def test_the_key_follows_a_renamed_user_and_not_other_saves(make_user):
    carol = make_user("carol")
    assert UsernameKey.objects.get(user=carol).key == "carol"
    carol.username = "Caroline"
    carol.save()
    assert not name_registered(name="carol")
    assert name_registered(name="caroline")
    UsernameKey.objects.filter(user=carol).update(key="stale")
    carol.save(update_fields=["last_login"])  # as every log-in does: not a rename
    assert UsernameKey.objects.get(user=carol).key == "stale"


def test_a_user_saved_without_a_key_still_keeps_their_name():
    User.objects.bulk_create([User(username="dave")])  # bulk_create sends no post_save
    assert name_registered(name="DAVE")


def test_the_guest_page_refuses_a_registered_name_and_its_lookalikes(client, make_room, make_user):
    make_user("alice")
    make_room("lobby", guests_allowed=True)
    for name in ("alice", "Alice", "\u0430lice"):
        response = client.post("/chat/lobby/guest/", {"name": name})
        assert response.status_code == 400, name
        assert "belongs to a registered user" in response.content.decode()
    assert client.post("/chat/lobby/guest/", {"name": "zed"}).url == "/chat/lobby/"


@pytest.mark.django_db(transaction=True)
async def test_a_socket_guest_asking_for_a_registered_name_gets_a_guest_name(ws, make_user, make_room):
    await sync_to_async(make_user)("alice")
    await sync_to_async(make_room)("lobby", guests_allowed=True)
    for asked in ("alice", "\u0430LICE", "zed"):
        guest = await ws(name=asked)
        await guest.send_json_to({"type": "send", "room": "lobby", "body": "hi", "client_id": f"c-{asked}"})
        assert (await guest.receive_json_from())["type"] == "ack"
        await guest.send_json_to({"type": "history", "room": "lobby", "limit": 1})
        author = (await guest.receive_json_from())["messages"][-1]["author"]
        assert author["guest"] is True
        if asked == "zed":
            assert author["name"] == "zed"
        else:
            assert author["name"].startswith("guest-"), author


def test_an_email_about_a_guests_mention_says_it_was_a_guest():
    assert mention_author({"author": "alice", "author_guest": True}) == "alice (guest)"
    assert mention_author({"author": "alice", "author_guest": False}) == "alice"
    assert mention_author({}) == "Someone"
