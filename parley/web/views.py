"""The browser UI: the room list and the chat page. Views stay thin: selectors read, services write."""

from __future__ import annotations

import uuid
from dataclasses import asdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from parley.accounts.identity import (
    GUEST_ID_SESSION_KEY,
    GUEST_NAME_SESSION_KEY,
    guest_identity,
    request_identity,
    user_identity,
)
from parley.accounts.users import User
from parley.conf import parley_settings
from parley.readstate.selectors import RoomList, room_list, unread_count
from parley.rooms.access import RoomAccessError, can_create_room, check_can_create_room, guests_may_use
from parley.rooms.selectors import is_moderator, messages_before, room_for_reader, room_get, room_members_page
from parley.rooms.services import room_get_or_create
from parley.web.forms import GuestNameForm, JumpForm, RoomCreateForm
from parley.web.moderation import room_header
from parley.wire.errors import ParleyError

HISTORY_PAGE = 50
# The member list shows this many members from the server; presence adds whoever else is online.
MEMBERS_SHOWN = 100
NO_ROOMS = RoomList(rooms=[], directs=[])


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The rooms you may enter, a form to create one and a box to jump to one by name."""
    return _index_page(request, RoomCreateForm())


def _index_page(request: HttpRequest, create_form: RoomCreateForm, status: int = 200) -> HttpResponse:
    identity = request_identity(request) or guest_identity(guest_id="", name="")
    nav = room_list(identity=identity) if request.user.is_authenticated or parley_settings.GUESTS else NO_ROOMS
    # A form refused by the site's ROOM_CREATION rule is shown once more, with the reason.
    offer_create = can_create_room(identity=identity) or bool(create_form.errors)
    context = {
        "nav": nav,
        "create_form": create_form,
        "offer_create": offer_create,
        "guests": parley_settings.GUESTS,
        "jump_form": JumpForm(),
    }
    return render(request, "parley/index.html", context, status=status)


@require_GET
def jump(request: HttpRequest) -> HttpResponse:
    """Go to the room named in ``?room=``."""
    form = JumpForm(request.GET)
    if not form.is_valid():
        messages.error(request, "Room names are 1 to 64 letters, digits, '-' or '_'.")
        return redirect("parley:index")
    return redirect("parley:room", slug=form.cleaned_data["room"])


@login_required
@require_POST
def room_create(request: HttpRequest) -> HttpResponse:
    """Create a room owned by the signed-in user and open it (a form error, when the site lets
    only some users create rooms and this one may not)."""
    form = RoomCreateForm(request.POST)
    valid = form.is_valid()
    assert isinstance(request.user, User)  # login_required
    try:
        check_can_create_room(identity=user_identity(request.user))
    except ParleyError as refusal:
        form.add_error(None, refusal.detail)
        return _index_page(request, form, status=refusal.http_status)
    if not valid:
        return _index_page(request, form, status=400)
    room = room_get_or_create(**form.cleaned_data, creator=request.user).room
    return redirect("parley:room", slug=room.slug)


def room(request: HttpRequest, slug: str) -> HttpResponse:
    """The chat page: the room list, the latest page of history (then live messages over the
    WebSocket) and the room's members (then who comes and goes, from presence)."""
    found = room_get(slug=slug)
    identity = request_identity(request)
    if identity is None:
        if found is not None and guests_may_use(found):
            return render(request, "parley/guest.html", {"room": found, "form": GuestNameForm()})
        return redirect_to_login(request.get_full_path())
    try:
        readable = room_for_reader(slug=slug, identity=identity)
    except RoomAccessError as error:
        if error.code == "forbidden" and identity.user is not None:
            messages.error(request, error.detail)  # banned from a public room: say so
            return redirect("parley:index")
        if error.code == "forbidden":
            return redirect_to_login(request.get_full_path())
        raise Http404(error.detail) from None
    history = messages_before(room=readable, before=None, limit=HISTORY_PAGE, reader=identity)
    # Where the "new messages" divider goes; guests keep no read marker (null).
    last_read = None if identity.user_id is None else unread_count(user_id=identity.user_id, room_id=readable.pk)
    config = {
        "room": readable.slug,
        "me": {"id": identity.user_id, "name": identity.display_name, "guest": identity.is_guest},
        "maxBody": parley_settings.MAX_BODY,
        "historyPage": HISTORY_PAGE,
        # Moderators get a delete button on every message; the server checks again on each delete.
        "moderator": is_moderator(room=readable, identity=identity),
        "lastRead": None if last_read is None else last_read.last_read,
        # Uploads go to the API with the session, which checks CSRF; the cookie is HttpOnly.
        "csrfToken": None if identity.is_guest else get_token(request),
    }
    members = room_members_page(room=readable, limit=MEMBERS_SHOWN)
    context = {
        "room": readable,
        "config": config,
        "history": history,
        "identity": identity,
        "nav": room_list(identity=identity),
        "members": {"members": [asdict(member) for member in members.members], "total": members.total},
    }
    context.update(room_header(room=readable, identity=identity))
    return render(request, "parley/room.html", context)


@require_POST
def guest_name(request: HttpRequest, slug: str) -> HttpResponse:
    """Remember the name a guest picked, then open the room."""
    found = room_get(slug=slug)
    if found is None or not guests_may_use(found):
        raise Http404("Guests cannot use this room.")
    form = GuestNameForm(request.POST)
    if not form.is_valid():
        return render(request, "parley/guest.html", {"room": found, "form": form}, status=400)
    request.session[GUEST_NAME_SESSION_KEY] = form.cleaned_data["name"]
    request.session.setdefault(GUEST_ID_SESSION_KEY, uuid.uuid4().hex)
    return redirect("parley:room", slug=slug)
