"""Lengths measured the platforms' way.

Telegram counts UTF-16 code units of the text after entity parsing
(https://core.telegram.org/api/entities#entity-length): an emoji outside the BMP is 2.

Mastodon counts grapheme clusters of the status after replacing every http(s) URL with 23
characters and every remote mention ``@user@domain`` with ``@user``, plus the content
warning (app/validators/status_length_validator.rb; docs: /api/guidelines "Links").
Mastodon.py's ``Mastodon.get_status_length`` implements the same rule; the tests cross-check.
Neither Mastodon.py nor any private module of it is imported here (importing the formatter
must stay cheap): the URL regex is vendored in ``url_regex.py``, and grapheme clusters come
from ``graphemeu`` (imported as ``grapheme``; maintained, current Unicode), the splitter
Mastodon.py's own ``get_status_length`` uses.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.format.url_regex import url_pattern

# Mastodon's URL extractor is twitter-text's regex with the list of valid TLDs
# (`https://x.example` is NOT a URL to it and counts in full): the exact regex, not a
# lookalike, keeps our count equal to the server's instead of nearly equal.
_REMOTE_MENTION = re.compile(r"(^|[^/\w])@([a-z0-9_]+)@[a-z0-9.\-]+[a-z0-9]+", re.IGNORECASE)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# Below U+0300 (except CR, which pairs with LF) and in the common punctuation block (except
# ZWNJ/ZWJ and bidi controls) every code point is a grapheme cluster of its own; the
# pure-Python ``grapheme`` segmentation is only needed when something else appears.
_SIMPLE = r"\x00-\x0c\x0e-\u02ff\u2010-\u2027\u2030-\u205e\u20ac"
_NOT_SIMPLE = re.compile(f"[^{_SIMPLE}]")
# A cluster holding a non-simple character reaches at most one simple character on each
# side (a Prepend before it, an Extend after it), so segmenting these windows is exact.
_NOT_SIMPLE_RUN = re.compile(f"[^{_SIMPLE}]+")
# URLs never contain whitespace: run the (large) URL regex only on tokens around "://".
_TOKEN = re.compile(r"\S+")


def graphemes(text: str) -> int:
    if not text:
        return 0
    if _NOT_SIMPLE.search(text) is None:
        return len(text)
    windows: list[list[int]] = []
    for run in _NOT_SIMPLE_RUN.finditer(text):
        start, end = max(0, run.start() - 1), min(len(text), run.end() + 1)
        if windows and start < windows[-1][1]:  # shares a neighbour with the previous window
            windows[-1][1] = end
        else:
            windows.append([start, end])
    count = len(text)
    for start, end in windows:
        count += _window_graphemes(text[start:end]) - (end - start)
    return count


@lru_cache(maxsize=4096)
def _window_graphemes(window: str) -> int:
    """Emoji and accents recur; segmenting each short window once is enough."""
    import grapheme  # the graphemeu distribution; loads its tables (≈ 0.1 s) only when text needs it

    return grapheme.length(window)


@lru_cache(maxsize=4096)
def _countable_token(token: str, url_length: int) -> str:
    """A whitespace-free token with each URL Mastodon finds in it replaced by ``url_length`` x's."""
    return url_pattern().sub(lambda m: m.group(2) + "x" * url_length, token)


def _replace_urls(text: str, url_length: int) -> str:
    """``text`` with the URLs in every whitespace-delimited token holding "://" replaced."""
    out: list[str] = []
    done = 0
    found = text.find("://")
    while found >= 0:
        start = found
        while start > done and not text[start - 1].isspace():
            start -= 1
        token = _TOKEN.match(text, start)
        end = token.end() if token else found + 3
        out += [text[done:start], _countable_token(text[start:end], url_length)]
        done = end
        found = text.find("://", done)
    out.append(text[done:])
    return "".join(out)


def mastodon_length(status: str, spoiler_text: str = "", *, url_length: int = 23) -> int:
    countable = status
    if "://" in countable:
        countable = _replace_urls(countable, url_length)
    if "@" in countable:
        countable = _REMOTE_MENTION.sub(r"\1@\2", countable)
    return graphemes(countable) + (graphemes(spoiler_text) if spoiler_text else 0)

