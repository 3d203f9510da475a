"""The scripts get every address from the page (``parley-urls``), so Parley works under any prefix."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

import parley
from parley.conf import parley_settings

pytestmark = pytest.mark.django_db

SCRIPTS = Path(parley.__file__).parent / "static" / "parley"


def page_urls(response):
    html = response.content.decode()
    start = html.index('id="parley-urls"')
    return json.loads(html[html.index(">", start) + 1 : html.index("</script>", start)])


def test_pages_mounted_under_a_prefix_give_the_scripts_prefixed_addresses(client, make_user, make_room, settings):
    # The settings fixture, not @override_settings: mixed, the fixture's undo would bring the
    # test URLconf back for the tests after this one.
    settings.ROOT_URLCONF = "tests.web.prefixed_urls"
    # By default the socket is beside the pages, where parley.routing mounted at the same prefix puts it.
    settings.PARLEY = {**getattr(settings, "PARLEY", {}), "WEBSOCKET_PATH": None}
    user = make_user("alice")
    make_room("lobby")
    client.force_login(user)
    for page in (reverse("parley:index"), reverse("parley:room", kwargs={"slug": "lobby"}), reverse("parley:dms")):
        assert page.startswith("/chat/")
        response = client.get(page)
        assert response.status_code == 200, page
        assert page_urls(response) == {
            "index": "/chat/",
            "search": "/chat/search/",
            "room": "/chat/chat/__room__/",
            "api": "/chat/api/",
            "websocket": "/chat/ws/",
        }


def test_a_guest_page_carries_the_addresses_too(client, make_room, settings):
    settings.PARLEY = {**getattr(settings, "PARLEY", {}), "GUESTS": True}
    make_room("lobby", guests_allowed=True)
    response = client.get(reverse("parley:room", kwargs={"slug": "lobby"}), follow=True)
    assert page_urls(response)["websocket"] == "/ws/"
    assert page_urls(response)["api"] == "/api/"


def test_a_websocket_path_of_its_own_is_what_the_scripts_get(client, make_user, settings):
    settings.ROOT_URLCONF = "tests.web.prefixed_urls"
    settings.PARLEY = {**getattr(settings, "PARLEY", {}), "WEBSOCKET_PATH": "/sockets/parley/"}
    client.force_login(make_user("alice"))
    assert page_urls(client.get(reverse("parley:index")))["websocket"] == "/sockets/parley/"


def test_the_websocket_path_is_checked(settings):
    settings.PARLEY = {"WEBSOCKET_PATH": "ws"}
    with pytest.raises(ImproperlyConfigured, match="WEBSOCKET_PATH"):
        _ = parley_settings.WEBSOCKET_PATH


def code_of(script: str) -> str:
    """A script without its comments (block comments, whole-line and trailing ``// …``)."""
    script = re.sub(r"/\*.*?\*/", "", script, flags=re.S)
    script = re.sub(r"^\s*//.*$", "", script, flags=re.M)
    return re.sub(r"\s//\s.*$", "", script, flags=re.M)


@pytest.mark.parametrize("script", sorted(SCRIPTS.glob("*.js")), ids=lambda path: path.name)
def test_no_script_writes_a_path_of_parleys_own(script):
    code = code_of(script.read_text())
    for path in ("/api/", "/chat/", "/search/", "/ws/"):
        assert path not in code, f"{script.name} writes {path!r}: take it from config.js"
