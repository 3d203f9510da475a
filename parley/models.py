"""Every model of Parley, so Django finds them under the app label ``parley``.

Each model lives in its domain package (``parley.rooms.models``…); being inside the package
``parley`` is what gives it the label. Import them from their own modules.
"""

from __future__ import annotations

from parley.accounts.models import ApiToken, UsernameKey
from parley.direct.models import DirectConversation
from parley.notifications.models import Notification
from parley.readstate.models import ReadMarker
from parley.rooms.models import Attachment, Membership, Message, MessageEdit, Reaction, Room, RoomBan, RoomMute
from parley.webhooks.models import Webhook, WebhookAttempt, WebhookDelivery

__all__ = [
    "ApiToken",
    "Attachment",
    "DirectConversation",
    "Membership",
    "Message",
    "MessageEdit",
    "Notification",
    "Reaction",
    "ReadMarker",
    "Room",
    "RoomBan",
    "RoomMute",
    "UsernameKey",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
]
