"""How many events a second one process's publisher gets through a Redis channel layer that is
some milliseconds away (``parley.events.publish.Publisher``).

    .venv/bin/python bench/publish_rate.py                  # +20 ms, both Redis layers, 1 and 20 rooms
    .venv/bin/python bench/publish_rate.py --delay 0        # Redis on loopback as it is
    cd ../other-checkout && /path/to/.venv/bin/python /path/to/bench/publish_rate.py   # that checkout's code

It measures the code of the checkout it is run from (the current directory comes first on the
import path; the first line printed says which ``parley`` was imported), so the same script
measures a branch and ``main``. The publisher reaches Redis (127.0.0.1:6379, database
``--redis-db``, flushed before and after) through ``tests/faults/forwarder.py``, which holds what
the publisher sends for ``--delay`` seconds: a link delay, as the partition test adds one where the
kernel has no ``tc netem``. A reader on the same layer, connected directly, counts the events as
they arrive. Each run publishes ``--events`` events at once (room i gets event n when n % rooms ==
i), from the publisher's event loop, and reports events / seconds from the first publish to the
last arrival (or to ``--seconds``, whichever comes first). Each figure is the median of
``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path.cwd()), str(Path.cwd() / "example")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ.setdefault("CHANNEL_LAYER_URL", "memory://")

import django  # noqa: E402

django.setup()

import redis  # noqa: E402
from channels_redis.core import RedisChannelLayer  # noqa: E402
from channels_redis.pubsub import RedisPubSubChannelLayer  # noqa: E402

import parley  # noqa: E402
from parley.events import publish as publishing  # noqa: E402

try:  # the layers the example site maps redis:// and redis+pubsub:// to, where the checkout has them
    from parley.realtime.redis_layer import BatchingRedisChannelLayer as RedisLayer
    from parley.realtime.redis_layer import BatchingRedisPubSubChannelLayer as PubSubLayer
except ImportError:  # a checkout from before them: channels_redis's own
    RedisLayer, PubSubLayer = RedisChannelLayer, RedisPubSubChannelLayer
from tests.servers import free_port  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent  # this checkout, whose forwarder runs
LAYERS = {"redis+pubsub": PubSubLayer, "redis": RedisLayer}


def make_layer(kind: str, url: str, events: int) -> Any:
    if kind == "redis":
        return RedisLayer(hosts=[url], capacity=events + 10, prefix="bench")
    return PubSubLayer(hosts=[url], prefix="bench")


async def one_run(kind: str, rooms: int, events: int, seconds: float, delayed_url: str, direct_url: str) -> float:
    """Events a second from the first publish to the last arrival."""
    groups = [f"parley.room.{i}" for i in range(rooms)]
    reader_layer = make_layer(kind, direct_url, events)
    reader = await reader_layer.new_channel("bench.")
    for group in groups:
        await reader_layer.group_add(group, reader)
    publisher_layer = make_layer(kind, delayed_url, events)
    publishing.start_publisher(publisher_layer)
    # One send first, so that both layers' connections are open before the clock starts.
    publishing.publish(groups[0], {"type": "bench.event", "n": -1})
    await reader_layer.receive(reader)
    received = 0
    started = time.monotonic()
    for n in range(events):
        publishing.publish(groups[n % rooms], {"type": "bench.event", "n": n})
    try:
        async with asyncio.timeout(seconds):
            while received < events:
                await reader_layer.receive(reader)
                received += 1
    except TimeoutError:
        pass
    elapsed = time.monotonic() - started
    publisher = publishing._publisher
    if publisher is not None:
        publisher.handoff.task.cancel()
    publishing._publisher = None
    await reader_layer.flush()
    await publisher_layer.flush()
    return received / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delay", type=float, default=0.02, help="seconds added to the publisher's link (0.02)")
    parser.add_argument("--layers", nargs="+", default=list(LAYERS), choices=list(LAYERS))
    parser.add_argument("--rooms", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--events", type=int, default=1000, help="events a run publishes at once (1000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="longest a run waits for them (10)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--redis-db", type=int, default=13)
    options = parser.parse_args()

    direct_url = f"redis://127.0.0.1:6379/{options.redis_db}"
    port = free_port()
    forwarder = subprocess.Popen(
        [sys.executable, "-m", "tests.faults.forwarder", f"127.0.0.1:{port}=127.0.0.1:6379@{options.delay}"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert forwarder.stdout is not None
        assert forwarder.stdout.readline().strip() == "listening", "the forwarder did not start"
        delayed_url = f"redis://127.0.0.1:{port}/{options.redis_db}"
        print(f"parley from {Path(parley.__file__).parent}; publisher's link +{options.delay * 1000:.0f} ms")
        for kind in options.layers:
            for rooms in options.rooms:
                rates = []
                for _ in range(options.repeat):
                    _flush(direct_url)
                    rates.append(
                        asyncio.run(one_run(kind, rooms, options.events, options.seconds, delayed_url, direct_url))
                    )
                runs = ", ".join(f"{rate:.0f}" for rate in rates)
                print(f"{kind:>13} {rooms:>3} rooms: {statistics.median(rates):7.0f} events/s (runs: {runs})")
    finally:
        _flush(direct_url)
        forwarder.terminate()
        forwarder.wait()


def _flush(url: str) -> None:
    with redis.Redis.from_url(url) as client:
        client.flushdb()


if __name__ == "__main__":
    main()
