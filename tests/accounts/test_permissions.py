"""``parley.accounts.permissions``: the two ways of asking (about a user object, and as a query over
users) agree for every kind of user, the permissions exist for the admin, and an identity asks once."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission, User

from parley.accounts.identity import guest_identity, user_identity
from parley.accounts.permissions import (
    ADD_ROOM,
    MODERATE_ALL_ROOMS,
    PUBLISH_MESSAGES,
    READ_ALL_ROOMS,
    holders,
    user_can,
)
from parley.moderation.services import ModerationError, member_ban, member_unban
from parley.rooms.access import readable_by_user_id, readable_rooms
from parley.rooms.models import Room
from parley.rooms.services import room_create
from tests.factories import UserFactory, grant_through_group

pytestmark = pytest.mark.django_db

CODENAMES = [READ_ALL_ROOMS, MODERATE_ALL_ROOMS, PUBLISH_MESSAGES, ADD_ROOM]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def granted_directly(user: User, codename: str) -> None:
    user.user_permissions.add(Permission.objects.get(content_type__app_label="parley", codename=codename))


# Each kind of user, and the permissions they must hold (None: all of them).
USERS: dict[str, tuple[dict[str, Any], str, set[str] | None]] = {
    "plain": ({}, "", set()),
    "staff": ({"is_staff": True}, "", None),
    "inactive staff": ({"is_staff": True, "is_active": False}, "", set()),
    "superuser": ({"is_superuser": True}, "", None),
    "inactive superuser": ({"is_superuser": True, "is_active": False}, "", set()),
    "read_all_rooms through a group": ({}, "group", {READ_ALL_ROOMS}),
    "read_all_rooms directly": ({}, "direct", {READ_ALL_ROOMS}),
    "read_all_rooms, inactive": ({"is_active": False}, "direct", set()),
}


def build(kind: str) -> User:
    fields, how, _ = USERS[kind]
    user = UserFactory(username=kind.replace(" ", "-").replace(",", ""), **fields)
    if how == "group":
        grant_through_group(user, READ_ALL_ROOMS)
    elif how == "direct":
        granted_directly(user, READ_ALL_ROOMS)
    return user


@pytest.mark.parametrize("staff_permissions", [True, False])
def test_the_object_and_the_query_agree_for_every_kind_of_user(settings, staff_permissions):
    settings.PARLEY = {**settings.PARLEY, "STAFF_PERMISSIONS": staff_permissions}
    users = {kind: build(kind) for kind in USERS}
    for codename in CODENAMES:
        queried = set(User.objects.filter(holders(codename)).values_list("username", flat=True))
        for kind, user in users.items():
            expected = USERS[kind][2]
            holds = codename in expected if expected is not None else user.is_active
            if kind.endswith("staff") and not staff_permissions:
                holds = False
            fresh = User.objects.get(pk=user.pk)  # no permission cache left from an earlier question
            assert user_can(fresh, codename) is holds, (kind, codename)
            assert (user.username in queried) is holds, (kind, codename)


def test_the_rule_by_user_id_agrees_with_the_rule_by_identity():
    owner = UserFactory(username="owner")
    for slug, private in [("town", False), ("vault", True)]:
        room_create(slug=slug, creator=owner, is_private=private)
    for kind in USERS:
        user = build(kind)
        by_id = set(Room.objects.filter(readable_by_user_id(user.pk)).values_list("slug", flat=True))
        by_identity = set(readable_rooms(identity=user_identity(user)).values_list("slug", flat=True))
        assert by_id == by_identity, kind


def test_the_permissions_exist_for_the_admin_to_grant():
    """Declared on the Room model (the migration) and created by ``migrate``, as the admin lists them."""
    declared = {codename for codename, _ in Room._meta.permissions}
    assert declared == {READ_ALL_ROOMS, MODERATE_ALL_ROOMS, PUBLISH_MESSAGES}
    stored = Permission.objects.filter(content_type__app_label="parley", codename__in=CODENAMES)
    assert set(stored.values_list("codename", flat=True)) == set(CODENAMES)


def test_an_identity_asks_once_and_a_guest_holds_nothing():
    user = UserFactory(username="pat")
    identity = user_identity(user)
    assert identity.can(READ_ALL_ROOMS) is False
    grant_through_group(user, READ_ALL_ROOMS)
    assert identity.can(READ_ALL_ROOMS) is False  # the identity's answer stands for its life
    assert user_identity(User.objects.get(pk=user.pk)).can(READ_ALL_ROOMS) is True
    assert guest_identity(guest_id="g1", name="zed").can(READ_ALL_ROOMS) is False


def test_nobody_moderates_whoever_reads_or_moderates_every_room_and_their_bans_outrank_owners():
    owner, _, reader, moderator = (UserFactory(username=name) for name in ("owner", "bob", "reader", "moderator"))
    grant_through_group(reader, READ_ALL_ROOMS)
    grant_through_group(moderator, MODERATE_ALL_ROOMS)
    room = room_create(slug="town", creator=owner)
    for target in ("reader", "moderator"):
        with pytest.raises(ModerationError, match=f"^{target} reads or moderates every room; they cannot be moderated"):
            member_ban(room=room, actor=owner, username=target)
    member_ban(room=room, actor=moderator, username="bob")  # not a member of the room, yet it may
    with pytest.raises(ModerationError, match="imposed by moderator, who is a moderator of every room"):
        member_unban(room=room, actor=owner, username="bob")
