"""Where a notification may lead: ``data.url`` stays on the site, or on an origin the operator allows."""

from __future__ import annotations

import pytest

from parley.notifications.links import link_allowed
from parley.notifications.models import Notification
from parley.notifications.services import NotificationError, notify

pytestmark = pytest.mark.django_db

SAME_SITE = ["/", "/orders/7/", "/search/?q=a#b", "/a\\b", " /orders/7/", "/orders/7/\n"]
OFF_SITE = [
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    " //evil.example",
    "\x00//evil.example",
    "https://evil.example",
    "HTTPS://evil.example/x",
    "http://shop.example.com@evil.example/",
    "https://shop.example.com.evil.example/",
    "https://shop.example.com\\@evil.example/",
    "javascript:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "orders/7/",
    "",
    5,
    None,
    ["/orders/7/"],
]


@pytest.mark.parametrize("url", SAME_SITE)
def test_paths_on_the_site_are_allowed(url):
    assert link_allowed(url)


@pytest.mark.parametrize("url", OFF_SITE)
def test_anything_leading_off_the_site_is_not(url):
    assert not link_allowed(url)


def test_an_allowed_origin_and_only_it(settings):
    settings.PARLEY = {**settings.PARLEY, "NOTIFICATION_URL_ORIGINS": ["https://Shop.example.com/"]}
    assert link_allowed("https://shop.example.com/orders/7/")
    assert link_allowed("HTTPS://SHOP.EXAMPLE.COM")
    assert not link_allowed("http://shop.example.com/orders/7/")  # another scheme is another origin
    assert not link_allowed("https://shop.example.com:8443/")
    assert not link_allowed("https://shop.example.com@evil.example/")
    assert not link_allowed("https://shop.example.com\\@evil.example/")


@pytest.mark.parametrize("url", ["//evil.example", "/\\evil.example", "https://evil.example", "javascript:alert(1)", 7])
def test_notify_refuses_an_off_site_url_and_stores_nothing(make_user, url):
    with pytest.raises(NotificationError, match=r"data\.url must be a path on this site"):
        notify([make_user("alice")], "greeting", {"text": "hi", "url": url})
    assert not Notification.objects.exists()


def test_notify_keeps_a_same_site_url(make_user):
    (notification,) = notify([make_user("alice")], "greeting", {"text": "hi", "url": "/search/?q=hi"})
    assert notification.data["url"] == "/search/?q=hi"
