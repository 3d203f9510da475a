"""What storing a message sets in motion besides its fan-out: its room's webhooks, its @mentions,
and in a direct conversation the recipient's unread badge.

``message_post`` calls ``message_followups`` once per stored message, inside its transaction. It
costs nothing for the usual message: the room row says whether the room has webhooks, and a body
without "@" is not searched further. Deliveries are stored in the message's transaction (durable);
the work itself is queued for after commit.
"""

from __future__ import annotations

from parley.mentions.parsing import might_mention
from parley.readstate.services import direct_unread_publish
from parley.rooms.models import Message
from parley.tasks.queue import enqueue_on_commit
from parley.webhooks.services import webhook_deliveries_create


def message_followups(message: Message) -> None:
    """Store the message's webhook deliveries and queue them and its mentions for after commit; in a
    direct conversation, publish the recipient's unread count after commit."""
    # The flag is read with the room that message_send loaded; a webhook registered in the instant
    # between that read and this insert misses this one message.
    if message.room.has_webhooks:
        delivery_ids = webhook_deliveries_create(message=message)
        if delivery_ids:
            enqueue_on_commit("webhooks.deliver", delivery_ids=delivery_ids)
    if might_mention(message.body):
        enqueue_on_commit("mentions.notify", message_id=message.pk)
    direct_unread_publish(message=message)
