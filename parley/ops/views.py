"""``/healthz`` (the process is alive), ``/readyz`` (its dependencies answer) and ``/metrics``."""

from __future__ import annotations

import ipaddress
import secrets
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from parley.accounts.login_throttle import request_client_address
from parley.conf import parley_settings


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Answers while the process can serve a request at all."""
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    """200 when the database and the channel layer both answer, 503 with the failing ones otherwise."""
    checks = {"database": _database_answers(), "channel_layer": _layer_answers()}
    ready = all(checks.values())
    return JsonResponse({"status": "ready" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """This process's metrics in Prometheus' text format, for the scrapers ``metrics_refusal`` lets in."""
    refusal = metrics_refusal(request)
    if refusal is not None:
        return refusal
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)


def metrics_refusal(request: HttpRequest) -> HttpResponse | None:
    """None for a scrape that may read the metrics, else the answer that says why not.

    A scrape may read them with ``Authorization: Bearer <PARLEY_METRICS_TOKEN>`` (when a token is
    set) or from an address in ``PARLEY_METRICS_ALLOWED_IPS`` (loopback by default), read as for
    everything else behind ``PARLEY_TRUSTED_PROXIES``. A wrong token is refused wherever it
    comes from: a scraper that sends one should learn that it is wrong.
    """
    token: str = parley_settings.METRICS_TOKEN
    sent = request.headers.get("Authorization")
    if token and sent is not None:
        if secrets.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return None
        return _metrics_unauthorized("The Authorization header does not hold the metrics token (PARLEY_METRICS_TOKEN).")
    address = request_client_address(request)
    if _address_allowed(address):
        return None
    if token:
        return _metrics_unauthorized("Send 'Authorization: Bearer <PARLEY_METRICS_TOKEN>' to read the metrics.")
    detail = (
        f"Metrics are served only to the addresses in PARLEY_METRICS_ALLOWED_IPS, and {address or 'yours'} "
        "is not one of them (or set PARLEY_METRICS_TOKEN and send it as a bearer token)."
    )
    return HttpResponse(detail, status=403, content_type="text/plain; charset=utf-8")


def _metrics_unauthorized(detail: str) -> HttpResponse:
    response = HttpResponse(detail, status=401, content_type="text/plain; charset=utf-8")
    response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


def _address_allowed(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False  # a Unix socket, or nothing the server could say
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    networks: list[str] = parley_settings.METRICS_ALLOWED_IPS
    return any(ip in ipaddress.ip_network(network, strict=False) for network in networks)


def _database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return bool(cursor.fetchone() == (1,))
    except Exception:
        return False


def _layer_answers() -> bool:
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        # A send to a fresh group with no members round-trips to the layer and leaves nothing behind.
        async_to_sync(layer.group_send)(f"parley.readyz.{uuid.uuid4().hex}", {"type": "readyz"})
    except Exception:
        return False
    return True
