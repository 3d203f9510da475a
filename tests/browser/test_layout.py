"""The app layout in Chromium against a real server: the sidebar's unread badges (a direct message
pushed at once, another room on refresh; both cleared by reading), the member list following
presence live, the keyboard (Alt+↑/↓, Ctrl+K, Esc), and a phone's drawer and member panel."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import (
    WAIT_MS,
    Parley,
    log_in,
    message,
    no_horizontal_scroll,
    open_room,
    send,
    wait_live,
)

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

POST_AS_BOB = """
from django.contrib.auth import get_user_model
from parley.accounts.identity import user_identity
from parley.rooms.selectors import room_get
from parley.rooms.services import message_post
bob = user_identity(get_user_model().objects.get(username="bob"))
message_post(room=room_get(slug={slug!r}), sender=bob, body={body!r}, client_id={body!r})
"""

MEMBERS = """
from django.contrib.auth import get_user_model
from parley.rooms.services import membership_join, room_get_or_create
users = get_user_model().objects
room = room_get_or_create(slug={slug!r}, creator=users.get(username={owner!r})).room
for name in {members!r}:
    membership_join(room=room, user=users.get(username=name))
"""


def side_item(page: Page, name: str):
    """The sidebar entry (room or conversation) whose name is ``name``."""
    return page.locator("#sidebar .side-item").filter(
        has=page.locator(".side-name", has_text=re.compile(f"^{re.escape(name)}$"))
    )


def api_rooms_requests(page: Page) -> list[str]:
    """Every ``GET /api/rooms`` the page makes from now on (the badges' periodic re-read)."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url) if request.url.endswith("/api/rooms") else None)
    return seen


def alice_live_in_general(parley: Parley, *other_rooms: str) -> Page:
    """alice (with bob as another user) on room general, her page's socket live."""
    parley.create_users("alice", "bob")
    for slug in ("general", *other_rooms):
        parley.manage("createroom", slug)
    alice = parley.new_page()
    log_in(alice, "alice")
    open_room(alice, "general")
    expect(alice.locator("#bell")).to_have_attribute("data-live", "true", timeout=WAIT_MS)
    return alice


def test_a_direct_message_badges_the_sidebar_at_once_and_reading_clears_it(parley: Parley) -> None:
    alice = alice_live_in_general(parley)
    expect(alice.locator("#side-directs .side-item")).to_have_count(0)
    re_reads = api_rooms_requests(alice)

    # bob writes first: alice's page lists no conversation with him yet.
    bob = parley.new_page()
    log_in(bob, "bob")
    bob.goto("/dms/")
    bob.get_by_label("Username").fill("alice")
    bob.get_by_role("button", name="Message").click()
    wait_live(bob)
    send(bob, "are you around?")
    badge = side_item(alice, "bob").locator(".unread-count")
    expect(badge).to_have_text("1", timeout=WAIT_MS)
    send(bob, "it's about the release")
    expect(badge).to_have_text("2", timeout=WAIT_MS)
    # The server pushed it: the page did not re-read the room list meanwhile.
    assert re_reads == []

    # Reading the conversation in another tab clears the badge here, live.
    other_tab = alice.context.new_page()
    open_room(other_tab, slug_of(alice, "bob"))
    expect(message(other_tab, "it's about the release")).to_be_visible()
    expect(badge).to_be_hidden(timeout=WAIT_MS)
    # The conversation's page is titled by the person, and its own entry is the current one.
    expect(other_tab.locator("#room-title")).to_have_text("bob")
    expect(side_item(other_tab, "bob")).to_have_attribute("aria-current", "page")
    expect(side_item(other_tab, "bob").locator(".unread-count")).to_be_hidden()
    # A conversation is listed once, by the person, never among the rooms.
    expect(other_tab.locator("#side-rooms .side-name")).to_have_text(["general"])
    expect(other_tab.locator("#side-directs .side-name")).to_have_text(["bob"])


def slug_of(page: Page, name: str) -> str:
    """The slug of the room behind the sidebar entry ``name``."""
    slug = side_item(page, name).get_attribute("data-room")
    assert slug is not None
    return slug


def test_another_rooms_badge_rises_on_refresh_and_clears_when_read(parley: Parley) -> None:
    alice = alice_live_in_general(parley, "random")
    badge = side_item(alice, "random").locator(".unread-count")
    expect(badge).to_be_hidden()

    parley.manage("shell", "-c", POST_AS_BOB.format(slug="random", body="anyone?"))
    parley.manage("shell", "-c", POST_AS_BOB.format(slug="random", body="hello?"))
    alice.evaluate("window.dispatchEvent(new Event('focus'))")  # as when the window regains focus
    expect(badge).to_have_text("2", timeout=WAIT_MS)
    expect(side_item(alice, "random").locator(".side-name")).to_have_css("font-weight", "700")

    reader = alice.context.new_page()
    open_room(reader, "random")  # visible and scrolled to the newest: it reads
    expect(badge).to_be_hidden(timeout=WAIT_MS)


def test_the_member_list_shows_people_arrive_and_leave_live(parley: Parley) -> None:
    parley.create_users("alice", "bob", "carol")
    parley.manage("shell", "-c", MEMBERS.format(slug="town", owner="alice", members=["bob", "carol"]))
    alice = parley.new_page()
    log_in(alice, "alice")
    open_room(alice, "town")
    people = alice.locator("#people-list .person")
    online = alice.locator("#people-list .person.online .person-name")
    offline = alice.locator("#people-list .person.offline .person-name")
    expect(online).to_have_text(["alice"], timeout=WAIT_MS)
    expect(offline).to_have_text(["bob", "carol"])
    expect(alice.locator("#people-count")).to_have_text("1 here")
    expect(alice.locator("#members-total")).to_contain_text("3 members")
    expect(people.filter(has_text="alice").locator(".tag")).to_have_text("owner")

    bob = parley.new_page()
    log_in(bob, "bob")
    open_room(bob, "town")
    expect(online).to_have_text(["alice", "bob"], timeout=WAIT_MS)  # online first, then by name
    expect(offline).to_have_text(["carol"])
    expect(alice.locator("#people-count")).to_have_text("2 here")

    bob.close()
    expect(online).to_have_text(["alice"], timeout=WAIT_MS)
    expect(offline).to_have_text(["bob", "carol"])  # a member who left stays listed, greyed

    # On a wide screen the people button folds the list away and back.
    button = alice.locator("#people-button")
    expect(button).to_have_attribute("aria-expanded", "true")
    button.click()
    expect(alice.locator("#members")).to_be_hidden()
    expect(button).to_have_attribute("aria-expanded", "false")
    button.click()
    expect(alice.locator("#members")).to_be_visible()


def test_alt_arrows_and_the_quick_switcher_move_between_rooms(parley: Parley) -> None:
    parley.create_users("alice")
    for slug in ("alpha", "beta", "gamma"):
        parley.manage("createroom", slug)
    page = parley.new_page()
    log_in(page, "alice")
    open_room(page, "beta")

    page.keyboard.press("Alt+ArrowDown")
    expect(page).to_have_url(f"{parley.url}/chat/gamma/")
    wait_live(page)
    page.locator("#body").focus()  # works from the composer too
    page.keyboard.press("Alt+ArrowUp")
    expect(page).to_have_url(f"{parley.url}/chat/beta/")
    wait_live(page)

    switcher = page.locator("#switcher")
    page.keyboard.press("Control+k")
    expect(switcher).to_be_visible()
    expect(page.locator("#switcher-input")).to_be_focused()
    expect(page.locator("#switcher-list [role=option]")).to_have_count(3)
    page.keyboard.press("Escape")
    expect(switcher).to_be_hidden()
    expect(page.locator("#body")).to_be_focused()  # focus goes back where it was

    page.keyboard.press("Control+k")
    page.keyboard.type("alp")
    expect(page.locator("#switcher-list [role=option] .switcher-name")).to_have_text(["alpha"])
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{parley.url}/chat/alpha/")
    wait_live(page)


def test_a_phone_opens_the_drawer_and_the_member_panel_without_sideways_scroll(parley: Parley) -> None:
    parley.create_users("alice")
    parley.manage("createroom", "general", "--title", "General chat with a long title for a small phone")
    parley.manage("createroom", "random")
    phone = parley.new_page(width=390, height=844, mobile=True)
    log_in(phone, "alice")
    open_room(phone, "general")
    sidebar, members = phone.locator("#sidebar"), phone.locator("#members")
    menu, people = phone.locator("#menu-button"), phone.locator("#people-button")
    expect(sidebar).to_be_hidden()
    expect(members).to_be_hidden()
    assert no_horizontal_scroll(phone)

    menu.click()
    expect(sidebar).to_be_visible()
    expect(sidebar).to_be_in_viewport(ratio=1)
    expect(menu).to_have_attribute("aria-expanded", "true")
    assert no_horizontal_scroll(phone)
    phone.keyboard.press("Escape")
    expect(sidebar).to_be_hidden()
    expect(menu).to_be_focused()
    expect(menu).to_have_attribute("aria-expanded", "false")

    people.click()
    expect(members).to_be_visible()
    expect(members).to_be_in_viewport(ratio=1)
    expect(phone.locator("#people-list .person.online")).to_have_text(["alice"])
    assert no_horizontal_scroll(phone)
    phone.locator("#members-close").click()
    expect(members).to_be_hidden()
    expect(people).to_be_focused()
    assert no_horizontal_scroll(phone)

    # A room chosen in the drawer opens.
    menu.click()
    side_item(phone, "random").click()
    expect(phone).to_have_url(f"{parley.url}/chat/random/")
    wait_live(phone)
    expect(phone.locator("#sidebar")).to_be_hidden()
    assert no_horizontal_scroll(phone)
