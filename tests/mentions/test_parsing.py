"""What counts as an @mention."""

from __future__ import annotations

import pytest

from parley.mentions.parsing import MAX_MENTIONS, mentioned_names, might_mention


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ("@bob look", ["bob"]),
        ("hi @Bob, and @carol.", ["bob", "carol"]),
        ("(@bob) @bob again", ["bob"]),
        ("@first.last and @dash-ed @plus+1", ["first.last", "dash-ed", "plus+1"]),
        ("write to bob@example.com", []),
        ("an @ alone, @@bob", []),
        ("no mentions", []),
    ],
)
def test_mentions_are_found_in_order_of_first_appearance(body, names):
    assert mentioned_names(body) == names
    assert might_mention(body) is bool(names)


def test_a_message_mentions_at_most_a_bounded_number_of_names():
    body = " ".join(f"@user{i}" for i in range(MAX_MENTIONS + 5))
    assert len(mentioned_names(body)) == MAX_MENTIONS
