"""``{% load parley %}``: Parley on a page, whoever's layout it is.

- ``{% parley_bell %}``: the live notification bell of the signed-in user (nothing for anyone
  else), with everything it needs: its markup, its starting state, its stylesheet and script, and
  the page config. Put it in any template rendered with a request (``render(request, …)``).
- ``{% parley_assets %}``: Parley's stylesheet and the page config; what every Parley page puts in
  ``{% block parley_head %}``.
- ``{% parley_config %}``: the addresses Parley's scripts use (``page_config.page_urls``).

Each piece is rendered once per page, whichever of them asks first: a page with the bell in its
header and Parley's config in its head gets one ``parley-urls`` element.
"""

from __future__ import annotations

from typing import Any, cast

from django import template
from django.http import HttpRequest
from django.templatetags.static import static
from django.utils.html import format_html, json_script
from django.utils.safestring import SafeString

from parley.notifications.links import link_origins
from parley.notifications.selectors import notifications_page, notifications_unread_count
from parley.web.page_config import page_urls

register = template.Library()

# Newest notifications a page is rendered with; the socket brings everything after them.
BELL_RECENT = 10
_RENDERED = "parley.rendered"


def _first_time(context: template.Context, piece: str) -> bool:
    """Whether ``piece`` is rendered for the first time in this page's render.

    The render context's first dict lives as long as the whole render, through ``{% extends %}``,
    ``{% include %}`` and inclusion tags alike (Django's own ``{% include %}`` caches there too).
    """
    root = cast("dict[str, Any]", context.render_context.dicts[0])  # the stubs type it for IncludeNode's cache
    rendered: set[str] = root.setdefault(_RENDERED, set())
    if piece in rendered:
        return False
    rendered.add(piece)
    return True


def _request(context: template.Context) -> HttpRequest | None:
    # A RequestContext (render(request, …), TemplateResponse) carries its request, with or
    # without the "request" context processor; a plain Context may have it as a variable.
    request = getattr(context, "request", None) or context.get("request")
    return request if isinstance(request, HttpRequest) else None


@register.simple_tag(takes_context=True)
def parley_config(context: template.Context) -> SafeString:
    """The addresses the scripts use, as ``<script type="application/json" id="parley-urls">``
    (data, not code: the Content-Security-Policy allows it); once per page."""
    if not _first_time(context, "config"):
        return SafeString("")
    return json_script(page_urls(), "parley-urls")


@register.simple_tag(takes_context=True)
def parley_assets(context: template.Context) -> SafeString:
    """Parley's stylesheet and the page config: what Parley's pages need in the page's head."""
    return format_html('<link rel="stylesheet" href="{}">{}', static("parley/parley.css"), parley_config(context))


def bell_state(*, user_id: int) -> dict[str, Any]:
    """The bell's starting state: the unread count, the newest notifications (worded and linked
    by their kinds) and the origins besides this one a link may lead to (the script checks every link).

    The bell goes live from here: it asks the socket for everything after the newest id shown, so
    nothing stored between rendering and connecting is missed.
    """
    unread = notifications_unread_count(user_id=user_id)
    return {
        "unread": unread,
        # What the badge shows, and so what the button's accessible name says (the script caps it alike).
        "badge": "99+" if unread > 99 else str(unread),
        "recent": notifications_page(user_id=user_id, limit=BELL_RECENT),
        "link_origins": link_origins(),
    }


@register.inclusion_tag("parley/bell.html", takes_context=True)
def parley_bell(context: template.Context) -> dict[str, Any]:
    """The signed-in user's live notification bell, once per page; nothing for anyone else, or
    when the template is rendered without a request."""
    request = _request(context)
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not _first_time(context, "bell"):
        return {"bell": None}
    return {"bell": bell_state(user_id=user.pk), "config": parley_config(context)}
