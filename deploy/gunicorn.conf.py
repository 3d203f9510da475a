"""Gunicorn settings for Parley: Uvicorn workers, and Parley's log format on every line.

    gunicorn -c deploy/gunicorn.conf.py config.asgi:application -w 4 -b 127.0.0.1:8000

Options on the command line win over the ones here. The settings are read from the environment
exactly as the workers read them, so the master's own lines (start, worker boots, stop) take
``PARLEY_LOG_FORMAT`` too.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from django.conf import settings

# The example site's settings (config/) live in example/ beside this folder.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "example"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# After the settings module is named: the worker module reads Parley's settings.
import parley.ops.servers


# Uvicorn workers whose connections must send a whole request header within PARLEY_HEADER_TIMEOUT
# seconds (default 10), or are answered 408 and closed: plain Uvicorn waits for ever (slow-loris).
# And, as `uvicorn --ws-per-message-deflate false`, they decline the permessage-deflate every
# browser offers: measured by `make bench`, it more than doubles each idle socket's memory and
# costs flat-out fan-out about a third (every frame compressed once per socket), to shrink
# frames of a few hundred bytes. (Daphne never accepts it.)
class UvicornWorker(parley.ops.servers.UvicornWorker):
    """Parley's Uvicorn worker with permessage-deflate off."""

    CONFIG_KWARGS = {**parley.ops.servers.UvicornWorker.CONFIG_KWARGS, "ws_per_message_deflate": False}


worker_class = UvicornWorker
bind = "127.0.0.1:8000"
workers = 2
# On SIGTERM a worker closes its WebSockets (clients reconnect and resume with `since`); one that
# is still busy after this many seconds is killed.
graceful_timeout = 20
# Gunicorn's control socket lives at one path per user (~/.gunicorn/gunicorn.ctl): a second
# instance on the host (another site, a test run) would take it over. Parley does not use it.
control_socket_disable = True
logconfig_dict = settings.LOGGING
