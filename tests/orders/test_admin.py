"""The admin changes an order's status through order_set_status, never a bare save."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from orders.models import Order
from orders.services import order_place
from parley.notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(make_user) -> Client:
    boss = make_user("boss", staff=True)
    boss.is_superuser = True
    boss.save(update_fields=["is_superuser"])
    client = Client()
    client.force_login(boss)
    return client


@pytest.fixture
def order(make_user) -> Order:
    return order_place(user=make_user("alice"), items=[{"name": "Mug", "quantity": 1, "price": "5"}])


def change_url(order: Order) -> str:
    return reverse("admin:orders_order_change", args=[order.pk])


def test_saving_a_new_status_in_the_change_form_notifies_the_owner(superuser_client, order):
    response = superuser_client.post(change_url(order), {"status": "paid", "_save": "Save"})
    assert response.status_code == 302, response.content.decode()[:2000]
    order.refresh_from_db()
    assert order.status == "paid"
    [notification] = Notification.objects.filter(recipient=order.user)
    assert (notification.kind, notification.data) == ("order.status", {"order_id": order.pk, "status": "paid"})


def test_saving_without_changing_the_status_notifies_nobody(superuser_client, order):
    response = superuser_client.post(change_url(order), {"status": "placed", "_save": "Save"})
    assert response.status_code == 302
    assert not Notification.objects.exists()


def test_a_transition_that_is_not_allowed_is_shown_on_the_form(superuser_client, order):
    response = superuser_client.post(change_url(order), {"status": "delivered", "_save": "Save"})
    assert response.status_code == 200
    assert "A placed order cannot become delivered" in response.content.decode()
    order.refresh_from_db()
    assert order.status == "placed"
    assert not Notification.objects.exists()


def test_the_bulk_action_goes_through_the_service_and_reports_refusals(superuser_client, make_user, order):
    shipped = order_place(user=make_user("bob"), items=[{"name": "Book", "quantity": 1, "price": "9"}])
    Order.objects.filter(pk=shipped.pk).update(status="shipped")
    response = superuser_client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "mark_cancelled", "_selected_action": [order.pk, shipped.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "1 order(s) marked cancelled" in page
    assert f"Order #{shipped.pk}: A shipped order cannot become cancelled" in page
    assert Notification.objects.filter(recipient=order.user, kind="order.status").count() == 1
    assert not Notification.objects.filter(recipient=shipped.user).exists()
