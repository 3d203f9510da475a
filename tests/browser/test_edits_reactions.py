"""Edits, deletes and reactions in Chromium: two people see each other's changes live, and a reload
shows the current state."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import WAIT_MS, Parley, message, open_room, send, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def chip(page: Page, body: str, emoji: str):
    return message(page, body).locator(f'.reaction[data-emoji="{emoji}"]')


def test_two_people_see_each_others_edit_reactions_and_delete_live(parley: Parley) -> None:
    parley.manage("createroom", "general")
    alice, bob = parley.new_page(), parley.new_page()
    sign_up(alice, "alice")
    sign_up(bob, "bob")
    open_room(alice, "general")
    open_room(bob, "general")

    send(alice, "Teh build is green")
    expect(message(bob, "Teh build is green")).to_have_count(1, timeout=WAIT_MS)
    expect(message(bob, "Teh build is green").locator(".edit")).to_have_count(0)  # not bob's to edit

    # Alice edits with the keyboard: the Edit button, then Enter saves (Escape would cancel).
    message(alice, "Teh build is green").locator(".edit").focus()
    alice.keyboard.press("Enter")
    editor = alice.locator("#messages .editor")
    expect(editor).to_be_focused(timeout=WAIT_MS)
    editor.fill("oops")
    editor.press("Escape")
    expect(message(alice, "Teh build is green")).to_have_count(1, timeout=WAIT_MS)
    message(alice, "Teh build is green").locator(".edit").click()
    editor.fill("The build is green")
    editor.press("Enter")
    for page in (alice, bob):
        edited = message(page, "The build is green")
        expect(edited).to_have_count(1, timeout=WAIT_MS)
        expect(edited.locator(".edited")).to_have_text("(edited)", timeout=WAIT_MS)

    # Bob reacts from the picker; alice sees the count, adds hers by clicking it; each sees their own highlighted.
    message(bob, "The build is green").locator(".react-open").click()
    bob.locator(".picker .pick", has_text="👍").click()
    expect(chip(alice, "The build is green", "👍")).to_contain_text("1", timeout=WAIT_MS)
    expect(chip(alice, "The build is green", "👍")).to_have_attribute("aria-pressed", "false")
    chip(alice, "The build is green", "👍").click()
    for page in (alice, bob):
        expect(chip(page, "The build is green", "👍")).to_contain_text("2", timeout=WAIT_MS)
        expect(chip(page, "The build is green", "👍")).to_have_attribute("aria-pressed", "true", timeout=WAIT_MS)
    chip(bob, "The build is green", "👍").click()  # bob takes his off
    expect(chip(alice, "The build is green", "👍")).to_contain_text("1", timeout=WAIT_MS)
    expect(chip(bob, "The build is green", "👍")).to_have_attribute("aria-pressed", "false", timeout=WAIT_MS)

    # A reload shows the current state, from the server.
    bob.reload()
    open_room(bob, "general")
    expect(message(bob, "The build is green").locator(".edited")).to_have_count(1, timeout=WAIT_MS)
    expect(chip(bob, "The build is green", "👍")).to_contain_text("1", timeout=WAIT_MS)

    # Alice deletes it, confirming; bob sees "message deleted" with no reactions.
    alice.once("dialog", lambda dialog: dialog.accept())
    message(alice, "The build is green").locator(".delete").click()
    for page in (alice, bob):
        gone = page.locator("#messages .message.deleted")
        expect(gone).to_have_count(1, timeout=WAIT_MS)
        expect(gone.locator(".body")).to_have_text("message deleted", timeout=WAIT_MS)
        expect(gone.locator(".reaction")).to_have_count(0, timeout=WAIT_MS)
        expect(page.locator("#messages .message").filter(has_text=re.compile("build is green"))).to_have_count(0)
