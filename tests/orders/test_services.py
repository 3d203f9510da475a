"""The demo shop's one status service: transitions, and a notification only after commit."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.core.management import CommandError, call_command
from django.db import transaction

from orders.models import Order
from orders.services import OrderError, order_place, order_set_status, orders_demo_create
from parley.notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(make_user) -> Order:
    return order_place(user=make_user("alice"), items=[{"name": "Mug", "quantity": 2, "price": "12.50"}])


def test_placing_an_order_computes_the_total_from_the_items(make_user):
    order = order_place(
        user=make_user("alice"),
        items=[{"name": "Mug", "quantity": 2, "price": "12.50"}, {"name": "Book", "quantity": 1, "price": 39}],
    )
    assert order.status == Order.Status.PLACED
    assert order.total == Decimal("64.00")
    assert order.items[1] == {"name": "Book", "quantity": 1, "price": "39.00"}


@pytest.mark.parametrize("items", [[], [{"name": "", "quantity": 1, "price": "1"}], [{"name": "x", "quantity": 0}]])
def test_an_order_without_proper_items_is_refused(make_user, items):
    with pytest.raises(OrderError):
        order_place(user=make_user("alice"), items=items)
    assert not Order.objects.exists()


def test_a_status_change_is_stored_and_notifies_the_owner(order):
    order_set_status(order=order, status="paid")
    order.refresh_from_db()
    assert order.status == "paid"
    [notification] = Notification.objects.filter(recipient=order.user)
    assert (notification.kind, notification.data) == ("order.status", {"order_id": order.pk, "status": "paid"})


def test_the_owner_is_told_only_once_the_change_commits(order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        order_set_status(order=order, status="paid")
        assert callbacks == []  # nothing announced inside the transaction
    assert len(callbacks) >= 1  # the notification's push, run at commit


def test_a_rolled_back_change_announces_nothing(order, django_capture_on_commit_callbacks):
    def change_then_fail() -> None:
        with transaction.atomic():
            order_set_status(order=order, status="paid")
            raise RuntimeError("the caller's transaction fails after the change")

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError):
        change_then_fail()
    assert callbacks == []
    order.refresh_from_db()
    assert order.status == "placed"
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ([], "shipped", "A placed order cannot become shipped; it can go only to paid or cancelled."),
        ([], "placed", "The order is placed already."),
        (["paid", "shipped", "delivered"], "cancelled", "A delivered order cannot become cancelled; it can go nowhere"),
        (["cancelled"], "paid", "A cancelled order cannot become paid"),
        ([], "lost", "'lost' is not an order status"),
    ],
)
def test_transitions_that_are_not_allowed_are_refused_and_change_nothing(order, path, status, message):
    for step in path:
        order_set_status(order=order, status=step)
    before = Notification.objects.count()
    with pytest.raises(OrderError, match=message.replace("(", r"\(")):
        order_set_status(order=order, status=status)
    assert Notification.objects.count() == before
    order.refresh_from_db()
    assert order.status == (path[-1] if path else "placed")


def test_the_transition_is_checked_against_the_stored_status_not_a_stale_copy(order):
    stale = Order.objects.get(pk=order.pk)
    order_set_status(order=order, status="cancelled")
    with pytest.raises(OrderError, match="A cancelled order cannot become paid"):
        order_set_status(order=stale, status="paid")


def test_orderstatus_changes_the_status_or_ends_with_the_refusals_sentence(order):
    out = io.StringIO()
    call_command("orderstatus", str(order.pk), "paid", stdout=out)
    assert out.getvalue().strip() == f"Order #{order.pk} is paid"
    with pytest.raises(CommandError) as ended:
        call_command("orderstatus", str(order.pk), "placed")
    assert str(ended.value) == "A paid order cannot become placed; it can go only to shipped or cancelled."
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_demo_orders_are_created_once(make_user):
    alice = make_user("alice")
    first = orders_demo_create(user=alice)
    assert len(first) == 2
    assert [o.pk for o in orders_demo_create(user=alice)] == [o.pk for o in first]


@pytest.mark.django_db(transaction=True)
async def test_the_owners_open_socket_receives_the_change_live(ws, make_user):
    alice = await sync_to_async(make_user)("alice")
    bob = await sync_to_async(make_user)("bob")
    order = await sync_to_async(order_place)(user=alice, items=[{"name": "Mug", "quantity": 1, "price": "5"}])
    alices, bobs = await ws(user=alice), await ws(user=bob)
    await sync_to_async(order_set_status)(order=order, status="paid")
    frame = await alices.receive_json_from(timeout=3)
    assert (frame["type"], frame["kind"], frame["data"]) == (
        "notification",
        "order.status",
        {"order_id": order.pk, "status": "paid"},
    )
    assert await bobs.receive_nothing(timeout=0.3)
