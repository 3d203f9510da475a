"""Group commit: sends stored together keep every promise of a send stored alone."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from parley.accounts.identity import guest_identity, user_identity
from parley.rooms.access import RoomAccessError
from parley.rooms.followups import message_followups
from parley.rooms.group_commit import Send, message_send_many
from parley.rooms.models import Membership, Message, Room
from parley.rooms.services import PostResult, message_post

pytestmark = pytest.mark.django_db(transaction=True)


def seqs(room_slug):
    return list(Message.objects.filter(room__slug=room_slug).order_by("seq").values_list("seq", "body"))


def test_each_room_takes_its_next_seqs_in_the_order_sent(make_user, make_room):
    alice, bob = user_identity(make_user("alice")), user_identity(make_user("bob"))
    make_room("one"), make_room("two")
    sends = [
        Send(slug="one", sender=alice, body="a1", client_id="c1"),
        Send(slug="two", sender=bob, body="b1", client_id="c2"),
        Send(slug="one", sender=bob, body="a2", client_id="c3"),
        Send(slug="one", sender=alice, body="a3", client_id="c4"),
    ]
    outcomes = message_send_many(sends=sends)
    assert [(o.message.seq, o.created) for o in outcomes] == [(1, True), (1, True), (2, True), (3, True)]
    assert seqs("one") == [(1, "a1"), (2, "a2"), (3, "a3")]
    assert seqs("two") == [(1, "b1")]
    assert Room.objects.get(slug="one").last_seq == 3
    assert Membership.objects.filter(room__slug="one").count() == 2


def test_a_repeat_in_the_same_batch_or_an_earlier_one_returns_the_first_message(make_user, make_room):
    alice = user_identity(make_user("alice"))
    room = make_room("one")
    earlier = message_post(room=room, sender=alice, body="first", client_id="old")
    outcomes = message_send_many(
        sends=[
            Send(slug="one", sender=alice, body="new", client_id="new"),
            Send(slug="one", sender=alice, body="new again", client_id="new"),
            Send(slug="one", sender=alice, body="old again", client_id="old"),
            Send(slug="one", sender=alice, body="next", client_id="next"),
        ]
    )
    assert all(isinstance(outcome, PostResult) for outcome in outcomes)
    assert [(o.message.seq, o.created) for o in outcomes] == [(2, True), (2, False), (1, False), (3, True)]
    assert outcomes[1].message.pk == outcomes[0].message.pk
    assert outcomes[2].message.pk == earlier.message.pk
    # The repeats gave their seqs back: no gap.
    assert seqs("one") == [(1, "first"), (2, "new"), (3, "next")]
    assert Room.objects.get(slug="one").last_seq == 3


def test_a_refused_send_is_answered_alone_and_the_others_are_stored(make_user, make_room):
    alice = user_identity(make_user("alice"))
    make_room("open"), make_room("secret", is_private=True), make_room("members-only")
    guest = guest_identity(guest_id="g1", name="zed")
    outcomes = message_send_many(
        sends=[
            Send(slug="open", sender=alice, body="one", client_id="c1"),
            Send(slug="secret", sender=alice, body="no", client_id="c2"),
            Send(slug="nowhere", sender=alice, body="no", client_id="c3"),
            Send(slug="members-only", sender=guest, body="no", client_id="c4"),
            Send(slug="open", sender=alice, body="two", client_id="c5"),
        ]
    )
    assert [type(outcome) for outcome in outcomes] == [
        PostResult, RoomAccessError, RoomAccessError, RoomAccessError, PostResult,
    ]  # fmt: skip
    assert [outcome.code for outcome in outcomes[1:4]] == ["not_found", "not_found", "forbidden"]
    assert seqs("open") == [(1, "one"), (2, "two")]
    assert Room.objects.get(slug="secret").last_seq == 0
    assert Room.objects.get(slug="members-only").last_seq == 0


def test_a_failure_mid_batch_fails_only_its_own_send(make_user, make_room, monkeypatch):
    def explode(*, message):
        if message.body == "boom":
            raise RuntimeError("a followup failed")

    monkeypatch.setattr(message_followups, "_followups", [*message_followups._followups, explode])
    alice = user_identity(make_user("alice"))
    make_room("one")
    outcomes = message_send_many(
        sends=[
            Send(slug="one", sender=alice, body="before", client_id="c1"),
            Send(slug="one", sender=alice, body="boom", client_id="c2"),
            Send(slug="one", sender=alice, body="after", client_id="c3"),
        ]
    )
    assert isinstance(outcomes[1], RuntimeError)
    assert [outcomes[0].message.seq, outcomes[2].message.seq] == [1, 2]
    assert seqs("one") == [(1, "before"), (2, "after")]


def test_each_stored_message_is_published_after_the_commit(make_user, make_room, monkeypatch):
    alice = user_identity(make_user("alice"))
    make_room("one")
    published = []

    def publish(group, event):
        # Called after the commit, with the message stored.
        assert Message.objects.filter(room__slug="one", seq=event["seq"]).exists()
        published.append(event["seq"])

    monkeypatch.setattr("parley.events.publish.publish", publish)
    message_send_many(
        sends=[
            Send(slug="one", sender=alice, body="a", client_id="c1"),
            Send(slug="one", sender=alice, body="a", client_id="c1"),
            Send(slug="one", sender=alice, body="b", client_id="c2"),
        ]
    )
    assert published == [1, 2]


def test_an_unreachable_database_answers_every_send_with_its_error(make_user, make_room, monkeypatch):
    alice = user_identity(make_user("alice"))
    make_room("one")

    def unreachable(**kwargs):
        raise OperationalError("connection refused")

    # The first statement of a batch: SQLite's per send, PostgreSQL's for the whole batch.
    monkeypatch.setattr("parley.rooms.group_commit.room_take_next_seq", unreachable)
    monkeypatch.setattr("parley.rooms.group_commit.rooms_lock", unreachable)
    outcomes = message_send_many(
        sends=[Send(slug="one", sender=alice, body=b, client_id=b) for b in ("a", "b")],
    )
    assert [type(outcome) for outcome in outcomes] == [OperationalError, OperationalError]
    assert seqs("one") == []


def test_guests_repeats_deactivated_senders_and_memberships_in_one_batch(make_user, make_room):
    alice_user, bob_user = make_user("alice"), make_user("bob")
    alice, bob = user_identity(alice_user), user_identity(bob_user)
    guest = guest_identity(guest_id="g1", name="zed")
    anonymous = guest_identity(guest_id="", name="nobody")
    make_room("open", guests_allowed=True), make_room("other")
    earlier = message_send_many(sends=[Send(slug="open", sender=guest, body="hi", client_id="g-1")])[0]
    type(bob_user).objects.filter(pk=bob_user.pk).update(is_active=False)  # since bob's socket signed in

    outcomes = message_send_many(
        sends=[
            Send(slug="open", sender=guest, body="hi again", client_id="g-1"),  # a guest's retry
            Send(slug="open", sender=anonymous, body="one", client_id="same"),  # no guest id: never a repeat
            Send(slug="open", sender=anonymous, body="two", client_id="same"),
            Send(slug="other", sender=bob, body="no", client_id="b-1"),
            Send(slug="other", sender=alice, body="a", client_id="a-1"),
            Send(slug="open", sender=alice, body="b", client_id="a-1"),  # the same client_id, another room
        ]
    )
    assert [(o.message.seq, o.created) for o in outcomes if isinstance(o, PostResult)] == [
        (1, False), (2, True), (3, True), (1, True), (4, True),
    ]  # fmt: skip
    assert outcomes[0].message.pk == earlier.message.pk
    assert isinstance(outcomes[3], RoomAccessError)
    assert "deactivated" in outcomes[3].detail
    assert seqs("open") == [(1, "hi"), (2, "one"), (3, "two"), (4, "b")]
    assert seqs("other") == [(1, "a")]
    assert sorted(Membership.objects.values_list("room__slug", "user__username")) == [
        ("open", "alice"), ("other", "alice"),
    ]  # fmt: skip
    assert [room.last_seq for room in Room.objects.order_by("slug")] == [4, 1]


def test_a_batch_of_repeats_only_stores_nothing_and_joins_its_sender_again(make_user, make_room):
    alice = user_identity(make_user("alice"))
    make_room("one")
    first = message_send_many(sends=[Send(slug="one", sender=alice, body="hi", client_id="c1")])[0]
    Membership.objects.filter(room__slug="one").delete()  # alice left the room since

    outcomes = message_send_many(sends=[Send(slug="one", sender=alice, body="hi", client_id="c1")])
    assert [(o.message.pk, o.created) for o in outcomes] == [(first.message.pk, False)]
    assert seqs("one") == [(1, "hi")]
    assert Room.objects.get(slug="one").last_seq == 1
    assert Membership.objects.filter(room__slug="one", user__username="alice").exists()
