"""One article, whatever format it came in, turned into the store's ``NewPost``.

Both the feedparser path (``parse.py``) and the WXR path (``wxr.py``) fill a ``RawEntry``
with what they found; ``build_post`` applies the rules once: stable key, absolute URL,
plain-text title, sanitized body plus Markdown, lead image, tags, aware UTC times.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlsplit

from bot.domain.posts import NewPost, PostStatus
from bot.i18n import base_language
from bot.ingest import html as h
from bot.ingest.encoding import fix_mojibake
from bot.ingest.hashtags import entry_tags
from bot.ingest.language import article_language

MAX_KEY = 1000
MAX_URL = 2000
MAX_AUTHOR = 300
MAX_SUMMARY = 2000
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


class SkippedEntry(ValueError):
    """An entry that cannot become a post; the message says why, for the import report."""


@dataclass(frozen=True, slots=True)
class RawEntry:
    """What a parser found for one entry, still as the feed wrote it (HTML fragments)."""

    guid: str | None = None
    link: str | None = None
    title_html: str = ""
    author: str | None = None
    language: str | None = None
    summary_html: str = ""
    body_html: str = ""
    image_url: str | None = None
    image_alt: str | None = None
    categories: Sequence[str] = ()
    published: datetime | None = None
    base_url: str | None = None
    status: PostStatus = PostStatus.PUBLISHED


def language_code(value: str | None, default: str) -> str:
    code = base_language(value) if value else ""
    return code if _LANGUAGE.match(code) else default


def source_key(guid: str | None, link: str | None, title: str, published: datetime | None) -> str:
    """guid, else link, else a hash of title and date; hashed when too long to index."""
    key = (guid or "").strip() or (link or "").strip()
    if not key:
        stamp = published.isoformat() if published else ""
        key = "sha256:" + hashlib.sha256(f"{title}\x00{stamp}".encode()).hexdigest()
    if len(key) > MAX_KEY:
        key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key


def _fit_url(url: str | None) -> str | None:
    return url if url and len(url) <= MAX_URL else None


def _without_mojibake(raw: RawEntry) -> RawEntry:
    """The guard behind ``encoding.mend_utf8``: text that was double-decoded upstream is repaired."""
    return replace(raw, title_html=fix_mojibake(raw.title_html), summary_html=fix_mojibake(raw.summary_html),
                   body_html=fix_mojibake(raw.body_html), author=fix_mojibake(raw.author or "") or None)


def _absolute_link(raw: RawEntry) -> str | None:
    """The entry's link made absolute; a relative one that cannot be is refused, not dropped silently."""
    link = h.resolve(raw.link, raw.base_url)
    if link is None and raw.link and raw.link.strip() and not urlsplit(raw.link.strip()).scheme:
        raise SkippedEntry(f"link {raw.link.strip()[:100]!r} is relative and the feed gives no base URL "
                           "(import it from its URL, or add xml:base)")
    return link


def build_post(raw: RawEntry, *, source: str, default_language: str, now: datetime,
               markdown: bool = True) -> NewPost:
    raw = _without_mojibake(raw)
    title = h.inline_text(h.sanitize(raw.title_html))
    link = _absolute_link(raw)
    body = h.sanitize(raw.body_html or raw.summary_html, raw.base_url or link)
    if not (title or body or link):
        raise SkippedEntry("empty: no title, body or link")
    summary = h.to_text(h.sanitize(raw.summary_html))[:MAX_SUMMARY] if raw.summary_html else ""
    text = h.to_text(body)
    if not text and "<img" not in body:
        body = ""  # "<p></p>" is no body: treated as missing, it never replaces a stored one
    image_url, image_alt = h.resolve(raw.image_url, raw.base_url or link), raw.image_alt
    body_image, body_alt = h.first_image(body)
    if image_url is None:
        image_url, image_alt = body_image, body_alt
    elif image_alt is None and body_image == image_url:
        image_alt = body_alt
    author = h.inline_text(raw.author or "")[:MAX_AUTHOR] or None
    return NewPost(
        source=source,
        source_key=source_key(raw.guid, raw.link, title, raw.published),
        title=title,
        url=_fit_url(link),
        author=author,
        language=article_language(language_code(raw.language, default_language), text),
        summary=summary,
        body_html=body,
        body_markdown=h.to_markdown(body) if markdown else "",
        image_url=_fit_url(image_url),
        image_alt=h.inline_text(image_alt) if image_alt else None,
        tags=entry_tags(title, raw.categories, text),
        status=raw.status,
        published_at=raw.published or now,
        published_at_estimated=raw.published is None,
    )
