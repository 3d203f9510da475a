"""An export's memory stays flat on the server (``bench/export_rss.py``), also on Daphne with a client
that reads slowly: Daphne would buffer what the client has not read yet, unless Parley's patch
(``parley.realtime.daphne_compat.pace_http_responses``) makes the stream wait for it."""

from __future__ import annotations

from pathlib import Path

from bench.export_rss import measure, seeded_site

MESSAGES = 50_000  # a 21 MB archive
READ_RATE = 2e6  # bytes a second: a client on a slow link


def test_a_slow_client_does_not_make_daphne_hold_the_archive(tmp_path: Path):
    with seeded_site("sqlite", [MESSAGES], tmp_path, {}) as site:
        run = measure(site, "daphne", MESSAGES, False, tmp_path, READ_RATE)
    assert run.messages == MESSAGES
    # Unpatched, the growth was most of what the client had not read (about 17 MiB here); a batch
    # of rows, a piece of the document and Daphne's 1 MiB of backlog are what may remain.
    assert run.growth < 10 * 1024, run.line()
