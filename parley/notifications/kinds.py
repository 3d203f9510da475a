"""What each kind of notification says and where it leads: a registry the host project fills.

The server words every notification (``text``) and picks its link (``url``) when it sends it, in
the page's starting state and in every ``notification`` frame, so the bell shows any kind without
knowing it. A project registers its own kinds once, in an ``AppConfig.ready()``::

    from parley.notifications import kinds

    kinds.register(
        "order.status",
        text="Order #{order_id} is now {status}.",
        url=lambda data: reverse("order-detail", args=[data["order_id"]]),
    )

``text`` and ``url`` are each a ``str.format`` pattern over the notification's data or a callable
taking the data. A kind nobody registered says its ``data.text`` (else ``data.title``, else the
kind's name) and leads to its ``data.url``. Every link is checked by ``links.link_allowed``: one
off the site (unless ``PARLEY["NOTIFICATION_URL_ORIGINS"]`` allows it) is dropped, and the
notification is shown without a link.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypedDict

from parley.notifications.links import link_allowed

logger = logging.getLogger(__name__)

Data = dict[str, Any]
# A ``str.format`` pattern over the data ("Order #{order_id}") or a function of it.
Wording = str | Callable[[Data], str]
Link = str | Callable[[Data], str | None]


@dataclass(frozen=True)
class Kind:
    """How one kind of notification is shown."""

    text: Wording
    url: Link | None = None


class Described(TypedDict):
    """A notification's wording and link, as the wire carries them (``NotificationData``)."""

    text: str
    url: str | None


_registry: dict[str, Kind] = {}


def register(kind: str, *, text: Wording, url: Link | None = None) -> None:
    """Word notifications of ``kind`` with ``text`` and link them to ``url`` (a pattern or a
    callable of the data; a callable may return None for no link; without ``url``, ``data.url``).
    Registering a kind again replaces it."""
    _registry[kind] = Kind(text=text, url=url)


def unregister(kind: str) -> None:
    """Forget how ``kind`` is shown: it falls back to the default wording again."""
    _registry.pop(kind, None)


def registered(kind: str) -> Kind | None:
    """How ``kind`` is shown, or None when nobody registered it."""
    return _registry.get(kind)


def _default_text(kind: str, data: Data) -> str:
    for key in ("text", "title"):
        if isinstance(data.get(key), str) and data[key]:
            return str(data[key])
    return kind


def _apply(spec: str | Callable[[Data], Any], data: Data) -> Any:
    return spec.format_map(data) if isinstance(spec, str) else spec(data)


def notification_described(kind: str, data: Data) -> Described:
    """``{"text": …, "url": …}`` for a notification of ``kind`` with ``data`` (as its recipient may
    see it): from the registry, else the default; ``url`` is None when there is no allowed link."""
    shown = registered(kind)
    text, url = _default_text(kind, data), data.get("url")
    if shown is not None:
        # A host's wording runs on every page with the bell: a mistake in it (a key some old row
        # lacks, say) must cost that one notification its wording, never the page.
        try:
            text = str(_apply(shown.text, data))
            if shown.url is not None:
                url = _apply(shown.url, data)
        except Exception:
            logger.exception("Could not describe a %r notification; showing the default.", kind)
            text, url = _default_text(kind, data), data.get("url")
    if url is not None and not link_allowed(url):
        logger.warning("Dropped the link of a %r notification: %r is not an allowed link.", kind, url)
        url = None
    return Described(text=text, url=url)
