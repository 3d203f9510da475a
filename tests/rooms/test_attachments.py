"""Attachments in the domain: real storage in a temporary MEDIA_ROOT, real images, the limits and
their sentences, attaching to a post, deleting after commit, the orphan sweep, threads."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.storage import storages
from django.utils import timezone
from PIL import Image

from parley.accounts.identity import user_identity
from parley.rooms.attachments import (
    ORPHANED_UPLOADS,
    attachment_orphan_delete,
    attachment_upload,
    attachments_attach,
    attachments_orphaned,
)
from parley.rooms.models import Attachment, Message
from parley.rooms.selectors import messages_before, thread_page
from parley.rooms.services import PostExtras, message_delete, message_post
from parley.rooms.uploads import sniff_content_type
from parley.tasks.registry import task_kind
from parley.wire.errors import ParleyError
from tests.media import GPS_IFD, HTML_WITH_SCRIPT, SVG_WITH_SCRIPT, animated_gif, png_with_gps, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


@pytest.fixture
def lobby(make_room):
    return make_room("lobby")


def stored(name: str) -> bytes:
    with storages["default"].open(name, "rb") as file:
        return file.read()


def test_types_are_read_from_the_content_not_the_name():
    assert sniff_content_type(png_with_gps()[:8192]) == "image/png"
    assert sniff_content_type(animated_gif()[:8192]) == "image/gif"
    assert sniff_content_type(SVG_WITH_SCRIPT) == "image/svg+xml"
    assert sniff_content_type(HTML_WITH_SCRIPT) == "text/html"
    assert sniff_content_type(b"%PDF-1.7\n...") == "application/pdf"
    assert sniff_content_type("plain words, déjà vu\n".encode()) == "text/plain"
    assert sniff_content_type(b"notes\n<script>alert(1)</script>") == "text/html"
    assert sniff_content_type(b"\x00\x01\x02binary") == "application/octet-stream"


def test_an_image_loses_its_exif_and_gets_a_thumbnail_and_its_size(alice, lobby, media_root):
    original = png_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the test's image has a location
    attachment = attachment_upload(room=lobby, uploader=user_identity(alice), upload=upload("me.png", original))
    assert (attachment.content_type, attachment.width, attachment.height, attachment.animated) == (
        "image/png",
        640,
        480,
        False,
    )
    served = stored(attachment.file)
    assert not Image.open(io.BytesIO(served)).getexif()
    assert b"secret-place" not in served
    assert attachment.size == len(served)
    thumbnail = Image.open(io.BytesIO(stored(attachment.thumbnail)))
    assert max(thumbnail.size) == 320
    # Parley's own names in storage; the person's name is only shown.
    assert "me.png" not in attachment.file
    assert (media_root / attachment.file).exists()


def test_an_animated_gif_stays_animated_and_so_does_its_thumbnail(alice, lobby):
    attachment = attachment_upload(room=lobby, uploader=user_identity(alice), upload=upload("a.gif", animated_gif()))
    assert attachment.animated
    assert Image.open(io.BytesIO(stored(attachment.file))).n_frames == 3
    thumbnail = Image.open(io.BytesIO(stored(attachment.thumbnail)))
    assert (thumbnail.n_frames, max(thumbnail.size)) == (3, 320)


def test_limits_are_refused_with_the_limit_and_the_number(alice, lobby, settings):
    settings.PARLEY = {**settings.PARLEY, "ATTACHMENT_MAX_SIZE": 1000}
    with pytest.raises(ParleyError) as refused:
        attachment_upload(room=lobby, uploader=user_identity(alice), upload=upload("big.txt", b"a" * 1001))
    assert refused.value.code == "too_large"
    assert "the limit per file is 1000 bytes (1000 bytes)" in refused.value.detail
    with pytest.raises(ParleyError) as refused:
        attachment_upload(room=lobby, uploader=user_identity(alice), upload=upload("pic.png", SVG_WITH_SCRIPT))
    assert refused.value.code == "invalid"
    assert "'pic.png' is image/svg+xml (read from its content" in refused.value.detail
    assert not Attachment.objects.exists()


def test_a_message_count_and_size_limit(alice, lobby, settings):
    settings.PARLEY = {**settings.PARLEY, "ATTACHMENT_MAX_COUNT": 2, "ATTACHMENT_MAX_MESSAGE_SIZE": 25}
    me = user_identity(alice)
    ids = [attachment_upload(room=lobby, uploader=me, upload=upload(f"{n}.txt", b"x" * 10)).pk for n in range(3)]
    with pytest.raises(ParleyError, match="at most 2 files; this one names 3") as refused:
        message_post(room=lobby, sender=me, body="three", client_id="c1", extras=PostExtras(attachments=tuple(ids)))
    assert refused.value.code == "too_large"
    settings.PARLEY = {**settings.PARLEY, "ATTACHMENT_MAX_COUNT": 3, "ATTACHMENT_MAX_MESSAGE_SIZE": 25}
    with pytest.raises(ParleyError, match="come to 30 bytes; the limit per message is 25 bytes"):
        message_post(room=lobby, sender=me, body="three", client_id="c1", extras=PostExtras(attachments=tuple(ids)))
    # Refused posts store nothing and give their seq back.
    lobby.refresh_from_db()
    assert (lobby.last_seq, Message.objects.count()) == (0, 0)


def test_attached_files_are_in_the_message_and_its_pages(alice, lobby, make_user):
    me = user_identity(alice)
    first = attachment_upload(room=lobby, uploader=me, upload=upload("me.png", png_with_gps()))
    second = attachment_upload(room=lobby, uploader=me, upload=upload("notes.txt", b"hello"))
    message_post(room=lobby, sender=me, body="plain", client_id="c0")
    posted = message_post(
        room=lobby, sender=me, body="files", client_id="c1", extras=PostExtras(attachments=(first.pk, second.pk))
    ).message
    assert posted.has_attachments
    page = messages_before(room=lobby, before=None, limit=10)
    assert page[0]["attachments"] == []
    files = page[1]["attachments"]
    assert [(f["name"], f["content_type"], f["width"]) for f in files] == [
        ("me.png", "image/png", 640),
        ("notes.txt", "text/plain", None),
    ]
    assert files[0]["url"] == f"/files/{first.pk}/"
    assert files[0]["thumbnail_url"] == f"/files/{first.pk}/thumbnail/"
    # Someone else cannot attach alice's upload, nor can alice attach it twice.
    bob = user_identity(make_user("bob"))
    with pytest.raises(ParleyError, match=f"no upload {first.pk} of yours"):
        message_post(room=lobby, sender=bob, body="mine?", client_id="c2", extras=PostExtras(attachments=(first.pk,)))
    with pytest.raises(ParleyError, match="attached to one message only"):
        message_post(room=lobby, sender=me, body="again", client_id="c3", extras=PostExtras(attachments=(first.pk,)))


def test_files_named_in_any_order_are_in_upload_order_live_as_on_every_page(alice, lobby):
    me = user_identity(alice)
    first = attachment_upload(room=lobby, uploader=me, upload=upload("a.txt", b"first"))
    second = attachment_upload(room=lobby, uploader=me, upload=upload("b.txt", b"second"))
    message = message_post(room=lobby, sender=me, body="files", client_id="c1").message
    # What the live message frame carries (message_store publishes what attachments_attach returns).
    live = attachments_attach(message=message, sender=me, ids=[second.pk, first.pk])
    Message.objects.filter(pk=message.pk).update(has_attachments=True)
    assert [attachment.name for attachment in live] == ["a.txt", "b.txt"]
    page = messages_before(room=lobby, before=None, limit=10)
    assert [f["name"] for f in page[0]["attachments"]] == ["a.txt", "b.txt"]


def test_deleting_a_message_deletes_its_files_after_commit(
    alice, lobby, media_root, django_capture_on_commit_callbacks
):
    me = user_identity(alice)
    attachment = attachment_upload(room=lobby, uploader=me, upload=upload("me.png", png_with_gps()))
    message_post(room=lobby, sender=me, body="x", client_id="c1", extras=PostExtras(attachments=(attachment.pk,)))
    paths = [media_root / attachment.file, media_root / attachment.thumbnail]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message_delete(room=lobby, actor=me, seq=1)
    assert all(path.exists() for path in paths)  # not before commit: a rollback would keep the message's files
    assert not Attachment.objects.exists()
    for callback in callbacks:
        callback()
    assert not any(path.exists() for path in paths)
    assert messages_before(room=lobby, before=None, limit=1)[0]["attachments"] == []


def test_the_orphan_sweep_deletes_uploads_never_attached(
    alice, lobby, media_root, settings, django_capture_on_commit_callbacks
):
    me = user_identity(alice)
    old = attachment_upload(room=lobby, uploader=me, upload=upload("old.txt", b"old"))
    fresh = attachment_upload(room=lobby, uploader=me, upload=upload("new.txt", b"new"))
    attached = attachment_upload(room=lobby, uploader=me, upload=upload("kept.txt", b"kept"))
    message_post(room=lobby, sender=me, body="x", client_id="c1", extras=PostExtras(attachments=(attached.pk,)))
    Attachment.objects.filter(pk__in=[old.pk, attached.pk]).update(created_at=timezone.now() - timedelta(hours=25))
    assert task_kind("attachments.orphan") is ORPHANED_UPLOADS
    assert ORPHANED_UPLOADS.due is not None
    assert ORPHANED_UPLOADS.due() == attachments_orphaned() == [old.pk]
    with django_capture_on_commit_callbacks(execute=True):
        assert attachment_orphan_delete(pk=old.pk)
    assert not attachment_orphan_delete(pk=fresh.pk)
    assert not (media_root / old.file).exists()
    assert (media_root / fresh.file).exists()
    assert (media_root / attached.file).exists()
    assert set(Attachment.objects.values_list("pk", flat=True)) == {fresh.pk, attached.pk}


def test_replies_form_a_thread_counted_on_the_original(alice, lobby):
    me = user_identity(alice)
    message_post(room=lobby, sender=me, body="question", client_id="c1")
    message_post(room=lobby, sender=me, body="other", client_id="c2")
    message_post(room=lobby, sender=me, body="answer", client_id="c3", extras=PostExtras(reply_to=1))
    # A reply to a reply joins the original's thread.
    message_post(room=lobby, sender=me, body="more", client_id="c4", extras=PostExtras(reply_to=3))
    thread = thread_page(room=lobby, seq=1, before=None, limit=10)
    assert [(m["seq"], m["reply_to"], m["thread_count"]) for m in thread] == [(1, None, 2), (3, 1, 0), (4, 1, 0)]
    assert [m["seq"] for m in thread_page(room=lobby, seq=4, before=4, limit=10)] == [1, 3]
    with pytest.raises(ParleyError, match="no message 9 to reply to"):
        message_post(room=lobby, sender=me, body="lost", client_id="c5", extras=PostExtras(reply_to=9))
    lobby.refresh_from_db()
    assert lobby.last_seq == 4


def test_a_deleted_reply_leaves_its_thread_count_and_page(alice, lobby):
    """(The thread frames the room gets: tests/realtime/test_threads_attachments.py.)"""
    me = user_identity(alice)
    message_post(room=lobby, sender=me, body="question", client_id="c1")
    for n in (2, 3):
        message_post(room=lobby, sender=me, body=f"answer {n}", client_id=f"c{n}", extras=PostExtras(reply_to=1))
    message_delete(room=lobby, actor=me, seq=3)
    thread = thread_page(room=lobby, seq=1, before=None, limit=10)
    assert [(m["seq"], m["thread_count"]) for m in thread] == [(1, 1), (2, 0)]
    message_delete(room=lobby, actor=me, seq=2)
    message_delete(room=lobby, actor=me, seq=2)  # deleting twice counts once
    assert [m["seq"] for m in thread_page(room=lobby, seq=1, before=None, limit=10)] == [1]
    assert Message.objects.get(room=lobby, seq=1).thread_count == 0
    # A deleted original stays at the head of its thread, blanked; its replies still count.
    message_post(room=lobby, sender=me, body="late answer", client_id="c4", extras=PostExtras(reply_to=1))
    message_delete(room=lobby, actor=me, seq=1)
    thread = thread_page(room=lobby, seq=4, before=None, limit=10)
    assert [(m["seq"], m["deleted"], m["thread_count"]) for m in thread] == [(1, True, 1), (4, False, 0)]
