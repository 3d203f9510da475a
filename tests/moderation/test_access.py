"""The access rules with bans and mutes: a banned user neither reads nor posts, a muted one reads only."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from parley.accounts.identity import guest_identity, user_identity
from parley.moderation.services import member_ban, member_invite, member_mute, room_settings_update
from parley.rooms.access import RoomAccessError, check_can_post, check_can_read
from parley.rooms.selectors import messages_replay_for_reader, room_for_reader
from parley.rooms.services import room_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(make_user):
    return make_user("owner")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


def refusal(check, room, user):
    with pytest.raises(RoomAccessError) as caught:
        check(room=room, identity=user_identity(user))
    return caught.value.code, caught.value.detail


def test_a_banned_user_can_neither_read_nor_post_a_public_room(owner, bob):
    room = room_create(slug="town", creator=owner)
    member_ban(room=room, actor=owner, username="bob")
    for check in (check_can_read, check_can_post):
        assert refusal(check, room, bob) == (
            "forbidden",
            "You are banned from #town; you can no longer read or post there.",
        )


def test_a_banned_user_sees_a_private_room_as_missing(owner, bob):
    room = room_create(slug="club", creator=owner, is_private=True)
    member_invite(room=room, actor=owner, username="bob")
    member_ban(room=room, actor=owner, username="bob")
    for check in (check_can_read, check_can_post):
        code, detail = refusal(check, room, bob)
        assert code == "not_found"
        assert "There is no room 'club'" in detail


@pytest.mark.parametrize("private", [False, True])
def test_a_muted_user_reads_but_does_not_post_until_the_mute_ends(owner, bob, private):
    room = room_create(slug="town", creator=owner, is_private=private)
    member_invite(room=room, actor=owner, username="bob")
    mute = member_mute(room=room, actor=owner, username="bob", seconds=600)
    check_can_read(room=room, identity=user_identity(bob))
    code, detail = refusal(check_can_post, room, bob)
    assert code == "forbidden"
    assert detail == (
        f"You are muted in #town until {mute.until:%Y-%m-%d %H:%M} UTC; you can read the room but not post until then."
    )


def test_an_ended_mute_keeps_nobody_quiet(owner, bob):
    from datetime import timedelta

    from django.utils import timezone

    from parley.rooms.models import RoomMute

    room = room_create(slug="town", creator=owner)
    RoomMute.objects.create(room=room, user=bob, by=owner, until=timezone.now() - timedelta(seconds=1))
    check_can_post(room=room, identity=user_identity(bob))


def test_posting_looks_up_ban_and_mute_in_one_query(owner, bob, settings):
    settings.PARLEY = {**settings.PARLEY, "GUESTS": True}
    room = room_create(slug="town", creator=owner, guests_allowed=True)
    with CaptureQueriesContext(connection) as untouched:
        check_can_post(room=room, identity=user_identity(bob))
    assert len(untouched) == 0  # a room that never had a ban or a mute has nothing to look up
    room.has_restrictions = True  # as after a first ban or mute
    socket = user_identity(bob)  # a socket's identity: it asks for bob's permissions once
    check_can_post(room=room, identity=socket)
    with CaptureQueriesContext(connection) as queries:
        check_can_post(room=room, identity=socket)
    assert len(queries) == 1
    with CaptureQueriesContext(connection) as guest_queries:
        check_can_post(room=room, identity=guest_identity(guest_id="g", name="zed"))
    assert len(guest_queries) == 0  # guests have no user row to ban or mute


def test_the_replay_of_a_new_subscription_checks_access_again(owner, bob):
    """The subscribe checked a room that was public and bob not banned; by the time the socket has
    joined the stream both may have changed, and the replay's own check sees it."""
    room = room_create(slug="town", creator=owner)
    stale = room_for_reader(slug="town", identity=user_identity(bob))  # what the subscribe read
    assert messages_replay_for_reader(slug=stale.slug, reader=user_identity(bob), since=0, limit=10).head == 0
    member_ban(room=room, actor=owner, username="bob")
    with pytest.raises(RoomAccessError) as caught:
        messages_replay_for_reader(slug=stale.slug, reader=user_identity(bob), since=0, limit=10)
    assert caught.value.code == "forbidden"
    room_settings_update(room=room, actor=owner, title="", is_private=True, guests_allowed=False)
    guest = guest_identity(guest_id="g1", name="zed")
    with pytest.raises(RoomAccessError) as caught:
        messages_replay_for_reader(slug="town", reader=guest, since=None, limit=10)
    assert caught.value.code == "not_found"
