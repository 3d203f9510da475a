"""Read markers in Chromium: reading a room in one tab clears its unread badge on the room list in
another tab served by another process (over Redis), and a room page's "new messages" divider
follows a read made elsewhere."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import WAIT_MS, Parley, log_in, message, open_room, wait_live

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

POST = """
from django.contrib.auth import get_user_model
from parley.accounts.identity import user_identity
from parley.rooms.selectors import room_get
from parley.rooms.services import message_post
bob = user_identity(get_user_model().objects.get(username="bob"))
for body in {bodies!r}:
    message_post(room=room_get(slug="general"), sender=bob, body=body, client_id=body)
"""

# A tab that stays in the background: it never reads, so it shows what other tabs do.
HIDDEN_TAB = """
Object.defineProperty(document, "hidden", { get: () => true });
Object.defineProperty(document, "visibilityState", { get: () => "hidden" });
"""


def post_as_bob(parley: Parley, *bodies: str) -> None:
    parley.manage("shell", "-c", POST.format(bodies=list(bodies)))


def badge(page: Page):
    return page.locator('.room-card[data-room="general"] .unread-count')


def test_reading_in_one_tab_clears_the_badge_in_a_tab_on_another_process(two_servers):
    parley, other_server = two_servers
    post_as_bob(parley, "one", "two", "three")
    room_tab = parley.new_page()
    log_in(room_tab, "alice")
    # The room list is served by the other process (the session cookie is the same site's).
    list_tab = room_tab.context.new_page()
    list_tab.goto(f"{other_server}/")
    expect(list_tab.locator("#bell")).to_have_attribute("data-live", "true", timeout=WAIT_MS)
    expect(badge(list_tab)).to_have_text("3")
    list_tab.evaluate("window.notReloaded = true")

    open_room(room_tab, "general")  # visible, scrolled to the newest: it reads
    expect(badge(list_tab)).to_be_hidden(timeout=WAIT_MS)

    # The list learns of new messages when it regains focus (or within 30 s) from the HTTP API …
    room_tab.close()
    post_as_bob(parley, "four", "five")
    list_tab.evaluate("window.dispatchEvent(new Event('focus'))")
    expect(badge(list_tab)).to_have_text("2", timeout=WAIT_MS)
    # … and of reads live: the room page opened again on the first process reads them.
    room_tab = list_tab.context.new_page()
    open_room(room_tab, "general")
    expect(message(room_tab, "five")).to_be_visible()
    expect(badge(list_tab)).to_be_hidden(timeout=WAIT_MS)
    assert list_tab.evaluate("window.notReloaded") is True


def test_the_new_messages_divider_follows_a_read_in_another_tab(parley: Parley):
    parley.create_users("alice", "bob")
    parley.manage("createroom", "general")
    post_as_bob(parley, "old news")
    reader = parley.new_page()
    log_in(reader, "alice")
    open_room(reader, "general")  # reads "old news"
    reader.close()
    post_as_bob(parley, "fresh", "fresher")

    background = parley.new_page()
    log_in(background, "alice")
    background.add_init_script(HIDDEN_TAB)
    open_room(background, "general")
    divider = background.locator("#messages .unread-divider")
    expect(divider).to_have_count(1)
    expect(message(background, "fresh").locator(".unread-divider")).to_have_text("New messages")
    post_as_bob(parley, "freshest")
    expect(message(background, "freshest")).to_be_visible()
    expect(background).to_have_title("(1) #general · Parley")

    front = background.context.new_page()
    open_room(front, "general")
    wait_live(front)
    # The front tab read up to "freshest"; the background tab's divider and title follow.
    expect(divider).to_have_count(0, timeout=WAIT_MS)
    expect(background).to_have_title("#general · Parley")
    # In the front tab itself, its own read leaves the divider where the reader saw it.
    expect(front.locator("#messages .unread-divider")).to_have_count(1)
