"""The browser UI's pages: room list, chat page (with its sidebar and member list), guests, sign-up
and log-in."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from parley.accounts.identity import user_identity
from parley.direct.services import direct_conversation_open
from parley.rooms.models import Membership, Room
from parley.rooms.services import message_post
from parley.web import views

pytestmark = pytest.mark.django_db


def page_config(response, name="parley-config"):
    html = response.content.decode()
    start = html.index(f'id="{name}"')
    return json.loads(html[html.index(">", start) + 1 : html.index("</script>", start)])


def sidebar(response):
    """The sidebar's part of the page: (section, slug, name) of every entry, top to bottom."""
    html = response.content.decode()
    part = html[html.index('<nav class="sidebar"') : html.index("</nav>", html.index('<nav class="sidebar"'))]
    rooms = part[: part.index('id="side-directs-title"')] if 'id="side-directs-title"' in part else part
    entries = []
    for section, chunk in (("rooms", rooms), ("directs", part[len(rooms) :])):
        for item in chunk.split('data-room="')[1:]:
            slug = item[: item.index('"')]
            name = item[item.index('<span class="side-name">') + 24 : item.index("</span>", item.index("side-name"))]
            entries.append((section, slug, name))
    return entries


def test_the_room_list_shows_only_rooms_you_may_enter(client, make_user, make_room):
    alice = make_user("alice")
    make_room("general", title="General")
    make_room("secret", is_private=True, title="Hidden Plans")
    client.force_login(alice)
    html = client.get("/").content.decode()
    assert "General" in html
    assert "Hidden Plans" not in html


def test_jump_goes_to_the_room_and_rejects_bad_names(client):
    assert client.get("/go/", {"room": "lobby"}).url == "/chat/lobby/"
    response = client.get("/go/", {"room": "not a slug"}, follow=True)
    assert "letters, digits" in response.content.decode()


def test_signed_in_users_create_rooms_they_own(client, make_user):
    alice = make_user("alice")
    client.force_login(alice)
    response = client.post("/rooms/new/", {"slug": "team", "title": "Team", "is_private": "on"})
    assert response.url == "/chat/team/"
    room = Room.objects.get(slug="team")
    assert room.is_private
    assert Membership.objects.get(room=room, user=alice).role == "owner"
    again = client.post("/rooms/new/", {"slug": "team", "title": "Other"})
    assert again.status_code == 400
    assert "already exists" in again.content.decode()


@pytest.mark.parametrize("slug", ["dm-1-2", "DM-1-2", "Dm-7-8"])
def test_a_room_name_kept_for_direct_messages_is_refused_on_the_form(client, make_user, slug):
    client.force_login(make_user("alice"))
    response = client.post("/rooms/new/", {"slug": slug})
    assert response.status_code == 400
    assert "kept for direct messages" in response.content.decode()
    assert not Room.objects.exists()


def test_anonymous_visitors_cannot_create_rooms(client):
    response = client.post("/rooms/new/", {"slug": "team"})
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
    assert not Room.objects.exists()


def test_the_chat_page_carries_the_latest_history_as_data_never_as_markup(client, make_user, make_room):
    alice = make_user("alice")
    room = make_room("general")
    payload = '<img src=x onerror="alert(1)"></script><script>alert(2)</script>'
    message_post(room=room, sender=user_identity(alice), body=payload, client_id="c")
    client.force_login(alice)
    response = client.get("/chat/general/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<img src=x" not in html
    assert "<script>alert" not in html
    assert page_config(response)["me"] == {"id": alice.pk, "name": "alice", "guest": False}
    start = html.index('id="parley-history"')
    history = json.loads(html[html.index(">", start) + 1 : html.index("</script>", start)])
    assert [m["body"] for m in history] == [payload]


def test_a_private_room_is_404_for_non_members(client, make_user, make_room):
    make_room("secret", is_private=True)
    client.force_login(make_user("mallory"))
    assert client.get("/chat/secret/").status_code == 404
    assert client.get("/chat/nowhere/").status_code == 404


def test_anonymous_visitors_pick_a_name_in_guest_rooms_and_log_in_elsewhere(client, make_room):
    make_room("lobby", guests_allowed=True)
    make_room("general")
    assert "Pick the name" in client.get("/chat/lobby/").content.decode()
    assert client.get("/chat/general/").url == "/accounts/login/?next=/chat/general/"
    response = client.post("/chat/lobby/guest/", {"name": "Zed"})
    assert response.url == "/chat/lobby/"
    config = page_config(client.get("/chat/lobby/"))
    assert config["me"] == {"id": None, "name": "Zed", "guest": True}


def test_a_bad_guest_name_is_explained(client, make_room):
    make_room("lobby", guests_allowed=True)
    response = client.post("/chat/lobby/guest/", {"name": "<script>"})
    assert response.status_code == 400
    assert "letters, digits" in response.content.decode()


def test_guests_are_not_offered_rooms_when_guests_are_off(client, make_room, settings):
    settings.PARLEY = {**settings.PARLEY, "GUESTS": False}
    make_room("lobby", guests_allowed=True)
    assert client.get("/chat/lobby/").url == "/accounts/login/?next=/chat/lobby/"
    assert client.post("/chat/lobby/guest/", {"name": "Zed"}).status_code == 404


def test_sign_up_log_out_and_log_in(client):
    response = client.post(
        "/accounts/signup/",
        {"username": "carol", "password1": "a-long-passphrase-9", "password2": "a-long-passphrase-9"},
    )
    assert response.url == "/"
    assert client.get("/").context["user"].username == "carol"
    client.post("/accounts/logout/")
    assert not client.get("/").context["user"].is_authenticated
    assert client.post("/accounts/login/", {"username": "carol", "password": "a-long-passphrase-9"}).status_code == 302
    assert User.objects.filter(username="carol").exists()


def test_forms_are_csrf_protected(make_user, make_room):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_user("alice"))
    assert strict.post("/rooms/new/", {"slug": "team"}).status_code == 403
    make_room("lobby", guests_allowed=True)
    assert Client(enforce_csrf_checks=True).post("/chat/lobby/guest/", {"name": "Zed"}).status_code == 403


def test_the_chat_page_lists_rooms_and_conversations_apart_with_the_open_one_current(client, make_user, make_room):
    alice = make_user("alice")
    make_user("bob")
    make_room("general", title="General")
    make_room("secret", is_private=True, title="Hidden Plans")
    direct = direct_conversation_open(user=alice, username="bob").conversation.room
    client.force_login(alice)
    response = client.get("/chat/general/")
    assert sidebar(response) == [("rooms", "general", "General"), ("directs", direct.slug, "bob")]
    html = response.content.decode()
    assert 'data-room="general" data-name="General general" data-last-read="0" aria-current="page"' in html
    assert "Hidden Plans" not in html
    # A conversation's page is titled by the other person, not by its dm-… slug.
    page = client.get(f"/chat/{direct.slug}/").content.decode()
    assert '<h1 id="room-title">bob</h1>' in page
    assert f"#{direct.slug}" not in page


def test_the_member_list_starts_with_the_first_members_and_the_total(client, make_user, make_room, monkeypatch):
    monkeypatch.setattr(views, "MEMBERS_SHOWN", 2)
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    room = make_room("town")
    Membership.objects.create(room=room, user=carol, role="owner")
    Membership.objects.create(room=room, user=bob, role="moderator")
    Membership.objects.create(room=room, user=alice, role="member")
    client.force_login(alice)
    members = page_config(client.get("/chat/town/"), "parley-members")
    assert members == {
        "members": [
            {"id": carol.pk, "name": "carol", "role": "owner"},
            {"id": bob.pk, "name": "bob", "role": "moderator"},
        ],
        "total": 3,
    }


def test_the_conversations_page_and_the_room_list_show_people_not_slugs(client, make_user, make_room):
    alice, bob = make_user("alice"), make_user("bob")
    make_room("general")
    direct = direct_conversation_open(user=bob, username="alice").conversation.room
    message_post(room=direct, sender=user_identity(bob), body="hi", client_id="c")
    client.force_login(alice)
    for path in ("/", "/dms/"):
        response = client.get(path)
        assert ("directs", direct.slug, "bob") in sidebar(response)
        assert f'class="room-card" href="/chat/{direct.slug}/"' not in response.content.decode()
    assert 'aria-label="1 unread"' in client.get("/dms/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(("guests", "promised"), [(True, True), (False, False)])
def test_the_index_promises_guest_access_only_where_guests_may_come(client, settings, guests, promised):
    settings.PARLEY = {**settings.PARLEY, "GUESTS": guests}
    page = client.get(reverse("parley:index")).content.decode()
    assert ("no account needed" in page) is promised
