"""The article's own room.html, unchanged, chatting through Parley's /ws/chat/<room>/ in Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import Route, expect

from conftest import needs
from tests.browser.pages import WAIT_MS, Parley, join_as_guest, message, send
from tests.servers import SHARED_TOOLS

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

TUTORIAL_ROOM_HTML = SHARED_TOOLS / "tutorial-chat" / "chat" / "templates" / "chat" / "room.html"


def test_the_articles_room_page_chats_with_parley(parley: Parley) -> None:
    needs("the article's room.html", TUTORIAL_ROOM_HTML.exists(), f"it is read from {TUTORIAL_ROOM_HTML}")
    # What Django's template engine would make of it for /chat/lobby/: the one variable filled in.
    html = TUTORIAL_ROOM_HTML.read_text(encoding="utf-8").replace("{{ room_name }}", "lobby")
    parley.manage("createroom", "lobby", "--guests")

    # The article's page, served at Parley's own origin, so its socket goes to Parley's host.
    tutorial = parley.new_page()
    tutorial_url = f"{parley.url}/tutorial-room/lobby/"

    def serve_tutorial_page(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)

    tutorial.route(tutorial_url, serve_tutorial_page)
    sockets: list[str] = []
    tutorial.on("websocket", lambda socket: sockets.append(socket.url))
    tutorial.goto(tutorial_url)
    tutorial.wait_for_function("() => chatSocket.readyState === WebSocket.OPEN", timeout=WAIT_MS)
    assert sockets == [f"{parley.server.ws_url}/ws/chat/lobby/"]

    parley_page = parley.new_page()
    join_as_guest(parley_page, "lobby", "Tess")

    tutorial.locator("#chat-message-input").fill("Hello from the article's page")
    tutorial.locator("#chat-message-submit").click()
    expect(tutorial.locator("#chat-message-input")).to_have_value("", timeout=WAIT_MS)
    expect(tutorial.locator("#chat-log")).to_contain_text("Hello from the article's page", timeout=WAIT_MS)
    expect(message(parley_page, "Hello from the article's page")).to_have_count(1, timeout=WAIT_MS)

    send(parley_page, "Hello back from Parley")
    expect(tutorial.locator("#chat-log")).to_contain_text("Hello back from Parley", timeout=WAIT_MS)
    assert tutorial.locator("#chat-log").inner_text().strip().split("\n") == [
        "Hello from the article's page",
        "Hello back from Parley",
    ]
