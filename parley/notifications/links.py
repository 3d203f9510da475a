"""Where a notification may lead: ``data.url`` is a path on this site, or a URL on an allowed origin.

The bell makes ``data.url`` a link. Anything else (``//evil.example``, ``/\\evil.example``,
``https://evil.example``, ``javascript:…``) would be an off-site or script link in the site's own
chrome, so ``notify`` refuses it, and the bell (``bell.js``) checks again with the browser's own
URL parser, for rows stored before this rule.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from parley.conf import parley_settings

# What a browser's URL parser ignores (WHATWG URL): C0 controls and spaces at either end, and
# tabs and newlines anywhere — "/\t/evil.example" is "//evil.example" to it.
_ENDS = "".join(chr(code) for code in range(0x21))
_TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")


def link_origins() -> list[str]:
    """The origins besides this site that notifications may link to (``PARLEY_NOTIFICATION_URL_ORIGINS``)."""
    origins: list[str] = parley_settings.NOTIFICATION_URL_ORIGINS
    return [origin.rstrip("/").lower() for origin in origins]


def link_allowed(url: object) -> bool:
    """Whether ``url`` is a path on this site (one ``/``, then not ``/`` or ``\\``) or a URL on an allowed origin."""
    if not isinstance(url, str):
        return False
    cleaned = _TAB_OR_NEWLINE.sub("", url.strip(_ENDS))
    if cleaned.startswith("/"):
        return cleaned[1:2] not in ("/", "\\")
    if "\\" in cleaned:
        return False  # browsers read it as "/" in http(s) URLs, Python does not: never guess
    try:
        parts = urlsplit(cleaned)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and f"{parts.scheme}://{parts.netloc}".lower() in link_origins()


def link_rule() -> str:
    """The rule as a sentence, for refusals."""
    rule = "A notification's data.url must be a path on this site starting with a single '/', such as '/orders/7/'"
    origins = link_origins()
    if origins:
        return f"{rule}, or a URL on {', '.join(origins)}."
    return f"{rule} (PARLEY_NOTIFICATION_URL_ORIGINS may allow other sites)."
