"""A bot that answers ``!echo <text>`` in a Parley room.

    export PARLEY_TOKEN=$(python manage.py issuetoken echo-bot --create | tail -n 1)
    python clients/python/examples/echo_bot.py ws://127.0.0.1:8000/ws/ lobby

It survives server restarts and network drops by itself: the client reconnects, resumes the room
after the last message it delivered, and resends an unacknowledged reply with the same
``client_id``, so every ``!echo`` is answered once.
"""

from __future__ import annotations

import argparse
import asyncio
import os

from parley_client import ParleyClient


async def echo(url: str, room: str, *, token: str, replies: int | None = None) -> None:
    """Answer every ``!echo`` in ``room``; stop after ``replies`` answers, if given."""
    async with ParleyClient(url, token=token) as client:
        await client.subscribe(room)  # new messages only; since=N would first replay those after N
        answered = 0
        async for message in client.messages():
            if not message.body.startswith("!echo "):
                continue  # our own replies included: they never start with "!echo"
            ack = await client.send(room, f"{message.author.name} said: {message.body.removeprefix('!echo ')}")
            print(f"answered #{message.seq} with #{ack.seq}", flush=True)
            answered += 1
            if answered == replies:
                return


def main() -> None:
    parser = argparse.ArgumentParser(description="Answer '!echo <text>' in a Parley room.")
    parser.add_argument("url", help="the server's socket address, e.g. ws://127.0.0.1:8000/ws/")
    parser.add_argument("room", help="the room's slug")
    parser.add_argument("--replies", type=int, help="stop after this many answers")
    args = parser.parse_args()
    asyncio.run(echo(args.url, args.room, token=os.environ["PARLEY_TOKEN"], replies=args.replies))


if __name__ == "__main__":
    main()
