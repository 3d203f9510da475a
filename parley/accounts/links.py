"""Where Parley's pages send people to sign in, sign up and sign out: the host's pages.

Signing in follows the host's ``LOGIN_URL`` (as ``login_required`` does). Sign-up and sign-out
links show only when the host says where they go (``PARLEY["SIGNUP_URL"]`` and
``PARLEY["LOGOUT_URL"]``): a host whose own layout has them, or that has no sign-up, shows none.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import resolve_url

from parley.conf import parley_settings


def login_url(*, next_url: str = "") -> str:
    """The host's log-in page (``LOGIN_URL``: a URL name or a path), coming back to ``next_url``."""
    if not next_url:
        return resolve_url(settings.LOGIN_URL)
    # Django's own way of adding ?next= to LOGIN_URL, as login_required redirects.
    return str(redirect_to_login(next_url)["Location"])


def signup_url() -> str | None:
    """Where to sign up (``PARLEY["SIGNUP_URL"]``), or None for no sign-up link."""
    url = parley_settings.SIGNUP_URL
    return None if url is None else resolve_url(url)


def logout_url() -> str | None:
    """Where the sign-out form posts (``PARLEY["LOGOUT_URL"]``), or None for no sign-out button."""
    url = parley_settings.LOGOUT_URL
    return None if url is None else resolve_url(url)
