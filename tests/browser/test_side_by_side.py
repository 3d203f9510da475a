"""Issue 7's proof in Chromium: two people side by side on two server processes sharing Redis.

alice's page is served by process A, bob's by process B, both in room general; alice also has a
phone on process B, showing another room. Without any page reloading, each sees the other here,
typing and (bob) leaving; a read on A clears the badge on the phone; bob's edit and delete reach
alice; alice's reaction reaches bob, and bob's own on top of it reaches alice with her highlight
kept. At the end the pages are photographed side by side into the test's temporary folder.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import PASSWORD, WAIT_MS, Parley, message, wait_live

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

# bob wrote these before anyone opened a page: the room's only messages, seq 1 and 2.
POST_AS_BOB = """
from django.contrib.auth import get_user_model
from parley.accounts.identity import user_identity
from parley.rooms.selectors import room_get
from parley.rooms.services import message_post
bob = user_identity(get_user_model().objects.get(username="bob"))
for body in ("Teh deploy is done", "ignore the last alert"):
    message_post(room=room_get(slug="general"), sender=bob, body=body, client_id=body)
"""


def open_room_on(page: Page, server_url: str, username: str, slug: str) -> None:
    """Log ``username`` in on the server at ``server_url``, straight into room ``slug``; mark the page."""
    page.goto(f"{server_url}/accounts/login/?next=/chat/{slug}/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{server_url}/chat/{slug}/", timeout=WAIT_MS)
    wait_live(page)
    page.evaluate("window.notReloaded = true")  # gone if the page ever reloads


def chip(page: Page, body: str, emoji: str):
    return message(page, body).locator(f'.reaction[data-emoji="{emoji}"]')


def composite(shots: dict[str, bytes], page: Page, path: Path) -> None:
    """Lay screenshots out side by side, each captioned, on a blank page and photograph that."""
    figures = "".join(
        f'<figure><img src="data:image/png;base64,{base64.b64encode(png).decode()}">'
        f"<figcaption>{caption}</figcaption></figure>"
        for caption, png in shots.items()
    )
    page.set_content(
        "<style>body{margin:8px;display:flex;gap:8px;align-items:flex-start;font:14px sans-serif}"
        "figure{margin:0}img{height:560px;border:1px solid #888;display:block}</style>" + figures
    )
    page.screenshot(path=str(path), full_page=True)


def test_two_people_on_two_processes_see_each_other_live_side_by_side(
    two_servers: tuple[Parley, str], tmp_path: Path
) -> None:
    parley, server_b = two_servers
    server_a = parley.url
    parley.manage("createroom", "random")
    parley.manage("shell", "-c", POST_AS_BOB)
    shots: dict[str, bytes] = {}

    # bob on process B, alone in general.
    bob = parley.new_page()
    open_room_on(bob, server_b, "bob", "general")
    bobs_online = bob.locator("#people-list .person.online .person-name")
    expect(bobs_online).to_have_text(["bob"], timeout=WAIT_MS)

    # alice's phone on process B shows another room; its sidebar has general's unread badge.
    phone = parley.new_page(width=390, height=844, mobile=True)
    open_room_on(phone, server_b, "alice", "random")
    phone_badge = phone.locator('#sidebar .side-item[data-room="general"] .unread-count')
    expect(phone.locator("#menu-dot")).to_be_visible(timeout=WAIT_MS)
    phone.locator("#menu-button").click()
    expect(phone.locator("#sidebar")).to_be_in_viewport(ratio=1, timeout=WAIT_MS)  # the drawer has slid in
    expect(phone_badge).to_be_visible(timeout=WAIT_MS)
    expect(phone_badge).to_have_text("2", timeout=WAIT_MS)
    shots["alice's phone (B), before"] = phone.screenshot()
    list_rereads: list[str] = []
    phone.on("request", lambda request: list_rereads.append(request.url) if "/api/rooms" in request.url else None)

    # alice on process A opens general: presence both ways, and her read reaches the phone on B.
    alice = parley.new_page()
    open_room_on(alice, server_a, "alice", "general")
    alices_online = alice.locator("#people-list .person.online .person-name")
    for page, online in ((alice, alices_online), (bob, bobs_online)):
        expect(online).to_have_text(["alice", "bob"], timeout=WAIT_MS)  # bob sees her arrive: presence_diff
        expect(page.locator("#people-count")).to_have_text("2 here", timeout=WAIT_MS)
    expect(message(alice, "ignore the last alert")).to_be_visible(timeout=WAIT_MS)
    expect(phone_badge).to_be_hidden(timeout=WAIT_MS)
    assert list_rereads == [], "the badge must clear from the pushed unread frame, not a re-read of /api/rooms"
    shots["alice's phone (B), after alice read on A"] = phone.screenshot()
    phone.keyboard.press("Escape")
    expect(phone.locator("#sidebar")).to_be_hidden(timeout=WAIT_MS)
    expect(phone.locator("#menu-dot")).to_be_hidden(timeout=WAIT_MS)

    # Typing, both ways; nobody sees their own.
    alice.locator("#body").press_sequentially("on my way", delay=20)
    expect(bob.locator("#typing")).to_have_text("alice is typing…", timeout=WAIT_MS)
    bob.locator("#body").press_sequentially("great", delay=20)
    expect(alice.locator("#typing")).to_have_text("bob is typing…", timeout=WAIT_MS)
    expect(alice.locator("#typing")).not_to_contain_text("alice", timeout=WAIT_MS)
    expect(bob.locator("#typing")).not_to_contain_text("bob", timeout=WAIT_MS)
    for page in (alice, bob):
        page.locator("#body").fill("")

    # bob edits his typo: alice sees the new text and the marker.
    message(bob, "Teh deploy is done").locator(".edit").click()
    editor = bob.locator("#messages .editor")
    editor.fill("The deploy is done")
    editor.press("Enter")
    fixed = message(alice, "The deploy is done")
    expect(fixed).to_have_count(1, timeout=WAIT_MS)
    expect(fixed.locator(".edited")).to_have_text("(edited)", timeout=WAIT_MS)
    expect(message(alice, "Teh deploy is done")).to_have_count(0, timeout=WAIT_MS)

    # bob deletes his other message: alice sees it deleted, in its place.
    bob.once("dialog", lambda dialog: dialog.accept())
    message(bob, "ignore the last alert").locator(".delete").click()
    gone = alice.locator('#messages .message[data-seq="2"]')
    expect(gone).to_have_class(re.compile(r"\bdeleted\b"), timeout=WAIT_MS)
    expect(gone.locator(".body")).to_have_text("message deleted", timeout=WAIT_MS)
    expect(alice.locator("#messages .message").filter(has_text="ignore the last alert")).to_have_count(
        0, timeout=WAIT_MS
    )

    # alice reacts: bob sees one, not his. bob adds the same: both see two, each highlighted as theirs.
    message(alice, "The deploy is done").locator(".react-open").click()
    alice.locator(".picker .pick", has_text="👍").click()
    expect(chip(alice, "The deploy is done", "👍")).to_have_attribute("aria-pressed", "true", timeout=WAIT_MS)
    expect(chip(bob, "The deploy is done", "👍")).to_contain_text("1", timeout=WAIT_MS)
    expect(chip(bob, "The deploy is done", "👍")).to_have_attribute("aria-pressed", "false", timeout=WAIT_MS)
    chip(bob, "The deploy is done", "👍").click()
    for page in (alice, bob):
        expect(chip(page, "The deploy is done", "👍")).to_contain_text("2", timeout=WAIT_MS)
        expect(chip(page, "The deploy is done", "👍")).to_have_attribute("aria-pressed", "true", timeout=WAIT_MS)

    for page in (alice, bob, phone):
        assert page.evaluate("window.notReloaded") is True
    shots["alice (A)"] = alice.screenshot()
    shots["bob (B)"] = bob.screenshot()

    # bob closes his page: alice sees him not here, still listed as a member.
    bob.close()
    expect(alices_online).to_have_text(["alice"], timeout=WAIT_MS)
    expect(alice.locator("#people-list .person.offline .person-name")).to_have_text(["bob"], timeout=WAIT_MS)
    expect(alice.locator("#people-count")).to_have_text("1 here", timeout=WAIT_MS)
    assert alice.evaluate("window.notReloaded") is True
    shots["alice (A), after bob left"] = alice.screenshot()

    composite(shots, parley.new_page(width=1600, height=600), tmp_path / "side-by-side.png")
