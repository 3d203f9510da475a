"""A backend's ``POST /api/publish``, sent with curl, reaches a person's open page in Chromium:
the message in the room, the notification under the bell."""

from __future__ import annotations

import json
import subprocess

import pytest
from playwright.sync_api import expect

from tests.browser.pages import WAIT_MS, Parley, log_in, message, open_room

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def test_a_publish_from_curl_appears_on_an_open_page(parley: Parley):
    parley.create_users("alice")
    parley.manage("createroom", "lobby")
    staff_token = parley.manage("issuetoken", "ops", "--create", "--staff").split()[-1]
    page = parley.new_page()
    log_in(page, "alice")
    open_room(page, "lobby")
    expect(page.locator("#bell")).to_have_attribute("data-live", "true", timeout=WAIT_MS)

    payload = {
        "rooms": ["lobby"],
        "message": {"body": "Deploy finished: v2.4 is live"},
        "users": ["alice"],
        "notification": {"kind": "deploy", "data": {"text": "v2.4 is live"}},
    }
    curl = subprocess.run(
        ["curl", "-sS", "-X", "POST", f"{parley.url}/api/publish", "-H", "Content-Type: application/json",
         "-H", f"Authorization: Bearer {staff_token}", "-d", json.dumps(payload), "-w", "\n%{http_code}"],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    assert curl.stdout.rsplit("\n", 1)[1] == "201", curl.stdout

    expect(message(page, "Deploy finished: v2.4 is live")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#bell-count")).to_have_text("1", timeout=WAIT_MS)
    page.locator("#bell-button").click()
    expect(page.locator("#bell-list li .bell-text")).to_have_text(["v2.4 is live"])
