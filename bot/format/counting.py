"""Lengths measured the platforms' way.

Telegram counts UTF-16 code units of the text after entity parsing
(https://core.telegram.org/api/entities#entity-length): an emoji outside the BMP is 2.

Mastodon counts grapheme clusters of the status after replacing every http(s) URL with 23
characters and every remote mention ``@user@domain`` with ``@user``, plus the content
warning (app/validators/status_length_validator.rb; docs: /api/guidelines "Links").
Mastodon.py's ``Mastodon.get_status_length`` implements the same rule; the tests cross-check.
"""

from __future__ import annotations

import re

import grapheme
from mastodon._url_regex import url_regex

# Mastodon's URL extractor is twitter-text's regex with the list of valid TLDs
# (`https://x.example` is NOT a URL to it and counts in full). Mastodon.py ships that exact
# regex; reusing it keeps our count equal to the server's instead of nearly equal.
_URL = url_regex
_REMOTE_MENTION = re.compile(r"(^|[^/\w])@([a-z0-9_]+)@[a-z0-9.\-]+[a-z0-9]+", re.IGNORECASE)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def graphemes(text: str) -> int:
    return grapheme.length(text) if text else 0


def mastodon_length(status: str, spoiler_text: str = "", *, url_length: int = 23) -> int:
    countable = _URL.sub(lambda m: m.group(2) + "x" * url_length, status)
    countable = _REMOTE_MENTION.sub(r"\1@\2", countable)
    return graphemes(countable) + graphemes(spoiler_text)


def find_urls(text: str) -> list[tuple[int, int]]:
    """Spans of the URLs Mastodon would count as ``url_length``."""
    return [m.span(3) for m in _URL.finditer(text)]
