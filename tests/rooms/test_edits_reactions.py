"""Edits, deletes and reactions in the chat domain: who may do what, what is stored, what is published."""

from __future__ import annotations

import pytest

from parley.accounts.identity import guest_identity, user_identity
from parley.events.publish import publish_room_frame
from parley.rooms.access import RoomAccessError
from parley.rooms.models import Membership, Message, MessageEdit, Reaction
from parley.rooms.selectors import message_edits, messages_before, messages_replay
from parley.rooms.services import message_delete, message_edit, message_post, reaction_set
from parley.wire.errors import ParleyError
from parley.wire.text import MAX_REACTIONS_PER_MESSAGE, validate_body, validate_emoji

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user, make_room):
    alice, bob = make_user("alice"), make_user("bob")
    room = make_room("lobby", guests_allowed=True)
    return room, user_identity(alice), user_identity(bob)


def post(room, who, body="hello"):
    return message_post(room=room, sender=who, body=body, client_id=f"c-{body}").message


def room_frames(callbacks):
    """The (frame, personal) of every room frame the captured on-commit callbacks would publish."""
    return [
        (cb.args[1], cb.keywords.get("personal")) for cb in callbacks if getattr(cb, "func", None) is publish_room_frame
    ]


def test_an_edit_replaces_the_body_keeps_the_old_one_and_tells_the_room(people, django_capture_on_commit_callbacks):
    room, alice, _ = people
    message = post(room, alice)
    with django_capture_on_commit_callbacks() as callbacks:
        change = message_edit(room=room, editor=alice, seq=message.seq, body="hello, world")
    assert change.changed
    stored = Message.objects.get(pk=message.pk)
    assert (stored.body, stored.edited_at is not None, stored.seq) == ("hello, world", True, message.seq)
    edit = MessageEdit.objects.get(message=message)
    assert (edit.action, edit.previous_body, edit.edited_by_id) == ("edit", "hello", alice.user_id)
    [(frame, personal)] = room_frames(callbacks)
    assert personal is None
    assert frame == {
        "type": "message_updated",
        "room": "lobby",
        "seq": 1,
        "body": "hello, world",
        "edited_at": stored.edited_at.isoformat().replace("+00:00", "Z"),
        "deleted": False,
    }


def test_an_unchanged_body_stores_and_publishes_nothing(people, django_capture_on_commit_callbacks):
    room, alice, _ = people
    message = post(room, alice)
    with django_capture_on_commit_callbacks() as callbacks:
        change = message_edit(room=room, editor=alice, seq=message.seq, body="hello")
    assert not change.changed
    assert room_frames(callbacks) == []
    assert not MessageEdit.objects.exists()
    assert Message.objects.get(pk=message.pk).edited_at is None


def test_only_the_author_may_edit_and_bad_input_is_refused(people):
    room, alice, bob = people
    message = post(room, alice)
    with pytest.raises(RoomAccessError) as refused:
        message_edit(room=room, editor=bob, seq=message.seq, body="mine now")
    assert refused.value.code == "forbidden"
    with pytest.raises(RoomAccessError) as missing:
        message_edit(room=room, editor=alice, seq=99, body="x")
    assert missing.value.code == "not_found"
    # A blank body never reaches the service: it is refused where it comes in (the frame, the API).
    with pytest.raises(ParleyError) as blank:
        validate_body("   ")
    assert blank.value.code == "invalid"
    assert Message.objects.get(pk=message.pk).body == "hello"


def test_a_guest_edits_their_own_messages_only(people):
    room, alice, _ = people
    zed = guest_identity(guest_id="g1", name="zed")
    own, others = post(room, zed, "mine"), post(room, alice, "hers")
    assert message_edit(room=room, editor=zed, seq=own.seq, body="still mine").changed
    with pytest.raises(RoomAccessError):
        message_edit(room=room, editor=guest_identity(guest_id="g2", name="zed"), seq=own.seq, body="stolen")
    with pytest.raises(RoomAccessError):
        message_edit(room=room, editor=zed, seq=others.seq, body="x")


def test_a_delete_blanks_the_body_keeps_the_seq_and_moves_the_text_to_the_history(
    people, django_capture_on_commit_callbacks
):
    room, alice, bob = people
    message = post(room, alice, "oops")
    reaction_set(room=room, user=bob, seq=message.seq, emoji="👍", on=True)
    with django_capture_on_commit_callbacks() as callbacks:
        assert message_delete(room=room, actor=alice, seq=message.seq).changed
    stored = Message.objects.get(pk=message.pk)
    assert (stored.body, stored.deleted_at is not None, stored.seq) == ("", True, 1)
    assert not Reaction.objects.filter(message=message).exists()
    assert MessageEdit.objects.get(message=message).previous_body == "oops"
    [(frame, _)] = room_frames(callbacks)
    assert (frame["type"], frame["body"], frame["deleted"]) == ("message_updated", "", True)
    # Deleting again changes nothing; editing or reacting to it is refused.
    with django_capture_on_commit_callbacks() as again:
        assert not message_delete(room=room, actor=alice, seq=message.seq).changed
    assert room_frames(again) == []
    with pytest.raises(RoomAccessError):
        message_edit(room=room, editor=alice, seq=message.seq, body="back")
    with pytest.raises(RoomAccessError):
        reaction_set(room=room, user=bob, seq=message.seq, emoji="👍", on=True)


def test_moderators_owners_and_staff_delete_any_message_others_only_their_own(people, make_user):
    room, alice, bob = people
    carol, dave, staff = make_user("carol"), make_user("dave"), make_user("ops", staff=True)
    Membership.objects.create(room=room, user=carol, role=Membership.Role.MODERATOR)
    Membership.objects.create(room=room, user=dave, role=Membership.Role.OWNER)
    with pytest.raises(RoomAccessError) as refused:
        message_delete(room=room, actor=bob, seq=post(room, alice, "a").seq)
    assert refused.value.code == "forbidden"
    for who, body in ((carol, "b"), (dave, "c"), (staff, "d")):
        assert message_delete(room=room, actor=user_identity(who), seq=post(room, alice, body).seq).changed


def test_the_edit_history_is_for_moderators_only(people, make_user):
    room, alice, _ = people
    message = post(room, alice, "one")
    message_edit(room=room, editor=alice, seq=message.seq, body="two")
    message_edit(room=room, editor=alice, seq=message.seq, body="three")
    with pytest.raises(RoomAccessError) as refused:
        message_edits(room=room, seq=message.seq, reader=alice)
    assert refused.value.code == "forbidden"
    staff = user_identity(make_user("ops", staff=True))
    assert [edit.previous_body for edit in message_edits(room=room, seq=message.seq, reader=staff)] == ["one", "two"]


def test_reactions_count_per_emoji_and_each_reactor_gets_their_own(people, django_capture_on_commit_callbacks):
    room, alice, bob = people
    message = post(room, alice)
    reaction_set(room=room, user=alice, seq=message.seq, emoji="👍", on=True)
    with django_capture_on_commit_callbacks() as callbacks:
        state = reaction_set(room=room, user=bob, seq=message.seq, emoji="🎉", on=True)
    reaction_set(room=room, user=bob, seq=message.seq, emoji="👍", on=True)
    assert state.counts == {"👍": 1, "🎉": 1}
    [(frame, personal)] = room_frames(callbacks)
    assert frame == {"type": "reactions", "room": "lobby", "seq": 1, "counts": {"👍": 1, "🎉": 1}, "mine": []}
    assert personal == {str(alice.user_id): {"mine": ["👍"]}, str(bob.user_id): {"mine": ["🎉"]}}
    # Doing it twice changes nothing; taking one off counts down.
    with django_capture_on_commit_callbacks() as again:
        assert not reaction_set(room=room, user=bob, seq=message.seq, emoji="🎉", on=True).changed
    assert room_frames(again) == []
    state = reaction_set(room=room, user=bob, seq=message.seq, emoji="👍", on=False)
    assert (state.counts, state.mine(bob.user_id)) == ({"👍": 1, "🎉": 1}, ["🎉"])


def test_guests_cannot_react_and_bad_emoji_are_refused(people):
    room, alice, _ = people
    message = post(room, alice)
    with pytest.raises(RoomAccessError) as guest:
        reaction_set(room=room, user=guest_identity(guest_id="g", name="zed"), seq=message.seq, emoji="👍", on=True)
    assert guest.value.code == "forbidden"
    # What is not one emoji is refused where it comes in (the frame, the API), before the service.
    for emoji in ("", "ok", "👍 ", "a/👍", "👍" * 17, "👍\x00", "\u202e👍"):
        with pytest.raises(ParleyError) as bad:
            validate_emoji(emoji)
        assert bad.value.code == "invalid", emoji
    # Flags, skin tones and joined sequences are one emoji of several code points.
    for emoji in ("🇫🇷", "👍🏽", "👩‍👩‍👧", "#️⃣"):
        assert reaction_set(room=room, user=alice, seq=message.seq, emoji=emoji, on=True).changed
    assert not Reaction.objects.filter(emoji__in=["ok", ""]).exists()


def test_a_message_takes_a_limited_number_of_different_emoji(people):
    room, alice, bob = people
    message = post(room, alice)
    emoji = [chr(0x1F600 + n) for n in range(MAX_REACTIONS_PER_MESSAGE)]
    for one in emoji:
        reaction_set(room=room, user=alice, seq=message.seq, emoji=one, on=True)
    with pytest.raises(ParleyError) as capped:
        reaction_set(room=room, user=bob, seq=message.seq, emoji="🦀", on=True)
    assert capped.value.code == "invalid"
    # An emoji already on the message can still be added by someone else.
    assert reaction_set(room=room, user=bob, seq=message.seq, emoji=emoji[0], on=True).counts[emoji[0]] == 2


def test_pages_show_the_current_state_in_one_query_for_reactions(people, django_assert_num_queries):
    room, alice, bob = people
    first, second, third = post(room, alice, "a"), post(room, alice, "b"), post(room, bob, "c")
    message_edit(room=room, editor=alice, seq=first.seq, body="a2")
    message_delete(room=room, actor=alice, seq=second.seq)
    reaction_set(room=room, user=bob, seq=third.seq, emoji="👍", on=True)
    reaction_set(room=room, user=alice, seq=third.seq, emoji="👍", on=True)
    # One query for the messages and one for every reaction of the page.
    with django_assert_num_queries(2):
        page = messages_before(room=room, before=None, limit=50, reader=bob)
    assert [(m["body"], m["deleted"], m["edited_at"] is not None) for m in page] == [
        ("a2", False, True),
        ("", True, False),
        ("c", False, False),
    ]
    assert (page[2]["reactions"], page[2]["mine"], page[0]["reactions"], page[0]["mine"]) == ({"👍": 2}, ["👍"], {}, [])
    replay = messages_replay(room=room, since=0, limit=10, reader=alice)
    assert [m["body"] for m in replay.messages] == ["a2", "", "c"]
    assert replay.messages[2]["mine"] == ["👍"]


def test_another_room_cannot_be_reached_through_a_seq(people, make_room, make_user):
    _, alice, _ = people
    private = make_room("secret", is_private=True)
    Membership.objects.create(room=private, user=make_user("carol"))
    message = message_post(
        room=private, sender=user_identity(Membership.objects.get(room=private).user), body="x", client_id="p"
    ).message
    with pytest.raises(RoomAccessError) as hidden:
        message_delete(room=private, actor=alice, seq=message.seq)
    assert hidden.value.code == "not_found"
