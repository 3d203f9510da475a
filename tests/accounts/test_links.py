"""Parley's pages link to the host's account pages: log-in follows LOGIN_URL, sign-up and sign-out
show only where PARLEY names them (parley/accounts/links.py)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import NoReverseMatch, reverse

from parley.conf import parley_settings

pytestmark = pytest.mark.django_db

NO_LINKS = {"SIGNUP_URL": None, "LOGOUT_URL": None}


def test_the_example_site_links_to_parleys_own_account_pages(client, make_user):
    html = client.get("/").content.decode()
    assert 'href="/accounts/login/"' in html
    assert 'href="/accounts/signup/"' in html
    client.force_login(make_user("alice"))
    assert 'method="post" action="/accounts/logout/"' in client.get("/").content.decode()


def test_log_in_links_and_redirects_follow_the_hosts_login_url(client, make_room, settings):
    settings.LOGIN_URL = "/members/sign-in/"
    make_room("lobby", guests_allowed=True)
    make_room("back-office", is_private=True)
    assert 'href="/members/sign-in/"' in client.get("/").content.decode()
    assert 'href="/accounts/login/' not in client.get("/").content.decode()
    # A guest's page offers to sign in and come back.
    assert 'href="/members/sign-in/?next=/chat/lobby/"' in client.get("/chat/lobby/").content.decode()
    assert client.get("/chat/back-office/").url == "/members/sign-in/?next=/chat/back-office/"


def test_a_host_without_sign_up_or_sign_out_pages_gets_no_such_links(client, make_user, settings):
    settings.PARLEY = {**settings.PARLEY, **NO_LINKS}
    for path in ("/", "/accounts/login/"):
        html = client.get(path).content.decode()
        assert "/accounts/signup/" not in html
        assert "Sign up" not in html
        assert "Create an account" not in html
        assert 'href="/accounts/login/"' in html or path == "/accounts/login/"
    client.force_login(make_user("alice"))
    html = client.get("/").content.decode()
    assert "Log out" not in html
    assert "/accounts/logout/" not in html


def test_sign_up_and_sign_out_links_take_a_url_name_or_a_path(client, make_user, settings):
    settings.PARLEY = {**settings.PARLEY, "SIGNUP_URL": "/join/", "LOGOUT_URL": "parley_accounts:logout"}
    assert 'href="/join/"' in client.get("/").content.decode()
    client.force_login(make_user("alice"))
    assert 'method="post" action="/accounts/logout/"' in client.get("/").content.decode()
    # The form posts (Django's LogoutView answers only POST) and signs out.
    client.post("/accounts/logout/")
    assert not client.get("/").context["user"].is_authenticated


def test_parleys_account_pages_live_in_their_own_namespace():
    assert reverse("parley_accounts:login") == "/accounts/login/"
    assert reverse("parley_accounts:signup") == "/accounts/signup/"
    with pytest.raises(NoReverseMatch):
        reverse("signup")  # a host's own "login" or "signup" is never Parley's


@pytest.mark.parametrize(("key", "value"), [("SIGNUP_URL", ""), ("LOGOUT_URL", 3)])
def test_a_link_setting_is_a_name_a_path_or_none(settings, key, value):
    settings.PARLEY = {key: value}
    with pytest.raises(ImproperlyConfigured, match=rf'^PARLEY\["{key}"\] is .*a URL name'):
        getattr(parley_settings, key)
