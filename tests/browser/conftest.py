"""Browser fixtures: one Chromium per test module, a fresh context per person, a real server per test.

Playwright's sync API runs its own event loop, so everything here is a plain sync function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from conftest import needs
from tests.browser.pages import CHROMIUM, LAUNCH_ARGS, Parley
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
