"""notify, marking read, and the selectors the transport replays from."""

from __future__ import annotations

import pytest

from parley.notifications.models import Notification
from parley.notifications.selectors import (
    notifications_after,
    notifications_newest_ids,
    notifications_page,
    notifications_since,
    notifications_unread_count,
)
from parley.notifications.services import NotificationError, notifications_mark_read, notify
from parley.rooms.models import Membership

pytestmark = pytest.mark.django_db


def test_notify_stores_one_per_recipient_once_each(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    created = notify([alice, bob.pk, alice], "order.status", {"order_id": 7, "status": "paid"})
    assert sorted(n.recipient_id for n in created) == sorted([alice.pk, bob.pk])
    assert Notification.objects.count() == 2
    assert notifications_unread_count(user_id=alice.pk) == 1


@pytest.mark.parametrize(("kind", "data"), [("", {}), ("   ", {}), ("x" * 65, {}), ("ok", ["not", "an", "object"])])
def test_notify_refuses_what_cannot_be_shown_and_stores_nothing(make_user, kind, data):
    alice = make_user("alice")
    with pytest.raises(NotificationError):
        notify([alice], kind, data)
    assert not Notification.objects.exists()


def test_notify_publishes_only_after_commit(make_user, django_capture_on_commit_callbacks):
    alice = make_user("alice")
    with django_capture_on_commit_callbacks() as callbacks:
        notify([alice], "ping", {})
        assert callbacks == []  # nothing is announced before the transaction commits
    assert len(callbacks) == 1


def test_replay_gives_the_newest_after_since_oldest_first(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    ids = [notify([alice], "n", {"i": i})[0].pk for i in range(5)]
    notify([bob], "n", {"i": 99})
    rows, truncated = notifications_since(user_id=alice.pk, since=ids[0], limit=10)
    assert [row["id"] for row in rows] == ids[1:]
    assert not truncated
    rows, truncated = notifications_since(user_id=alice.pk, since=None, limit=2)
    assert [row["id"] for row in rows] == ids[3:]
    assert truncated
    assert rows[0] == {
        "id": ids[3],
        "kind": "n",
        "data": {"i": 3},
        "created_at": rows[0]["created_at"],
        "read": False,
        "text": "n",
        "url": None,
    }
    assert rows[0]["created_at"].endswith("Z")


def test_mark_read_by_id_and_all_only_touches_own_notifications(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    first, second = (notify([alice], "n", {})[0] for _ in range(2))
    bobs = notify([bob], "n", {})[0]
    assert notifications_mark_read(user_id=alice.pk, ids=[first.pk, bobs.pk]) == 1
    assert notifications_unread_count(user_id=bob.pk) == 1
    assert notifications_mark_read(user_id=alice.pk, everything=True) == 0
    page = notifications_page(user_id=alice.pk)
    assert [row["id"] for row in page] == [second.pk, first.pk]
    assert all(row["read"] for row in page)
    assert notifications_page(user_id=alice.pk, unread_only=True) == []


def test_newest_ids_and_after_serve_the_hub_sweep(make_user):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    a1, a2 = notify([alice], "n", {})[0], notify([alice], "n", {})[0]
    b1 = notify([bob], "n", {})[0]
    assert notifications_newest_ids(user_ids=[alice.pk, bob.pk, carol.pk]) == {alice.pk: a2.pk, bob.pk: b1.pk}
    assert [row["id"] for row in notifications_after(user_id=alice.pk, after=a1.pk)] == [a2.pk]


def test_a_mention_in_a_room_the_recipient_lost_is_listed_without_its_data(
    make_user, make_room, django_assert_num_queries
):
    """Wherever notifications are listed (the bell, the API, the socket's replay, the hub's sweep),
    one about a room the recipient may no longer read says only that it is withheld."""
    alice = make_user("alice")
    make_room("town")
    vault = make_room("vault", is_private=True, members=[alice])
    mention = {"room": "vault", "seq": 1, "message_id": 1, "author": "bob", "excerpt": "the vault's secret"}
    [kept] = notify([alice], "mention", {**mention, "room": "town"})
    [lost] = notify([alice], "mention", mention)
    [other] = notify([alice], "order.status", {"room": "vault", "order_id": 7})  # not about a chat room
    Membership.objects.filter(room=vault, user=alice).delete()

    with django_assert_num_queries(2):  # the page, then which of its rooms alice may read
        page = notifications_page(user_id=alice.pk)
    assert [(row["id"], row["data"]) for row in page] == [
        (other.pk, {"room": "vault", "order_id": 7}),
        (lost.pk, {"withheld": True}),
        (kept.pk, {**mention, "room": "town"}),
    ]
    replayed, _ = notifications_since(user_id=alice.pk, since=None, limit=10)
    assert [row["data"] for row in replayed][1] == {"withheld": True}
    swept = notifications_after(user_id=alice.pk, after=kept.pk)
    assert [row["data"] for row in swept] == [{"withheld": True}, {"room": "vault", "order_id": 7}]
