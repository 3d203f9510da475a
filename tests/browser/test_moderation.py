"""Moderation and direct messages in Chromium against a real Daphne: the owner bans bob from the
settings page while bob has the room open, and two people start a direct conversation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.pages import WAIT_MS, Parley, log_in, message, open_room, send

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def test_a_banned_user_loses_the_open_room_at_once(parley: Parley) -> None:
    parley.create_users("alice", "bob")
    parley.manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import User\n"
        "from parley.rooms.services import room_create\n"
        "room_create(slug='town', creator=User.objects.get(username='alice'))\n",
    )
    bob = parley.new_page()
    log_in(bob, "bob")
    open_room(bob, "town")
    send(bob, "hello from bob")
    expect(message(bob, "hello from bob")).to_have_attribute("data-seq", "1", timeout=WAIT_MS)  # stored

    alice = parley.new_page()
    log_in(alice, "alice")
    open_room(alice, "town")
    alice.get_by_role("link", name="Settings").click()
    alice.get_by_role("button", name="Ban bob").click()
    expect(alice.locator(".flash")).to_contain_text("bob is banned from #town.", timeout=WAIT_MS)
    expect(alice.locator(".member-list .badge.banned")).to_have_count(1)

    expect(bob.locator(".room-lost")).to_have_text("You were banned from #town.", timeout=WAIT_MS)
    expect(bob.locator("#body")).to_be_disabled()
    expect(bob.locator("#connection")).to_have_text("No access")
    # A reload does not bring the room back.
    bob.reload()
    expect(bob.locator(".flash")).to_contain_text("You are banned from #town", timeout=WAIT_MS)


def test_a_direct_message_from_the_dm_page(parley: Parley) -> None:
    parley.create_users("alice", "bob")
    alice = parley.new_page()
    log_in(alice, "alice")
    alice.get_by_role("link", name="Messages").click()
    alice.get_by_label("Username").fill("bob")
    alice.get_by_role("button", name="Message").click()
    expect(alice.locator("#room-title")).to_have_text("bob", timeout=WAIT_MS)
    expect(alice.locator("#connection")).to_have_text("Live", timeout=WAIT_MS)
    send(alice, "psst, bob")

    bob = parley.new_page()
    log_in(bob, "bob")
    bob.goto("/dms/")
    card = bob.locator(".dm-card", has_text="alice")
    expect(card.locator(".badge.unread")).to_have_text("1", timeout=WAIT_MS)
    card.click()
    expect(bob.locator("#room-title")).to_have_text("alice", timeout=WAIT_MS)
    expect(message(bob, "psst, bob")).to_have_count(1, timeout=WAIT_MS)
