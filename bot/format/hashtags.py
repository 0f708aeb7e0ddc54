"""Tags → hashtags that Telegram and Mastodon both recognize whole.

Both platforms end a hashtag at the first character that is not a letter, a digit or
"_" (TDLib ``is_hashtag_letter``; Mastodon ``Tag::HASHTAG_RE``), so "-", ".", apostrophes
and even combining marks cut it, and a tag without a letter is no tag. ``is_hashtag_char``
is the one definition; ingest reads inline hashtags with it too. Hence:

* multi-word and hyphenated tags become CamelCase, every part capitalized:
  ``santé mentale`` → ``#SantéMentale``, ``e-santé`` → ``#ESanté`` (one rule, no
  special case for prefixes; Mastodon matches tags case-insensitively anyway);
* French elisions are dropped: ``l'IA`` → ``#IA``, ``d’anxiété`` → ``#anxiété``;
* text is NFC-composed and any leftover combining mark is removed;
* a tag left empty, digits-only or absurdly long is dropped, never emitted broken.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from bot.store.tags import tag_key

# Telegram stops recognizing hashtags longer than this (TDLib: 256 UTF-16 units); stay well under.
MAX_HASHTAG_LENGTH = 64
_ELISION = re.compile(r"^(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu)['’ʼ]", re.IGNORECASE)
_APOSTROPHES = "'’ʼ"


def is_hashtag_char(ch: str) -> bool:
    return ch == "_" or unicodedata.category(ch)[0] == "L" or unicodedata.category(ch) == "Nd"


@lru_cache(maxsize=8192)
def _parts(display: str) -> tuple[str, ...]:
    words = []
    for word in unicodedata.normalize("NFC", display).split():
        word = _ELISION.sub("", word)
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
    parts = _parts(display.lstrip("#"))
    if not parts:
        return None
    body = parts[0] if len(parts) == 1 else "".join(p[:1].upper() + p[1:] for p in parts)
    # Upper-casing may decompose (Greek 'ῢ' → 'Ϋ' + U+0300): compose again, drop leftover marks.
    body = "".join(ch for ch in unicodedata.normalize("NFC", body) if is_hashtag_char(ch))
    if not any(unicodedata.category(ch)[0] == "L" for ch in body) or len(body) > MAX_HASHTAG_LENGTH:
        return None
    return body


@dataclass(frozen=True, slots=True)
class Hashtag:
    display: str  # the tag as stored ("santé mentale")
    body: str  # the hashtag without '#' ("SantéMentale")
    key: str  # bot.store.tags.tag_key(display)


def select(tags: Iterable[str], limit: int) -> list[Hashtag]:
    """Valid hashtags for these tags, in relevance order, one per key, at most ``limit``."""
    chosen: list[Hashtag] = []
    seen: set[str] = set()
    for display in tags:
        if len(chosen) >= limit:
            break
        key = tag_key(display)
        body = hashtag_body(display)
        if not key or body is None or key in seen or tag_key(body) in seen:
            continue
        seen.update({key, tag_key(body)})
        chosen.append(Hashtag(display, body, key))
    return chosen


# A word of a title: a maximal run of hashtag characters, possibly already behind a '#'.
_WORD = re.compile(r"#?[^\W]+")


@lru_cache(maxsize=256)
def _title_words(title: str) -> tuple[tuple[int, int, str], ...]:
    return tuple((m.start(), m.end(), m.group()) for m in _WORD.finditer(title))


@lru_cache(maxsize=8192)
def _word_key(word: str) -> str:
    return tag_key(_ELISION.sub("", word))


def existing_hashtags(title: str) -> set[str]:
    """Keys of the hashtags the author already wrote in the title that both platforms see."""
    return {
        tag_key(word[1:])
        for start, end, word in _title_words(title)
        if word.startswith("#") and hashtag_body(word) == word[1:] and _standalone(title, start, end)
    }


def already_written(tag: Hashtag, present: set[str]) -> bool:
    """Is ``tag`` among the hashtags the author already wrote (keys from ``existing_hashtags``)?"""
    return tag.key in present or tag_key(tag.body) in present


def _standalone(title: str, start: int, end: int) -> bool:
    return _can_prefix(title, start) and (end >= len(title) or _separates(title[end]))


def _can_prefix(title: str, start: int) -> bool:
    """May a '#' be inserted at ``start``? Not glued to a word, a compound ('e-#santé'), a URL or a '#'."""
    if start == 0:
        return True
    return _separates(title[start - 1]) and title[start - 1] not in "/)&"


def _separates(ch: str) -> bool:
    """Does ``ch`` cleanly bound a hashtag on both platforms?

    Only spaces, punctuation and symbols do, minus the ones TDLib glues ('#A#', '#A·x',
    '#A_x') and '-', so a compound like 'e-santé' is never half-tagged. Anything else —
    letters, digits, marks, even unassigned code points TDLib may know as letters — does not.
    """
    return (unicodedata.category(ch)[0] in "ZPS" and ch not in "-·#_@") or ch in "\n\t"


def inline(title: str, hashtags: list[Hashtag]) -> tuple[str, list[Hashtag]]:
    """Turn title words matching tags into hashtags in place; return the title and the rest.

    ``l’anxiété`` with tag ``anxiété`` → ``l’#anxiété``; ``santé mentale`` with that tag →
    ``#SantéMentale``. Tags already written as hashtags count as placed.
    """
    present = existing_hashtags(title)
    rest: list[Hashtag] = []
    for tag in hashtags:
        if already_written(tag, present):
            continue
        replaced = _replace_first(title, tag)
        if replaced is None:
            rest.append(tag)
        else:
            title = replaced
            present.add(tag.key)
    return title, rest


def _replace_first(title: str, tag: Hashtag) -> str | None:
    target = [tag_key(p) for p in _parts(tag.display)]
    words = _title_words(title)
    keys = [_word_key(w) for _, _, w in words]
    for i in range(len(words) - len(target) + 1):
        window = words[i: i + len(target)]
        if keys[i: i + len(target)] != target or any(w.startswith("#") for _, _, w in window):
            continue
        gaps = [title[a[1]:b[0]] for a, b in itertools.pairwise(window)]
        if any(g not in (" ", "-", "\u00a0") for g in gaps):
            continue
        start, end = window[0][0], window[-1][1]
        if not _standalone(title, start, end):
            continue
        word = title[start:end]
        if len(target) == 1 and hashtag_body(word) == word:
            return f"{title[:start]}#{word}{title[end:]}"
        return f"{title[:start]}#{tag.body}{title[end:]}"
    return None


def line(hashtags: Iterable[Hashtag]) -> str:
    return " ".join(f"#{h.body}" for h in hashtags)
