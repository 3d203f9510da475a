"""Search in Chromium: "/" focuses the box, the results page marks the hits and links to their room."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import PASSWORD, WAIT_MS, Parley, message, send, wait_live

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def log_in_to(page: Page, username: str, path: str) -> None:
    page.goto(f"/accounts/login/?next={path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".topbar .who-name")).to_have_text(username, timeout=WAIT_MS)


def test_a_word_typed_in_the_search_box_finds_the_message(parley: Parley) -> None:
    parley.manage("createroom", "general")
    parley.create_users("alice")
    page = parley.new_page()
    log_in_to(page, "alice", "/chat/general/")
    wait_live(page)
    send(page, "the <b>quarterly</b> report is ready")
    send(page, "something else entirely")
    expect(message(page, "something else entirely")).not_to_have_class(re.compile(r"\bpending\b"), timeout=WAIT_MS)

    page.locator("#log").click()  # not in a text field: "/" goes to the search box
    page.keyboard.press("/")
    expect(page.locator("#room-search-q")).to_be_focused()
    page.keyboard.type("quarterly")
    page.keyboard.press("Enter")

    expect(page).to_have_url(f"{parley.url}/search/?room=general&q=quarterly")
    hit = page.locator(".search-hit")
    expect(hit).to_have_count(1)
    expect(hit.locator("mark")).to_have_text("quarterly")
    expect(hit.locator(".search-hit-text")).to_have_text("the <b>quarterly</b> report is ready")
    expect(hit.locator("b")).to_have_count(0)  # the body's markup stays text

    hit.locator("a").click()
    expect(page).to_have_url(f"{parley.url}/chat/general/#seq-1")
    wait_live(page)


def test_the_top_bar_searches_every_room_you_may_read(parley: Parley) -> None:
    parley.manage("createroom", "general")
    parley.manage("createroom", "random")
    parley.create_users("alice")
    page = parley.new_page()
    log_in_to(page, "alice", "/chat/random/")
    wait_live(page)
    send(page, "zebra crossing")
    expect(message(page, "zebra crossing")).to_have_count(1)
    page.goto("/accounts/login/?next=/search/")  # any page with the top bar
    page.locator("#search-q").fill("ZEBRA")
    page.locator("#search-q").press("Enter")
    expect(page.locator(".search-hit mark")).to_have_text("zebra")
    expect(page.locator(".search-hit-room")).to_have_text("#random")
