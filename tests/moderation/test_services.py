"""Moderation services: who may invite, remove, ban, mute and change roles, and what each does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from parley.moderation.services import (
    ModerationError,
    member_ban,
    member_invite,
    member_mute,
    member_remove,
    member_set_role,
    member_unban,
    member_unmute,
    room_settings_update,
)
from parley.rooms.models import Membership, RoomBan, RoomMute
from parley.rooms.services import room_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user):
    return {name: make_user(name) for name in ("owner", "mod", "bob", "carol")}


@pytest.fixture
def room(people):
    room = room_create(slug="team", creator=people["owner"], is_private=True)
    for name in ("mod", "bob", "carol"):
        member_invite(room=room, actor=people["owner"], username=name)
    member_set_role(room=room, actor=people["owner"], username="mod", role="moderator")
    return room


def role(room, user):
    return Membership.objects.filter(room=room, user=user).values_list("role", flat=True).first()


def test_owners_and_moderators_invite_and_members_cannot(room, people, make_user):
    make_user("dave")
    assert member_invite(room=room, actor=people["mod"], username="dave").role == "member"
    make_user("erin")
    with pytest.raises(ModerationError, match=r"Only the owners and moderators of #team can do this\."):
        member_invite(room=room, actor=people["bob"], username="erin")
    with pytest.raises(ModerationError) as missing:
        member_invite(room=room, actor=people["owner"], username="nobody")
    assert missing.value.code == "not_found"


def test_moderators_cannot_act_on_owners_or_other_moderators(room, people, make_user):
    make_user("mod2")
    member_invite(room=room, actor=people["owner"], username="mod2")
    member_set_role(room=room, actor=people["owner"], username="mod2", role="moderator")
    for action in (member_ban, member_remove):
        with pytest.raises(ModerationError, match="mod2 is a moderator of #team; you cannot"):
            action(room=room, actor=people["mod"], username="mod2")
        with pytest.raises(ModerationError, match="owner is an owner of #team; you cannot"):
            action(room=room, actor=people["mod"], username="owner")
    with pytest.raises(ModerationError, match="owner is an owner"):
        member_mute(room=room, actor=people["mod"], username="owner", seconds=60)
    # The owner can act on a moderator.
    member_remove(room=room, actor=people["owner"], username="mod2")
    assert role(room, people["mod"]) == "moderator"


def test_staff_can_do_everything(room, people, make_user):
    staff = make_user("admin", staff=True)
    member_ban(room=room, actor=staff, username="owner")
    assert RoomBan.objects.filter(room=room, user=people["owner"]).exists()


def test_a_ban_ends_membership_and_mute_and_is_kept_until_lifted(room, people):
    member_mute(room=room, actor=people["mod"], username="bob", seconds=600)
    ban = member_ban(room=room, actor=people["mod"], username="bob", reason="spam")
    assert (ban.reason, ban.by) == ("spam", people["mod"])
    assert role(room, people["bob"]) is None
    assert not RoomMute.objects.filter(room=room, user=people["bob"]).exists()
    assert member_ban(room=room, actor=people["owner"], username="bob").pk == ban.pk  # banning again keeps it
    with pytest.raises(ModerationError, match=r"bob is banned from #team; unban them first\.") as refused:
        member_invite(room=room, actor=people["owner"], username="bob")
    assert (refused.value.code, refused.value.http_status) == ("invalid", 409)  # the room's state forbids it
    assert member_unban(room=room, actor=people["mod"], username="bob") is True
    assert member_unban(room=room, actor=people["mod"], username="bob") is False
    assert role(room, people["bob"]) is None  # an unban is not an invitation
    member_invite(room=room, actor=people["owner"], username="bob")


def test_nobody_moderates_themselves(room, people):
    with pytest.raises(ModerationError, match=r"You cannot ban yourself\."):
        member_ban(room=room, actor=people["mod"], username="mod")


def test_a_mute_has_an_end_and_can_be_lifted(room, people):
    mute = member_mute(room=room, actor=people["mod"], username="bob", seconds=3600)
    assert timedelta(minutes=59) < mute.until - timezone.now() <= timedelta(hours=1)
    again = member_mute(room=room, actor=people["mod"], username="bob", seconds=60)
    assert again.pk == mute.pk
    assert again.until < mute.until
    with pytest.raises(ModerationError, match="at most a year"):
        member_mute(room=room, actor=people["mod"], username="bob", seconds=400 * 86400)
    assert member_unmute(room=room, actor=people["mod"], username="bob") is True
    assert member_unmute(room=room, actor=people["mod"], username="bob") is False


def test_only_owners_change_roles_and_ownership_is_handed_over(room, people):
    with pytest.raises(ModerationError, match=r"Only the owners of #team can do this\."):
        member_set_role(room=room, actor=people["mod"], username="bob", role="moderator")
    with pytest.raises(ModerationError, match="owner owns #team; make someone else the owner instead"):
        member_set_role(room=room, actor=people["owner"], username="owner", role="member")
    member_set_role(room=room, actor=people["owner"], username="bob", role="owner")
    assert (role(room, people["bob"]), role(room, people["owner"])) == ("owner", "moderator")
    with pytest.raises(ModerationError) as not_member:
        member_set_role(room=room, actor=people["bob"], username="admin-less", role="member")
    assert not_member.value.code == "not_found"


def test_room_settings_are_for_owners(room, people):
    with pytest.raises(ModerationError, match="Only the owners"):
        room_settings_update(room=room, actor=people["mod"], title="x", is_private=False, guests_allowed=False)
    room_settings_update(room=room, actor=people["owner"], title=" Team ", is_private=False, guests_allowed=True)
    room.refresh_from_db()
    assert (room.title, room.is_private, room.guests_allowed) == ("Team", False, True)


# Lifting a ban or a mute: the rules of imposing it, nobody lifts their own, and a decision is undone
# only by someone of at least the rank of whoever made it.
LIFTS = [(member_ban, member_unban, "ban"), (member_mute, member_unmute, "mute")]


def impose(action, *, room, actor, username):
    if action is member_mute:
        return member_mute(room=room, actor=actor, username=username, seconds=600)
    return member_ban(room=room, actor=actor, username=username)


def test_a_muted_moderator_cannot_unmute_himself(room, people):
    member_mute(room=room, actor=people["owner"], username="mod", seconds=600)
    with pytest.raises(ModerationError, match=r"You cannot unmute yourself\.") as refused:
        member_unmute(room=room, actor=people["mod"], username="mod")
    assert refused.value.code == "forbidden"
    assert RoomMute.objects.filter(room=room, user=people["mod"]).exists()


def test_a_moderator_cannot_unmute_another_moderator(room, people, make_user):
    make_user("mod2")
    member_invite(room=room, actor=people["owner"], username="mod2")
    member_set_role(room=room, actor=people["owner"], username="mod2", role="moderator")
    member_mute(room=room, actor=people["owner"], username="mod2", seconds=600)
    with pytest.raises(ModerationError, match="mod2 is a moderator of #team; you cannot unmute them"):
        member_unmute(room=room, actor=people["mod"], username="mod2")
    assert member_unmute(room=room, actor=people["owner"], username="mod2") is True


@pytest.mark.parametrize(("imposing", "lifting", "what"), LIFTS)
def test_a_moderator_cannot_lift_what_the_owner_imposed(room, people, imposing, lifting, what):
    impose(imposing, room=room, actor=people["owner"], username="bob")
    with pytest.raises(ModerationError, match=f"This {what} was imposed by owner, who is an owner of #team") as refused:
        lifting(room=room, actor=people["mod"], username="bob")
    assert refused.value.code == "forbidden"
    assert lifting(room=room, actor=people["owner"], username="bob") is True


@pytest.mark.parametrize(("imposing", "lifting", "what"), LIFTS)
def test_staff_decisions_are_lifted_by_staff_only(room, people, make_user, imposing, lifting, what):
    staff = make_user("admin", staff=True)
    impose(imposing, room=room, actor=staff, username="bob")
    with pytest.raises(ModerationError, match=f"This {what} was imposed by admin, who is staff"):
        lifting(room=room, actor=people["owner"], username="bob")
    assert lifting(room=room, actor=make_user("admin2", staff=True), username="bob") is True


@pytest.mark.parametrize(("imposing", "lifting", "what"), LIFTS)
def test_moderators_lift_each_others_decisions(room, people, make_user, imposing, lifting, what):
    mod2 = make_user("mod2")
    member_invite(room=room, actor=people["owner"], username="mod2")
    member_set_role(room=room, actor=people["owner"], username="mod2", role="moderator")
    impose(imposing, room=room, actor=people["mod"], username="bob")
    assert lifting(room=room, actor=mod2, username="bob") is True


def test_an_owner_who_hands_the_room_over_ranks_as_the_moderator_he_became(room, people):
    member_ban(room=room, actor=people["owner"], username="carol")
    member_set_role(room=room, actor=people["owner"], username="bob", role="owner")
    # The old owner is a moderator now: another moderator may lift his ban.
    assert member_unban(room=room, actor=people["mod"], username="carol") is True


def test_members_lift_nothing(room, people):
    member_mute(room=room, actor=people["mod"], username="carol", seconds=600)
    with pytest.raises(ModerationError, match="Only the owners and moderators"):
        member_unmute(room=room, actor=people["bob"], username="carol")
