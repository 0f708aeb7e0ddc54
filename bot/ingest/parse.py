"""Bytes (+ response headers) → ``ParsedFeed``: pure, no database, no network.

RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and WordPress feeds go through feedparser, always from a
stream of the bytes — feedparser treats a ``str``/``bytes`` argument as a possible URL or
file name (https://feedparser.readthedocs.io/en/latest/reference-parse.html). WordPress
WXR exports go through ``bot.ingest.wxr``: feedparser drops their drafts, terms and
attachments.
"""

from __future__ import annotations

import calendar
import html
import io
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser

from bot.domain.feeds import ParsedFeed
from bot.domain.posts import NewPost
from bot.ingest.discover import is_html
from bot.ingest.encoding import fix_mojibake, mend_utf8
from bot.ingest.entry import RawEntry, SkippedEntry, build_post, language_code
from bot.ingest.hashtags import categories
from bot.ingest.html import absolute_base
from bot.ingest.wxr import parse_wxr

__all__ = ["ParsedFeed", "is_wxr", "parse_feed"]  # ParsedFeed lives in bot.domain.feeds

MAX_INFLATED = 50 * 1024 * 1024
_KINDS = {"rss": "rss", "atom": "atom", "cdf": "cdf"}


def is_wxr(data: bytes) -> bool:
    head = data[:65536]
    return b"wordpress.org/export/" in head and b"<rss" in head


def parse_feed(
    data: bytes,
    *,
    source: str,
    headers: Mapping[str, str] | None = None,
    default_language: str = "fr",
    now: datetime,
    markdown: bool = True,
) -> ParsedFeed:
    """Parse feed or WXR bytes. ``markdown=False`` leaves ``body_markdown`` empty (the import
    service converts only what it stores, see ``bot.ingest.markdown``)."""
    data = mend_utf8(_unwrap(data), headers)
    if is_html(data, headers):
        return ParsedFeed(entries=(), error="this is an HTML page, not a feed")
    if is_wxr(data):
        return parse_wxr(data, source=source, default_language=default_language, now=now, markdown=markdown)
    return _parse_with_feedparser(data, source, dict(headers or {}), default_language, now, markdown)


def _unwrap(data: bytes) -> bytes:
    """Undo what servers and editors do to feeds: gzip without a header, blank lines before <?xml."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = zlib.decompressobj(wbits=31).decompress(data, MAX_INFLATED)  # capped: no gzip bomb
        except zlib.error:
            return data
    stripped = data.lstrip(b" \t\r\n")
    return stripped if stripped.startswith(b"<") else data


def _parse_with_feedparser(data: bytes, source: str, headers: dict[str, str], default_language: str,
                           now: datetime, markdown: bool) -> ParsedFeed:
    # Our own sanitizer (nh3) runs on every body and resolves relative links; feedparser's
    # pure-Python passes would only double the work.
    result = feedparser.parse(io.BytesIO(data), response_headers=headers,
                              sanitize_html=False, resolve_relative_uris=False)
    feed = result.get("feed", {})
    base = feed_base(feed, headers)
    language = language_code(feed.get("language"), default_language)
    entries: list[NewPost] = []
    skips: list[str] = []
    for number, item in enumerate(result.get("entries", []), 1):
        try:
            raw = _raw_entry(item, base, language)
            entries.append(build_post(raw, source=source, default_language=language, now=now, markdown=markdown))
        except SkippedEntry as exc:
            skips.append(f"entry {number}: {exc}")
        except Exception as exc:  # one odd entry never loses the rest of the feed
            skips.append(f"entry {number}: unreadable ({type(exc).__name__}: {exc})")
    version = result.get("version") or ""
    error = _bozo_reason(result) if result.get("bozo") else None
    if not version and not entries and error is None:
        error = "not a feed: no RSS, Atom or WXR document found"
    return ParsedFeed(
        entries=tuple(entries),
        title=" ".join(fix_mojibake(html.unescape(str(feed.get("title", "")))).split()),
        error=error,
        kind=next((kind for prefix, kind in _KINDS.items() if version.startswith(prefix)), "unknown"),
        version=version,
        link=feed.get("link"),
        language=language,
        skipped=len(skips),
        skips=tuple(skips),
    )


def feed_base(feed: Any, headers: Mapping[str, str]) -> str | None:
    """The base for relative links when an entry has no absolute ``xml:base``: the URL the
    feed came from, else its ``rel="self"`` link, else its alternate (site) link."""
    self_links = [link.get("href") for link in feed.get("links") or [] if link.get("rel") == "self"]
    for candidate in (headers.get("content-location"), *self_links, feed.get("link")):
        if absolute_base(candidate):
            return candidate
    return None


def _bozo_reason(result: Any) -> str | None:
    exc = result.get("bozo_exception")
    if exc is None:
        return None
    name = type(exc).__name__
    # A declared encoding that lies is fixed by feedparser and is not worth an error.
    if name in ("CharacterEncodingOverride", "NonXMLContentType"):
        return None
    message = getattr(exc, "getMessage", lambda: str(exc))()
    line = getattr(exc, "getLineNumber", lambda: None)()
    where = f" at line {line}" if line else ""
    return f"{message}{where}"


def _struct_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (OverflowError, ValueError, TypeError):
        return None


def _detail_base(item: Any, fallback: str | None) -> str | None:
    """The entry's ``xml:base`` (a relative one is taken relative to ``fallback``), else ``fallback``."""
    for key in ("content", "summary_detail", "title_detail"):
        detail = item.get(key)
        if isinstance(detail, list):
            detail = detail[0] if detail else None
        if detail and detail.get("base"):
            base = urljoin(fallback, detail["base"]) if fallback else detail["base"]
            if absolute_base(base):
                return base
    return fallback


def _body(item: Any) -> str:
    best = ""
    for content in item.get("content") or []:
        value = content.get("value") or ""
        if content.get("type") == "text/plain":
            value = "<p>" + html.escape(value) + "</p>"
        if len(value) > len(best):
            best = value
    return best


def _image(item: Any) -> str | None:
    for enclosure in item.get("enclosures") or []:
        if str(enclosure.get("type", "")).startswith("image/") and enclosure.get("href"):
            return enclosure["href"]
    for media in item.get("media_content") or []:
        kind = str(media.get("type", "")) or str(media.get("medium", ""))
        if media.get("url") and (kind.startswith("image") or media.get("medium") == "image"):
            return media["url"]
    for thumb in item.get("media_thumbnail") or []:
        if thumb.get("url"):
            return thumb["url"]
    return None


def _raw_entry(item: Any, feed_base: str | None, language: str) -> RawEntry:
    summary = item.get("summary") or ""
    if item.get("summary_detail", {}).get("type") == "text/plain":
        summary = html.escape(summary)
    author = (item.get("author_detail") or {}).get("name") or item.get("author")
    content_language = next((c.get("language") for c in item.get("content") or [] if c.get("language")), None)
    return RawEntry(
        guid=item.get("id"),
        link=item.get("link"),
        title_html=item.get("title") or "",
        author=author,
        language=item.get("language") or content_language or language,
        summary_html=summary,
        body_html=_body(item),
        image_url=_image(item),
        categories=categories(item.get("tags") or []),
        # dict.get: FeedParserDict.get("updated_parsed") warns and aliases to published.
        published=_struct_time(dict.get(item, "published_parsed") or dict.get(item, "updated_parsed")
                               or dict.get(item, "created_parsed")),
        base_url=_detail_base(item, feed_base),
    )
