"""Presence and typing in Chromium, two people on two server processes sharing Redis: each sees
the other arrive, type and leave."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.pages import PASSWORD, WAIT_MS, log_in, open_room

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def test_two_people_on_two_processes_see_each_other_arrive_type_and_leave(two_servers):
    parley, other_server = two_servers
    alice = parley.new_page()
    log_in(alice, "alice")
    open_room(alice, "general")
    people = alice.locator("#people-list .person")
    expect(people).to_have_text(["alice"], timeout=WAIT_MS)
    expect(alice.locator("#people-count")).to_have_text("1 here")

    bob = parley.new_page()
    bob.goto(f"{other_server}/accounts/login/?next=/chat/general/")
    bob.get_by_label("Username").fill("bob")
    bob.get_by_label("Password").fill(PASSWORD)
    bob.get_by_role("button", name="Log in").click()
    expect(bob.locator("#connection")).to_have_text("Live", timeout=WAIT_MS)
    expect(bob.locator("#people-list .person")).to_have_text(["alice", "bob"], timeout=WAIT_MS)
    expect(people).to_have_text(["alice", "bob"], timeout=WAIT_MS)

    bob.locator("#body").press_sequentially("hello th", delay=20)
    expect(alice.locator("#typing")).to_have_text("bob is typing…", timeout=WAIT_MS)
    expect(alice.locator("#typing")).to_have_text("", timeout=WAIT_MS)  # it fades when he stops
    expect(bob.locator("#typing")).to_have_text("")  # nobody sees their own typing

    bob.close()
    expect(people).to_have_text(["alice"], timeout=WAIT_MS)
    expect(alice.locator("#people-count")).to_have_text("1 here")
