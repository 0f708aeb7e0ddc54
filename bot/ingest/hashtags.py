"""Which tags an entry gets: the author's hashtags, then the feed's categories — never noise.

The hashtag grammar (what ``#e-santé`` or ``#l’IA`` means) is ``bot.domain.hashtags``;
this module applies it to one entry and drops what nobody follows: stop-words, one-letter
words, WordPress's default category, podcast keywords.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.domain.hashtags import ELISION, can_be_tag, find_hashtags
from bot.domain.tags import clean_display, tag_key
from bot.ingest import html as h

MAX_TAG = 100
# WordPress's default category says nothing about the article.
_NO_TAG = frozenset({"uncategorized", "non classe", "sans categorie", "general"})
# feedparser files <itunes:keywords> (search words for a podcast directory: "Ceci,n'est,pas,un")
# and <itunes:category> (defined per show, not per episode) under this scheme: neither is a tag.
ITUNES_SCHEME = "http://www.itunes.com/"
_WORD = re.compile(r"[^\W_]+(?:['’ʼ][^\W_]+)?")


def categories(feed_tags: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    """The terms of feedparser's entry ``tags``, podcast keywords left out."""
    return tuple(t.get("term") or t.get("label") or "" for t in feed_tags if t.get("scheme") != ITUNES_SCHEME)


def _title_spellings(title: str) -> dict[str, str]:
    """key → the title's spelling of each word, elisions dropped (``L’Alsace`` → ``Alsace``)."""
    spellings: dict[str, str] = {}
    for match in _WORD.finditer(title):
        word = ELISION.sub("", match.group())
        spellings.setdefault(tag_key(word), word)
    return spellings


def _spelling(category: str, title_words: dict[str, str]) -> str:
    """A lower-case category takes the title's capitals: ``dsl`` → ``DSL``, ``alsace`` → ``Alsace``."""
    if category != category.lower():
        return category
    return title_words.get(tag_key(category), category)


def entry_tags(title: str, feed_categories: Sequence[str], text: str) -> tuple[str, ...]:
    """Title hashtags first (they are the article's own), then categories, then body hashtags."""
    title_words = _title_spellings(title)
    tags: list[str] = []
    seen: set[str] = set()
    written = [*find_hashtags(title), *(_spelling(c, title_words) for c in feed_categories), *find_hashtags(text)]
    for raw in written:
        display = clean_display(h.inline_text(raw))
        key = tag_key(display)
        if key and len(display) <= MAX_TAG and key not in seen and key not in _NO_TAG and can_be_tag(display):
            seen.add(key)
            tags.append(display)
    return tuple(tags)
