"""Every HTML page sends a Content-Security-Policy that forbids inline script and keeps none itself,
and every view that takes a POST refuses one without the CSRF token."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from parley.rooms.services import membership_join, room_get_or_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(make_user):
    owner = make_user("olivia")
    staff = make_user("sam", staff=True)
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    for slug, private, guests in (("town", False, False), ("vault", True, False), ("porch", False, True)):
        room = room_get_or_create(slug=slug, is_private=private, guests_allowed=guests, creator=owner).room
        membership_join(room=room, user=owner)
    return {"owner": owner, "staff": staff}


def visitors(site) -> dict[str, Client]:
    anonymous = Client()
    guest = Client()
    guest.post("/chat/porch/guest/", {"name": "Zed"})
    user, staff = Client(), Client()
    user.force_login(site["owner"])
    staff.force_login(site["staff"])
    return {"anonymous": anonymous, "guest": guest, "user": user, "staff": staff}


# Every page a person can see, by who sees it: the room list, log-in and sign-up pages, a guest's
# name form, chat pages, a form sent back with errors, a 404, and the admin.
PAGES = [
    ("anonymous", "get", "/"),
    ("anonymous", "get", "/accounts/login/"),
    ("anonymous", "get", "/accounts/signup/"),
    ("anonymous", "get", "/chat/porch/"),
    ("anonymous", "get", "/no-such-page/"),
    ("anonymous", "get", "/admin/login/"),
    ("anonymous", "post", "/accounts/login/"),
    ("anonymous", "post", "/accounts/signup/"),
    ("anonymous", "post", "/chat/porch/guest/"),
    ("guest", "get", "/"),
    ("guest", "get", "/chat/porch/"),
    ("user", "get", "/"),
    ("user", "get", "/chat/town/"),
    ("user", "get", "/chat/vault/"),
    ("user", "post", "/rooms/new/"),
    ("staff", "get", "/chat/vault/"),
    ("staff", "get", "/admin/"),
    ("staff", "get", "/admin/parley/room/"),
    ("staff", "get", "/admin/parley/room/add/"),
    ("staff", "get", "/admin/parley/apitoken/"),
]


class PageScan(HTMLParser):
    """What in a page would need 'unsafe-inline': inline scripts, event handlers, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src") and attributes.get("type") != "application/json":
            self.problems.append(f"inline <script {attrs}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> event handler")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name == "style":
                self.problems.append(f"<{tag} style=…> (style-src has no 'unsafe-inline')")


def directives(header: str) -> dict[str, list[str]]:
    policy: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *sources = part.split()
        policy[name] = sources
    return policy


@pytest.mark.parametrize(("who", "method", "path"), PAGES)
def test_every_html_page_sends_a_strict_csp_and_needs_no_inline_script(site, who, method, path):
    response = getattr(visitors(site)[who], method)(path, {} if method == "post" else None)
    assert response["Content-Type"].startswith("text/html"), (response.status_code, response["Content-Type"])
    policy = directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    for sources in policy.values():
        assert "'unsafe-inline'" not in sources
        assert "'unsafe-eval'" not in sources
    scan = PageScan()
    scan.feed(response.content.decode())
    assert scan.problems == []


PARAMETER = re.compile(r"<(?:(\w+):)?\w+>")
SAMPLES = {"slug": "porch", "str": "porch", None: "porch"}


def all_routes() -> list[str]:
    """Every route of the site outside the admin and the HTTP API, with sample parameter values."""

    def walk(patterns, prefix: str) -> list[str]:
        paths: list[str] = []
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if route.startswith(("admin/", "api/")):
                continue
            if isinstance(pattern, URLResolver):
                paths += walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                paths.append("/" + PARAMETER.sub(lambda match: SAMPLES.get(match.group(1), "1"), route))
        return paths

    return walk(get_resolver().url_patterns, "")


# The admin's own forms. The HTTP API (/api/) is not a form site: its session-authenticated calls
# are checked by django-ninja's CSRF rule, and its tests belong to the API.
ADMIN_POSTS = ["/admin/login/", "/admin/logout/", "/admin/parley/room/add/", "/admin/password_change/"]


def test_the_route_list_is_not_empty():
    assert {"/rooms/new/", "/chat/porch/guest/", "/accounts/login/", "/accounts/logout/"} <= set(all_routes())


@pytest.mark.parametrize("path", [*all_routes(), *ADMIN_POSTS])
def test_a_post_without_the_csrf_token_is_refused_everywhere(site, path):
    # Signed in as staff, so that no view turns the POST away for another reason first.
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(site["staff"])
    response = strict.post(path, {"slug": "forged", "name": "Forged", "username": "sam", "password": "x"})
    assert response.status_code == 403
    assert b"CSRF" in response.content


def test_every_post_form_on_every_page_is_refused_without_its_token(site):
    """The forms as the pages show them: each one's action, posted without the token, is a 403."""

    class Forms(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.actions: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            attributes = dict(attrs)
            if tag == "form" and (attributes.get("method") or "get").lower() == "post":
                self.actions.append(attributes.get("action") or "")

    found: set[str] = set()
    for who, method, path in PAGES:
        if method != "get":
            continue
        forms = Forms()
        forms.feed(visitors(site)[who].get(path).content.decode())
        found.update(action or path for action in forms.actions)
    assert {"/accounts/login/", "/accounts/signup/", "/accounts/logout/", "/rooms/new/", "/chat/porch/guest/"} <= found
    for action in found:
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(site["staff"])
        assert strict.post(action, {}).status_code == 403, action
