"""The browser UI of direct messages and of a room's settings (members, roles, bans and mutes; the
webhooks panel's actions are in ``webhooks``).

Thin views: ``parley.moderation`` and ``parley.direct`` selectors read and services write; every refusal is shown as
the service's sentence.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from parley.accounts.identity import Identity, user_identity
from parley.accounts.permissions import MODERATE_ALL_ROOMS, user_can
from parley.accounts.users import User
from parley.direct.selectors import direct_conversation_of
from parley.direct.services import direct_conversation_open
from parley.moderation.selectors import room_bans, room_members, room_mutes
from parley.moderation.services import (
    ModerationError,
    member_ban,
    member_invite,
    member_mute,
    member_remove,
    member_set_role,
    member_unban,
    member_unmute,
    room_settings_update,
)
from parley.readstate.selectors import room_list
from parley.rooms.access import RoomAccessError
from parley.rooms.models import Room
from parley.rooms.selectors import is_moderator, membership_roles, room_for_reader
from parley.web.forms import MUTE_DURATIONS, DirectMessageForm, ModerateForm, RoomSettingsForm, WebhookAddForm
from parley.webhooks.selectors import webhooks_of_room
from parley.wire.errors import ParleyError


def room_header(*, room: Room, identity: Identity) -> dict[str, object]:
    """What the room page's header adds: the other person of a direct conversation (its title; the
    user, for the avatar), and whether to link the settings page (owners, moderators and staff of
    ordinary rooms)."""
    conversation = direct_conversation_of(room=room)
    if conversation is not None:
        other = conversation.other_user(identity.user_id)
        return {"direct_with": other.get_username(), "direct_other": other, "can_moderate": False}
    return {"direct_with": None, "direct_other": None, "can_moderate": is_moderator(room=room, identity=identity)}


def signed_in_user(request: HttpRequest) -> User:
    """The user of a view behind ``login_required``."""
    assert isinstance(request.user, User)  # login_required
    return request.user


@login_required
@require_GET
def dms(request: HttpRequest) -> HttpResponse:
    """Your direct conversations, newest activity first, with unread counts; and a form to start one."""
    nav = room_list(identity=user_identity(signed_in_user(request)))
    return render(request, "parley/dms.html", {"nav": nav, "form": DirectMessageForm()})


@login_required
@require_POST
def dm_open(request: HttpRequest) -> HttpResponse:
    """Open (creating once) the direct conversation with the user named in the form."""
    form = DirectMessageForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Type the username of the person to message.")
        return redirect("parley:dms")
    try:
        result = direct_conversation_open(user=signed_in_user(request), username=form.cleaned_data["username"])
    except ParleyError as exc:
        messages.error(request, exc.detail)
        return redirect("parley:dms")
    return redirect("parley:room", slug=result.conversation.room.slug)


def moderated_room(request: HttpRequest, slug: str) -> Room:
    """The room, when the signed-in user may moderate it; 404 otherwise (as for a missing room)."""
    identity = user_identity(signed_in_user(request))
    try:
        room = room_for_reader(slug=slug, identity=identity)
    except RoomAccessError as error:
        raise Http404(error.detail) from None
    if not is_moderator(room=room, identity=identity) or direct_conversation_of(room=room) is not None:
        raise Http404("Only the owners and moderators of a room have its settings page.")
    return room


@login_required
@require_GET
def room_settings(request: HttpRequest, slug: str) -> HttpResponse:
    """The settings page: title and flags (owners), members with roles, bans and mutes, webhooks (owners)."""
    room = moderated_room(request, slug)
    return _settings_page(request, room, RoomSettingsForm(initial=_settings_initial(room)))


def _settings_initial(room: Room) -> dict[str, object]:
    return {"title": room.title, "is_private": room.is_private, "guests_allowed": room.guests_allowed}


def _settings_page(request: HttpRequest, room: Room, form: RoomSettingsForm, status: int = 200) -> HttpResponse:
    user = signed_in_user(request)
    role = membership_roles(user_id=user.pk, room_ids=[room.pk]).get(room.pk)
    is_owner = role == "owner" or user_can(user, MODERATE_ALL_ROOMS)
    context = {
        "room": room,
        "settings_form": form,
        "is_owner": is_owner,
        "webhooks": webhooks_of_room(room_id=room.pk) if is_owner else [],
        "webhook_form": WebhookAddForm(),
        "members": room_members(room=room),
        "bans": room_bans(room=room),
        "mutes": room_mutes(room=room),
        "durations": MUTE_DURATIONS,
    }
    return render(request, "parley/room_settings.html", context, status=status)


@login_required
@require_POST
def room_settings_save(request: HttpRequest, slug: str) -> HttpResponse:
    """Save the room's title and flags (owners and staff)."""
    room = moderated_room(request, slug)
    form = RoomSettingsForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, room, form, status=400)
    try:
        room_settings_update(room=room, actor=signed_in_user(request), **form.cleaned_data)
    except ParleyError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, "Room settings saved.")
    return redirect("parley:room-settings", slug=room.slug)


@login_required
@require_POST
def room_moderate(request: HttpRequest, slug: str) -> HttpResponse:
    """One action on one user: invite, remove, ban, unban, mute (for a chosen time), unmute, or a new role."""
    room = moderated_room(request, slug)
    form = ModerateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a user and what to do; for a mute, how long.")
        return redirect("parley:room-settings", slug=room.slug)
    actor, data = signed_in_user(request), form.cleaned_data
    username, action = data["username"], data["action"]
    try:
        done = _moderate(room, actor, action, username, data)
    except ParleyError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, done)
    return redirect("parley:room-settings", slug=room.slug)


def _moderate(room: Room, actor: User, action: str, username: str, data: dict[str, object]) -> str:
    """Carry out ``action``; the sentence that says what was done."""
    if action == "invite":
        member_invite(room=room, actor=actor, username=username)
        return f"{username} is a member of #{room.slug}."
    if action == "remove":
        member_remove(room=room, actor=actor, username=username)
        return f"{username} was removed from #{room.slug}."
    if action == "ban":
        member_ban(room=room, actor=actor, username=username)
        return f"{username} is banned from #{room.slug}."
    if action == "unban":
        member_unban(room=room, actor=actor, username=username)
        return f"{username} is no longer banned from #{room.slug}."
    if action == "mute":
        seconds = data.get("duration")
        if not isinstance(seconds, int):
            raise ModerationError("conflict", "Choose how long the mute lasts.")
        mute = member_mute(room=room, actor=actor, username=username, seconds=seconds)
        return f"{username} is muted in #{room.slug} until {mute.until:%Y-%m-%d %H:%M} UTC."
    if action == "unmute":
        member_unmute(room=room, actor=actor, username=username)
        return f"{username} may post in #{room.slug} again."
    role = str(data.get("role") or "")
    if role not in ("owner", "moderator", "member"):
        raise ModerationError("conflict", "Choose the new role.")
    member_set_role(room=room, actor=actor, username=username, role=role)  # type: ignore[arg-type]
    return f"{username} is now {'the owner' if role == 'owner' else 'a ' + role} of #{room.slug}."
