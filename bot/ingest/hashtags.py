"""Inline ``#hashtags`` as Telegram and Mastodon see them.

A hashtag ends at the first character that is not a letter, a digit or ``_`` — the
formatter's ``is_hashtag_char``, one grammar for reading and writing tags (combining marks
end it on Telegram after NFC: TDLib reads ``#हिन्दी`` as ``#ह``). So ``-``, ``.``, apostrophes
(’ and '), whitespace and punctuation all end it, ``#e-santé`` is ``#e``, and a tag without
a letter (``#2024``, ``#_``) is no tag at all.
A ``#`` glued to a word or a URL (``page#ancre``, ``/#top``) does not start a tag, but one
right after an elision does: ``l’#anxiété`` yields ``anxiété``.

- Mastodon: https://github.com/mastodon/mastodon/blob/main/app/models/tag.rb (HASHTAG_RE)
- Telegram: https://core.telegram.org/api/entities (hashtag entities)
"""

from __future__ import annotations

import unicodedata

from bot.format.hashtags import is_hashtag_char
from bot.store.tags import tag_key

MAX_TAG_LENGTH = 100  # longer runs are words glued together, not tags people follow
_NOT_BEFORE = frozenset("/)=&#@")


def find_hashtags(text: str) -> list[str]:
    """The hashtags in ``text``, without '#', in order, one per tag key (first spelling kept)."""
    if "#" not in text:
        return []
    text = unicodedata.normalize("NFC", text)
    found: list[str] = []
    seen: set[str] = set()
    start = text.find("#")
    while start != -1:
        before = text[start - 1] if start else " "
        end = start + 1
        while end < len(text) and is_hashtag_char(text[end]):
            end += 1
        word = text[start + 1:end]
        if (word and not is_hashtag_char(before) and before not in _NOT_BEFORE
                and len(word) <= MAX_TAG_LENGTH and any(ch.isalpha() for ch in word)):
            key = tag_key(word)
            if key not in seen:
                seen.add(key)
                found.append(word)
        start = text.find("#", max(end, start + 1))
    return found
