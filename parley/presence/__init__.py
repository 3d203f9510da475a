"""Who is here, kept in Redis across server processes (or in this process without ``REDIS_URL``).

- ``claims``: expiring claims in Redis, renewed by a heartbeat and released on exit: the one
  mechanism both of the others use;
- ``online``: whether a user has a socket open anywhere (mention e-mails go only to the away);
- ``rooms``: who follows each room, for the ``presence`` and ``presence_diff`` frames.

On the plumbing floor (``docs/architecture.md``): the hub records here, the domain reads here,
and nothing here imports either.
"""
