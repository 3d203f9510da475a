"""Screenshots of Parley's pages, for reviewing the UI and for the README.

    .venv/bin/python -m tests.browser.screenshots [OUT_DIR] [--readme]

Starts Daphne on a throw-away database and seeds rooms, direct messages and notifications for
alice, bob, carol and a guest, then photographs every view: the log-in, sign-up and guest pages,
the room list, the chat page (desktop with sidebar, unread badges and member list, someone typing;
dark; a guest's), the quick switcher, the bell open, a direct conversation and the list of them,
search results, room settings, a tablet width, and a phone (the chat page with the drawer closed
and open, the member panel, the room list). ``--readme`` also writes the desktop chat page to
``docs/screenshot.png``.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.browser.pages import CHROMIUM, LAUNCH_ARGS, PASSWORD, WAIT_MS, join_as_guest, log_in, open_room, send
from tests.servers import REPO, ServerProcess, manage, server_env

# (author, minutes ago, body); "guest:" marks a guest's name.
CONVERSATION = [
    ("alice", 15, "Hey all, 0.4 is live in production."),
    ("bob", 12, "Nice. The rollout was clean, no errors in the logs."),
    ("guest:Priya", 9, "Hi both! Does the chat catch up when my train comes out of a tunnel?"),
    ("bob", 7, "Yes: it resumes from the last message it saw, nothing lost or doubled."),
    ("bob", 7, "Anything you type while offline is sent as soon as you are back."),
    ("guest:Priya", 5, "That's exactly what I needed. Thanks for letting guests in here!"),
]

SEED = """
from datetime import datetime, timedelta, timezone
from parley.accounts.identity import guest_identity, user_identity
from parley.accounts.services import user_get_or_create
from parley.direct.services import direct_conversation_open
from parley.notifications.services import notify
from parley.readstate.services import read_marker_advance
from parley.rooms.models import Membership, Message
from parley.rooms.services import membership_join, message_post, room_get_or_create

names = ("alice", "bob", "carol", "dave", "erin", "frank")
users = {{name: user_get_or_create(username=name, password={password!r}) for name in names}}
lobby = room_get_or_create(slug="lobby", title="Lobby", guests_allowed=True, creator=users["alice"]).room
general = room_get_or_create(slug="general", title="General", creator=users["alice"]).room
release = room_get_or_create(slug="release-planning", title="Release planning", creator=users["bob"]).room
room_get_or_create(slug="core-team", title="Core team", is_private=True, creator=users["alice"])
room_get_or_create(slug="design", title="Design reviews", creator=users["carol"])
now = datetime.now(timezone.utc)


def post(room, author, body, minutes_ago, number):
    if author.startswith("guest:"):
        sender = guest_identity(guest_id="priya-seed", name=author.removeprefix("guest:"))
    else:
        sender = user_identity(users[author])
    stored = message_post(room=room, sender=sender, body=body, client_id=f"seed-{{room.slug}}-{{number}}").message
    Message.objects.filter(pk=stored.pk).update(created_at=now - timedelta(minutes=minutes_ago))


for number, (author, minutes_ago, body) in enumerate({conversation!r}):
    post(lobby, author, body, minutes_ago, number)
for name in ("carol", "dave", "erin", "frank"):
    membership_join(room=lobby, user=users[name])
Membership.objects.filter(room=lobby, user=users["bob"]).update(role="moderator")

# Unread elsewhere, for alice's sidebar: three in #general, one in #release-planning.
post(general, "bob", "Standup moves to 10:15 tomorrow.", 40, 1)
post(general, "carol", "Works for me.", 38, 2)
post(general, "bob", "Notes are in the usual doc.", 30, 3)
post(release, "carol", "Can we freeze 0.5 on Thursday?", 20, 1)

# Direct conversations: one alice has read (with bob), one she has not (carol wrote first).
with_bob = direct_conversation_open(user=users["alice"], username="bob").conversation.room
post(with_bob, "bob", "Lunch after the deploy?", 50, 1)
post(with_bob, "alice", "Sure, 12:30 at the usual place.", 48, 2)
post(with_bob, "bob", "See you there.", 47, 3)
read_marker_advance(user=users["alice"], room=with_bob, seq=3)
with_carol = direct_conversation_open(user=users["carol"], username="alice").conversation.room
post(with_carol, "carol", "Got a minute for the new onboarding flow?", 6, 1)
post(with_carol, "carol", "Mock-ups are in #design.", 6, 2)

notify([users["alice"]], "order.status", {{"order_id": 7, "status": "shipped"}})
notify(
    [users["alice"]],
    "mention",
    {{"room": "general", "seq": 3, "author": "bob", "excerpt": "@alice the deploy checklist is updated."}},
)
"""


def open_panel(page: Page, button: str, path: Path) -> None:
    """Open a drawer or panel with ``button``, let it slide in, and photograph the page."""
    page.locator(button).click()
    page.wait_for_timeout(400)
    page.screenshot(path=path)


def shoot(browser: Browser, base_url: str, out: Path) -> None:
    def page(width: int = 1280, height: int = 800, **options: object) -> Page:
        context = browser.new_context(
            base_url=base_url, viewport={"width": width, "height": height}, locale="en-US", timezone_id="UTC", **options
        )
        context.set_default_timeout(WAIT_MS)
        return context.new_page()

    def settle(shot: Page) -> None:
        """No focus ring on the composer and no transition half-way in the picture."""
        shot.evaluate("() => document.activeElement?.blur()")
        shot.wait_for_timeout(300)

    visitor = page()
    for name, path in [("login", "/accounts/login/"), ("signup", "/accounts/signup/"), ("index-visitor", "/")]:
        visitor.goto(path)
        visitor.screenshot(path=out / f"{name}.png")
    visitor.goto("/chat/lobby/")
    visitor.screenshot(path=out / "guest.png")
    join_as_guest(visitor, "lobby", "Priya")
    settle(visitor)
    visitor.screenshot(path=out / "chat-guest.png")

    alice, bob = page(), page()
    log_in(alice, "alice")
    expect(alice.locator("#bell")).to_have_attribute("data-live", "true")
    alice.screenshot(path=out / "index.png")
    alice.locator("#bell-button").click()
    alice.screenshot(path=out / "bell.png")
    alice.keyboard.press("Escape")

    log_in(bob, "bob")
    open_room(bob, "lobby")
    open_room(alice, "lobby")
    send(alice, "Welcome, Priya! Shout if anything looks odd.")
    alice.locator("#messages .message.mine:not(.pending)").last.wait_for()
    bob.get_by_text("Shout if anything looks odd.").wait_for()
    bob.locator("#body").press_sequentially("Will do, tha", delay=30)
    expect(alice.locator("#typing")).to_have_text("bob is typing…")
    settle(alice)
    alice.screenshot(path=out / "chat.png")
    bob.locator("#body").fill("")
    settle(bob)
    bob.screenshot(path=out / "chat-bob.png")

    alice.keyboard.press("Control+k")
    alice.locator("#switcher-input").press_sequentially("re")
    alice.wait_for_timeout(200)
    alice.screenshot(path=out / "switcher.png")
    alice.keyboard.press("Escape")

    alice.locator(".side-item.direct", has_text="bob").click()
    expect(alice.locator("#connection")).to_have_text("Live")
    settle(alice)
    alice.screenshot(path=out / "dm.png")
    alice.goto("/dms/")
    alice.screenshot(path=out / "dms.png")
    alice.goto("/search/?q=rollout")
    alice.screenshot(path=out / "search.png")
    alice.goto("/chat/lobby/settings/")
    alice.screenshot(path=out / "settings.png")

    empty = page()
    log_in(empty, "bob")
    open_room(empty, "design")
    settle(empty)
    empty.screenshot(path=out / "chat-empty.png")

    dark = page(color_scheme="dark")
    log_in(dark, "alice")
    open_room(dark, "lobby")
    settle(dark)
    dark.screenshot(path=out / "chat-dark.png")

    tablet = page(900, 1000)
    log_in(tablet, "alice")
    open_room(tablet, "lobby")
    settle(tablet)
    tablet.screenshot(path=out / "chat-tablet.png")
    open_panel(tablet, "#people-button", out / "chat-tablet-members.png")

    phone = page(390, 844, is_mobile=True, has_touch=True, device_scale_factor=2)
    log_in(phone, "alice")
    phone.screenshot(path=out / "index-phone.png")
    open_room(phone, "lobby")
    settle(phone)
    phone.screenshot(path=out / "chat-phone.png")
    open_panel(phone, "#menu-button", out / "chat-phone-drawer.png")
    phone.keyboard.press("Escape")
    open_panel(phone, "#people-button", out / "chat-phone-members.png")
    phone.keyboard.press("Escape")
    phone.keyboard.press("Control+k")
    phone.wait_for_timeout(200)
    phone.screenshot(path=out / "switcher-phone.png")

    dark_phone = page(390, 844, is_mobile=True, has_touch=True, device_scale_factor=2, color_scheme="dark")
    log_in(dark_phone, "alice")
    open_room(dark_phone, "lobby")
    open_panel(dark_phone, "#menu-button", out / "chat-phone-drawer-dark.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=Path("/tmp/shots"))
    parser.add_argument("--readme", action="store_true", help="also write docs/screenshot.png")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        env = server_env(DATABASE_URL=f"sqlite:///{Path(tmp) / 'parley.sqlite3'}")
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "shell", "-c", SEED.format(password=PASSWORD, conversation=CONVERSATION))
        server = ServerProcess(env=env, log=Path(tmp) / "server.log").start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
                shoot(browser, server.http_url, args.out)
                browser.close()
        finally:
            server.stop()
    if args.readme:
        (REPO / "docs").mkdir(exist_ok=True)
        shutil.copyfile(args.out / "chat.png", REPO / "docs" / "screenshot.png")
    print(f"screenshots in {args.out}")


if __name__ == "__main__":
    main()
