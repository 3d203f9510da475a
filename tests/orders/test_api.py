"""POST /api/orders/{id}/status: staff change a status through the service; nobody else can."""

from __future__ import annotations

import pytest
from django.test import Client

from orders.services import order_place
from parley.accounts.services import token_issue
from parley.notifications.models import Notification

pytestmark = pytest.mark.django_db


def post_status(user, order_id: int, status: str):
    token = token_issue(user=user, name="tests").secret
    return Client().post(
        f"/api/orders/{order_id}/status",
        {"status": status},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


@pytest.fixture
def order(make_user):
    return order_place(user=make_user("alice"), items=[{"name": "Mug", "quantity": 1, "price": "5"}])


def test_staff_change_the_status_and_the_owner_is_notified(make_user, order):
    response = post_status(make_user("boss", staff=True), order.pk, "paid")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "paid"
    [notification] = Notification.objects.filter(recipient=order.user)
    assert notification.data == {"order_id": order.pk, "status": "paid"}


def test_a_customer_cannot_change_a_status(order):
    response = post_status(order.user, order.pk, "paid")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert not Notification.objects.exists()


def test_a_transition_that_is_not_allowed_is_a_clear_409(make_user, order):
    response = post_status(make_user("boss", staff=True), order.pk, "delivered")
    assert response.status_code == 409
    assert response.json() == {
        "code": "invalid",
        "detail": "A placed order cannot become delivered; it can go only to paid or cancelled.",
    }


def test_an_unknown_order_is_404(make_user):
    response = post_status(make_user("boss", staff=True), 999_999, "paid")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_an_unknown_status_is_a_400_naming_the_field(make_user, order):
    response = post_status(make_user("boss", staff=True), order.pk, "lost")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "'status'" in response.json()["detail"]
