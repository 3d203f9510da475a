"""The HTTP API of members, roles, bans, mutes and direct messages."""

from __future__ import annotations

import pytest

from parley.accounts.identity import user_identity
from parley.rooms.models import Room
from parley.rooms.services import message_post, room_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user):
    return {name: make_user(name) for name in ("owner", "mod", "bob")}


@pytest.fixture
def club(people, api_as):
    room = room_create(slug="club", creator=people["owner"], is_private=True)
    owner = api_as(people["owner"])
    for name in ("mod", "bob"):
        assert owner.post("/rooms/club/members", {"username": name}).status_code == 200
    assert owner.post("/rooms/club/members/mod/role", {"role": "moderator"}).json()["role"] == "moderator"
    return room


def test_members_are_listed_with_their_roles(club, people, api_as):
    response = api_as(people["bob"]).get("/rooms/club/members")
    assert response.status_code == 200
    assert [(m["username"], m["role"]) for m in response.json()] == [
        ("owner", "owner"),
        ("mod", "moderator"),
        ("bob", "member"),
    ]


def test_a_ban_takes_the_room_away_and_an_unban_does_not_give_it_back(club, people, api_as):
    mod, bob = api_as(people["mod"]), api_as(people["bob"])
    response = mod.post("/rooms/club/bans", {"username": "bob", "reason": "spam"})
    assert response.status_code == 200
    assert response.json()["by"] == "mod"
    assert bob.get("/rooms/club/messages").status_code == 404  # a private room: like a missing one
    invite = api_as(people["owner"]).post("/rooms/club/members", {"username": "bob"})
    assert (invite.status_code, invite.json()["detail"]) == (409, "bob is banned from #club; unban them first.")
    assert mod.delete("/rooms/club/bans/bob").status_code == 204
    assert bob.get("/rooms/club/messages").status_code == 404
    assert api_as(people["owner"]).post("/rooms/club/members", {"username": "bob"}).status_code == 200
    assert bob.get("/rooms/club/messages").status_code == 200


def test_a_banned_user_is_told_so_in_a_public_room(people, api_as):
    room_create(slug="town", creator=people["owner"])
    api_as(people["owner"]).post("/rooms/town/bans", {"username": "bob"})
    response = api_as(people["bob"]).post("/rooms/town/messages", {"body": "hi"})
    assert response.status_code == 403
    assert response.json()["detail"] == "You are banned from #town; you can no longer read or post there."


def test_a_muted_user_reads_but_cannot_post(club, people, api_as):
    muted = api_as(people["mod"]).post("/rooms/club/mutes", {"username": "bob", "duration": 600})
    assert muted.status_code == 200
    bob = api_as(people["bob"])
    assert bob.get("/rooms/club/messages").status_code == 200
    refused = bob.post("/rooms/club/messages", {"body": "hi"})
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("You are muted in #club until ")
    assert api_as(people["mod"]).delete("/rooms/club/mutes/bob").status_code == 204
    assert bob.post("/rooms/club/messages", {"body": "hi"}).status_code == 201


def test_refusals_are_sentences(club, people, api_as):
    bob, mod = api_as(people["bob"]), api_as(people["mod"])
    assert bob.post("/rooms/club/bans", {"username": "mod"}).json() == {
        "code": "forbidden",
        "detail": "Only the owners and moderators of #club can do this.",
    }
    assert mod.delete("/rooms/club/members/owner").json()["detail"] == (
        "owner is an owner of #club; you cannot remove them."
    )
    assert mod.post("/rooms/club/members/bob/role", {"role": "moderator"}).status_code == 403
    assert mod.post("/rooms/club/bans", {"username": "nobody"}).status_code == 404
    assert mod.post("/rooms/club/mutes", {"username": "bob", "duration": 0}).status_code == 400


def test_removing_a_member_of_a_private_room(club, people, api_as):
    assert api_as(people["mod"]).delete("/rooms/club/members/bob").status_code == 204
    assert api_as(people["bob"]).get("/rooms/club").status_code == 404


def test_a_direct_conversation_is_created_once_and_listed_with_unread_counts(people, api_as):
    owner, bob = api_as(people["owner"]), api_as(people["bob"])
    first = owner.post("/dms/bob")
    assert first.status_code == 201
    slug = first.json()["room"]
    assert first.json()["with_user"] == "bob"
    again = bob.post("/dms/owner")
    assert (again.status_code, again.json()["room"]) == (200, slug)
    message_post(room=Room.objects.get(slug=slug), sender=user_identity(people["bob"]), body="hi", client_id="1")
    listed = owner.get("/dms").json()
    assert [(row["room"], row["with_user"], row["unread"], row["head"]) for row in listed] == [(slug, "bob", 1, 1)]
    assert bob.get("/dms").json()[0]["unread"] == 0  # his own message
    assert api_as(people["mod"]).get(f"/rooms/{slug}").status_code == 404  # nobody else sees it


def test_a_direct_conversation_needs_someone_else_who_exists(people, api_as):
    owner = api_as(people["owner"])
    assert owner.post("/dms/owner").json() == {
        "code": "forbidden",
        "detail": "You cannot start a direct conversation with yourself.",
    }
    assert owner.post("/dms/nobody").status_code == 404


def test_lifting_a_ban_or_mute_follows_the_rank_rules(club, people, api_as):
    owner, mod = api_as(people["owner"]), api_as(people["mod"])
    assert owner.post("/rooms/club/mutes", {"username": "mod", "duration": 600}).status_code == 200
    himself = mod.delete("/rooms/club/mutes/mod")
    assert (himself.status_code, himself.json()["detail"]) == (403, "You cannot unmute yourself.")
    assert owner.post("/rooms/club/bans", {"username": "bob"}).status_code == 200
    owners_ban = mod.delete("/rooms/club/bans/bob")
    assert owners_ban.status_code == 403
    assert owners_ban.json()["detail"].startswith("This ban was imposed by owner, who is an owner of #club")
    assert owner.delete("/rooms/club/bans/bob").status_code == 204
    assert owner.delete("/rooms/club/mutes/mod").status_code == 204
