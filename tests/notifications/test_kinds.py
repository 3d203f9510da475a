"""The notification kinds registry: the server words every notification and picks its link, for
the bell's starting state and for every live ``notification`` frame, whatever the kind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.urls import reverse

from parley.notifications import kinds
from parley.notifications.selectors import notifications_page
from parley.notifications.services import anotify, notify
from parley.rooms.models import Membership
from parley.templatetags.parley import bell_state
from parley.wire import frames

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def parcel_kind() -> Iterator[str]:
    """A kind of the project's own, registered as a project's AppConfig.ready() would."""
    kinds.register(
        "parcel.sent",
        text=lambda data: f"Parcel {data['parcel']} is on its way.",
        url="/parcels/{parcel}/",
    )
    yield "parcel.sent"
    kinds.unregister("parcel.sent")


def test_a_registered_kind_is_worded_and_linked_in_the_bells_starting_state(alice, parcel_kind):
    notify([alice], parcel_kind, {"parcel": "P-7"})
    [shown] = bell_state(user_id=alice.pk)["recent"]
    assert (shown["text"], shown["url"]) == ("Parcel P-7 is on its way.", "/parcels/P-7/")
    assert shown["data"] == {"parcel": "P-7"}  # the data goes as stored, for the page's own scripts


async def test_a_registered_kind_is_worded_and_linked_in_the_live_frame(ws, alice, parcel_kind):
    client = await ws(user=alice)
    [stored] = await anotify([alice], parcel_kind, {"parcel": "P-8"})
    frame = await client.receive_json_from(timeout=3)
    frames.Notification.model_validate(frame)
    assert frame == {
        "type": "notification",
        "id": stored.pk,
        "kind": parcel_kind,
        "data": {"parcel": "P-8"},
        "created_at": frame["created_at"],
        "read": False,
        "text": "Parcel P-8 is on its way.",
        "url": "/parcels/P-8/",
    }


@pytest.mark.parametrize(
    ("data", "text", "url"),
    [
        ({"text": "Hello", "title": "ignored", "url": "/welcome/"}, "Hello", "/welcome/"),
        ({"title": "Release 2.4"}, "Release 2.4", None),
        ({"other": 1}, "deploy.finished", None),
    ],
)
def test_an_unregistered_kind_says_its_text_or_title_or_kind_and_links_to_its_url(alice, data, text, url):
    notify([alice], "deploy.finished", data)
    [shown] = notifications_page(user_id=alice.pk)
    assert (shown["text"], shown["url"]) == (text, url)


def test_a_wording_that_fails_costs_only_its_own_notification_its_wording(alice, parcel_kind, caplog):
    notify([alice], parcel_kind, {"text": "An old row without a parcel"})
    notify([alice], parcel_kind, {"parcel": "P-9"})
    newest, oldest = notifications_page(user_id=alice.pk)
    assert (oldest["text"], oldest["url"]) == ("An old row without a parcel", None)
    assert newest["text"] == "Parcel P-9 is on its way."
    assert "Could not describe a 'parcel.sent' notification" in caplog.text


def test_a_registered_link_off_the_site_is_dropped(alice):
    kinds.register("phish", text="Click", url=lambda data: "https://evil.example/")
    try:
        notify([alice], "phish", {})
        [shown] = notifications_page(user_id=alice.pk)
    finally:
        kinds.unregister("phish")
    assert (shown["text"], shown["url"]) == ("Click", None)


def test_the_demo_shops_order_status_is_registered_by_its_app(alice):
    notify([alice], "order.status", {"order_id": 3, "status": "shipped"})
    [shown] = notifications_page(user_id=alice.pk)
    assert (shown["text"], shown["url"]) == ("Order #3 is now shipped.", "/orders/3/")


def test_parleys_mentions_are_registered_the_same_way_and_say_nothing_of_a_withheld_room(alice, make_room):
    room = make_room("plans", is_private=True)
    Membership.objects.create(room=room, user=alice)
    data = {"room": "plans", "seq": 4, "message_id": 9, "author": "bob", "author_guest": False, "excerpt": "@alice hi"}
    notify([alice], "mention", data)
    [shown] = notifications_page(user_id=alice.pk)
    assert shown["text"] == "bob mentioned you in #plans: @alice hi"
    assert shown["url"] == reverse("parley:room", kwargs={"slug": "plans"})

    Membership.objects.filter(room=room, user=alice).delete()
    [shown] = notifications_page(user_id=alice.pk)
    assert (shown["text"], shown["url"]) == ("A mention in a room you can no longer read.", None)
    assert shown["data"] == {"withheld": True}
