"""Parley's permissions: what only staff could do, as Django model permissions of the ``parley`` app.

A host grants them to groups (or users) in its admin, and Parley asks ``user.has_perm(...)``:

- ``parley.read_all_rooms``: read and post in every room, private ones and direct conversations
  included, whatever bans or mutes say (a room's moderators cannot act on them);
- ``parley.moderate_all_rooms``: an owner's rights in every room they can read (settings,
  roles, bans, mutes, webhooks, deleting messages); a room's moderators cannot act on them;
- ``parley.publish_messages``: ``POST /api/publish`` (messages go to the rooms the publisher
  may post in: grant ``read_all_rooms`` too to publish into every room);
- ``parley.add_room``: create rooms, asked only when ``PARLEY["ROOM_CREATION"]`` is ``"permitted"``.

Superusers hold them all, as Django always has them. Staff hold them all too unless
``PARLEY["STAFF_PERMISSIONS"]`` is False, so a host that grants nothing gets exactly the rules it
had. Guests and inactive users hold none.

Two ways to ask, which must agree: ``user_can`` about a user object (the sockets', requests' and
services' checks, through ``Identity.can``, which asks once per identity) and ``holders`` as a
condition on the user model (queries about users by id: unread counts, notifications, who keeps
a room made private).
"""

from __future__ import annotations

from typing import Any, Literal

from django.contrib.auth import get_backends, get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission, PermissionsMixin
from django.db.models import Exists, OuterRef, Q

from parley.conf import parley_settings

Codename = Literal["read_all_rooms", "moderate_all_rooms", "publish_messages", "add_room"]
READ_ALL_ROOMS: Codename = "read_all_rooms"
MODERATE_ALL_ROOMS: Codename = "moderate_all_rooms"
PUBLISH_MESSAGES: Codename = "publish_messages"
# The first three are declared on ``Room.Meta.permissions``; add_room is Django's own for the model.
ADD_ROOM: Codename = "add_room"


def user_can(user: Any, codename: Codename) -> bool:
    """Whether ``user`` holds ``parley.<codename>``: staff (unless ``STAFF_PERMISSIONS`` is off),
    or ``user.has_perm`` (superusers, and what the admin granted them or their groups).

    ``has_perm`` reads the database the first time it is asked about a user object; ask through
    ``Identity.can`` on hot paths, which keeps the answer for the identity's life.
    """
    if not getattr(user, "is_active", True):
        return False
    if parley_settings.STAFF_PERMISSIONS and getattr(user, "is_staff", False):
        return True
    # Only a user model with Django's permission tables: ``holders`` can query nothing else, and the
    # two answers must agree (a model's own ``has_perm`` could say yes to everything).
    return isinstance(user, PermissionsMixin) and user.has_perm(f"parley.{codename}")


def holders(codename: Codename) -> Q:
    """``user_can`` as a condition on the user model: ``User.objects.filter(holders(...))``.

    Django's ``UserManager.with_perm`` does this only on ``UserManager`` and for one backend; a host's
    user model may have a plain ``BaseUserManager``, so the condition is written from the relations
    ``PermissionsMixin`` adds (``groups``, ``user_permissions``), the ones ``ModelBackend`` reads.
    Those grants count only when ``ModelBackend`` is among the host's backends, so this never holds
    for someone ``has_perm`` refuses; a permission granted by another backend alone (LDAP, say) is
    honoured by ``user_can`` but not by these queries.
    """
    model = get_user_model()
    fields = {field.name for field in model._meta.get_fields()}
    held = Q(pk__in=[])
    if parley_settings.STAFF_PERMISSIONS and "is_staff" in fields:
        held |= Q(is_staff=True)
    if issubclass(model, PermissionsMixin):
        held |= Q(is_superuser=True)
        if any(isinstance(backend, ModelBackend) for backend in get_backends()):
            granted = Permission.objects.filter(
                Q(user=OuterRef("pk")) | Q(group__user=OuterRef("pk")),
                content_type__app_label="parley",
                codename=codename,
            )
            held |= Q(Exists(granted))
    return held & Q(is_active=True) if "is_active" in fields else held
