"""Attachments over HTTP: upload (multipart), post with files and reply_to, serving headers and who may fetch."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from parley.rooms.models import Membership
from tests.media import HTML_WITH_SCRIPT, SVG_WITH_SCRIPT, png_with_gps, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path)
    types = ["image/png", "image/svg+xml", "text/html", "application/pdf", "text/plain"]
    settings.PARLEY = {**settings.PARLEY, "ATTACHMENT_TYPES": types}
    return tmp_path


def uploaded(client, slug: str, name: str, content: bytes):
    return client.client.post(f"/api/rooms/{slug}/attachments", {"file": upload(name, content)}, headers=client.headers)


def test_upload_post_and_serve_an_image_inline(make_room, make_user, api_as):
    alice = make_user("alice")
    make_room("lobby")
    client = api_as(alice)
    answer = uploaded(client, "lobby", "me.png", png_with_gps())
    assert answer.status_code == 201, answer.json()
    file = answer.json()
    assert (file["content_type"], file["width"], file["height"]) == ("image/png", 640, 480)
    posted = client.post("/rooms/lobby/messages", {"body": "look", "attachments": [file["id"]]})
    assert posted.status_code == 201
    assert posted.json()["attachments"] == [file]
    reader = Client()
    reader.force_login(make_user("bob"))
    served = reader.get(file["url"])
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Security-Policy"].startswith("sandbox")
    assert served["Content-Disposition"].startswith("inline")
    assert b"secret-place" not in b"".join(served.streaming_content)
    assert reader.get(file["thumbnail_url"]).status_code == 200


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [("x.svg", SVG_WITH_SCRIPT, "image/svg+xml"), ("page.png", HTML_WITH_SCRIPT, "text/html")],
)
def test_svg_and_html_are_downloads_in_a_sandbox(make_room, make_user, api_as, name, content, content_type):
    alice = make_user("alice")
    make_room("lobby")
    client = api_as(alice)
    file = uploaded(client, "lobby", name, content).json()
    assert file["content_type"] == content_type
    client.post("/rooms/lobby/messages", {"body": "file", "attachments": [file["id"]]})
    browser = Client()
    browser.force_login(alice)
    served = browser.get(file["url"])
    assert served.status_code == 200
    assert served["Content-Type"] == content_type
    assert served["Content-Disposition"] == f'attachment; filename="{name}"'
    assert served["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served["Content-Security-Policy"]


def test_a_private_rooms_file_is_hidden_from_non_members_and_anonymous(make_room, make_user, api_as):
    alice, mallory = make_user("alice"), make_user("mallory")
    room = make_room("secret", is_private=True)
    Membership.objects.create(room=room, user=alice, role="owner")
    client = api_as(alice)
    file = uploaded(client, "secret", "plan.pdf", b"%PDF-1.4\n%%EOF\n").json()
    client.post("/rooms/secret/messages", {"body": "plan", "attachments": [file["id"]]})
    assert Client().get(file["url"]).status_code == 404
    outsider = Client()
    outsider.force_login(mallory)
    assert outsider.get(file["url"]).status_code == 404
    with_token = api_as(mallory).headers
    assert Client().get(file["url"], headers=with_token).status_code == 404
    assert Client().get(file["url"], headers=api_as(alice).headers).status_code == 200
    member = Client()
    member.force_login(alice)
    assert member.get(file["url"])["Content-Disposition"].startswith("attachment")
    # Nor may an outsider upload to it.
    assert uploaded(api_as(mallory), "secret", "x.txt", b"hi").status_code == 404


def test_refusals_name_the_limit(make_room, make_user, api_as, settings):
    settings.PARLEY = {**settings.PARLEY, "ATTACHMENT_MAX_SIZE": 100}
    alice = make_user("alice")
    make_room("lobby")
    answer = uploaded(api_as(alice), "lobby", "big.txt", b"a" * 101)
    assert answer.status_code == 413
    assert answer.json()["detail"] == "The file 'big.txt' is 101 bytes; the limit per file is 100 bytes (100 bytes)."


def test_replies_over_the_api_and_the_thread_page(make_room, make_user, api_as):
    alice = make_user("alice")
    make_room("lobby")
    client = api_as(alice)
    client.post("/rooms/lobby/messages", {"body": "question"})
    reply = client.post("/rooms/lobby/messages", {"body": "answer", "reply_to": 1})
    assert (reply.status_code, reply.json()["reply_to"]) == (201, 1)
    thread = client.get("/rooms/lobby/messages/1/thread").json()
    assert thread["original"]["thread_count"] == 1
    assert [m["body"] for m in thread["replies"]] == ["answer"]
    missing = client.post("/rooms/lobby/messages", {"body": "lost", "reply_to": 7})
    assert missing.status_code == 404
    # A deleted reply leaves the thread's page and count.
    assert client.delete("/rooms/lobby/messages/2").status_code == 200
    thread = client.get("/rooms/lobby/messages/1/thread").json()
    assert (thread["original"]["thread_count"], thread["replies"]) == (0, [])


def test_search_finds_a_message_by_its_files_name(make_room, make_user, api_as):
    alice = make_user("alice")
    make_room("lobby")
    client = api_as(alice)
    file = uploaded(client, "lobby", "quarterly-report.pdf", b"%PDF-1.4\n%%EOF\n").json()
    client.post("/rooms/lobby/messages", {"body": "see attached", "attachments": [file["id"]]})
    hits = client.get("/search", q="quarterly").json()
    hits = hits if isinstance(hits, list) else hits.get("hits", hits.get("results"))
    assert [hit["attachments"][0]["name"] for hit in hits] == ["quarterly-report.pdf"]
