"""Deleting a room: everything in it goes, its messages a batch at a time, its files after commit;
the admin's delete goes through the same service and counts rather than lists what goes."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from parley.accounts.identity import user_identity
from parley.readstate.models import ReadMarker
from parley.rooms import attachments, services
from parley.rooms.attachments import attachment_upload
from parley.rooms.models import Attachment, Membership, Message, MessageEdit, Reaction, Room, RoomBan
from parley.rooms.services import PostExtras, message_edit, message_post, reaction_set, room_create, room_delete
from parley.webhooks.models import Webhook, WebhookDelivery
from tests.media import png_with_gps, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


def filled_room(slug: str, owner, media_root: Path) -> tuple[Room, list[Path]]:
    """A room of 10 messages with edits, reactions, a thread, a webhook's deliveries, two attached
    files and one upload still waiting; and the paths of its files."""
    room = room_create(slug=slug, creator=owner)
    me = user_identity(owner)
    webhook = Webhook.objects.create(room=room, url="https://hooks.example.com/x", secret="s", created_by=owner)
    files = [
        attachment_upload(room=room, uploader=me, upload=upload(f"{n}.png", png_with_gps(32, 32))) for n in range(3)
    ]
    for seq in range(1, 11):
        extras = PostExtras(
            reply_to=1 if seq in (4, 5) else None, attachments=(files[seq - 2].pk,) if seq in (2, 3) else ()
        )
        message = message_post(room=room, sender=me, body=f"message {seq}", client_id=f"c{seq}", extras=extras).message
        WebhookDelivery.objects.create(webhook=webhook, message=message)
    message_edit(room=room, editor=me, seq=6, body="edited")
    reaction_set(room=room, user=me, seq=7, emoji="👍", on=True)
    ReadMarker.objects.create(user=owner, room=room, last_read=5)
    paths = [media_root / name for file in files for name in (file.file, file.thumbnail)]
    assert all(path.exists() for path in paths)
    return room, paths


def test_a_room_goes_with_everything_in_it_messages_in_batches_files_after_commit(
    alice, make_user, media_root, monkeypatch, django_capture_on_commit_callbacks
):
    room, paths = filled_room("doomed", alice, media_root)
    kept, kept_paths = filled_room("kept", alice, media_root)
    RoomBan.objects.create(room=room, user=make_user("troll"), by=alice)
    monkeypatch.setattr(services, "ROOM_DELETE_BATCH", 3)
    monkeypatch.setattr(attachments, "DELETE_BATCH", 2)
    message_table = connection.ops.quote_name(Message._meta.db_table)
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True) as callbacks:
        deleted = room_delete(room=room)
        # The files wait for the commit: a rollback would keep the room and its files.
        assert all(path.exists() for path in paths)
    assert (deleted.messages, deleted.attachments) == (10, 3)
    assert len(callbacks) >= 3  # two batches of files, and the sockets' news
    assert not any(path.exists() for path in paths)
    assert not Room.objects.filter(slug="doomed").exists()
    for model in (Message, Attachment, Membership, MessageEdit, Reaction, ReadMarker, RoomBan, WebhookDelivery):
        related = "message__room" if model in (MessageEdit, Reaction) else "room"
        if model is WebhookDelivery:
            related = "webhook__room"
        assert not model.objects.filter(**{f"{related}__slug": "doomed"}).exists(), model
    # The other room is whole.
    assert Message.objects.filter(room=kept).count() == 10
    assert Attachment.objects.filter(room=kept).count() == 3
    assert all(path.exists() for path in kept_paths)
    # Never the room's messages all at once: they are read in ranges of seq (10 in batches of 3), and
    # only once they are all gone does deleting the room's row look for more (finding none).
    reads = [query["sql"] for query in queries if query["sql"].startswith("SELECT") and message_table in query["sql"]]
    ranges = [at for at, sql in enumerate(reads) if '"seq" >' in sql and '"seq" <=' in sql]
    assert len(ranges) == 4
    assert all(at > ranges[-1] for at in set(range(len(reads))) - set(ranges)), reads


def test_deleting_a_room_that_is_gone_does_nothing(alice):
    room = room_create(slug="gone", creator=alice)
    Room.objects.filter(pk=room.pk).delete()
    assert (room_delete(room=room).messages, room_delete(room=room).attachments) == (0, 0)


def test_the_admin_deletes_a_room_through_the_service_and_counts_what_goes(
    alice, make_user, media_root, django_capture_on_commit_callbacks
):
    room, paths = filled_room("doomed", alice, media_root)
    boss = make_user("boss", staff=True)
    boss.is_superuser = True
    boss.save(update_fields=["is_superuser"])
    admin = Client()
    admin.force_login(boss)
    url = f"/admin/parley/room/{room.pk}/delete/"
    page = admin.get(url).content.decode()
    assert "Messages: 10" in page
    assert "Attachments: 3" in page
    assert "message 1" not in page  # counted, never listed
    with django_capture_on_commit_callbacks(execute=True):
        answer = admin.post(url, {"post": "yes"})
    assert answer.status_code == 302
    assert not Room.objects.filter(pk=room.pk).exists()
    assert not Message.objects.exists()
    assert not any(path.exists() for path in paths)
