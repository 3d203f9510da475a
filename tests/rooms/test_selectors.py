"""The chat domain's reads: replay windows, history pages, visibility, member lists."""

from __future__ import annotations

import pytest

from parley.accounts.identity import guest_identity, user_identity
from parley.direct.services import direct_conversation_open
from parley.rooms.access import RoomAccessError
from parley.rooms.models import Membership
from parley.rooms.selectors import (
    Member,
    messages_before,
    messages_between,
    messages_replay,
    room_for_reader,
    room_members_page,
    rooms_visible,
)
from parley.rooms.services import message_post
from parley.wire.frames import MessageData

pytestmark = pytest.mark.django_db


@pytest.fixture
def room_with_ten(make_user, make_room):
    room = make_room("lobby")
    alice = user_identity(make_user("alice"))
    for i in range(1, 11):
        message_post(room=room, sender=alice, body=f"m{i}", client_id=f"c{i}")
    return room


def seqs(messages):
    return [message["seq"] for message in messages]


def test_replay_without_since_sends_nothing_and_reports_the_head(room_with_ten):
    replay = messages_replay(room=room_with_ten, since=None, limit=100)
    assert (replay.messages, replay.head, replay.truncated) == ([], 10, False)


def test_replay_sends_everything_after_since_oldest_first(room_with_ten):
    replay = messages_replay(room=room_with_ten, since=7, limit=100)
    assert seqs(replay.messages) == [8, 9, 10]
    assert (replay.head, replay.truncated) == (10, False)


def test_replay_over_the_limit_sends_the_newest_and_says_truncated(room_with_ten):
    replay = messages_replay(room=room_with_ten, since=2, limit=3)
    assert seqs(replay.messages) == [8, 9, 10]
    assert replay.truncated


def test_replay_from_the_head_or_beyond_is_empty(room_with_ten):
    assert messages_replay(room=room_with_ten, since=10, limit=5).messages == []
    assert messages_replay(room=room_with_ten, since=99, limit=5).messages == []


def test_history_pages_backwards_oldest_first(room_with_ten):
    assert seqs(messages_before(room=room_with_ten, before=None, limit=4)) == [7, 8, 9, 10]
    assert seqs(messages_before(room=room_with_ten, before=7, limit=4)) == [3, 4, 5, 6]
    assert seqs(messages_before(room=room_with_ten, before=3, limit=4)) == [1, 2]


def test_messages_between_reads_a_gap(room_with_ten):
    assert seqs(messages_between(room_id=room_with_ten.pk, after=4, upto=7)) == [5, 6, 7]


def test_message_payloads_match_the_protocol_schema(room_with_ten):
    for message in messages_before(room=room_with_ten, before=None, limit=10):
        assert MessageData.model_validate(message).model_dump() == message
        assert message["created_at"].endswith("Z")
        assert message["author"] == {"id": message["author"]["id"], "name": "alice", "guest": False}


def test_private_rooms_do_not_exist_for_non_members(make_user, make_room):
    alice, mallory = make_user("alice"), make_user("mallory")
    make_room("secret", is_private=True, members=[alice])
    assert room_for_reader(slug="secret", identity=user_identity(alice)).slug == "secret"
    with pytest.raises(RoomAccessError) as hidden:
        room_for_reader(slug="secret", identity=user_identity(mallory))
    with pytest.raises(RoomAccessError) as missing:
        room_for_reader(slug="nowhere", identity=user_identity(mallory))
    assert hidden.value.code == missing.value.code == "not_found"
    assert hidden.value.detail.replace("secret", "X") == missing.value.detail.replace("nowhere", "X")


def test_room_list_shows_what_each_identity_may_enter(make_user, make_room):
    alice, bob = make_user("alice"), make_user("bob")
    make_room("general")
    make_room("lobby", guests_allowed=True)
    make_room("secret", is_private=True, members=[alice])
    slugs = lambda identity: [room.slug for room in rooms_visible(identity=identity)]  # noqa: E731
    assert slugs(user_identity(alice)) == ["general", "lobby", "secret"]
    assert slugs(user_identity(bob)) == ["general", "lobby"]
    assert slugs(guest_identity(guest_id="g", name="zed")) == ["lobby"]
    assert slugs(user_identity(make_user("root", staff=True))) == ["general", "lobby", "secret"]


def test_direct_conversations_can_be_left_out_of_the_room_list(make_user, make_room):
    alice = make_user("alice")
    make_user("bob")
    make_room("general")
    direct = direct_conversation_open(user=alice, username="bob").conversation.room
    slugs = [room.slug for room in rooms_visible(identity=user_identity(alice))]
    assert slugs == sorted(["general", direct.slug])
    assert [room.slug for room in rooms_visible(identity=user_identity(alice), include_direct=False)] == ["general"]


def test_a_member_page_lists_owners_then_moderators_then_names_and_counts_the_rest(
    make_user, make_room, django_assert_num_queries
):
    room = make_room("town")
    users = {name: make_user(name) for name in ("zoe", "Bea", "carl", "dan", "eve", "mod")}
    for name, user in users.items():
        role = {"zoe": "owner", "mod": "moderator"}.get(name, "member")
        Membership.objects.create(room=room, user=user, role=role)
    make_room("elsewhere", members=[make_user("outsider")])
    with django_assert_num_queries(2):  # the page, then the count: there are more
        page = room_members_page(room=room, limit=4)
    assert page.members == [
        Member(id=users["zoe"].pk, name="zoe", role="owner"),
        Member(id=users["mod"].pk, name="mod", role="moderator"),
        Member(id=users["Bea"].pk, name="Bea", role="member"),
        Member(id=users["carl"].pk, name="carl", role="member"),
    ]
    assert page.total == 6
    with django_assert_num_queries(1):  # all of them fit: no count needed
        everyone = room_members_page(room=room, limit=100)
    assert [member.name for member in everyone.members] == ["zoe", "mod", "Bea", "carl", "dan", "eve"]
    assert everyone.total == 6
