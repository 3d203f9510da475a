"""Read markers: they only move forward, stop at the room's head, and say so to the user's sockets;
a direct message tells its recipient's sockets the new unread count."""

from __future__ import annotations

import pytest

from parley.accounts.identity import guest_identity, user_identity
from parley.direct.services import direct_conversation_open
from parley.readstate.models import ReadMarker
from parley.readstate.selectors import Unread, unread_count
from parley.readstate.services import direct_unread_publish, read_marker_advance, unread_frame
from parley.rooms.services import membership_leave, message_post
from parley.wire import frames

pytestmark = pytest.mark.django_db


def post(room, who, count=1):
    for number in range(count):
        message_post(room=room, sender=who, body=f"message {number}", client_id=f"{who.key}-{room.last_seq}-{number}")
    room.refresh_from_db()


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
def lobby(make_room):
    return make_room("lobby", guests_allowed=True)


def test_a_new_reader_has_everything_unread_and_reading_moves_the_marker(alice, bob, lobby):
    post(lobby, user_identity(bob), 5)
    assert unread_count(user_id=alice.pk, room_id=lobby.pk) == Unread(count=5, last_read=0)
    assert read_marker_advance(user=alice, room=lobby, seq=3) == Unread(count=2, last_read=3)
    assert ReadMarker.objects.get(user=alice, room=lobby).last_read == 3


def test_the_marker_never_moves_back(alice, bob, lobby, django_capture_on_commit_callbacks):
    post(lobby, user_identity(bob), 5)
    read_marker_advance(user=alice, room=lobby, seq=4)
    with django_capture_on_commit_callbacks() as published:
        assert read_marker_advance(user=alice, room=lobby, seq=2) == Unread(count=1, last_read=4)
        assert read_marker_advance(user=alice, room=lobby, seq=4) == Unread(count=1, last_read=4)
    assert published == []  # nothing moved, nothing to tell
    assert ReadMarker.objects.get(user=alice, room=lobby).last_read == 4


def test_a_seq_beyond_the_head_reads_up_to_the_head(alice, bob, lobby):
    post(lobby, user_identity(bob), 3)
    assert read_marker_advance(user=alice, room=lobby, seq=2**63 - 1) == Unread(count=0, last_read=3)
    post(lobby, user_identity(bob), 2)
    # Had the marker been stored at 2^63-1, these two would never count as unread.
    assert unread_count(user_id=alice.pk, room_id=lobby.pk) == Unread(count=2, last_read=3)


def test_reading_an_empty_room_stores_nothing(alice, lobby, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as published:
        assert read_marker_advance(user=alice, room=lobby, seq=10) == Unread(count=0, last_read=0)
    assert published == []
    assert not ReadMarker.objects.exists()


def test_a_move_publishes_once_after_commit(alice, bob, lobby, django_capture_on_commit_callbacks):
    post(lobby, user_identity(bob), 2)
    with django_capture_on_commit_callbacks() as published:
        read_marker_advance(user=alice, room=lobby, seq=1)
    assert len(published) == 1
    with django_capture_on_commit_callbacks() as published:
        read_marker_advance(user=alice, room=lobby, seq=2)
    assert len(published) == 1


def test_your_own_messages_never_count_but_guests_do(alice, bob, lobby):
    post(lobby, user_identity(alice), 3)
    post(lobby, guest_identity(guest_id="g1", name="zed"), 2)
    post(lobby, user_identity(bob), 1)
    assert unread_count(user_id=alice.pk, room_id=lobby.pk) == Unread(count=3, last_read=0)
    assert unread_count(user_id=bob.pk, room_id=lobby.pk) == Unread(count=5, last_read=0)


def test_each_user_has_their_own_marker(alice, bob, make_user, lobby):
    carol = make_user("carol")
    post(lobby, user_identity(carol), 4)
    read_marker_advance(user=alice, room=lobby, seq=4)
    assert unread_count(user_id=alice.pk, room_id=lobby.pk) == Unread(count=0, last_read=4)
    assert unread_count(user_id=bob.pk, room_id=lobby.pk) == Unread(count=4, last_read=0)


def test_only_a_direct_message_publishes_the_recipients_unread_count(
    alice, bob, lobby, make_room, django_capture_on_commit_callbacks, django_assert_num_queries
):
    direct = direct_conversation_open(user=alice, username="bob").conversation.room
    look_alike = make_room("dm-998-999", is_private=True, members=[alice, bob])  # not a conversation
    post(direct, user_identity(bob), 1)
    post(look_alike, user_identity(bob), 1)
    post(lobby, user_identity(bob), 1)
    messages = {room.slug: room.messages.get() for room in (direct, look_alike, lobby)}

    with django_capture_on_commit_callbacks() as published, django_assert_num_queries(0):
        direct_unread_publish(message=messages["lobby"])  # an ordinary room: ruled out without a query
    assert published == []
    with django_capture_on_commit_callbacks() as published:
        direct_unread_publish(message=messages["dm-998-999"])
    assert published == []
    with django_capture_on_commit_callbacks() as published, django_assert_num_queries(2):
        direct_unread_publish(message=messages[direct.slug])
    assert len(published) == 1
    membership_leave(room=direct, user=alice)
    with django_capture_on_commit_callbacks() as published, django_assert_num_queries(2):
        direct_unread_publish(message=messages[direct.slug])
    assert published == []  # alice left the conversation: its count is no longer hers


def test_the_pushed_unread_frame_is_the_models_shape_without_a_ref(lobby):
    frame = unread_frame(room=lobby, state=Unread(count=2, last_read=3))
    assert frame == {"type": "unread", "room": "lobby", "count": 2, "last_read": 3}
    assert list(frame) == ["type", "room", "count", "last_read"]  # ``type`` first on the wire
    assert frames.Unread.model_validate(frame).count == 2
