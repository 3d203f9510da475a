"""``{% parley_bell %}`` on a project's own page, and Parley's pages inside a project's own layout
(an overridden ``parley/base.html``), rendered without Parley's help: no context processor, no
Parley chrome."""

from __future__ import annotations

import json
import re

import pytest
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.template.loader import render_to_string
from django.urls import include, path, reverse

from parley.notifications.services import notifications_mark_read, notify

pytestmark = pytest.mark.django_db

# A project's page: its own layout, the bell in its header, nothing else of Parley's.
HOST_PAGE = """{% load parley %}<!DOCTYPE html>
<html><head><title>Shop</title></head>
<body><header class="site-header">My shop {% parley_bell %}</header>
<main>{% include "host_footer.html" %}</main></body></html>"""


def host_page(request: HttpRequest) -> HttpResponse:
    """A view of the project's: renders its own template with the request, as render() does."""
    return HttpResponse(engines["django"].from_string(HOST_PAGE).render({}, request))


# The site's URLconf first: it adds the demo shop's router to the API, which django-ninja allows
# only before the API's URLs are first built (by include("parley.urls") below).
import config.urls  # noqa: E402, F401

# This module is the test URLconf: the project's page at /shop/, Parley's pages under /chat/.
urlpatterns = [
    path("shop/", host_page),
    path("accounts/", include("parley.accounts.urls")),
    path("chat/", include("parley.urls")),
]


@pytest.fixture
def host_project(settings, tmp_path):
    """The project's settings: this URLconf, templates of its own first, and only Django's
    ``auth`` context processor (no ``request``, no Parley's)."""
    (tmp_path / "host_footer.html").write_text("<footer>{% load parley %}{% parley_config %}</footer>")
    settings.ROOT_URLCONF = __name__
    settings.TEMPLATES = [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "DIRS": [tmp_path],
            "APP_DIRS": True,
            "OPTIONS": {"context_processors": ["django.contrib.auth.context_processors.auth"]},
        }
    ]
    return tmp_path


def json_scripts(html: str) -> dict[str, object]:
    """Every ``<script type="application/json" id=…>`` of the page, by id; an id twice fails."""
    found: dict[str, object] = {}
    for element_id, text in re.findall(r'<script id="([^"]+)" type="application/json">(.*?)</script>', html, re.S):
        assert element_id not in found, f"{element_id} twice on the page"
        found[element_id] = json.loads(text)
    return found


def test_the_bell_on_a_project_page_has_its_markup_state_assets_and_config(client, make_user, host_project):
    alice, bob = make_user("alice"), make_user("bob")
    read = notify([alice], "greeting", {"text": "Welcome aboard", "url": "/shop/"})[0]
    notifications_mark_read(user_id=alice.pk, ids=[read.pk])
    newest = notify([alice], "greeting", {"title": "Second"})[0]
    notify([bob], "greeting", {"text": "Not for alice"})
    client.force_login(alice)

    html = client.get("/shop/").content.decode()

    header = html[html.index('<header class="site-header">') : html.index("</header>")]
    for element in ('id="bell"', 'id="bell-button"', 'id="bell-list"', 'id="bell-count" >1</span>'):
        assert element in header
    scripts = json_scripts(html)  # also: the footer's {% parley_config %} added no second copy
    state = scripts["parley-bell"]
    assert state["unread"] == 1
    assert [(n["id"], n["text"], n["url"], n["read"]) for n in state["recent"]] == [
        (newest.pk, "Second", None, False),
        (read.pk, "Welcome aboard", "/shop/", True),
    ]
    assert scripts["parley-urls"]["websocket"] == "/chat/ws/"  # beside the pages, by default
    assert scripts["parley-urls"]["index"] == "/chat/"
    assert html.count('src="/static/parley/bell.js"') == 1
    assert html.count('href="/static/parley/bell.css"') == 1
    # The bell's own stylesheet only: Parley's page styles would restyle the project's page.
    assert "parley/parley.css" not in html


def test_the_bells_accessible_name_says_what_its_badge_shows(client, make_user, host_project):
    alice = make_user("alice")
    client.force_login(alice)
    assert 'aria-label="Notifications" ' in client.get("/shop/").content.decode()

    notify([alice], "greeting", {"text": "One"})
    assert 'aria-label="Notifications, 1 unread"' in client.get("/shop/").content.decode()

    for _ in range(100):
        notify([alice], "greeting", {"text": "Many"})
    html = client.get("/shop/").content.decode()
    assert 'aria-label="Notifications, 99+ unread"' in html
    assert 'id="bell-count" >99+</span>' in html


def test_the_bell_renders_nothing_for_anyone_not_signed_in(client, host_project):
    html = client.get("/shop/").content.decode()
    assert 'id="bell"' not in html
    assert "bell.js" not in html
    assert "parley-bell" not in json_scripts(html)


def test_the_bell_renders_nothing_without_a_request(make_user, host_project):
    make_user("alice")
    html = render_to_string("host_footer.html") + engines["django"].from_string(HOST_PAGE).render({})
    assert 'id="bell"' not in html


def test_parleys_own_pages_have_one_bell_and_one_config(client, make_user):
    client.force_login(make_user("alice"))
    html = client.get(reverse("parley:index")).content.decode()
    assert html.count('id="bell"') == 1
    assert html.count('src="/static/parley/bell.js"') == 1
    assert set(json_scripts(html)) >= {"parley-bell", "parley-urls"}


# A project's layout, and its override of parley/base.html placing Parley's blocks in it: the
# README's example.
HOST_LAYOUT = """<!DOCTYPE html>
<html><head><title>{% block title %}Shop{% endblock %}</title>{% block extra_head %}{% endblock %}</head>
<body><header class="site-header">My shop</header>
<main class="site-main">{% block content %}{% endblock %}</main>
{% block extra_js %}{% endblock %}</body></html>"""
HOST_PARLEY_BASE = """{% extends "base.html" %}
{% block title %}{% block parley_title %}{% endblock %}{% endblock %}
{% block extra_head %}{% block parley_head %}{% endblock %}{% endblock %}
{% block content %}{% block parley_content %}{% endblock %}{% endblock %}
{% block extra_js %}{% block parley_scripts %}{% endblock %}{% endblock %}"""


def test_a_room_page_inside_the_projects_layout_has_all_it_needs(client, make_user, make_room, host_project):
    (host_project / "base.html").write_text(HOST_LAYOUT)
    (host_project / "parley").mkdir()
    (host_project / "parley" / "base.html").write_text(HOST_PARLEY_BASE)
    make_room("lobby")
    client.force_login(make_user("alice"))

    response = client.get(reverse("parley:room", kwargs={"slug": "lobby"}))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>#lobby · Parley</title>" in html
    head = html[: html.index("</head>")]
    assert 'href="/static/parley/parley.css"' in head
    assert 'id="parley-urls"' in head
    main = html[html.index('<main class="site-main">') : html.index("</body>")]
    assert 'id="composer"' in main
    assert '<nav class="sidebar"' in main
    scripts = html[html.index("</main>\n") :]
    assert 'src="/static/parley/parley.js"' in scripts
    assert 'src="/static/parley/search.js"' in scripts
    # None of Parley's own chrome: the project's header, no Parley top bar.
    assert 'class="topbar"' not in html
    assert json_scripts(html)["parley-urls"]["index"] == "/chat/"
