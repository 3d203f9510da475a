"""The shop's pages: your orders, and an order page only its owner (or staff) can open."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from orders.services import order_place, order_set_status

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def order(alice):
    return order_place(user=alice, items=[{"name": "Mug <b>", "quantity": 2, "price": "12.50"}])


def page_config(html: str) -> dict:
    match = re.search(r'<script id="order-config" type="application/json">(.*?)</script>', html)
    assert match, html
    return json.loads(match.group(1))


def test_the_order_page_shows_the_status_and_what_its_script_needs(alice, order):
    order_set_status(order=order, status="paid")
    response = logged_in(alice).get(f"/orders/{order.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<strong id="order-status" class="order-status status-paid"' in html
    assert "Mug &lt;b&gt;" in html  # item names are text, never HTML
    config = page_config(html)
    assert config["orderId"] == order.pk
    assert config["status"] == "paid"
    assert re.search(r'<script type="module" src="/static/orders/orders\.js"></script>', html)
    assert 'src="/static/parley/bell.js"' in html  # whose socket the page listens through
    assert "onclick" not in html
    assert "<script>" not in html


def test_the_order_list_shows_only_your_orders(alice, make_user, order):
    other = order_place(user=make_user("bob"), items=[{"name": "Book", "quantity": 1, "price": "9"}])
    html = logged_in(alice).get("/orders/").content.decode()
    assert f"/orders/{order.pk}/" in html
    assert f"/orders/{other.pk}/" not in html


def test_someone_elses_order_is_not_found_but_staff_may_see_it(make_user, order):
    assert logged_in(make_user("bob")).get(f"/orders/{order.pk}/").status_code == 404
    assert logged_in(make_user("boss", staff=True)).get(f"/orders/{order.pk}/").status_code == 200


def test_anonymous_visitors_are_sent_to_log_in(order):
    response = Client().get(f"/orders/{order.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
