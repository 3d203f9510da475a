"""Search over the messages a person may read, on SQLite (FTS5) and PostgreSQL (GIN + tsquery)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from parley.accounts.identity import guest_identity, user_identity
from parley.rooms.access import RoomAccessError
from parley.rooms.models import Message, Room
from parley.rooms.services import membership_join, message_post
from parley.search.query import SearchQueryError
from parley.search.selectors import messages_search

pytestmark = pytest.mark.django_db


@pytest.fixture
def post() -> Callable[..., Message]:
    def post(room: Room, author: User, body: str) -> Message:
        return message_post(room=room, sender=user_identity(author), body=body, client_id=uuid.uuid4().hex).message

    return post


def bodies(hits: list[dict[str, Any]]) -> list[str]:
    return [hit["body"] for hit in hits]


def test_finds_a_message_by_a_word_in_it(make_user, make_room, post) -> None:
    alice = make_user("alice")
    room = make_room("general")
    post(room, alice, "The deploy went fine this morning")
    post(room, alice, "Lunch at noon?")
    hits = messages_search(identity=user_identity(alice), q="deploy")
    assert bodies(hits) == ["The deploy went fine this morning"]
    hit = hits[0]
    assert hit["room"] == "general"
    assert hit["seq"] == 1
    assert hit["author"]["name"] == "alice"
    assert hit["highlight"] == [
        {"text": "The ", "match": False},
        {"text": "deploy", "match": True},
        {"text": " went fine this morning", "match": False},
    ]


def test_matching_ignores_case_and_needs_every_word(make_user, make_room, post) -> None:
    alice = make_user("alice")
    room = make_room("general")
    post(room, alice, "Release notes for Friday")
    post(room, alice, "Friday lunch")
    assert bodies(messages_search(identity=user_identity(alice), q="FRIDAY release")) == ["Release notes for Friday"]
    segments = messages_search(identity=user_identity(alice), q="friday release")[0]["highlight"]
    assert [s["text"] for s in segments if s["match"]] == ["Release", "Friday"]


def test_phrases_alternatives_and_exclusions(make_user, make_room, post) -> None:
    alice = make_user("alice")
    room = make_room("general")
    post(room, alice, "red apple pie")
    post(room, alice, "apple red wine")
    post(room, alice, "green pear")
    me = user_identity(alice)
    assert bodies(messages_search(identity=me, q='"red apple"')) == ["red apple pie"]
    assert sorted(bodies(messages_search(identity=me, q="pie or pear"))) == ["green pear", "red apple pie"]
    assert bodies(messages_search(identity=me, q="apple -wine")) == ["red apple pie"]


def test_does_not_find_messages_in_rooms_the_reader_cannot_read(make_user, make_room, post) -> None:
    alice, bob, staff = make_user("alice"), make_user("bob"), make_user("root", staff=True)
    secret = make_room("secret", is_private=True)
    membership_join(room=secret, user=alice)
    post(secret, alice, "the launch code is banana")
    post(make_room("general"), bob, "banana bread for everyone")
    assert bodies(messages_search(identity=user_identity(bob), q="banana")) == ["banana bread for everyone"]
    assert len(messages_search(identity=user_identity(alice), q="banana")) == 2
    assert len(messages_search(identity=user_identity(staff), q="banana")) == 2
    with pytest.raises(RoomAccessError) as error:
        messages_search(identity=user_identity(bob), q="banana", room_slug="secret")
    assert error.value.code == "not_found"


def test_guests_search_only_guest_open_rooms(settings, make_user, make_room, post) -> None:
    settings.PARLEY = {**settings.PARLEY, "GUESTS": True}
    alice = make_user("alice")
    post(make_room("lobby", guests_allowed=True), alice, "welcome guests, kiwi inside")
    post(make_room("general"), alice, "members only kiwi")
    guest = guest_identity(guest_id="g1", name="visitor")
    assert bodies(messages_search(identity=guest, q="kiwi")) == ["welcome guests, kiwi inside"]
    settings.PARLEY = {**settings.PARLEY, "GUESTS": False}
    assert messages_search(identity=guest, q="kiwi") == []


def test_one_room_only(make_user, make_room, post) -> None:
    alice = make_user("alice")
    post(make_room("one"), alice, "mango one")
    post(make_room("two"), alice, "mango two")
    assert bodies(messages_search(identity=user_identity(alice), q="mango", room_slug="two")) == ["mango two"]


@pytest.mark.parametrize(
    "q",
    [
        '"unbalanced',
        'say "hi',
        "a*",
        "(",
        ")",
        "NEAR(a b)",
        "body:x",
        "^start",
        "a AND",
        "OR",
        "-",
        "'",
        "\\",
        "{}",
        "*",
    ],
)
def test_fts_syntax_characters_never_raise(make_user, make_room, post, q) -> None:
    alice = make_user("alice")
    post(make_room("general"), alice, 'say "hi" to a* and (parens) body:x ^start')
    hits = messages_search(identity=user_identity(alice), q=q)
    assert isinstance(hits, list)


def test_punctuation_around_a_word_still_finds_it(make_user, make_room, post) -> None:
    alice = make_user("alice")
    post(make_room("general"), alice, "who broke the build?")
    assert len(messages_search(identity=user_identity(alice), q='"build')) == 1
    assert len(messages_search(identity=user_identity(alice), q="build?!")) == 1


@pytest.mark.parametrize("q", ["", "   ", "\x00\x01", "x" * 201])
def test_empty_or_too_long_queries_are_refused_with_a_sentence(make_user, q) -> None:
    with pytest.raises(SearchQueryError) as error:
        messages_search(identity=user_identity(make_user("alice")), q=q)
    assert error.value.detail.endswith(".")


def test_an_edited_body_is_found_by_its_new_words_only(make_user, make_room, post) -> None:
    alice = make_user("alice")
    message = post(make_room("general"), alice, "meeting at noon")
    Message.objects.filter(pk=message.pk).update(body="meeting moved to three")
    me = user_identity(alice)
    assert messages_search(identity=me, q="noon") == []
    assert bodies(messages_search(identity=me, q="three")) == ["meeting moved to three"]


def test_a_deleted_message_is_not_found(make_user, make_room, post) -> None:
    alice = make_user("alice")
    message = post(make_room("general"), alice, "temporary walnut")
    Message.objects.filter(pk=message.pk).delete()
    assert messages_search(identity=user_identity(alice), q="walnut") == []


def test_long_messages_are_cut_around_the_match(make_user, make_room, post) -> None:
    alice = make_user("alice")
    words = [f"w{n}" for n in range(200)]
    words[120] = "needle"
    post(make_room("general"), alice, " ".join(words))
    [hit] = messages_search(identity=user_identity(alice), q="needle")
    text = "".join(segment["text"] for segment in hit["highlight"])
    assert "needle" in text
    assert len(text) < len(hit["body"]) / 2
    assert [s["text"] for s in hit["highlight"] if s["match"]] == ["needle"]


def test_best_hits_first_then_newest(make_user, make_room, post) -> None:
    alice = make_user("alice")
    room = make_room("general")
    post(room, alice, "plum")
    post(room, alice, "plum plum plum plum")
    post(room, alice, "plum")
    assert bodies(messages_search(identity=user_identity(alice), q="plum"))[0] == "plum plum plum plum"
    assert [hit["seq"] for hit in messages_search(identity=user_identity(alice), q="plum")][1:] == [3, 1]
    assert len(messages_search(identity=user_identity(alice), q="plum", limit=2)) == 2


def test_words_in_any_script_are_found(make_user, make_room, post) -> None:
    alice = make_user("alice")
    post(make_room("general"), alice, "Встреча завтра в полдень")
    post(make_room("other"), alice, "Café crème")
    assert len(messages_search(identity=user_identity(alice), q="встреча")) == 1
    assert len(messages_search(identity=user_identity(alice), q="café")) == 1


def test_a_rebuilt_message_table_gets_its_triggers_back_at_the_next_migrate(make_user, make_room, post) -> None:
    from django.db import connection

    from parley.search.indexing import TRIGGERS, search_index_repair

    if connection.vendor != "sqlite":
        pytest.skip("triggers keep the index in step on SQLite only")
    alice = make_user("alice")
    room = make_room("general")
    post(room, alice, "before the rebuild: quince")
    with connection.cursor() as cursor:  # what Django's table rebuild does to them
        for name in TRIGGERS:
            cursor.execute(f"DROP TRIGGER {name}")
    post(room, alice, "while they were gone: quince")
    search_index_repair(using="default")
    post(room, alice, "after the repair: quince")
    assert len(messages_search(identity=user_identity(alice), q="quince")) == 3


def test_markup_in_a_body_comes_back_as_it_was_typed(make_user, make_room, post) -> None:
    alice = make_user("alice")
    body = "if a<b && c>d then <b>retro</b> &amp; done"
    post(make_room("general"), alice, body)
    [hit] = messages_search(identity=user_identity(alice), q="retro")
    assert "".join(segment["text"] for segment in hit["highlight"]) == body
    assert {"text": "retro", "match": True} in hit["highlight"]
