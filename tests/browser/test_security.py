"""Hostile input and the Content-Security-Policy in Chromium against a real server.

Script and HTML that people type are shown as text and run nothing; every page works under the
policy (no inline script anywhere) and no page reports a violation, while an inline script injected
on purpose is blocked and reported, which shows that the listener hears violations.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import ConsoleMessage, Page, Response, expect

from tests.browser.pages import WAIT_MS, Parley, join_as_guest, log_in, message, open_room, send, wait_live

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

PAYLOADS = [
    '<img src=x onerror="window.__pwned=1">',
    "<script>window.__pwned=1</script>",
    '<a href="javascript:window.__pwned=1">click me</a>',
    '<svg onload="window.__pwned=1"><circle r="9"/></svg>',
    '<iframe srcdoc="<script>parent.__pwned=1</script>"></iframe>',
    '"><img src=x onerror=window.__pwned=1>',
    "{{7*7}} ${7*7} <%= 7*7 %>",
]
RTL_OVERRIDE = "\u202e"

# Runs before any of the page's own scripts: records every CSP violation the page reports.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


class Watched:
    """A page, with its console errors, uncaught exceptions and CSP violations collected."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on("response", self._response)

    def _console(self, entry: ConsoleMessage) -> None:
        # Failed loads are caught by the response listener, with their URL; the console's copy
        # would also count the browser's own /favicon.ico request, which no page makes.
        if entry.text.startswith("Failed to load resource"):
            return
        if entry.type == "error" or "Content Security Policy" in entry.text:
            self.errors.append(f"console {entry.type}: {entry.text}")

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.errors.append(f"{response.status} {response.url}")

    def violations(self) -> list[str]:
        found: list[str] = self.page.evaluate("() => window.__violations || []")
        return found

    def assert_clean(self) -> None:
        assert self.violations() == []
        assert self.errors == []
        assert self.page.evaluate("() => typeof window.__pwned") == "undefined"


def watched(parley: Parley) -> Watched:
    return Watched(parley.new_page())


def test_script_and_html_payloads_are_text_run_nothing_and_trip_no_policy(parley: Parley) -> None:
    parley.create_users("mallory", "victim")
    parley.manage("createroom", "general")
    mallory, victim = watched(parley), watched(parley)
    log_in(mallory.page, "mallory")
    log_in(victim.page, "victim")
    open_room(mallory.page, "general")
    open_room(victim.page, "general")

    for payload in PAYLOADS:
        send(mallory.page, payload)
    for payload in PAYLOADS:
        expect(message(victim.page, payload)).to_have_count(1, timeout=WAIT_MS)
        expect(message(mallory.page, payload)).to_have_count(1, timeout=WAIT_MS)

    def shown_as_text(person: Watched) -> None:
        page = person.page
        expect(page.locator("#messages .message")).to_have_count(len(PAYLOADS), timeout=WAIT_MS)
        assert page.locator("#messages .body").all_inner_texts() == PAYLOADS
        assert page.locator("#messages :is(img, script, a, svg, iframe)").count() == 0
        # Had any of it become markup, the policy would have reported the blocked handler or script.
        person.assert_clean()

    shown_as_text(victim)
    shown_as_text(mallory)
    victim.page.reload()  # the history the server embeds in the page is text too
    wait_live(victim.page)
    shown_as_text(victim)


def test_every_page_works_under_the_policy_and_reports_no_violation(parley: Parley) -> None:
    parley.create_users("alice")
    parley.manage("createroom", "general")
    parley.manage("createroom", "lobby", "--guests")
    visitor = watched(parley)
    page = visitor.page

    for path in ("/", "/accounts/signup/", "/accounts/login/", "/admin/login/", "/no-such-page/"):
        page.goto(path)
        expect(page.locator("body")).to_be_visible(timeout=WAIT_MS)
        if path == "/no-such-page/":
            assert_only_the_404(visitor)
        else:
            visitor.assert_clean()
        visitor.errors.clear()

    log_in(page, "alice")
    open_room(page, "general")  # the module script ran: it read its JSON data and went live over ws://
    send(page, "under the policy")
    expect(message(page, "under the policy")).not_to_have_class(re.compile(r"\bpending\b"), timeout=WAIT_MS)
    page.get_by_role("button", name="Log out").click()
    expect(page.locator(".topbar").get_by_role("link", name="Log in")).to_be_visible(timeout=WAIT_MS)
    visitor.assert_clean()

    guest = watched(parley)
    join_as_guest(guest.page, "lobby", "Gia")
    send(guest.page, "a guest, under the policy")
    expect(message(guest.page, "a guest, under the policy")).to_have_count(1, timeout=WAIT_MS)
    guest.assert_clean()


def assert_only_the_404(visitor: Watched) -> None:
    assert visitor.violations() == []
    assert [error for error in visitor.errors if "404" not in error] == []


def test_an_injected_inline_script_is_blocked_and_reported(parley: Parley) -> None:
    parley.manage("createroom", "lobby", "--guests")
    guest = watched(parley)
    join_as_guest(guest.page, "lobby", "Ivy")
    inject: Callable[[str], None] = lambda code: guest.page.evaluate(  # noqa: E731
        """(code) => {
            const script = document.createElement("script");
            script.textContent = code;
            document.body.append(script);
            const image = document.createElement("img");
            image.setAttribute("src", "data:,x");
            image.setAttribute("onerror", code);
            image.setAttribute("onload", code);
            document.body.append(image);
        }""",
        code,
    )
    inject("window.__pwned = 1")
    guest.page.wait_for_function("() => window.__violations.length >= 2", timeout=WAIT_MS)
    assert guest.page.evaluate("() => typeof window.__pwned") == "undefined"
    assert all(violation.startswith("script-src") for violation in guest.violations())


def test_right_to_left_overrides_and_stacked_marks_stay_inside_their_message(parley: Parley) -> None:
    parley.manage("createroom", "lobby", "--guests")
    page = parley.new_page()
    join_as_guest(page, "lobby", "Rami")
    tricky = f"invoice{RTL_OVERRIDE}fdp.exe"
    stacked = "Z" + "\u0301\u0300\u0302" * 10  # 30 combining marks: the most one character may carry
    send(page, tricky)
    send(page, stacked)
    send(page, "after them")
    for body in (tricky, stacked, "after them"):
        expect(message(page, body)).to_have_count(1, timeout=WAIT_MS)
    body = message(page, tricky).locator(".body")
    assert body.evaluate("(element) => getComputedStyle(element).unicodeBidi") == "plaintext"
    assert (
        message(page, stacked).locator(".body").evaluate("(element) => getComputedStyle(element).overflow") == "hidden"
    )
    # The override is kept (it is the text that was sent) and reorders nothing outside its message.
    assert body.inner_text() == tricky
    assert page.locator(".topbar .who-name").inner_text() == "Rami"
    assert message(page, "after them").locator(".body").inner_text() == "after them"
