"""When two names look alike: the key that guest names are checked against registered usernames by.

``name_key`` folds what a reader cannot tell apart on screen: Unicode compatibility forms (NFKC:
fullwidth ``ａｌｉｃｅ``, mathematical ``𝐚𝐥𝐢𝐜𝐞``, ligatures), case (``casefold``: ``ALICE``,
``ß`` and ``ss``), and letters of other scripts drawn like Latin ones (Cyrillic ``а``, Greek
``ο``), and the digits ``0`` and ``1`` for ``o`` and ``l``. It is the idea of Unicode's confusable
skeleton (UTS #39) on a small table of the look-alikes of Latin letters, single characters only;
the full data set (``confusable-homoglyphs`` on PyPI ships it) answers "is this string dangerous",
not "which registered name does it look like", which is the question here.
"""

# The tables below are made of look-alike characters on purpose.
# ruff: noqa: RUF001, RUF002, RUF003

from __future__ import annotations

import unicodedata

# Capitals that look like Latin capitals but whose small letters do not look like the Latin small
# ones (Greek Η and η): mapped before case folding.
_CAPITALS = str.maketrans(
    {
        # Greek
        "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
        "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
        # Cyrillic
        "А": "A", "В": "B", "Е": "E", "Ѕ": "S", "І": "I", "Ј": "J", "К": "K", "М": "M", "Н": "H",
        "О": "O", "Р": "P", "С": "C", "Т": "T", "Х": "X", "Ү": "Y", "Ԛ": "Q", "Ԝ": "W",
    }
)  # fmt: skip
# Small letters (and digits) drawn like Latin small letters: mapped after case folding.
_SMALL = str.maketrans(
    {
        # Cyrillic
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
        "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "һ": "h",
        "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ү": "y", "ɡ": "g",
        # Greek
        "α": "a", "β": "b", "ε": "e", "ζ": "z", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
        "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ω": "w", "ς": "c",
        # Latin letters that stand in for others
        "ı": "i", "ɑ": "a", "ʟ": "l", "ɩ": "i",
        # Digits
        "0": "o", "1": "l",
    }
)  # fmt: skip


def name_key(name: str) -> str:
    """The form of ``name`` that every name looking like it shares (``"Аlice"``, ``"ALICE"``,
    ``"ａｌｉｃｅ"`` and ``"a1ice"`` all give ``"alice"``)."""
    text = unicodedata.normalize("NFKC", name).strip()
    return text.translate(_CAPITALS).casefold().translate(_SMALL)
