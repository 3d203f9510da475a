"""Browser fixtures: one Chromium per test module, a fresh context per person, a real server per test.

Playwright's sync API runs its own event loop, so everything here is a plain sync function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from conftest import needs
from tests.browser.pages import CHROMIUM, LAUNCH_ARGS, Parley
from tests.e2e.conftest import claim_redis_db  # noqa: F401  (fixture)
from tests.servers import ServerProcess


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, shared by the tests of one module."""
    needs("Chromium", CHROMIUM.exists(), "apt-get install -y chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def parley(browser: Browser, server_factory: Callable[..., ServerProcess]) -> Iterator[Parley]:
    """A Parley server on a fresh database, and the browser to visit it with."""
    site = Parley(server=server_factory(), browser=browser)
    yield site
    site.close()


@pytest.fixture
def two_servers(
    browser: Browser,
    server_factory: Callable[..., ServerProcess],
    claim_redis_db: Callable[[], int],  # noqa: F811
) -> tuple[Parley, str]:
    """Two server processes on one database, sharing Redis for the channel layer and for presence,
    with users alice and bob and a room "general": the first one's site, and the second one's address.

    A page of one context is signed in on both: cookies are per host, not per port.
    """
    redis_url = f"redis://127.0.0.1:6379/{claim_redis_db()}"
    first = server_factory(CHANNEL_LAYER_URL=redis_url, REDIS_URL=redis_url)
    second = server_factory(CHANNEL_LAYER_URL=redis_url, REDIS_URL=redis_url)
    parley = Parley(server=first, browser=browser)
    parley.create_users("alice", "bob")
    parley.manage("createroom", "general", "--title", "General")
    return parley, second.http_url
