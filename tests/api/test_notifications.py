"""/api/notifications: a page of mine, and marking them read."""

from __future__ import annotations

import pytest

from parley.notifications.models import Notification
from parley.notifications.services import notify

pytestmark = pytest.mark.django_db


def test_a_page_of_my_notifications_newest_first(make_user, api_as):
    alice, bob = make_user("alice"), make_user("bob")
    first = notify([alice], "order.status", {"order_id": 1, "status": "paid"})[0]
    second = notify([alice], "mention", {})[0]
    notify([bob], "other", {})
    response = api_as(alice).get("/notifications")
    assert response.status_code == 200
    body = response.json()
    assert [n["id"] for n in body["notifications"]] == [second.pk, first.pk]
    assert body["notifications"][1] == {
        "id": first.pk,
        "kind": "order.status",
        "data": {"order_id": 1, "status": "paid"},
        "created_at": body["notifications"][1]["created_at"],
        "read": False,
        "text": "Order #1 is now paid.",
        "url": "/orders/1/",
    }
    assert body["unread"] == 2
    assert [n["id"] for n in api_as(alice).get("/notifications", before=second.pk).json()["notifications"]] == [
        first.pk
    ]


def test_mark_some_then_all_read(make_user, api_as):
    alice, bob = make_user("alice"), make_user("bob")
    ids = [n.pk for n in notify([alice], "n", {}) + notify([alice], "n", {}) + notify([alice], "n", {})]
    bobs = notify([bob], "n", {})[0]
    client = api_as(alice)
    response = client.post("/notifications/read", {"ids": [ids[0], bobs.pk]})
    assert (response.status_code, response.json()) == (200, {"unread": 2})
    assert not Notification.objects.get(pk=bobs.pk).is_read  # not alice's: ignored
    assert [n["id"] for n in client.get("/notifications", unread_only="true").json()["notifications"]] == [
        ids[2],
        ids[1],
    ]
    assert client.post("/notifications/read", {"all": True}).json() == {"unread": 0}


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        ({}, "Give either 'ids' (a list of notification ids) or 'all': true."),
        ({"ids": [1], "all": True}, "Give either 'ids' (a list of notification ids) or 'all': true."),
        ({"all": False}, "Give either 'ids' (a list of notification ids) or 'all': true."),
        (
            {"ids": []},
            "Field 'ids' of the JSON body is not valid: list should have at least 1 item after validation, not 0.",
        ),
    ],
)
def test_mark_read_needs_exactly_one_target(make_user, api_as, payload, detail):
    response = api_as(make_user("alice")).post("/notifications/read", payload)
    assert response.status_code == 400
    assert response.json() == {"code": "invalid", "detail": detail}
