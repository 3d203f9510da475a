"""The notification bell in Chromium: a notification raised by another process appears live, and
reading in one tab clears the count in the other."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import WAIT_MS, Parley, log_in
from tests.e2e.conftest import claim_redis_db  # noqa: F401  (fixture)
from tests.servers import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

NOTIFY = """
from django.contrib.auth import get_user_model
from parley.notifications.services import notify
notify([get_user_model().objects.get(username="alice")], {kind!r}, {data!r})
"""


@pytest.fixture
def parley_over_redis(browser, server_factory: Callable[..., ServerProcess], claim_redis_db) -> Parley:  # noqa: F811
    """A server whose channel layer other processes (``manage.py shell``) can publish through."""
    server = server_factory(CHANNEL_LAYER_URL=f"redis://127.0.0.1:6379/{claim_redis_db()}")
    return Parley(server=server, browser=browser)


def bell_count(page: Page):
    return page.locator("#bell-count")


def test_a_notification_from_another_process_rings_the_bell_in_every_tab(parley_over_redis: Parley):
    parley = parley_over_redis
    parley.create_users("alice")
    first = parley.new_page()
    log_in(first, "alice")
    second = first.context.new_page()
    second.goto("/")
    for page in (first, second):
        expect(bell_count(page)).to_be_hidden()
    # Both bells are live (their replay request was answered) before anything is raised.
    for page in (first, second):
        expect(page.locator("#bell")).to_have_attribute("data-live", "true", timeout=WAIT_MS)

    parley.manage("shell", "-c", NOTIFY.format(kind="order.status", data={"order_id": 42, "status": "shipped"}))
    parley.manage("shell", "-c", NOTIFY.format(kind="greeting", data={"text": "<img src=x onerror=alert(1)>"}))

    for page in (first, second):
        expect(bell_count(page)).to_have_text("2", timeout=WAIT_MS)
    first.locator("#bell-button").click()
    items = first.locator("#bell-list li")
    expect(items).to_have_count(2)
    expect(items.nth(0).locator(".bell-text")).to_have_text("<img src=x onerror=alert(1)>")
    expect(items.nth(1).locator("a")).to_have_text("Order #42 is now shipped.")
    expect(items.nth(1).locator("a")).to_have_attribute("href", re.compile(r"^http://[^/]+/orders/42/$"))
    assert first.locator("#bell-list img").count() == 0

    first.get_by_role("button", name="Mark all read").click()
    expect(bell_count(second)).to_be_hidden(timeout=WAIT_MS)
    # A reload shows the stored state: nothing unread, both notifications listed.
    second.reload()
    expect(bell_count(second)).to_be_hidden()
    second.locator("#bell-button").click()
    expect(second.locator("#bell-list li.read")).to_have_count(2)


# Rows stored before notify checked data.url (or written around it): the bell must still make no
# link off the site, whatever the browser's URL parser makes of them.
STORE_AROUND_NOTIFY = """
from django.contrib.auth import get_user_model
from parley.notifications.models import Notification
alice = get_user_model().objects.get(username="alice")
for url in {urls!r}:
    Notification.objects.create(recipient=alice, kind="greeting", data={{"text": repr(url), "url": url}})
"""
OFF_SITE = [
    "//evil.example/a",
    "/\\evil.example/b",
    "/\t/evil.example/c",
    " //evil.example/d",
    "https://evil.example/e",
    "javascript:alert(1)",
    7,
]
# Each with the link the bell makes: always absolute, so "/.//x" (the path "//x") stays on the site.
ON_SITE = {"/search/?q=on-site": "/search/?q=on-site", "/.//evil.example/f": "//evil.example/f"}
ALLOWED = {"https://shop.example.com/orders/7/": "https://shop.example.com/orders/7/"}


def test_the_bell_links_only_to_this_site_and_allowed_origins(browser, server_factory: Callable[..., ServerProcess]):
    parley = Parley(server=server_factory(PARLEY_NOTIFICATION_URL_ORIGINS="https://shop.example.com"), browser=browser)
    try:
        parley.create_users("alice")
        parley.manage("shell", "-c", STORE_AROUND_NOTIFY.format(urls=[*OFF_SITE, *ON_SITE, *ALLOWED]))
        page = parley.new_page()
        log_in(page, "alice")
        page.locator("#bell-button").click()
        expect(page.locator("#bell-list li")).to_have_count(len(OFF_SITE) + len(ON_SITE) + len(ALLOWED))
        hrefs = page.locator("#bell-list a").evaluate_all("links => links.map(link => link.getAttribute('href'))")
        expected = [parley.url + path for path in ON_SITE.values()] + list(ALLOWED.values())
        assert sorted(hrefs) == sorted(expected)
        # The others are shown, as text without a link.
        expect(page.locator("#bell-list span.bell-text")).to_have_count(len(OFF_SITE))
    finally:
        parley.close()
