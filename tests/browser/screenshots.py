"""Screenshots of Parley's pages, for reviewing the UI and for the README.

    .venv/bin/python -m tests.browser.screenshots [OUT_DIR] [--readme]

Starts Daphne on a throw-away database, seeds a conversation between alice, bob and a guest,
and photographs the room list, the chat page (desktop, phone, dark), the log-in and guest pages.
``--readme`` also writes the desktop chat page to ``docs/screenshot.png``.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

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
from parley.rooms.models import Message
from parley.rooms.services import message_post, room_get_or_create

users = {{name: user_get_or_create(username=name, password={password!r}) for name in ("alice", "bob")}}
lobby = room_get_or_create(slug="lobby", title="Lobby", guests_allowed=True, creator=users["alice"]).room
room_get_or_create(slug="general", title="General", creator=users["alice"])
room_get_or_create(slug="release-planning", title="Release planning", creator=users["bob"])
room_get_or_create(slug="core-team", title="Core team", is_private=True, creator=users["alice"])
now = datetime.now(timezone.utc)
for number, (author, minutes_ago, body) in enumerate({conversation!r}):
    if author.startswith("guest:"):
        sender = guest_identity(guest_id="priya-seed", name=author.removeprefix("guest:"))
    else:
        sender = user_identity(users[author])
    stored = message_post(room=lobby, sender=sender, body=body, client_id=f"seed-{{number}}").message
    Message.objects.filter(pk=stored.pk).update(created_at=now - timedelta(minutes=minutes_ago))
"""


def shoot(browser: Browser, base_url: str, out: Path) -> None:
    def page(width: int = 1280, height: int = 800, **options: object) -> Page:
        context = browser.new_context(
            base_url=base_url, viewport={"width": width, "height": height}, locale="en-US", timezone_id="UTC", **options
        )
        context.set_default_timeout(WAIT_MS)
        return context.new_page()

    visitor = page()
    for name, path in [("login", "/accounts/login/"), ("signup", "/accounts/signup/"), ("index-visitor", "/")]:
        visitor.goto(path)
        visitor.screenshot(path=out / f"{name}.png")
    visitor.goto("/chat/lobby/")
    visitor.screenshot(path=out / "guest.png")
    join_as_guest(visitor, "lobby", "Priya")
    visitor.screenshot(path=out / "chat-guest.png")

    alice, bob = page(), page()
    log_in(alice, "alice")
    alice.screenshot(path=out / "index.png")
    log_in(bob, "bob")
    open_room(bob, "lobby")
    open_room(alice, "lobby")
    send(alice, "Welcome, Priya! Shout if anything looks odd.")
    alice.locator("#messages .message.mine:not(.pending)").last.wait_for(timeout=WAIT_MS)
    bob.get_by_text("Shout if anything looks odd.").wait_for(timeout=WAIT_MS)
    alice.evaluate("() => document.activeElement.blur()")
    alice.wait_for_timeout(300)  # let the composer's focus ring fade out
    alice.screenshot(path=out / "chat.png")
    bob.screenshot(path=out / "chat-bob.png")

    general = page()
    log_in(general, "bob")
    open_room(general, "general")
    general.screenshot(path=out / "chat-empty.png")

    dark = page(color_scheme="dark")
    log_in(dark, "bob")
    open_room(dark, "lobby")
    dark.screenshot(path=out / "chat-dark.png")

    phone = page(390, 844, is_mobile=True, has_touch=True, device_scale_factor=2)
    log_in(phone, "bob")
    phone.screenshot(path=out / "index-phone.png")
    open_room(phone, "lobby")
    phone.screenshot(path=out / "chat-phone.png")


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
