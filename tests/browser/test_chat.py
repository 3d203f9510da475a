"""The chat page in Chromium against a real Daphne: live chat, guests, hostile input, phone width."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import (
    CLOCK_TIME,
    WAIT_MS,
    Parley,
    join_as_guest,
    log_in,
    message,
    no_horizontal_scroll,
    open_room,
    send,
    sign_up,
    wait_live,
)

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
PAYLOADS = [
    '<img src=x onerror="window.__pwned=1">',
    "<script>window.__pwned=1</script>",
    '<a href="javascript:window.__pwned=1">x</a>',
]


def expect_from(page: Page, body: str, author: str) -> None:
    """``body`` is on ``page`` once, from someone else, with the author's name and the time."""
    item = message(page, body)
    expect(item).to_have_count(1, timeout=WAIT_MS)
    expect(item).not_to_have_class(re.compile(r"\bmine\b"), timeout=WAIT_MS)
    expect(item.locator(".author")).to_have_text(author, timeout=WAIT_MS)
    expect(item.locator("time")).to_have_text(CLOCK_TIME, timeout=WAIT_MS)
    expect(item.locator("time")).to_have_attribute("datetime", ISO_TIME, timeout=WAIT_MS)


def expect_own(page: Page, body: str) -> None:
    """``body`` is on ``page`` once, as the reader's own message, stored (no longer pending)."""
    item = message(page, body)
    expect(item).to_have_count(1, timeout=WAIT_MS)
    expect(item).to_have_class(re.compile(r"\bmine\b"), timeout=WAIT_MS)
    expect(item).not_to_have_class(re.compile(r"\bpending\b"), timeout=WAIT_MS)
    expect(item.locator("time")).to_have_attribute("datetime", ISO_TIME, timeout=WAIT_MS)


def test_two_signed_up_users_chat_live(parley: Parley) -> None:
    parley.manage("createroom", "general", "--title", "General")
    alice, bob = parley.new_page(), parley.new_page()
    sign_up(alice, "alice")
    sign_up(bob, "bob")
    open_room(alice, "general")
    open_room(bob, "general")
    expect(alice.locator("#empty")).to_be_visible(timeout=WAIT_MS)
    expect(alice.locator("#older")).to_be_hidden(timeout=WAIT_MS)

    send(alice, "Hi Bob, the build is green.")
    expect(alice.locator("#body")).to_have_value("", timeout=WAIT_MS)
    expect_own(alice, "Hi Bob, the build is green.")
    expect_from(bob, "Hi Bob, the build is green.", author="alice")
    expect(bob.locator("#empty")).to_be_hidden(timeout=WAIT_MS)

    # Shift+Enter starts a new line; Enter alone sends.
    composer = bob.locator("#body")
    composer.fill("Great news.")
    composer.press("Shift+Enter")
    composer.press_sequentially("Shipping it.")
    expect(composer).to_have_value("Great news.\nShipping it.", timeout=WAIT_MS)
    composer.press("Enter")
    expect_own(bob, "Great news.\nShipping it.")
    expect_from(alice, "Great news.\nShipping it.", author="bob")

    for page in (alice, bob):
        expect(page.locator("#messages .message")).to_have_count(2, timeout=WAIT_MS)
        expect(page.locator("#connection")).to_have_text("Live", timeout=WAIT_MS)


def test_script_and_html_are_shown_as_text_and_run_nothing(parley: Parley) -> None:
    parley.create_users("mallory", "victim")
    parley.manage("createroom", "general")
    mallory, victim = parley.new_page(), parley.new_page()
    log_in(mallory, "mallory")
    log_in(victim, "victim")
    open_room(mallory, "general")
    open_room(victim, "general")

    for payload in PAYLOADS:
        send(mallory, payload)
    for payload in PAYLOADS:
        expect_own(mallory, payload)
        expect_from(victim, payload, author="mallory")

    def shown_as_text(page: Page) -> None:
        expect(page.locator("#messages .message")).to_have_count(len(PAYLOADS), timeout=WAIT_MS)
        assert page.locator("#messages .body").all_inner_texts() == PAYLOADS
        assert page.locator("#messages img, #messages script, #messages a, #messages iframe").count() == 0
        assert page.evaluate("() => typeof window.__pwned") == "undefined"

    shown_as_text(victim)
    shown_as_text(mallory)
    # The history in the page (the server's JSON, rendered by the script) is text as well.
    victim.reload()
    wait_live(victim)
    shown_as_text(victim)


def test_guest_picks_a_name_and_chats(parley: Parley) -> None:
    parley.create_users("alice")
    parley.manage("createroom", "lobby", "--guests")
    alice, guest = parley.new_page(), parley.new_page()
    log_in(alice, "alice")
    open_room(alice, "lobby")

    guest.goto("/chat/lobby/")
    expect(guest.get_by_role("heading", name="Join lobby")).to_be_visible(timeout=WAIT_MS)
    join_as_guest(guest, "lobby", "Priya")
    expect(guest.locator(".topbar .who-name")).to_have_text("Priya", timeout=WAIT_MS)

    send(guest, "Hello from a guest!")
    expect_own(guest, "Hello from a guest!")
    expect_from(alice, "Hello from a guest!", author="Priya")
    tagged = message(alice, "Hello from a guest!").locator(".tag")
    expect(tagged).to_have_text("guest", timeout=WAIT_MS)
    expect(tagged).to_be_visible(timeout=WAIT_MS)

    send(alice, "Welcome, Priya.")
    expect_from(guest, "Welcome, Priya.", author="alice")
    expect(message(guest, "Welcome, Priya.").locator(".tag")).to_have_count(0, timeout=WAIT_MS)


def test_phone_width_has_no_horizontal_scroll_and_a_visible_composer(parley: Parley) -> None:
    parley.manage("createroom", "lobby", "--guests", "--title", "A room with a rather long title for a phone")
    phone = parley.new_page(width=390, height=844, mobile=True)
    phone.goto("/")
    assert no_horizontal_scroll(phone)

    join_as_guest(phone, "lobby", "Sam on the bus")
    send(phone, "https://example.com/" + "a-very-long-path-without-any-spaces-" * 8)
    send(phone, "Short one.")
    expect_own(phone, "Short one.")

    assert no_horizontal_scroll(phone)
    expect(phone.locator("#composer")).to_be_visible(timeout=WAIT_MS)
    expect(phone.locator("#body")).to_be_in_viewport(timeout=WAIT_MS)
    expect(phone.locator("#send")).to_be_in_viewport(timeout=WAIT_MS)
    expect(phone.locator("#connection")).to_be_in_viewport(timeout=WAIT_MS)


def test_a_guest_cannot_pass_for_a_user_and_is_marked_wherever_named(parley: Parley) -> None:
    parley.create_users("alice")
    parley.manage("createroom", "lobby", "--guests")
    alice, guest = parley.new_page(), parley.new_page()
    log_in(alice, "alice")
    open_room(alice, "lobby")
    expect(alice.locator("#bell")).to_have_attribute("data-live", "true", timeout=WAIT_MS)

    guest.goto("/chat/lobby/")
    guest.get_by_label("Your name").fill("Alice")
    guest.get_by_role("button", name="Enter the room").click()
    expect(guest.get_by_text("That name belongs to a registered user")).to_be_visible(timeout=WAIT_MS)
    join_as_guest(guest, "lobby", "Priya")

    guest.locator("#body").press_sequentially("@alice are you th", delay=20)
    expect(alice.locator("#typing")).to_have_text("Priya (guest) is typing…", timeout=WAIT_MS)
    guest.locator("#body").fill("@alice are you there?")
    guest.locator("#body").press("Enter")
    expect_from(alice, "@alice are you there?", author="Priya")

    expect(alice.locator("#bell-count")).to_have_text("1", timeout=WAIT_MS)
    alice.locator("#bell-button").click()
    expect(alice.locator("#bell-list li .bell-text")).to_have_text(
        "Priya (guest) mentioned you in #lobby: @alice are you there?", timeout=WAIT_MS
    )
