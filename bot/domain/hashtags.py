"""The hashtag grammar: what an author wrote after '#', and what Telegram and Mastodon see.

Both platforms end a hashtag at the first character that is not a letter, a digit or "_"
(TDLib ``is_hashtag_letter``; Mastodon ``Tag::HASHTAG_RE``), so "-", ".", apostrophes and
even combining marks cut it, and a tag without a letter is no tag: ``#e-santé`` is ``#e``
to both, ``#2025`` is nothing.

- Mastodon: https://github.com/mastodon/mastodon/blob/main/app/models/tag.rb (HASHTAG_RE)
- Telegram: https://core.telegram.org/api/entities (hashtag entities)

Authors mean more than that. Reading (``written_hashtags``, ``find_hashtags``) takes the
tag the author meant: a word joined by hyphens (``#e-santé`` → ``e-santé``, ``#COVID-19`` →
``COVID-19``), a French elision left outside (``#l’IA`` → ``IA``), digits only → no tag.
Writing (``hashtag_body``) makes every tag one hashtag both platforms see whole: parts in
CamelCase (``santé mentale`` → ``#SantéMentale``, ``e-santé`` → ``#ESanté``), elisions
dropped, NFC with no stray combining mark; ``platform_text`` rewrites an author's text the
same way (``#l’IA`` → ``l’#IA``, ``#2025`` → ``2025``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from bot.domain.tags import is_stop_word, tag_key

# Telegram stops recognizing hashtags longer than this (TDLib: 256 UTF-16 units); stay well under.
MAX_HASHTAG_LENGTH = 64
MAX_TAG_LENGTH = 100  # longer runs are words glued together, not tags people follow
ELISION = re.compile(r"^(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu)['’ʼ]", re.IGNORECASE)
_HYPHENS = frozenset("-\u2010\u2011")  # join the parts of one word the author meant as one tag
_NOT_BEFORE = frozenset("/)=&#@")  # a '#' after these is a URL fragment or an address, not a tag


def is_hashtag_char(ch: str) -> bool:
    return ch == "_" or unicodedata.category(ch)[0] == "L" or unicodedata.category(ch) == "Nd"


def _has_letter(text: str) -> bool:
    return any(unicodedata.category(ch)[0] == "L" for ch in text)


@lru_cache(maxsize=8192)
def parts(display: str) -> tuple[str, ...]:
    """The runs of hashtag characters in a tag, elisions dropped: ``l’IA générative`` → (IA, générative)."""
    words = []
    for word in unicodedata.normalize("NFC", display).split():
        word = ELISION.sub("", word)
        current = ""
        for ch in word:
            if is_hashtag_char(ch):
                current += ch
            elif unicodedata.combining(ch):
                continue  # a stray mark would end the hashtag on Telegram: drop it
            else:
                if current:
                    words.append(current)
                current = ""
        if current:
            words.append(current)
    return tuple(words)


@lru_cache(maxsize=8192)
def hashtag_body(display: str) -> str | None:
    """The hashtag for one tag, without '#', or None when it cannot be a valid one."""
    found = parts(display.lstrip("#"))
    if not found:
        return None
    body = found[0] if len(found) == 1 else "".join(p[:1].upper() + p[1:] for p in found)
    # Upper-casing may decompose (Greek 'ῢ' → 'Ϋ' + U+0300): compose again, drop leftover marks.
    body = "".join(ch for ch in unicodedata.normalize("NFC", body) if is_hashtag_char(ch))
    if not _has_letter(body) or len(body) > MAX_HASHTAG_LENGTH:
        return None
    return body


@lru_cache(maxsize=8192)
def can_be_tag(display: str) -> bool:
    """A tag people may follow: a valid hashtag, longer than one character, not only stop words.

    An acronym is no stop word: ``#HAD`` (hospitalisation à domicile) is a tag, ``#had`` is not.
    """
    body = hashtag_body(display)
    if body is None or len(body) < 2:
        return False
    return not all(is_stop_word(tag_key(part)) and not part.isupper() for part in parts(display.lstrip("#")))


@dataclass(frozen=True, slots=True)
class Written:
    """One hashtag as the author wrote it: ``text[start:end]`` is ``#`` + elision + word."""

    start: int
    end: int
    elision: str  # "l’" in "#l’IA": stays outside the tag
    word: str  # "e-santé", "COVID-19", "2025"

    @property
    def tag(self) -> str | None:
        """The tag the author meant, or None (no letter, or too long to be one)."""
        return self.word if _has_letter(self.word) and len(self.word) <= MAX_TAG_LENGTH else None


def _word_end(text: str, start: int) -> int:
    """End of the word at ``start``: hashtag characters, hyphens joining them."""
    end = start
    while end < len(text) and (is_hashtag_char(text[end]) or _joins(text, start, end)):
        end += 1
    return end


def _joins(text: str, start: int, at: int) -> bool:
    """Is ``text[at]`` a hyphen between two parts of the word begun at ``start``?"""
    return text[at] in _HYPHENS and at > start and at + 1 < len(text) and is_hashtag_char(text[at + 1])


def written_hashtags(text: str) -> list[Written]:
    """The hashtags the author wrote in ``text`` (NFC), in order.

    A ``#`` glued to a word or a URL (``page#ancre``, ``/#top``) starts none; one right
    after an elision does (``l’#anxiété``).
    """
    found: list[Written] = []
    start = text.find("#")
    while start != -1:
        before = text[start - 1] if start else " "
        after = start + 1
        elision = ELISION.match(text[after:after + 8])
        if elision and after + elision.end() < len(text) and is_hashtag_char(text[after + elision.end()]):
            after += elision.end()
        end = _word_end(text, after)
        if end > after and not is_hashtag_char(before) and before not in _NOT_BEFORE:
            found.append(Written(start, end, text[start + 1:after], text[after:end]))
        start = text.find("#", max(end, start + 1))
    return found


def find_hashtags(text: str) -> list[str]:
    """The tags the author meant in ``text``, without '#', in order, one per tag key (first spelling kept)."""
    if "#" not in text:
        return []
    seen: set[str] = set()
    tags: list[str] = []
    for written in written_hashtags(unicodedata.normalize("NFC", text)):
        tag = written.tag
        if tag is not None and tag_key(tag) not in seen:
            seen.add(tag_key(tag))
            tags.append(tag)
    return tags


def platform_text(text: str) -> str:
    """``text`` with every author-written hashtag as both platforms see it whole.

    ``#e-santé`` → ``#ESanté``, ``#COVID-19`` → ``#COVID19``, ``#l’IA`` → ``l’#IA``,
    ``#2025`` → ``2025``; a hashtag the platforms already read whole is left as written.
    """
    if "#" not in text:
        return text
    text = unicodedata.normalize("NFC", text)
    out: list[str] = []
    position = 0
    for written in written_hashtags(text):
        body = hashtag_body(written.word) if written.tag is not None else None
        if body is not None:
            replacement = f"{written.elision}#{body}"
        elif not _has_letter(written.word):
            replacement = written.elision + written.word  # digits only: plain text, not a broken tag
        else:
            continue
        out.append(text[position:written.start])
        out.append(replacement)
        position = written.end
    out.append(text[position:])
    return "".join(out)
