"""A TCP forwarder: ``python -m tests.faults.forwarder LISTEN=TARGET[@DELAY]...``.

The partition test's Parley hosts live in network namespaces and reach this machine's PostgreSQL
and Redis (which listen on 127.0.0.1 only) through it, across their veth links. A route with
``@DELAY`` (seconds) holds everything a host sends on it for that long before passing it on, in
order: a link delay on that path, where the kernel has no ``tc netem`` (sch_netem) to add one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time

CHUNK = 65536


async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Copy one direction of a connection, each chunk ``delay`` seconds after it arrived."""
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, data = await queue.get()
            if not data:
                break
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            writer.write(data)
            await writer.drain()

    sender = asyncio.create_task(deliver())
    try:
        while True:
            data = await reader.read(CHUNK)
            queue.put_nowait((time.monotonic() + delay, data))
            if not data:
                break
        await sender
    except (ConnectionError, OSError):
        sender.cancel()
    finally:
        with contextlib.suppress(ConnectionError, OSError):
            writer.close()


async def serve(listen: str, target: str, delay: float) -> asyncio.Server:
    target_host, target_port = target.rsplit(":", 1)

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(target_host, int(target_port))
        except OSError:
            writer.close()
            return
        await asyncio.gather(pump(reader, upstream_writer, delay), pump(upstream_reader, writer, 0.0))

    host, port = listen.rsplit(":", 1)
    return await asyncio.start_server(connected, host, int(port))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("routes", nargs="+", help="LISTEN_HOST:PORT=TARGET_HOST:PORT[@SECONDS]")
    servers = []
    for route in parser.parse_args().routes:
        listen, _, target = route.partition("=")
        target, _, delay = target.partition("@")
        servers.append(await serve(listen, target, float(delay or 0)))
    print("listening", flush=True)
    await asyncio.gather(*(server.serve_forever() for server in servers))


if __name__ == "__main__":
    asyncio.run(main())
