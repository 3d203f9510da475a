"""API tokens and the account management commands."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from parley.accounts.models import ApiToken
from parley.accounts.selectors import token_active
from parley.accounts.services import token_issue, token_revoke
from parley.rooms.models import Room

pytestmark = pytest.mark.django_db


def token_user(secret: str) -> User | None:
    """The user a bearer token signs in, as the API's authentication reads it (``token_active``)."""
    token = token_active(secret=secret)
    return None if token is None else token.user


def run(*args: str) -> list[str]:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().splitlines()


def test_tokens_are_stored_hashed_and_identify_their_user(make_user):
    alice = make_user("alice")
    issued = token_issue(user=alice, name="bot")
    stored = ApiToken.objects.get()
    assert issued.secret not in (stored.digest, stored.prefix)
    assert issued.secret.startswith(stored.prefix)
    assert token_user(issued.secret) == alice


def test_revoked_unknown_and_inactive_tokens_identify_nobody(make_user):
    alice = make_user("alice")
    revoked, inactive = token_issue(user=alice), token_issue(user=make_user("gone"))
    token_revoke(token=revoked.token)
    User.objects.filter(username="gone").update(is_active=False)
    assert token_user(revoked.secret) is None
    assert token_user(inactive.secret) is None
    assert token_user("parley_" + "x" * 43) is None
    assert token_user("not-even-our-format") is None


def test_issuetoken_prints_a_working_token_on_the_last_line(make_user):
    alice = make_user("alice")
    secret = run("issuetoken", "alice")[-1]
    assert token_user(secret) == alice


def test_issuetoken_creates_staff_users_when_asked():
    secret = run("issuetoken", "bot", "--create", "--staff")[-1]
    user = token_user(secret)
    assert user is not None
    assert user.username == "bot"
    assert user.is_staff
    assert not user.has_usable_password()


def test_issuetoken_refuses_an_unknown_user_without_create():
    with pytest.raises(CommandError, match="pass --create"):
        run("issuetoken", "nobody")


def test_createroom_is_idempotent():
    assert run("createroom", "lobby", "--title", "Lobby", "--guests")[-1] == "created lobby"
    assert run("createroom", "lobby", "--private")[-1] == "exists lobby"
    room = Room.objects.get()
    assert (room.title, room.guests_allowed, room.is_private) == ("Lobby", True, False)


def test_createroom_explains_a_bad_slug():
    with pytest.raises(CommandError, match="letters, digits"):
        run("createroom", "no spaces")


def test_setupdemo_creates_rooms_and_users_whose_printed_passwords_work(client, settings, tmp_path):
    settings.BASE_DIR = tmp_path
    lines = run("setupdemo")
    assert set(Room.objects.values_list("slug", flat=True)) == {"lobby", "general"}
    assert Room.objects.get(slug="lobby").guests_allowed
    users = dict(line.removeprefix("Demo user: ").split(" / ") for line in lines if line.startswith("Demo user"))
    assert set(users) == {"alice", "bob"}
    for username, password in users.items():
        assert client.login(username=username, password=password)
    assert run("setupdemo") == lines  # the second run keeps the same passwords
