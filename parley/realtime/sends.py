"""A process's plain sends, stored in groups: while the database threads are busy committing, the
sends that arrive wait and go together in the next commit (``parley.rooms.group_commit``).

A send that arrives while a database thread is free is stored at once; under load, each commit
takes everything that arrived meanwhile (``parley.realtime.batches``), so the transactions and
thread hops per message fall as the load rises. As many commits run at once as ``db_call`` has
threads (one on SQLite): a commit is mostly waiting for the database's answers, one statement at a
time. A socket has at most one send in flight (it handles its frames one at a time), and sends are
grouped in the order they arrived, so each room's messages keep the order their senders sent them in.
"""

from __future__ import annotations

import asyncio
import weakref

from parley.realtime.batches import Batches
from parley.realtime.database import db_call, db_calls_at_once
from parley.rooms.group_commit import Outcome, Send, message_send_many
from parley.rooms.services import PostResult

# The most sends one transaction stores: a bound on how long the rows of its rooms stay locked.
MOST_PER_COMMIT = 200

_group_commits: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Batches[Send, PostResult]] = (
    weakref.WeakKeyDictionary()
)


async def _commit(sends: list[Send]) -> list[Outcome]:
    return await db_call(message_send_many)(sends=sends)


def group_commit() -> Batches[Send, PostResult]:
    """This event loop's plain sends: ``await group_commit().submit(send)`` stores ``send`` with
    the others that arrive meanwhile, and returns its result or raises what refused it."""
    loop = asyncio.get_running_loop()
    found = _group_commits.get(loop)
    if found is None:
        found = _group_commits[loop] = Batches(_commit, most=MOST_PER_COMMIT, at_once=db_calls_at_once)
    return found
