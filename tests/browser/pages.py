"""Driving Parley's pages with Playwright: sign up, log in, join as a guest, open a room, send."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.servers import ServerProcess, manage

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-features=LocalNetworkAccessChecks",
]
WAIT_MS = 10_000  # the longest any one step may take: every wait below uses it
PASSWORD = "parley-browser-tests-7"
CLOCK_TIME = re.compile(r"^\d{1,2}:\d{2}(\s?[AP]M)?$")


@dataclass
class Parley:
    """One running Parley server and the browser contexts (one per person) that visit it."""

    server: ServerProcess
    browser: Browser
    contexts: list[BrowserContext] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.http_url

    def manage(self, *args: str) -> str:
        return manage(self.server.env, *args)

    def create_users(self, *usernames: str) -> None:
        """Create accounts (all with ``PASSWORD``) in one ``manage.py shell`` run."""
        code = "from parley.accounts.services import user_get_or_create\n" + "".join(
            f"user_get_or_create(username={name!r}, password={PASSWORD!r})\n" for name in usernames
        )
        self.manage("shell", "-c", code)

    def new_page(
        self, *, width: int = 1280, height: int = 800, mobile: bool = False, axe: bool = False, dark: bool = False
    ) -> Page:
        """A page in a fresh browser context: a new person, with no cookies.

        ``axe=True`` lets the page take axe-core (``tests/browser/accessibility.py``): Playwright
        injects it as an inline script, which Parley's Content-Security-Policy rightly refuses.
        ``dark=True`` asks for the dark colour scheme.
        """
        context = self.browser.new_context(
            base_url=self.url,
            bypass_csp=axe,
            color_scheme="dark" if dark else "light",
            viewport={"width": width, "height": height},
            is_mobile=mobile,
            has_touch=mobile,
            locale="en-US",
        )
        context.set_default_timeout(WAIT_MS)
        context.set_default_navigation_timeout(WAIT_MS)
        self.contexts.append(context)
        return context.new_page()

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def sign_up(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/signup/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Password, again").fill(password)
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator(".topbar .who-name")).to_have_text(username, timeout=WAIT_MS)


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".topbar .who-name")).to_have_text(username, timeout=WAIT_MS)


def join_as_guest(page: Page, slug: str, name: str) -> None:
    """Visit a guest-open room anonymously and pick a display name."""
    page.goto(f"/chat/{slug}/")
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Enter the room").click()
    expect(page.locator("#composer")).to_be_visible(timeout=WAIT_MS)
    wait_live(page)


def open_room(page: Page, slug: str) -> None:
    page.goto(f"/chat/{slug}/")
    wait_live(page)


def wait_live(page: Page) -> None:
    """Wait for the connection pill to read "Live": the page has subscribed to the room."""
    expect(page.locator("#connection")).to_have_text("Live", timeout=WAIT_MS)


def send(page: Page, body: str) -> None:
    """Type a message in the composer and press Enter."""
    page.locator("#body").fill(body)
    page.locator("#body").press("Enter")


def message(page: Page, body: str) -> Locator:
    """The chat message whose text is exactly ``body``."""
    return page.locator("#messages .message").filter(
        has=page.locator(".body", has_text=re.compile(f"^{re.escape(body)}$"))
    )


def no_horizontal_scroll(page: Page) -> bool:
    return bool(page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"))


def shown_seqs(page: Page) -> list[int]:
    """The seqs of the stored messages on ``page``, top to bottom (pending ones have none yet)."""
    seqs: list[int] = page.locator("#messages .message[data-seq]").evaluate_all(
        "items => items.map((item) => Number(item.dataset.seq))"
    )
    return seqs


def png(width: int, height: int) -> bytes:
    """A real PNG of one colour, ``width`` by ``height`` pixels: an image to upload."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (79, 70, 229)).save(out, "PNG")
    return out.getvalue()
