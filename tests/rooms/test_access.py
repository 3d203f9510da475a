"""The readable-rooms rule and the check of one room agree, for every kind of identity and room.

``readable_rooms`` is what lists, searches and counts use; ``check_can_read`` is what subscribe,
history and every request naming a room use, with shortcuts that keep most checks off the
database. Over every identity and room below, a room is in ``readable_rooms`` exactly when
``check_can_read`` lets the identity in, so the shortcuts cannot open or close a room the rule
does not.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from parley.accounts.identity import guest_identity, user_identity
from parley.accounts.permissions import READ_ALL_ROOMS
from parley.rooms.access import RoomAccessError, check_can_post, check_can_read, readable_rooms
from parley.rooms.models import Membership, Room, RoomBan, RoomMute

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user):
    return {"staff": make_user("staff", staff=True), "alice": make_user("alice"), "bob": make_user("bob")}


@pytest.fixture
def rooms(make_room, people):
    """Rooms in every state that matters to alice."""
    alice, bob = people["alice"], people["bob"]
    found = {
        "public": make_room("public"),
        "public, someone else banned": make_room("public-other-banned"),
        "public, alice banned": make_room("public-banned"),
        "public, alice banned, membership left behind": make_room("public-banned-member"),
        "private, alice a member": make_room("private-member", is_private=True, members=[alice]),
        "private, alice not a member": make_room("private-outsider", is_private=True, members=[bob]),
        "private, alice banned, membership left behind": make_room("private-banned", is_private=True, members=[alice]),
        "private, alice muted": make_room("private-muted", is_private=True, members=[alice]),
        "guests allowed": make_room("porch", guests_allowed=True),
        "guests allowed, private": make_room("porch-private", guests_allowed=True, is_private=True),
    }
    for name, banned in [
        ("public, someone else banned", bob),
        ("public, alice banned", alice),
        ("public, alice banned, membership left behind", alice),
        ("private, alice banned, membership left behind", alice),
    ]:
        # Stored directly, as the admin or a script could: the rule must not lean on the services.
        RoomBan.objects.create(room=found[name], user=banned)
    Membership.objects.get_or_create(room=found["public, alice banned, membership left behind"], user=alice)
    RoomMute.objects.create(room=found["private, alice muted"], user=alice, until=timezone.now() + timedelta(hours=1))
    for name in found:
        if "banned" in name or "muted" in name:  # as the services mark a room's first ban or mute
            Room.objects.filter(pk=found[name].pk).update(has_restrictions=True)
    for room in found.values():
        room.refresh_from_db()
    return found


def identities(people):
    return {
        "staff": user_identity(people["staff"]),
        "alice": user_identity(people["alice"]),
        "guest": guest_identity(guest_id="g1", name="zed"),
    }


def check_lets_in(room, identity) -> bool:
    try:
        check_can_read(room=room, identity=identity)
    except RoomAccessError:
        return False
    return True


@pytest.mark.parametrize("guests", [True, False])
def test_the_check_of_one_room_agrees_with_the_rule_everywhere(people, rooms, settings, guests):
    settings.PARLEY = {**settings.PARLEY, "GUESTS": guests}
    for who, identity in identities(people).items():
        listed = set(readable_rooms(identity=identity).values_list("slug", flat=True))
        for name, room in rooms.items():
            assert check_lets_in(room, identity) == (room.slug in listed), f"{who} in {name!r}"


def test_the_rule_as_the_rooms_a_user_reads(people, rooms):
    listed = set(readable_rooms(identity=user_identity(people["alice"])).values_list("slug", flat=True))
    assert listed == {
        "public",
        "public-other-banned",
        "private-member",
        "private-muted",
        "porch",
    }


def test_staff_read_every_room_and_guests_only_those_open_to_them(people, rooms, settings):
    settings.PARLEY = {**settings.PARLEY, "GUESTS": True}
    assert readable_rooms(identity=user_identity(people["staff"])).count() == len(rooms)
    guest = guest_identity(guest_id="g1", name="zed")
    assert list(readable_rooms(identity=guest).values_list("slug", flat=True)) == ["porch"]
    settings.PARLEY = {**settings.PARLEY, "GUESTS": False}
    assert not readable_rooms(identity=guest).exists()


def test_a_banned_user_whose_membership_was_left_behind_reads_nothing(people, rooms):
    alice = user_identity(people["alice"])
    with pytest.raises(RoomAccessError) as public:
        check_can_read(room=rooms["public, alice banned, membership left behind"], identity=alice)
    assert public.value.code == "forbidden"
    with pytest.raises(RoomAccessError) as private:
        check_can_read(room=rooms["private, alice banned, membership left behind"], identity=alice)
    assert private.value.code == "not_found"


@pytest.mark.parametrize(
    ("name", "queries"),
    [
        ("public", 0),  # never had a ban or a mute: nothing to look up
        ("public, someone else banned", 1),
        ("private, alice a member", 1),
        ("private, alice muted", 1),  # the rule and the mute together
    ],
)
def test_reading_and_posting_take_at_most_one_query(people, rooms, name, queries):
    alice = user_identity(people["alice"])
    alice.can(READ_ALL_ROOMS)  # asked once per identity (a socket's first check): see the next test
    for check in (check_can_read, check_can_post):
        muted = check is check_can_post and name == "private, alice muted"
        with CaptureQueriesContext(connection) as captured:
            if muted:
                with pytest.raises(RoomAccessError, match="You are muted"):
                    check(room=rooms[name], identity=alice)
            else:
                check(room=rooms[name], identity=alice)
        assert len(captured) == queries, (check.__name__, [query["sql"] for query in captured])


def test_an_identity_asks_for_its_permissions_once(people, rooms):
    """The first check that needs to know whether alice reads every room asks Django (two queries:
    her own permissions and her groups'); every later check of that identity, none."""
    alice = user_identity(people["alice"])
    with CaptureQueriesContext(connection) as first:
        check_can_read(room=rooms["private, alice a member"], identity=alice)
    with CaptureQueriesContext(connection) as later:
        for _ in range(3):
            check_can_post(room=rooms["private, alice a member"], identity=alice)
    assert len(first) == 3
    assert len(later) == 3
