"""The kinds of background work, registered by the packages that do them.

The task runner sits below the domain: it knows no webhook or mention. Each package that queues
work describes it here once (``ParleyConfig.ready`` registers Parley's own), and the runner looks
a queued task's type up in this table, as Channels looks up a handler by an event's type.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TaskKind:
    """One kind of background work.

    ``name`` is the queued message's type (``"webhooks.deliver"``); ``ids`` the message field that
    names what to work on, a list of ids or one id (``"delivery_ids"``, ``"message_id"``);
    ``run(id)`` does the work for one id and returns None when done, or the seconds after which it
    wants to run again; ``due()``, if given, reads from the database the ids whose work is due,
    for the runners' sweep (retries a restart forgot, work queued while no runner ran).
    """

    name: str
    ids: str
    run: Callable[[int], Awaitable[float | None]]
    due: Callable[[], list[int]] | None = None


_kinds: dict[str, TaskKind] = {}


def task_kinds_register(*kinds: TaskKind) -> None:
    """Make the runner handle these kinds of task (a kind registered again replaces the first)."""
    for kind in kinds:
        _kinds[kind.name] = kind


def task_kind(name: str) -> TaskKind | None:
    """The registered kind of task named ``name``, if any."""
    return _kinds.get(name)


def task_kinds() -> list[TaskKind]:
    """Every registered kind of task, in the order of registration."""
    return list(_kinds.values())
