"""The webhook signature: what a receiver recomputes to know a POST came from Parley."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Parley-Signature"
DELIVERY_HEADER = "X-Parley-Delivery"
EVENT_HEADER = "X-Parley-Event"


def signature(*, secret: str, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256 of the exact body bytes, keyed with the webhook's secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(*, secret: str, body: bytes, header: str) -> bool:
    """Whether ``header`` is the signature of ``body``: what a receiver checks (in constant time)."""
    return hmac.compare_digest(signature(secret=secret, body=body), header)
