"""Prometheus metrics of the transport, served at ``/metrics``.

Each server process keeps its own figures (scrape every process, or set
``PROMETHEUS_MULTIPROC_DIR`` under Gunicorn so the workers share them).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

SOCKETS_OPEN = Gauge("parley_sockets_open", "WebSocket connections open in this process.")
FRAMES_IN = Counter("parley_frames_in_total", "Frames received from clients.")
FRAMES_OUT = Counter("parley_frames_out_total", "Frames written to clients.")
MESSAGES_STORED = Counter("parley_messages_stored_total", "Messages stored by this process.")
FANOUT_LATENCY = Histogram(
    "parley_fanout_latency_seconds",
    "From a message's commit to its fan-out by this process's hub.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
HUB_HELD = Gauge("parley_hub_held_events", "Events the hub holds until a missing seq arrives or is repaired.")
SLOW_READER_CLOSES = Counter("parley_slow_reader_closes_total", "Sockets closed with 4408 for not reading.")
LAYER_RECONNECTS = Counter("parley_layer_reconnects_total", "Times the channel layer answered again after an outage.")
REPAIRED = Counter("parley_messages_repaired_total", "Messages the hub read from storage because the layer lost them.")
