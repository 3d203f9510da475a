"""Who can be @mentioned in a room: the names the composer suggests as someone types "@al"."""

from __future__ import annotations

from parley.accounts.identity import Identity
from parley.accounts.users import name_lookup, users_active
from parley.rooms.models import Membership, Message, Room, RoomBan

MAX_SUGGESTIONS = 8
# How far back a public room's authors count as people in it.
RECENT_MESSAGES = 500


def mention_candidates(*, room: Room, identity: Identity, prefix: str, limit: int = MAX_SUGGESTIONS) -> list[str]:
    """Up to ``limit`` usernames starting with ``prefix`` (any case) that ``identity`` may mention in ``room``.

    The room's members, and in a public room also the authors of its recent messages: people the
    reader can already see there. Inactive users, users banned from the room (a mention would not
    reach them) and the reader are left out; sorted by name.
    ``room`` must be one ``identity`` may read (``room_for_reader``).
    """
    user_ids = set(Membership.objects.filter(room=room).values_list("user_id", flat=True))
    if not room.is_private:
        recent = Message.objects.filter(room=room, author__isnull=False).order_by("-seq")[:RECENT_MESSAGES]
        user_ids.update(author_id for author_id in recent.values_list("author_id", flat=True) if author_id)
    users = (
        users_active()
        .filter(pk__in=user_ids, **{name_lookup("istartswith"): prefix})
        .exclude(pk__in=RoomBan.objects.filter(room=room).values("user_id"))
    )
    if identity.user_id is not None:
        users = users.exclude(pk=identity.user_id)
    return list(users.order_by(name_lookup()).values_list(name_lookup(), flat=True)[:limit])
