"""Finding @username mentions in a message body."""

from __future__ import annotations

import re

# "@" at the start or after a character that cannot be in a name (so e-mail addresses such as
# bob@example.com are not mentions), then a Django username: letters, digits and . + - _ (an "@"
# inside a username cannot be told from the next mention). A trailing "." ends the sentence.
MENTION_PATTERN = re.compile(r"(?<![\w.+@-])@([\w.+-]+)")
# Most distinct names one message can mention; the rest are ignored.
MAX_MENTIONS = 20


def might_mention(body: str) -> bool:
    """A cheap test for the message hot path: could ``body`` mention anybody?"""
    return "@" in body and MENTION_PATTERN.search(body) is not None


def mentioned_names(body: str) -> list[str]:
    """The distinct names ``body`` mentions, in order of first appearance, lower-cased."""
    names: list[str] = []
    for match in MENTION_PATTERN.finditer(body):
        name = match.group(1).rstrip(".").lower()
        if name and name not in names:
            names.append(name)
            if len(names) == MAX_MENTIONS:
                break
    return names
