"""The ingest scenario measures what it says: a short load of senders that each wait for their ack
stores and acknowledges every message, refuses none, and reads the server's CPU time; and the
profile summary counts a raw py-spy profile's samples where they belong."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.profile import read, summarise
from bench.run import loadgen_with, parley

pytestmark = [pytest.mark.e2e]


def test_ingest_load_is_acknowledged(tmp_path: Path) -> None:
    with parley(tmp_path, layer_url="memory://", rooms=5) as target:
        run = loadgen_with(
            target, "--mode", "ingest", "--rooms", "5", "--seconds", "2", "--server-pid", str(target.pid)
        )
    assert run["senders"] == 5
    assert run["refused"] == 0
    assert run["acked"] > 10
    assert run["msgs_per_s"] == pytest.approx(run["acked"] / run["seconds"], rel=0.01)
    assert 0 < run["ack_p50_ms"] <= run["ack_p99_ms"]
    assert run["server_cpu_ms_per_msg"] > 0


def test_profile_summary_shares(tmp_path: Path) -> None:
    raw = tmp_path / "profile.txt"
    raw.write_text(
        "main (app.py:1);get_or_create (django/db/models/query.py:9);execute (psycopg/cursor.py:3) 3\n"
        "main (app.py:1);send (uvicorn/protocols/ws.py:5) 1\n"
    )
    lines = summarise(read(raw), top=3)
    assert lines[0].startswith("4 samples, 4 not idle")
    assert "   75.0 %  membership get_or_create" in lines
    assert "   25.0 %  WebSocket protocol (uvicorn, websockets)" in lines
    assert "  100.0 %  main (app.py:1)" in lines
