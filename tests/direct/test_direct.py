"""Direct conversations: one private two-person room per pair, created once even under a race."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from parley.accounts.identity import user_identity
from parley.direct.models import DirectConversation
from parley.direct.selectors import direct_conversation_of, direct_conversations
from parley.direct.services import direct_conversation_open
from parley.moderation.services import ModerationError
from parley.rooms.access import RoomAccessError, check_can_read
from parley.rooms.models import Membership, Room
from parley.rooms.services import membership_leave, message_post


@pytest.mark.django_db
def test_a_conversation_is_a_private_room_of_the_two_created_once(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    first = direct_conversation_open(user=alice, username="bob")
    again = direct_conversation_open(user=bob, username="alice")
    assert (first.created, again.created) == (True, False)
    room = first.conversation.room
    assert again.conversation.room == room
    low, high = sorted((alice.pk, bob.pk))
    assert room.slug == f"dm-{low}-{high}"
    assert room.is_private
    assert set(Membership.objects.filter(room=room).values_list("user__username", "role")) == {
        ("alice", "member"),
        ("bob", "member"),
    }


@pytest.mark.django_db
def test_the_other_person_is_the_one_of_the_pair_who_is_not_you(make_user, django_assert_num_queries):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    # Opened by the higher id, so "the other one" cannot come out right by following the stored order.
    room = direct_conversation_open(user=bob, username="alice").conversation.room
    conversation = direct_conversation_of(room=room)
    assert conversation is not None
    with django_assert_num_queries(0):  # the selector brought the pair along
        assert conversation.other_user(alice.pk) == bob
        assert conversation.other_user(bob.pk) == alice
        assert conversation.other_user_id(alice.pk) == bob.pk
        assert conversation.other_user_id(bob.pk) == alice.pk
    # Someone outside the pair (staff reading the room) is shown the first of the two.
    assert conversation.other_user(carol.pk) == conversation.other_user(None) == conversation.user_low


@pytest.mark.django_db
def test_whoever_left_a_conversation_is_back_in_it_when_they_open_it_again(make_user):
    alice, _bob = make_user("alice"), make_user("bob")
    room = direct_conversation_open(user=alice, username="bob").conversation.room
    membership_leave(room=room, user=alice)
    with pytest.raises(RoomAccessError):
        check_can_read(room=room, identity=user_identity(alice))

    reopened = direct_conversation_open(user=alice, username="bob")

    assert reopened.conversation.room == room
    check_can_read(room=room, identity=user_identity(alice))  # no longer a dead end


@pytest.mark.django_db
def test_nobody_talks_to_themselves_or_to_someone_missing_or_inactive(make_user):
    alice = make_user("alice")
    gone = make_user("gone")
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    with pytest.raises(ModerationError, match=r"You cannot start a direct conversation with yourself\."):
        direct_conversation_open(user=alice, username="alice")
    for name in ("nobody", "gone"):
        with pytest.raises(ModerationError) as missing:
            direct_conversation_open(user=alice, username=name)
        assert missing.value.code == "not_found"
    assert not Room.objects.exists()


@pytest.mark.django_db
def test_the_list_puts_the_newest_activity_first(make_user):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    with_bob = direct_conversation_open(user=alice, username="bob").conversation
    direct_conversation_open(user=carol, username="alice")
    assert [row.other.username for row in direct_conversations(user=alice)] == ["carol", "bob"]
    message_post(room=with_bob.room, sender=user_identity(bob), body="hi", client_id="1")
    assert [row.other.username for row in direct_conversations(user=alice)] == ["bob", "carol"]
    assert [row.other.username for row in direct_conversations(user=carol)] == ["alice"]


@pytest.mark.django_db(transaction=True)
def test_two_requests_at_once_make_one_conversation(make_user):
    if connection.vendor == "sqlite":
        # The test database is SQLite's shared-cache memory database, whose table locks fail at once
        # ("database table is locked") where a file database waits; make test-postgres runs this.
        pytest.skip("two writers at once need PostgreSQL here; run with DATABASE_URL=postgres://…")
    alice, bob = make_user("alice"), make_user("bob")
    start = threading.Barrier(2)
    results, errors = [], []

    def open_from(user, other):
        try:
            start.wait()
            results.append(direct_conversation_open(user=user, username=other))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=open_from, args=pair) for pair in ((alice, "bob"), (bob, "alice"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(result.created for result in results) == [False, True]
    assert len({result.conversation.room_id for result in results}) == 1
    assert DirectConversation.objects.count() == 1
    assert Room.objects.count() == 1
