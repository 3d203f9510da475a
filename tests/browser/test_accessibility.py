"""Every page of Parley and of the demo shop, checked with axe-core (WCAG 2 A and AA) in Chromium.

Each page is checked as people see it: with content in it (messages, members, hits, orders), and
with its live parts opened (the bell's panel, the @mention suggestions, the reaction picker, the
inline editor, the member list on a phone). Any violation fails the test, and the failure lists
them all.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.pages import PASSWORD, WAIT_MS, Parley, join_as_guest, log_in, message, open_room, png, send

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

SETUP = f"""
from django.contrib.auth.models import User
from orders.services import order_place
from parley.accounts.services import user_get_or_create
from parley.rooms.services import membership_join, room_create
alice = user_get_or_create(username="alice", password={PASSWORD!r})
bob = user_get_or_create(username="bob", password={PASSWORD!r})
general = room_create(slug="general", creator=alice)
membership_join(room=general, user=bob)
room_create(slug="secret", creator=alice, is_private=True)
order = order_place(user=alice, items=[{{"name": "Parley mug", "quantity": 2, "price": "12.50"}}])
print(order.pk)
"""


@pytest.fixture
def site(parley: Parley) -> tuple[Parley, int]:
    """Alice owns #general (bob is a member) and the private #secret, and has placed an order;
    #lobby welcomes guests. Returns the site and the order's id."""
    order_id = int(parley.manage("shell", "-c", SETUP).strip().splitlines()[-1])
    parley.manage("createroom", "lobby", "--guests", "--title", "The lobby")
    return parley, order_id


def signed_in(parley: Parley, username: str, *, dark: bool = False, **viewport: int) -> Page:
    page = parley.new_page(axe=True, dark=dark, **viewport)
    log_in(page, username)
    return page


def test_the_pages_anyone_can_visit(site: tuple[Parley, int]) -> None:
    parley, _ = site
    page = parley.new_page(axe=True)
    page.goto("/")
    assert_accessible(page, "the index, signed out")
    page.goto("/accounts/login/")
    assert_accessible(page, "the log-in page")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("not her password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".errorlist, .form-error, [role=alert]").first).to_be_visible(timeout=WAIT_MS)
    assert_accessible(page, "the log-in page with an error")
    page.goto("/accounts/signup/")
    assert_accessible(page, "the sign-up page")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Password, again").fill("other")
    page.get_by_role("button", name="Sign up").click()
    assert_accessible(page, "the sign-up page with errors")
    page.goto("/chat/lobby/")
    expect(page.get_by_role("heading", name="Join The lobby")).to_be_visible()
    assert_accessible(page, "the guest page")
    page.goto("/chat/no-such-room/")
    assert_accessible(page, "a room that does not exist")


def test_the_room_page_as_a_guest(site: tuple[Parley, int]) -> None:
    parley, _ = site
    page = parley.new_page(axe=True)
    join_as_guest(page, "lobby", "Priya")
    send(page, "hello from a guest")
    expect(message(page, "hello from a guest")).to_have_attribute("data-seq", "1")
    assert_accessible(page, "a room, as a guest")


def test_the_room_page_with_its_live_parts_open(site: tuple[Parley, int]) -> None:
    parley, _ = site
    bob = signed_in(parley, "bob")
    open_room(bob, "general")
    send(bob, "morning @alice, the report is in")
    expect(message(bob, "morning @alice, the report is in")).to_have_attribute("data-seq", "1")

    alice = signed_in(parley, "alice")
    open_room(alice, "general")
    send(alice, "thanks @bob")
    expect(message(alice, "thanks @bob")).to_have_attribute("data-seq", "2")
    # Typed over a few seconds, as a person types: one "typing" counts every 2 s, and bob's message a
    # moment ago ended the one his composing it sent.
    bob.locator("#body").press_sequentially("I am typing", delay=300)
    expect(alice.locator("#typing")).to_have_text("bob is typing…")
    assert_accessible(alice, "a room with messages, members and someone typing")

    alice.locator("#body").fill("@b")
    expect(alice.locator("#mention-list")).to_be_visible()
    assert_accessible(alice, "a room with the @mention suggestions open")
    alice.locator("#body").press("Escape")

    own = message(alice, "thanks @bob")
    own.hover()
    own.get_by_role("button", name="Add a reaction").click()
    assert_accessible(alice, "a room with the reaction picker open")
    alice.get_by_role("button", name="React with 👍").click()
    expect(own.locator(".reaction")).to_have_count(1)
    own.hover()
    own.get_by_role("button", name="Edit this message").click()
    assert_accessible(alice, "a room with a message being edited and a reaction")
    alice.keyboard.press("Escape")

    alice.locator("#bell-button").click()
    expect(alice.locator("#bell-panel")).to_be_visible()
    expect(alice.locator("#bell-list li")).to_have_count(1, timeout=WAIT_MS)
    assert_accessible(alice, "the bell's panel with a mention in it")


def test_the_room_page_with_files_and_a_thread(site: tuple[Parley, int]) -> None:
    parley, _ = site
    alice = signed_in(parley, "alice")
    open_room(alice, "general")
    alice.locator("#attach-input").set_input_files(
        [
            {"name": "chart.png", "mimeType": "image/png", "buffer": png(400, 300)},
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"the notes\n"},
        ]
    )
    expect(alice.locator("#uploads .upload.uploaded")).to_have_count(2, timeout=WAIT_MS)
    assert_accessible(alice, "a room with files waiting to be sent")
    send(alice, "the chart and the notes")
    shared = message(alice, "the chart and the notes")
    expect(shared.locator(".attachment-image img")).to_have_count(1, timeout=WAIT_MS)
    alice.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=shared.locator("img").element_handle())
    assert_accessible(alice, "a room with a thumbnail and a file")

    shared.hover()
    shared.get_by_role("button", name="Reply in thread").click()
    alice.locator("#thread-body").fill("one more thing")
    alice.locator("#thread-body").press("Enter")
    expect(alice.locator("#thread-panel .thread-summary")).to_have_text("1 reply", timeout=WAIT_MS)
    expect(shared.locator(".thread-count")).to_have_text("1 reply")
    assert_accessible(alice, "a room with its thread panel open")
    alice.locator("#thread-body").press("Escape")
    expect(alice.locator("#thread-panel")).to_be_hidden()
    assert_accessible(alice, "a room with a reply quoting its original")


def test_the_room_page_on_a_phone(site: tuple[Parley, int]) -> None:
    parley, _ = site
    page = signed_in(parley, "alice", width=390, height=800)
    open_room(page, "general")
    assert_accessible(page, "a room on a phone")
    page.locator("#menu-button").click()
    expect(page.locator("#sidebar")).to_be_visible()
    assert_accessible(page, "a room on a phone with the room list open")


def test_the_signed_in_pages(site: tuple[Parley, int]) -> None:
    parley, order_id = site
    page = signed_in(parley, "alice")
    assert_accessible(page, "the index, signed in")
    open_room(page, "secret")
    assert_accessible(page, "a private room")
    send(page, "the quarterly figures")
    expect(message(page, "the quarterly figures")).to_have_attribute("data-seq", "1")

    page.goto("/chat/general/settings/")
    assert_accessible(page, "the room settings")

    page.goto("/dms/")
    assert_accessible(page, "the direct messages page, empty")
    page.get_by_label("Username").fill("bob")
    page.get_by_role("button", name="Message").click()
    expect(page.locator("#room-title")).to_have_text("bob")
    open_room(page, page.url.rstrip("/").rsplit("/", 1)[-1])
    send(page, "psst")
    expect(message(page, "psst")).to_have_attribute("data-seq", "1")
    assert_accessible(page, "a direct conversation")
    page.goto("/dms/")
    assert_accessible(page, "the direct messages page, with a conversation")

    page.goto("/search/?q=quarterly")
    expect(page.locator(".search-hit")).to_have_count(1)
    assert_accessible(page, "search results")
    page.goto("/search/?q=nothing-matches-this")
    assert_accessible(page, "search without results")
    page.goto("/search/")
    assert_accessible(page, "the search page without a query")

    page.goto("/orders/")
    assert_accessible(page, "the order demo's list")
    page.goto(f"/orders/{order_id}/")
    expect(page.locator("#bell")).to_have_attribute("data-live", "true")
    assert_accessible(page, "the order demo's order page")


def test_the_pages_in_the_dark_colour_scheme(site: tuple[Parley, int]) -> None:
    parley, order_id = site
    visitor = parley.new_page(axe=True, dark=True)
    visitor.goto("/accounts/signup/")
    assert_accessible(visitor, "the sign-up page, dark")
    visitor.goto("/chat/lobby/")
    assert_accessible(visitor, "the guest page, dark")

    bob = signed_in(parley, "bob")
    open_room(bob, "general")
    send(bob, "hello @alice")
    expect(message(bob, "hello @alice")).to_have_attribute("data-seq", "1")
    page = signed_in(parley, "alice", dark=True)
    assert_accessible(page, "the index, dark")
    open_room(page, "general")
    expect(page.locator(".message.mentions-me")).to_have_count(1)
    send(page, "hi bob")
    expect(message(page, "hi bob")).to_have_attribute("data-seq", "2")
    assert_accessible(page, "a room with a mention and one's own message, dark")
    page.goto("/chat/general/settings/")
    assert_accessible(page, "the room settings, dark")
    page.goto("/search/?q=hello")
    expect(page.locator(".search-hit")).to_have_count(1)
    assert_accessible(page, "search results, dark")
    page.goto(f"/orders/{order_id}/")
    assert_accessible(page, "the order demo's order page, dark")


def test_the_error_pages(site: tuple[Parley, int]) -> None:
    parley, _ = site
    page = signed_in(parley, "alice")
    page.goto("/no/such/page/")
    assert_accessible(page, "a page that does not exist")
    # A form over DATA_UPLOAD_MAX_MEMORY_SIZE answers 413 with a page of Parley's.
    page.goto("/dms/")
    page.get_by_label("Username").evaluate(
        "(field) => { field.value = 'x'.repeat(3 * 1024 * 1024); field.removeAttribute('maxlength'); }"
    )
    page.get_by_role("button", name="Message").click()
    expect(page.get_by_role("heading", name="What you sent is too large")).to_be_visible()
    assert_accessible(page, "the page for a form that is too large")


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_messages_and_form_errors(site: tuple[Parley, int], dark: bool) -> None:
    parley, _ = site
    page = signed_in(parley, "alice", dark=dark)
    page.goto("/go/?room=not%20a%20name")
    expect(page.locator(".flash li.error")).to_be_visible()
    assert_accessible(page, "the index with an error")
    page.get_by_label("Name in the URL").fill("general")  # taken
    page.get_by_role("button", name="Create room").click()
    expect(page.locator(".errorlist").first).to_be_visible()
    assert_accessible(page, "the index with a form error")

    page.goto("/chat/general/settings/")
    page.get_by_role("button", name="Ban bob").click()
    expect(page.locator(".flash li.success, .flash li:not(.error)").first).to_be_visible()
    assert_accessible(page, "the room settings after a ban")
    page.get_by_label("URL").fill("http://127.0.0.1:9/hook")
    page.locator("input[name=secret]").fill("a-secret-of-some-length")
    page.get_by_role("button", name="Add webhook").click()
    expect(page.locator(".flash li.error")).to_be_visible()
    assert_accessible(page, "the room settings with a refused webhook")

    page.goto("/dms/")
    page.get_by_label("Username").fill("nobody-of-that-name")
    page.get_by_role("button", name="Message").click()
    expect(page.locator(".flash li.error")).to_be_visible()
    assert_accessible(page, "the direct messages page with an error")

    bob = signed_in(parley, "bob", dark=dark)
    bob.goto("/chat/general/")
    expect(bob.locator(".flash li.error")).to_contain_text("banned")
    assert_accessible(bob, "the index telling bob he is banned")
