"""What another person's page shows of you, in Chromium against a real server: your "is typing…"
ends when your message arrives, and an @mention of the reader is marked in the message, live and
when the page loads it from history."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.pages import WAIT_MS, Parley, log_in, message, open_room, send

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

MENTIONS_ALICE = "morning @alice, mail alice@example.com or @alicex, @ALICE."


@pytest.fixture
def alice_and_bob(parley: Parley) -> tuple[Page, Page]:
    """Alice and bob, each in a browser context of their own, with #general open."""
    parley.manage("createroom", "general")
    parley.create_users("alice", "bob")
    pages = []
    for name in ("alice", "bob"):
        page = parley.new_page(axe=True)
        log_in(page, name)
        open_room(page, "general")
        pages.append(page)
    return pages[0], pages[1]


def typing_line(page: Page) -> str:
    return page.locator("#typing").text_content() or ""


def test_a_persons_typing_ends_when_their_message_arrives(alice_and_bob: tuple[Page, Page]) -> None:
    alice, bob = alice_and_bob
    bob.locator("#body").press_sequentially("the build is green")
    expect(alice.locator("#typing")).to_have_text("bob is typing…")
    bob.locator("#body").press("Enter")
    expect(message(alice, "the build is green")).to_have_count(1)
    # At once, not when the notice times out (seconds later): the same frame ends it.
    assert typing_line(alice) == ""

    # Typing on says so again: a notice goes at most every 2 s, so type for longer than that.
    bob.locator("#body").press_sequentially("and the deploy", delay=250)
    expect(alice.locator("#typing")).to_have_text("bob is typing…")
    # Alice's own message ends nothing of bob's.
    send(alice, "great")
    expect(message(bob, "great")).to_have_count(1)
    expect(message(alice, "great")).to_have_attribute("data-seq", "2")
    assert typing_line(alice) == "bob is typing…"
    bob.locator("#body").press("Enter")
    expect(message(alice, "and the deploy")).to_have_count(1)
    assert typing_line(alice) == ""


def test_an_at_mention_of_the_reader_is_marked_live_and_in_history(
    parley: Parley, alice_and_bob: tuple[Page, Page]
) -> None:
    alice, bob = alice_and_bob
    send(bob, MENTIONS_ALICE)
    send(bob, "nobody named here, not even bob@example.com")
    expect(message(alice, "nobody named here, not even bob@example.com")).to_have_attribute("data-seq", "2")
    send(alice, "thanks @bob")

    for page in (alice, bob):
        expect(message(page, "thanks @bob")).to_have_attribute("data-seq", "3")
    live = message(alice, MENTIONS_ALICE)
    expect(live).to_have_class(re.compile(r"\bmentions-me\b"))
    # "@alice" and "@ALICE" (the trailing "." ends the sentence); not the e-mail address, not @alicex.
    expect(live.locator("mark.mention-me")).to_have_text(["@alice", "@ALICE"])
    expect(live.locator(".body")).to_have_text(MENTIONS_ALICE)  # marking changes no text
    expect(message(alice, "nobody named here, not even bob@example.com")).not_to_have_class(
        re.compile(r"\bmentions-me\b")
    )
    expect(alice.locator("mark.mention-me")).to_have_count(2)  # her own "@bob" is not hers to be told of
    # Bob sees his own message plain, and alice's mention of him marked.
    expect(message(bob, MENTIONS_ALICE).locator("mark")).to_have_count(0)
    expect(message(bob, "thanks @bob").locator("mark.mention-me")).to_have_text(["@bob"])
    # The bell counts what is marked.
    expect(alice.locator("#bell-count")).to_have_text("1", timeout=WAIT_MS)
    assert_accessible(alice, "a room with a marked mention")

    # An edit that names her is marked too; one that drops her name unmarks it.
    own = message(bob, "nobody named here, not even bob@example.com")
    own.hover()
    own.get_by_role("button", name="Edit this message").click()
    editor = own.locator(".editor")
    editor.fill("now naming @alice")
    editor.press("Enter")
    edited = alice.locator('#messages .message[data-seq="2"]')
    expect(edited.locator("mark.mention-me")).to_have_text(["@alice"])
    expect(edited).to_have_class(re.compile(r"\bmentions-me\b"))

    # From history: a page loaded afresh marks the same messages.
    fresh = parley.new_page()
    log_in(fresh, "alice")
    open_room(fresh, "general")
    expect(message(fresh, MENTIONS_ALICE).locator("mark.mention-me")).to_have_text(["@alice", "@ALICE"])
    expect(fresh.locator('#messages .message[data-seq="2"] mark.mention-me')).to_have_text(["@alice"])
    expect(fresh.locator(".message.mentions-me")).to_have_count(2)
