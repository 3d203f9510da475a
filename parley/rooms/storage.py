"""The two statements every post costs, written as SQL because the ORM would need more round trips.

``message_post`` (``parley.rooms.services``) takes the room's next seq and stores the message (and
makes its signed-in sender a member of a public room) with these; with the transaction's BEGIN
and COMMIT a post is four round trips to PostgreSQL. A group commit of many sends on PostgreSQL
(``parley.rooms.group_commit``) uses the statements at the end instead: a few for the whole batch.
"""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.utils import timezone

from parley.rooms.models import Membership, Message, Room

_ROOM_TABLE = Room._meta.db_table
_ROOM_COLUMNS = [str(field.column) for field in Room._meta.concrete_fields]
_MESSAGE_TABLE = Message._meta.db_table
_MESSAGE_ROOM = str(Message._meta.get_field("room").column)
_MESSAGE_AUTHOR = str(Message._meta.get_field("author").column)
_MESSAGE_GUEST = str(Message._meta.get_field("guest_id").column)
# Every column but the id, which the database assigns.
_MESSAGE_FIELDS = [field for field in Message._meta.concrete_fields if not field.primary_key]


# The attribute of a room from ``room_take_next_seq`` that says whether its author is active.
AUTHOR_ACTIVE = "author_active"


@functools.cache
def _users_active() -> tuple[str, str, str]:
    """The user model's table, primary key and ``is_active`` column, quoted; "" for the last when
    the model has no such field (every user then counts as active)."""
    user_model = get_user_model()
    quote = connection.ops.quote_name
    table, key = quote(user_model._meta.db_table), quote(str(user_model._meta.pk.column))
    try:
        active = quote(str(user_model._meta.get_field("is_active").column))
    except FieldDoesNotExist:
        active = ""
    return table, key, active


def _author_active_column() -> str:
    """The ``RETURNING`` column that reads the author's ``is_active``, or "" for a user model without one."""
    table, key, active = _users_active()
    if not active:
        return ""
    return f", (SELECT {active} FROM {table} WHERE {key} = %s) AS {connection.ops.quote_name(AUTHOR_ACTIVE)}"


def room_take_next_seq(*, pk: int | None = None, slug: str | None = None, author_id: int | None = None) -> Room | None:
    """Add one to the room's counter and return the room as it now is, in one statement; None
    when there is no such room. With ``author_id``, the room's ``author_active`` says whether that
    user is still active (falsy for a deleted one), read in the same round trip.

    ``UPDATE … RETURNING`` (PostgreSQL; SQLite 3.35 and later) reads the room, counts its seq and
    locks it until commit, in the round trip that the ORM would need three for. The lock (the row
    on PostgreSQL, the database on SQLite) hands seqs out in commit order and keeps the repeat
    check in ``message_insert_unless_repeated`` free of races. The room comes back with its
    current flags (private, guests, webhooks, restrictions), so access is checked on fresh data.
    """
    quote = connection.ops.quote_name
    column, value = ("id", pk) if slug is None else ("slug", slug)
    returning = ", ".join(quote(name) for name in _ROOM_COLUMNS)
    params: list[object] = [value]
    author_active = _author_active_column() if author_id is not None else ""
    if author_active:
        returning += author_active
        params.append(author_id)
    sql = (
        f"UPDATE {quote(_ROOM_TABLE)} SET {quote('last_seq')} = {quote('last_seq')} + 1 "
        f"WHERE {quote(column)} = %s RETURNING {returning}"
    )
    # A raw query set turns the row into a Room with the backend's converters (SQLite answers
    # booleans as 0 and 1); list() runs the statement to its end, which SQLite needs to finish it.
    rooms = list(Room.objects.raw(sql, params))
    return rooms[0] if rooms else None


def room_give_back_seq(pk: int) -> None:
    """Take back the seq ``room_take_next_seq`` last counted in room ``pk``, in a transaction that
    keeps going after a post it refused or found repeated (a group commit): the room is still
    locked by that transaction, so no other seq was counted since and the seqs stay gapless."""
    quote = connection.ops.quote_name
    sql = f"UPDATE {quote(_ROOM_TABLE)} SET {quote('last_seq')} = {quote('last_seq')} - 1 WHERE {quote('id')} = %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk])


def message_insert_unless_repeated(message: Message, *, member: bool = False) -> bool:
    """Insert ``message`` and set its id; False, inserting nothing, when its sender already
    stored a message with its ``client_id`` in the room (a retried send). With ``member``, its
    author is made a member of the room too, unless they are one already.

    ``INSERT … ON CONFLICT DO NOTHING RETURNING`` answers "is this a repeat?" and stores the
    message in one round trip; looking first took a round trip of its own on every post. The
    unique constraints on (room, author, client_id) and (room, guest_id, client_id) are what
    conflicts: the seq cannot, as it was counted under the room's lock (were the messages ever
    out of step with the room's counter, a restored backup say, the look-up of the first message
    would find none and the post would fail loudly rather than store a gap).

    The membership was a ``get_or_create`` on every post: a look-up built by the ORM and a round
    trip, about a fifth of a post's time in the ingest benchmark's profile. On PostgreSQL it is now
    a data-modifying ``WITH`` in the message's own statement (it runs whether or not the message
    is a repeat; a repeat's sender posted in the room before, so it is one of its members or chose
    to leave since, and a retry joins it again as the first send did); SQLite has no such ``WITH``
    and answers in-process, so there it is a statement of its own.
    """
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in _MESSAGE_FIELDS)
    placeholders = ", ".join(["%s"] * len(_MESSAGE_FIELDS))
    values = [field.get_db_prep_save(field.pre_save(message, add=True), connection) for field in _MESSAGE_FIELDS]
    sql = (
        f"INSERT INTO {quote(_MESSAGE_TABLE)} ({columns}) VALUES ({placeholders}) "
        f"ON CONFLICT DO NOTHING RETURNING {quote('id')}"
    )
    with connection.cursor() as cursor:
        if member:
            joined = [message.room_id, message.author_id, _JOINED_AT.get_db_prep_save(message.created_at, connection)]
            if connection.vendor == "postgresql":
                sql = f"WITH {quote('joined')} AS ({_membership_insert()}) {sql}"
                values = [*joined, *values]
            else:
                cursor.execute(_membership_insert(), joined)
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    message.pk = row[0]
    message._state.adding = False
    return True


_JOINED_AT = Membership._meta.get_field("joined_at")


@functools.cache
def _membership_insert(rows: int = 1) -> str:
    """``INSERT`` members' memberships of rooms (parameters: room, user, joined at, for each of
    ``rows``) unless they have one."""
    quote = connection.ops.quote_name
    fields = {field.name: field for field in Membership._meta.concrete_fields}
    columns = ", ".join(quote(str(fields[name].column)) for name in ("room", "user", "role", "joined_at"))
    role = Membership.Role.MEMBER.value
    row = f"(%s, %s, '{role}', %s)"
    return (
        f"INSERT INTO {quote(Membership._meta.db_table)} ({columns}) "
        f"VALUES {', '.join([row] * rows)} ON CONFLICT DO NOTHING"
    )


# Several sends' statements at once: what a group commit on PostgreSQL uses (``parley.rooms.group_commit``).


def rooms_lock(*, slugs: list[str], author_ids: list[int]) -> tuple[dict[str, Room], set[int]]:
    """Lock the rooms named ``slugs`` for posting, in the order of their slugs, and return them by
    slug with the ids of those of ``author_ids`` who are active users, in one round trip
    (PostgreSQL).

    Every writer of a room's seq locks its row (``room_take_next_seq`` one room at a time), and a
    batch takes its rooms in slug order, so two batches that share rooms cannot deadlock.
    """
    quote = connection.ops.quote_name
    columns = ", ".join(quote(name) for name in _ROOM_COLUMNS)
    sql = (
        f"SELECT {columns}, {_active_users_array()} AS {quote('parley_active')} FROM {quote(_ROOM_TABLE)} "
        f"WHERE {quote('slug')} = ANY(%s) ORDER BY {quote('slug')} FOR UPDATE"
    )
    rooms = {room.slug: room for room in Room.objects.raw(sql, [author_ids, slugs])}
    active = getattr(next(iter(rooms.values())), "parley_active", []) if rooms else []
    return rooms, set(active)


def _active_users_array() -> str:
    """The ids of the users among ``%s`` (an array) who are active, as an array; all of them for a
    user model without ``is_active``."""
    table, key, active = _users_active()
    return f"ARRAY(SELECT {key} FROM {table} WHERE {key} = ANY(%s){f' AND {active}' if active else ''})"


def messages_sent_before(
    *, by_users: list[tuple[int, int, str]], by_guests: list[tuple[int, str, str]]
) -> list[Message]:
    """The stored messages that have these ``(room id, author id, client_id)`` and ``(room id,
    guest id, client_id)``, in one round trip.

    Each pair of conditions is one probe of a unique index on its three columns; asking for the
    rooms and client_ids at large instead read every stored message of the batch's rooms.
    """
    if not by_users and not by_guests:
        return []
    quote = connection.ops.quote_name
    room, author, guest = quote(_MESSAGE_ROOM), quote(_MESSAGE_AUTHOR), quote(_MESSAGE_GUEST)
    client_id = quote("client_id")
    conditions = [f"({room} = %s AND {author} = %s AND {client_id} = %s)"] * len(by_users)
    conditions += [f"({room} = %s AND {author} IS NULL AND {guest} = %s AND {client_id} = %s)"] * len(by_guests)
    columns = ", ".join(quote(str(field.column)) for field in Message._meta.concrete_fields)
    sql = f"SELECT {columns} FROM {quote(_MESSAGE_TABLE)} WHERE {' OR '.join(conditions)}"
    return list(Message.objects.raw(sql, [value for key in [*by_users, *by_guests] for value in key]))


def messages_insert(messages: list[Message], *, members: list[tuple[int, int]], heads: dict[int, int]) -> None:
    """Insert ``messages`` (none of them a repeat: the caller has looked) and set their ids, make
    each ``(room id, user id)`` of ``members`` a member of that room unless they are one, and set
    each locked room's seq counter (room id → its new last seq, ``heads``), in one statement
    (PostgreSQL).

    A conflict raises: the caller checked for repeats with the rooms locked, so one means the
    stored messages are out of step with the rooms' counters, which must fail loudly.
    """
    quote = connection.ops.quote_name
    parts: list[str] = []
    values: list[Any] = []
    if heads:
        rows = ", ".join(["(%s::bigint, %s::bigint)"] * len(heads))
        table, heads_table, room_id, seq = quote(_ROOM_TABLE), quote("heads"), quote("id"), quote("seq")
        parts.append(
            f"{quote('counted')} AS (UPDATE {table} SET {quote('last_seq')} = {heads_table}.{seq} "
            f"FROM (VALUES {rows}) AS {heads_table} ({room_id}, {seq}) "
            f"WHERE {table}.{room_id} = {heads_table}.{room_id})"
        )
        values += [value for pair in heads.items() for value in pair]
    if members:
        parts.append(f"{quote('joined')} AS ({_membership_insert(len(members))})")
        joined_at = _JOINED_AT.get_db_prep_save(timezone.now(), connection)
        values += [value for room_id, user_id in members for value in (room_id, user_id, joined_at)]
    if not messages:
        if parts:
            with connection.cursor() as cursor:
                cursor.execute(f"WITH {', '.join(parts)} SELECT 1", values)
        return
    columns = ", ".join(quote(str(field.column)) for field in _MESSAGE_FIELDS)
    row = "(" + ", ".join(["%s"] * len(_MESSAGE_FIELDS)) + ")"
    for message in messages:
        values += [field.get_db_prep_save(field.pre_save(message, add=True), connection) for field in _MESSAGE_FIELDS]
    sql = (
        f"INSERT INTO {quote(_MESSAGE_TABLE)} ({columns}) VALUES {', '.join([row] * len(messages))} "
        f"RETURNING {quote('id')}, {quote(_MESSAGE_ROOM)}, {quote('seq')}"
    )
    if parts:
        sql = f"WITH {', '.join(parts)} {sql}"
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        ids = {(room_id, seq): pk for pk, room_id, seq in cursor.fetchall()}
    for message in messages:
        message.pk = ids[(message.room_id, message.seq)]
        message._state.adding = False
