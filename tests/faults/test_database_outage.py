"""PostgreSQL stopped for a few seconds while senders send and readers read.

While the database is down a send is answered ``unavailable`` and nothing is acknowledged; each
sender retries the same ``client_id`` with back-off, so sends resume by themselves once the
database is back, on the same sockets. At the end no acknowledged message is lost, every reader
(one of them subscribed during the outage) holds exactly seqs 1..N, and the server has said
what happened once, not once per failed send.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.e2e.site import RoomSpec, Site, UserSpec
from tests.faults.dependencies import postgres_start, postgres_stop
from tests.faults.traffic import PERSISTENT_CONNECTIONS, Traffic, error_lines, traceback_count
from tests.servers import NO_RATE_LIMITS

pytestmark = [pytest.mark.e2e]

READERS = 6
SENDERS = 2
WINDOW = 4
INTERVAL = 0.01
DOWN = 2.5  # seconds PostgreSQL stays down (then it takes a second or two to start)
# Acks of sends committed just before the stop may still be on their way when it returns.
SETTLING = 0.5
HANDFUL = 5


@pytest.fixture(scope="module")
def site(site_factory, postgres_url: str) -> Site:
    return site_factory(
        rooms=(RoomSpec("db-outage", guests=True),),
        users=tuple(UserSpec(f"sender-{i}") for i in range(SENDERS)),
        database_url=postgres_url,
    )


@pytest.mark.usefixtures("restarts_postgres")
async def test_a_database_outage_loses_nothing_and_sends_resume_by_themselves(site: Site, postgres_url: str):
    # With persistent connections every one is dead after the outage, and must be found so and replaced.
    server = site.start("uvicorn", CHANNEL_LAYER_URL="memory://", **PERSISTENT_CONNECTIONS, **NO_RATE_LIMITS)
    traffic = Traffic.for_site(
        site, [server], "db-outage", readers=READERS, senders=SENDERS, window=WINDOW, interval=INTERVAL
    )
    try:
        await traffic.start()
        await traffic.wait_acked(100, within=30)
        try:
            await asyncio.to_thread(postgres_stop)
            stopped_at = time.monotonic()
            await asyncio.sleep(SETTLING)
            refused_before = traffic.unavailable()
            late = traffic.add_reader([server.ws_url], "late-reader")  # subscribes while the database is down
            await asyncio.sleep(DOWN - SETTLING)
            restarting_at = time.monotonic()
        finally:
            await asyncio.to_thread(postgres_start)
        back_at = time.monotonic()
        refused = traffic.unavailable()
        acked_while_down = traffic.acks_between(stopped_at + SETTLING, restarting_at)

        acked_when_back = traffic.acked()
        await traffic.wait_acked(acked_when_back + 100, within=30)
        resumed = min(moment for sender in traffic.senders for moment in sender.acked_at if moment >= back_at)
        head = await traffic.finish(within=30)

        traffic.check_readers(head)
        traffic.check_storage(postgres_url)
        log = server.output()
        errors = error_lines(log)
        tracebacks = traceback_count(log)
        print(
            f"\n[database outage] head {head}; PostgreSQL down {restarting_at - stopped_at:.1f} s (+"
            f" {back_at - restarting_at:.1f} s to start); {refused} sends answered 'unavailable'"
            f" ({refused - refused_before} after the first {SETTLING} s), {acked_while_down} acknowledged meanwhile;"
            f" first ack {(resumed - back_at) * 1000:.0f} ms after pg_isready; late reader refused {late.refused}"
            f" time(s), subscribed {late.first_subscribed:.1f} s after it started; server log: {len(errors)} error"
            f" line(s), {tracebacks} traceback(s)"
        )
        assert late.refused > 0, "a subscribe while the database is down is answered 'unavailable'"
        assert acked_while_down == 0, "nothing can be acknowledged while the database is down"
        assert refused >= 10, "senders kept sending during the outage, and were told 'unavailable'"
        assert all(client.sessions == 1 for client in (*traffic.readers, *traffic.senders)), (
            "the server keeps every socket open through a database outage"
        )
        once = f"for {refused} refused sends: the outage must be logged once, not per send"
        assert len(errors) <= HANDFUL, f"{len(errors)} error lines {once}: {errors[:10]}"
        assert tracebacks <= HANDFUL, f"{tracebacks} tracebacks {once}"
    finally:
        await traffic.close()
        server.stop()
