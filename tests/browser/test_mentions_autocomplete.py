"""@mention autocomplete in the composer, in Chromium against a real server."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import PASSWORD, WAIT_MS, Parley, message, wait_live

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def log_in_to(page: Page, username: str, path: str) -> None:
    page.goto(f"/accounts/login/?next={path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".topbar .who-name")).to_have_text(username, timeout=WAIT_MS)


def join(parley: Parley, slug: str, *usernames: str) -> None:
    code = (
        "from django.contrib.auth.models import User\n"
        "from parley.rooms.models import Room\n"
        "from parley.rooms.services import membership_join\n"
        f"room = Room.objects.get(slug={slug!r})\n"
        f"for name in {list(usernames)!r}:\n"
        "    membership_join(room=room, user=User.objects.get(username=name))\n"
    )
    parley.manage("shell", "-c", code)


def test_typing_at_and_letters_suggests_people_and_enter_picks_one(parley: Parley) -> None:
    parley.manage("createroom", "general")
    parley.create_users("alice", "albert", "bob")
    join(parley, "general", "alice", "albert", "bob")
    page = parley.new_page()
    log_in_to(page, "bob", "/chat/general/")
    wait_live(page)

    composer = page.locator("#body")
    composer.click()
    composer.press_sequentially("hi @al")
    options = page.locator("#mention-list [role=option]")
    expect(options).to_have_text(["@albert", "@alice"])
    # A text box that suggests (a textarea cannot be a combobox): the list it controls, the option
    # the arrows are on, and a status line that says the list opened.
    expect(composer).to_have_attribute("aria-autocomplete", "list")
    expect(composer).to_have_attribute("aria-controls", "mention-list")
    expect(composer).to_have_attribute("aria-activedescendant", "mention-0")
    expect(page.locator("#mention-status")).to_have_text("2 people to mention: arrow keys to choose, Enter to pick.")
    composer.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(composer).to_have_attribute("aria-activedescendant", "mention-1")
    composer.press("Enter")  # picks; does not send
    expect(composer).to_have_value("hi @alice ")
    expect(page.locator("#mention-list")).to_be_hidden()
    expect(composer).not_to_have_attribute("aria-activedescendant", re.compile(".*"))
    expect(page.locator("#mention-status")).to_have_text("")

    composer.press_sequentially("and @b")  # bob is the reader: never suggested
    composer.press_sequentially("x")
    expect(page.locator("#mention-list")).to_be_hidden()
    composer.press("Backspace")
    composer.press("Backspace")
    composer.press("Backspace")
    composer.press_sequentially("@alb")
    expect(options).to_have_text(["@albert"])
    composer.press("Escape")
    expect(page.locator("#mention-list")).to_be_hidden()
    composer.press_sequentially("e")
    expect(options).to_have_text(["@albert"])
    composer.press("Tab")
    expect(composer).to_have_value("hi @alice and @albert ")

    composer.press("Enter")  # the list is closed: Enter sends
    expect(message(page, "hi @alice and @albert ")).to_have_count(1)
    expect(composer).to_have_value("")
