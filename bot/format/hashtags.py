"""Tags → hashtags that Telegram and Mastodon both recognize whole, placed in a render.

The grammar (which characters a hashtag holds, CamelCase for multi-part tags, elisions,
author-written hashtags) is ``bot.domain.hashtags``; this module chooses which tags a render
carries and where: in the title (``inline``) or on a line of their own (``line``). Every
hashtag shows the stored tag's display form, on both platforms: ``alsace`` is ``#alsace``
in a Telegram title and in a Mastodon line alike.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from bot.domain.hashtags import ELISION, can_be_tag, hashtag_body, parts, platform_text
from bot.domain.tags import tag_key

__all__ = ["Hashtag", "already_written", "existing_hashtags", "hashtag_body", "inline", "line", "platform_text",
           "select", "tag_key"]


@dataclass(frozen=True, slots=True)
class Hashtag:
    display: str  # the tag as stored ("santé mentale")
    body: str  # the hashtag without '#' ("SantéMentale")
    key: str  # bot.domain.tags.tag_key(display)


def select(tags: Iterable[str], limit: int) -> list[Hashtag]:
    """Valid hashtags for these tags, in relevance order, one per key, at most ``limit``."""
    chosen: list[Hashtag] = []
    seen: set[str] = set()
    for display in tags:
        if len(chosen) >= limit:
            break
        key = tag_key(display)
        body = hashtag_body(display)
        if not key or body is None or not can_be_tag(display) or key in seen or tag_key(body) in seen:
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
    return tag_key(ELISION.sub("", word))


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
    target = [tag_key(p) for p in parts(tag.display)]
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
        # The stored tag's form, not the title's spelling: the same #tag on every platform.
        return f"{title[:start]}#{tag.body}{title[end:]}"
    return None


def line(hashtags: Iterable[Hashtag]) -> str:
    return " ".join(f"#{h.body}" for h in hashtags)
