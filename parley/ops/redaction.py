"""Keep credentials out of the logs.

Parley never logs a password or a token itself, but servers log request lines: Uvicorn writes
every WebSocket handshake's path with its query string (``"WebSocket /ws/?token=…" [accepted]``)
even with its access log off. Parley does not take tokens from the query string, yet a client
that tries would leave its token in the log. This filter, on Parley's log handler, masks the
values of credential-like query parameters and anything shaped like a Parley API token.
"""

from __future__ import annotations

import logging
import re

# parley.accounts.services.TOKEN_PREFIX, written out: logging is set up before the apps are loaded,
# so this module may import no models (tests check that the two agree).
TOKEN_PREFIX = "parley_"
REDACTED = "[redacted]"
_QUERY_SECRET = re.compile(
    r"(?P<name>[?&;](?:token|access_token|api_key|apikey|key|password|secret|session|sessionid)=)[^&;\s\"'#]+",
    re.IGNORECASE,
)
# TOKEN_PREFIX and 43 URL-safe characters (secrets.token_urlsafe(32)); 20 or more catch a cut one.
_API_TOKEN = re.compile(re.escape(TOKEN_PREFIX) + r"[A-Za-z0-9_-]{20,}")


def redact(text: str) -> str:
    """``text`` with credential-like query values and API tokens masked."""
    text = _QUERY_SECRET.sub(lambda match: match.group("name") + REDACTED, text)
    return _API_TOKEN.sub(TOKEN_PREFIX + REDACTED, text)


class RedactSecrets(logging.Filter):
    """A handler filter that rewrites each record's message with ``redact``; it drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
