"""The demo shop's order page in Chromium: a status changed by another process, and one changed in
the admin, appear on the owner's open page without a reload."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.pages import PASSWORD, WAIT_MS, Parley, log_in
from tests.e2e.conftest import claim_redis_db  # noqa: F401  (fixture)
from tests.servers import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

SETUP = f"""
from django.contrib.auth.models import User
from orders.services import order_place
from parley.accounts.services import user_get_or_create
alice = user_get_or_create(username="alice", password={PASSWORD!r})
User.objects.create_superuser("boss", "boss@example.com", {PASSWORD!r})
print(order_place(user=alice, items=[{{"name": "Parley mug", "quantity": 2, "price": "12.50"}}]).pk)
"""


@pytest.fixture
def parley_over_redis(browser, server_factory: Callable[..., ServerProcess], claim_redis_db) -> Parley:  # noqa: F811
    """A server whose channel layer another process (``manage.py orderstatus``) publishes through."""
    server = server_factory(CHANNEL_LAYER_URL=f"redis://127.0.0.1:6379/{claim_redis_db()}")
    return Parley(server=server, browser=browser)


def test_status_changes_from_another_process_and_the_admin_appear_without_a_reload(parley_over_redis: Parley):
    parley = parley_over_redis
    order_id = int(parley.manage("shell", "-c", SETUP).strip().splitlines()[-1])
    page = parley.new_page()
    log_in(page, "alice")
    page.goto(f"/orders/{order_id}/")
    status = page.locator("#order-status")
    expect(status).to_have_text("Placed")
    expect(page.locator("#bell")).to_have_attribute("data-live", "true", timeout=WAIT_MS)
    page.evaluate("() => { window.__sameDocument = true; }")  # gone if the page reloads

    started = time.monotonic()
    assert parley.manage("orderstatus", str(order_id), "paid").strip().endswith("is paid")
    expect(status).to_have_text("Paid", timeout=WAIT_MS)
    print(f"another process's change shown {time.monotonic() - started:.2f} s after the command started")
    expect(page.locator('#order-steps li[data-status="paid"]')).to_have_class(re.compile(r"\bcurrent\b"))
    expect(page.locator('#order-steps li[data-status="placed"]')).to_have_class(re.compile(r"\bdone\b"))

    admin = parley.new_page()
    admin.goto("/admin/login/?next=/admin/")
    admin.get_by_label("Username").fill("boss")
    admin.get_by_label("Password").fill(PASSWORD)
    admin.get_by_role("button", name="Log in").click()
    admin.goto(f"/admin/orders/order/{order_id}/change/")
    admin.get_by_label("Status").select_option("shipped")
    started = time.monotonic()
    admin.get_by_role("button", name="Save", exact=True).click()
    expect(status).to_have_text("Shipped", timeout=WAIT_MS)
    print(f"the admin's change shown {time.monotonic() - started:.2f} s after Save was clicked")
    expect(admin.locator(".messagelist")).to_contain_text("was changed successfully")

    assert page.evaluate("() => window.__sameDocument === true")
    bell_items = page.locator("#bell-list li")
    expect(bell_items).to_have_count(2)
