"""Links of Parley's pages to the host's account pages (``parley/accounts/links.py``): after
``{% load parley_accounts %}``, ``{% parley_signup_url as signup_url %}`` and ``{% if signup_url %}``."""

from __future__ import annotations

from django import template

from parley.accounts import links

register = template.Library()


@register.simple_tag
def parley_login_url(next_url: str = "") -> str:
    """The host's log-in page (``LOGIN_URL``), coming back to ``next_url`` when given."""
    return links.login_url(next_url=next_url)


@register.simple_tag
def parley_signup_url() -> str:
    """Where to sign up, or "" when the host names no sign-up page (``PARLEY["SIGNUP_URL"]``)."""
    return links.signup_url() or ""


@register.simple_tag
def parley_logout_url() -> str:
    """Where to post to sign out, or "" when the host names none (``PARLEY["LOGOUT_URL"]``)."""
    return links.logout_url() or ""
