"""The benchmark's peers answer as ``make bench`` expects, in both client modes.

A few seconds of small loads (20 receivers, 5 messages) against the Node ``ws`` server, Socket.IO
(one process, and two over its Redis adapter) and Parley as shipped (Uvicorn's permessage-deflate off), so
that a broken peer or load generator shows here rather than at the end of a long ``make bench``;
and the deflate rows stay honest: a client that offers compression gets it from the peers (which
``make bench`` starts with it on) and not from Parley when the server is told not to.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.run import Target, install_peers, loadgen, node_ws, parley, socketio

pytestmark = [pytest.mark.e2e]

RECEIVERS, MESSAGES = 20, 5


@pytest.fixture(scope="module", autouse=True)
def peers_installed() -> None:
    """The peers' npm packages, installed once (``npm ci``) if they are not there."""
    if not install_peers():
        pytest.fail("node and npm are needed to install and run bench/peers")


def small_load(target: Target | None, compression: str) -> dict[str, float]:
    assert target is not None
    return loadgen(target, receivers=RECEIVERS, messages=MESSAGES, rate=0, compression=compression)


@pytest.mark.parametrize("compression", ["none", "deflate"])
def test_node_ws_delivers_every_message(tmp_path: Path, compression: str) -> None:
    with node_ws(tmp_path) as target:
        run = small_load(target, compression)
    assert (run["delivered"], run["loss"]) == (RECEIVERS * MESSAGES, 0)
    assert run["deflate_negotiated"] == (compression == "deflate")


@pytest.mark.parametrize("processes", [1, 2])
@pytest.mark.parametrize("compression", ["none", "deflate"])
def test_socketio_delivers_every_message(tmp_path: Path, compression: str, processes: int) -> None:
    with socketio(tmp_path, count=processes) as target:
        assert target is not None
        assert len(target.url.split(",")) == processes
        run = small_load(target, compression)
    assert (run["delivered"], run["loss"]) == (RECEIVERS * MESSAGES, 0)
    assert run["deflate_negotiated"] == (compression == "deflate")


def test_parley_with_deflate_off_declines_what_browsers_offer(tmp_path: Path) -> None:
    with parley(tmp_path, layer_url="memory://") as target:
        run = small_load(target, "deflate")
    assert (run["delivered"], run["loss"]) == (RECEIVERS * MESSAGES, 0)
    assert run["deflate_negotiated"] == 0
