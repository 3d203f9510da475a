"""The chat domain's writes: seq assignment, idempotent sends, implicit joins, room creation."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from parley.accounts.identity import guest_identity, user_identity
from parley.rooms.access import RoomAccessError
from parley.rooms.models import Membership, Message, Room
from parley.rooms.services import message_post, message_send, room_get_or_create

pytestmark = pytest.mark.django_db


def test_seq_numbers_each_room_from_one_without_gaps(make_user, make_room):
    alice = user_identity(make_user("alice"))
    first, second = make_room("first"), make_room("second")
    seqs = [message_post(room=first, sender=alice, body=f"m{i}", client_id=f"a{i}").message.seq for i in range(3)]
    other = message_post(room=second, sender=alice, body="x", client_id="b0").message.seq
    assert seqs == [1, 2, 3]
    assert other == 1
    assert Room.objects.get(pk=first.pk).last_seq == 3


def test_a_repeated_client_id_stores_nothing_and_returns_the_first_message(make_user, make_room):
    alice = user_identity(make_user("alice"))
    room = make_room("lobby")
    first = message_post(room=room, sender=alice, body="hello", client_id="same")
    again = message_post(room=room, sender=alice, body="hello again", client_id="same")
    assert first.created
    assert not again.created
    assert again.message.pk == first.message.pk
    assert again.message.body == "hello"
    assert Message.objects.filter(room=room).count() == 1
    # The retry did not use up a seq: the next message continues the sequence.
    assert Room.objects.get(pk=room.pk).last_seq == 1
    assert message_post(room=room, sender=alice, body="next", client_id="other").message.seq == 2


def test_the_same_client_id_from_different_senders_is_two_messages(make_user, make_room):
    room = make_room("lobby", guests_allowed=True)
    alice, bob = user_identity(make_user("alice")), user_identity(make_user("bob"))
    guest = guest_identity(guest_id="g1", name="zed")
    other_guest = guest_identity(guest_id="g2", name="zed")
    for sender in (alice, bob, guest, other_guest):
        assert message_post(room=room, sender=sender, body="hi", client_id="c").created
    assert not message_post(room=room, sender=guest, body="hi", client_id="c").created
    assert Message.objects.filter(room=room).count() == 4


def test_guest_messages_carry_the_guest_name_and_no_author(make_room):
    room = make_room("lobby", guests_allowed=True)
    message = message_post(
        room=room, sender=guest_identity(guest_id="g1", name="zed"), body="hi", client_id="c"
    ).message
    assert message.author is None
    assert (message.guest_name, message.guest_id) == ("zed", "g1")


def test_posting_in_a_public_room_makes_the_sender_a_member(make_user, make_room):
    alice = make_user("alice")
    room = make_room("general")
    message_post(room=room, sender=user_identity(alice), body="hi", client_id="c")
    assert Membership.objects.filter(room=room, user=alice, role=Membership.Role.MEMBER).exists()


def test_posting_again_after_leaving_joins_again_and_keeps_an_owners_role(make_user, make_room):
    alice, owner = make_user("alice"), make_user("owner")
    room = make_room("general")
    Membership.objects.create(room=room, user=owner, role=Membership.Role.OWNER)
    message_post(room=room, sender=user_identity(alice), body="hi", client_id="c1")
    Membership.objects.filter(room=room, user=alice).delete()
    message_post(room=room, sender=user_identity(alice), body="back", client_id="c2")
    message_post(room=room, sender=user_identity(owner), body="hi", client_id="c3")
    assert Membership.objects.get(room=room, user=alice).role == Membership.Role.MEMBER
    assert Membership.objects.get(room=room, user=owner).role == Membership.Role.OWNER


def test_a_post_is_two_statements_on_postgresql(make_user, make_room):
    """The seq, then the message with the membership (the transaction's BEGIN and COMMIT, here the
    test's savepoint, are not counted); SQLite takes the membership in a statement of its own."""
    alice = user_identity(make_user("alice"))
    room = make_room("general")
    with CaptureQueriesContext(connection) as captured:
        message_post(room=room, sender=alice, body="hi", client_id="c")
    statements = [query["sql"] for query in captured if "SAVEPOINT" not in query["sql"]]
    assert len(statements) == (2 if connection.vendor == "postgresql" else 3), statements
    assert Membership.objects.filter(room=room, user=alice.user).exists()


def test_only_members_post_in_a_private_room_and_others_see_not_found(make_user, make_room):
    alice, mallory = make_user("alice"), make_user("mallory")
    room = make_room("secret", is_private=True, members=[alice])
    message_post(room=room, sender=user_identity(alice), body="hi", client_id="c")
    with pytest.raises(RoomAccessError) as refused:
        message_post(room=room, sender=user_identity(mallory), body="hi", client_id="c")
    assert refused.value.code == "not_found"
    assert Message.objects.filter(room=room).count() == 1


def test_staff_post_anywhere(make_user, make_room):
    room = make_room("secret", is_private=True)
    assert message_post(
        room=room, sender=user_identity(make_user("root", staff=True)), body="hi", client_id="c"
    ).created


@pytest.mark.parametrize(
    ("guests_allowed", "guests_setting", "allowed"), [(True, True, True), (False, True, False), (True, False, False)]
)
def test_guests_post_only_where_guests_are_allowed(settings, make_room, guests_allowed, guests_setting, allowed):
    settings.PARLEY = {**settings.PARLEY, "GUESTS": guests_setting}
    room = make_room("lobby", guests_allowed=guests_allowed)
    guest = guest_identity(guest_id="g1", name="zed")
    if allowed:
        assert message_post(room=room, sender=guest, body="hi", client_id="c").created
    else:
        with pytest.raises(RoomAccessError) as refused:
            message_post(room=room, sender=guest, body="hi", client_id="c")
        assert refused.value.code == "forbidden"
        assert not Message.objects.exists()


def test_message_send_to_an_unknown_room_is_not_found(make_user):
    with pytest.raises(RoomAccessError) as refused:
        message_send(slug="nowhere", sender=user_identity(make_user("alice")), body="hi", client_id="c")
    assert refused.value.code == "not_found"


def test_room_get_or_create_is_idempotent_and_makes_the_creator_owner(make_user):
    alice = make_user("alice")
    created = room_get_or_create(slug="lobby", title="Lobby", guests_allowed=True, creator=alice)
    again = room_get_or_create(slug="lobby", title="Changed", is_private=True)
    assert created.created
    assert not again.created
    assert again.room.pk == created.room.pk
    assert (again.room.title, again.room.is_private) == ("Lobby", False)
    assert Membership.objects.get(room=created.room, user=alice).role == Membership.Role.OWNER


@pytest.mark.parametrize("slug", ["", "has space", "a/b", "x" * 65, "émoji", "dm-1-2", "DM-1-2", "Dm-x"])
def test_room_slugs_are_checked(slug):
    with pytest.raises(ValidationError):
        room_get_or_create(slug=slug)
    assert not Room.objects.exists()


@pytest.mark.parametrize("slug", ["dm-1-2", "DM-1-2", "dM-team"])
def test_createroom_refuses_a_name_kept_for_direct_messages_in_any_case(slug):
    with pytest.raises(CommandError, match="kept for direct messages"):
        call_command("createroom", slug)
    assert not Room.objects.exists()


def test_names_that_only_contain_dm_are_not_reserved():
    assert room_get_or_create(slug="adm-1").created
    assert room_get_or_create(slug="dm_1").created
