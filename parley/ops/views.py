"""``/healthz`` (the process is alive), ``/readyz`` (its dependencies answer) and ``/metrics``."""

from __future__ import annotations

import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest


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
    """This process's metrics in Prometheus' text format."""
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)


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
