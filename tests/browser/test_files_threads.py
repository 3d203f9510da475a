"""Files and threads in the room page, in Chromium: an image dropped into a room reaches another
browser as a thumbnail laid out at its size; a private room's file answers nobody else; uploaded
markup never runs; a reply opens its thread and the thread's count moves live elsewhere."""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Callable

import pytest
from PIL import Image
from playwright.sync_api import Page, Route, expect

from tests.browser.pages import PASSWORD, WAIT_MS, Parley, log_in, message, open_room, png, send

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

# Drop files on an element as a person dragging them from their desktop would: a DataTransfer
# holding real File objects, through dragenter, dragover and drop.
DROP = """({ files, target }) => {
  const data = new DataTransfer();
  for (const { name, type, base64 } of files) {
    const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
    data.items.add(new File([bytes], name, { type }));
  }
  const element = document.querySelector(target);
  for (const type of ["dragenter", "dragover", "drop"]) {
    element.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: data }));
  }
}"""

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
# What uploaded markup would do if it ran: retitle its document (the control pages below prove
# that this is seen when script does run).
MARKUP_SCRIPT = "document.title = 'ran';"
HTML = f"<!doctype html><html><head><title>page</title><script>{MARKUP_SCRIPT}</script></head><body>hi</body></html>"
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><title>drawing</title>'
    f"<script>{MARKUP_SCRIPT}</script><rect width='10' height='10'/></svg>"
)

# Stores two uploads by alice in #general through Parley's own upload service, on a site that
# accepts HTML and SVG (the default refuses both; the point here is how they are served when a
# site does not), attached to one message. Prints their URLs.
MARKUP_SETUP = """
import json
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from parley.accounts.identity import user_identity
from parley.accounts.services import user_get_or_create
from parley.rooms.attachments import attachment_upload, attachments_data
from parley.rooms.models import Room
from parley.rooms.services import PostExtras, message_post
alice = user_get_or_create(username="alice", password=PASSWORD)
room = Room.objects.get(slug="general")
types = ["text/html", "image/svg+xml"]
with override_settings(PARLEY={**getattr(settings, "PARLEY", {}), "ATTACHMENT_TYPES": types}):
    stored = [
        attachment_upload(room=room, uploader=user_identity(alice), upload=SimpleUploadedFile(name, content.encode()))
        for name, content in FILES
    ]
message_post(room=room, sender=user_identity(alice), body="two drawings", client_id="markup",
             extras=PostExtras(attachments=tuple(item.pk for item in stored)))
print(json.dumps([item["url"] for item in attachments_data(stored)]))
"""


def signed_in(parley: Parley, username: str, room: str) -> Page:
    page = parley.new_page()
    log_in(page, username)
    open_room(page, room)
    return page


def drop_files(page: Page, *files: tuple[str, str, bytes]) -> None:
    encoded = [{"name": name, "type": kind, "base64": base64.b64encode(data).decode()} for name, kind, data in files]
    page.evaluate(DROP, {"files": encoded, "target": "#conversation"})


def test_a_dropped_image_appears_in_the_other_browser_as_a_thumbnail_of_its_size(parley: Parley) -> None:
    parley.create_users("alice", "bob")
    parley.manage("createroom", "general")
    alice = signed_in(parley, "alice", "general")
    bob = signed_in(parley, "bob", "general")

    drop_files(alice, ("chart.png", "image/png", png(640, 480)))
    chip = alice.locator("#uploads .upload")
    expect(chip).to_have_count(1)
    expect(chip.locator(".upload-name")).to_have_text("chart.png")
    expect(chip).to_have_class(re.compile(r"\buploaded\b"), timeout=WAIT_MS)
    expect(chip.locator("progress")).to_have_attribute("value", "100")
    send(alice, "the chart")

    thumbnail = bob.locator("#messages .message .attachment-image img")
    expect(thumbnail).to_have_count(1, timeout=WAIT_MS)
    # Laid out at the thumbnail's size (640 by 480 fitted in 320 px) from the message, before it loads.
    expect(thumbnail).to_have_attribute("width", "320")
    expect(thumbnail).to_have_attribute("height", "240")
    bob.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
    drawn = thumbnail.evaluate(
        "img => ({ natural: [img.naturalWidth, img.naturalHeight], box: [img.clientWidth, img.clientHeight] })"
    )
    assert drawn == {"natural": [320, 240], "box": [320, 240]}
    # A click opens the file itself, which the reader may fetch: the full image, shown in place.
    href = bob.locator("#messages .attachment-image").get_attribute("href")
    assert href is not None
    response = bob.request.get(href)
    assert response.status == 200
    assert response.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(response.body())).size == (640, 480)
    expect(alice.locator("#uploads")).to_be_hidden()


def test_a_refused_upload_shows_the_servers_sentence(parley: Parley) -> None:
    parley.create_users("alice")
    parley.manage("createroom", "general")
    alice = signed_in(parley, "alice", "general")
    drop_files(alice, ("notes.html", "text/html", HTML.encode()), ("empty.txt", "text/plain", b""))
    failed = alice.locator("#uploads .upload.failed")
    expect(failed).to_have_count(2, timeout=WAIT_MS)
    expect(failed.filter(has_text="notes.html").locator("[role=alert]")).to_contain_text(
        "is text/html (read from its content, whatever its name)"
    )
    expect(failed.filter(has_text="empty.txt").locator("[role=alert]")).to_have_text(
        "The file 'empty.txt' is empty; nothing was uploaded."
    )
    failed.first.get_by_role("button", name=re.compile("^Remove")).click()
    expect(failed).to_have_count(1)

    # Over the limit: the sentence names the limit and the number.
    big = 10 * 1024 * 1024 + 1
    alice.locator("#attach-input").set_input_files({"name": "big.txt", "mimeType": "text/plain", "buffer": b"a" * big})
    expect(alice.locator("#uploads .upload.failed").filter(has_text="big.txt")).to_contain_text(
        "the limit per file is 10.0 MB (10485760 bytes)", timeout=WAIT_MS
    )


def test_an_image_pasted_into_the_composer_is_attached(parley: Parley) -> None:
    parley.create_users("alice")
    parley.manage("createroom", "general")
    alice = signed_in(parley, "alice", "general")
    alice.locator("#body").evaluate(
        """(input, base64) => {
          const data = new DataTransfer();
          const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
          data.items.add(new File([bytes], "image.png", { type: "image/png" }));
          input.dispatchEvent(new ClipboardEvent("paste", { bubbles: true, cancelable: true, clipboardData: data }));
        }""",
        base64.b64encode(png(50, 40)).decode(),
    )
    expect(alice.locator("#uploads .upload.uploaded")).to_have_count(1, timeout=WAIT_MS)
    send(alice, "a screenshot")
    thumbnail = message(alice, "a screenshot").locator(".attachment-image img")
    expect(thumbnail).to_have_attribute("width", "50")
    expect(thumbnail).to_have_attribute("height", "40")


def test_a_private_rooms_pdf_answers_nobody_but_its_readers(parley: Parley) -> None:
    parley.create_users("bob")
    parley.manage(
        "shell",
        "-c",
        "from parley.accounts.services import user_get_or_create\n"
        "from parley.rooms.services import room_create\n"
        f"alice = user_get_or_create(username='alice', password={PASSWORD!r})\n"
        "room_create(slug='secret', creator=alice, is_private=True)\n",
    )
    alice = signed_in(parley, "alice", "secret")
    alice.locator("#attach-input").set_input_files({"name": "plan.pdf", "mimeType": "application/pdf", "buffer": PDF})
    expect(alice.locator("#uploads .upload.uploaded")).to_have_count(1, timeout=WAIT_MS)
    # Files alone: the message says their names.
    alice.locator("#body").press("Enter")
    link = message(alice, "plan.pdf").locator(".attachment-file")
    expect(link).to_contain_text("plan.pdf")
    expect(link.locator(".attachment-size")).to_have_text(f"{len(PDF)} bytes")
    url = link.get_attribute("href")
    assert url is not None

    served = alice.request.get(url)
    assert served.status == 200
    assert served.body() == PDF
    assert served.headers["content-disposition"].startswith("attachment")

    bob = parley.new_page()
    log_in(bob, "bob")
    refused = bob.request.get(url, max_redirects=0)
    assert refused.status in (403, 404)
    assert b"%PDF" not in refused.body()

    anonymous = parley.new_page()
    nobody = anonymous.request.get(url, max_redirects=0)
    assert nobody.status in (302, 403, 404)
    assert b"%PDF" not in nobody.body()


def _title_once_open(page: Page, url: str) -> str:
    """Open ``url`` from ``page`` as a link's new tab would, and read the title it ends with."""
    with page.expect_popup() as popup_info:
        page.evaluate("url => { window.open(url); }", url)
    popup = popup_info.value
    popup.wait_for_load_state("load")
    # Inline script runs while the document is parsed, before "load": by now it has run, or never will.
    title = popup.title()
    popup.close()
    return title


def _serving(body: bytes, kind: str) -> Callable[[Route], None]:
    """A route handler that answers ``body`` as ``kind``, with no header of Parley's."""

    def fulfill(route: Route) -> None:
        route.fulfill(body=body, content_type=kind)

    return fulfill


def test_uploaded_html_and_svg_never_run_script(parley: Parley) -> None:
    parley.create_users("alice")
    parley.manage("createroom", "general")
    files = json.dumps([["notes.html", HTML], ["drawing.svg", SVG]])
    setup = f"PASSWORD = {PASSWORD!r}\nFILES = {files}\n" + MARKUP_SETUP
    html_url, svg_url = json.loads(parley.manage("shell", "-c", setup).strip().splitlines()[-1])
    alice = signed_in(parley, "alice", "general")
    expect(alice.locator(".attachment-file")).to_have_count(2)

    for url, kind in ((html_url, "text/html"), (svg_url, "image/svg+xml")):
        served = alice.request.get(url)
        assert served.status == 200
        assert served.headers["content-type"].startswith(kind)
        assert served.headers["content-disposition"].startswith("attachment")
        assert served.headers["x-content-type-options"] == "nosniff"
        assert served.headers["content-security-policy"].startswith("sandbox")
        body = served.body()

        # The worst case: a browser that shows the file in place despite the download header. The
        # route fetches Parley's real answer and drops only that header; the sandbox must hold.
        def in_place(route: Route) -> None:
            real = route.fetch()
            headers = {k: v for k, v in real.headers.items() if k.lower() != "content-disposition"}
            route.fulfill(response=real, headers=headers)

        alice.context.route(url, in_place)
        assert _title_once_open(alice, url) == ("page" if kind == "text/html" else "drawing")
        alice.context.unroute(url)

        # The control: the same bytes from the same origin without Parley's headers do run, so the
        # check above would have seen it.
        control = f"{parley.url}/control/{kind.replace('/', '-')}"
        alice.context.route(control, _serving(body, kind))
        assert _title_once_open(alice, control) == "ran"


def test_a_reply_opens_its_thread_and_the_count_moves_live_elsewhere(parley: Parley) -> None:
    parley.create_users("alice", "bob")
    parley.manage("createroom", "general")
    alice = signed_in(parley, "alice", "general")
    bob = signed_in(parley, "bob", "general")
    send(alice, "lunch on Friday?")
    original = message(bob, "lunch on Friday?")
    expect(original).to_have_attribute("data-seq", "1")
    send(alice, "and the slides are up")
    expect(message(bob, "and the slides are up")).to_have_attribute("data-seq", "2")

    original.hover()
    original.get_by_role("button", name="Reply in thread").click()
    panel = bob.locator("#thread-panel")
    expect(panel).to_be_visible()
    expect(panel.locator(".thread-messages .message .body")).to_have_text(["lunch on Friday?"])
    expect(bob.locator("#thread-body")).to_be_focused()
    bob.locator("#thread-body").fill("yes, noon")
    bob.locator("#thread-body").press("Enter")
    expect(panel.locator(".thread-messages .message .body")).to_have_text(["lunch on Friday?", "yes, noon"])
    expect(panel.locator(".thread-summary")).to_have_text("1 reply")

    # Alice's page: the count appears on the original live, and the reply quotes it.
    count = message(alice, "lunch on Friday?").locator(".thread-count")
    expect(count).to_have_text("1 reply", timeout=WAIT_MS)
    expect(message(alice, "yes, noon").locator(".reply-quote")).to_have_text("alice: lunch on Friday?")
    count.click()
    alice_panel = alice.locator("#thread-panel")
    expect(alice_panel.locator(".thread-messages .message .body")).to_have_text(["lunch on Friday?", "yes, noon"])

    # A second reply from bob's panel: in order in alice's open panel, and the count moves on both.
    bob.locator("#thread-body").fill("I'll book a table")
    bob.locator("#thread-body").press("Enter")
    expect(alice_panel.locator(".thread-messages .message .body")).to_have_text(
        ["lunch on Friday?", "yes, noon", "I'll book a table"]
    )
    expect(count).to_have_text("2 replies")
    expect(alice_panel.locator(".thread-summary")).to_have_text("2 replies")
    expect(message(bob, "lunch on Friday?").locator(".thread-count")).to_have_text("2 replies")
    # Replies are messages of the room too, and a message of the room stays out of the thread.
    expect(message(alice, "I'll book a table")).to_have_attribute("data-seq", "4")
    send(alice, "unrelated")
    expect(message(alice, "unrelated")).to_have_attribute("data-seq", "5")
    expect(alice_panel.locator(".thread-messages .message")).to_have_count(3)

    alice.locator("#thread-body").press("Escape")
    expect(alice_panel).to_be_hidden()
    expect(count).to_be_focused()


def test_the_export_links_download_the_room_and_your_data(parley: Parley) -> None:
    parley.manage(
        "shell",
        "-c",
        "from parley.accounts.services import user_get_or_create\n"
        "from parley.rooms.services import membership_join, room_create\n"
        f"alice = user_get_or_create(username='alice', password={PASSWORD!r})\n"
        f"bob = user_get_or_create(username='bob', password={PASSWORD!r})\n"
        "room = room_create(slug='general', creator=alice)\n"
        "membership_join(room=room, user=bob, role='moderator')\n",
    )
    alice = signed_in(parley, "alice", "general")
    send(alice, "for the record")
    expect(message(alice, "for the record")).to_have_attribute("data-seq", "1")

    alice.goto("/chat/general/settings/")
    with alice.expect_download() as room_download:
        alice.get_by_role("link", name="Download this room's history").click()
    archive = json.loads(room_download.value.path().read_text())
    assert [each["body"] for each in archive["messages"]] == ["for the record"]

    alice.goto("/")
    with alice.expect_download() as my_download:
        alice.get_by_role("link", name="Download your data").click()
    mine = json.loads(my_download.value.path().read_text())
    assert mine["account"]["username"] == "alice"

    # A moderator who is not an owner sees the settings page without the room's export.
    bob = parley.new_page()
    log_in(bob, "bob")
    bob.goto("/chat/general/settings/")
    expect(bob.get_by_role("heading", name="Members")).to_be_visible()
    expect(bob.get_by_role("link", name="Download this room's history")).to_have_count(0)
    expect(bob.get_by_role("link", name="Download your data")).to_have_count(0)
    bob.goto("/")
    expect(bob.get_by_role("link", name="Download your data")).to_be_visible()
