"""WordPress eXtended RSS (WXR) exports: posts with their state, terms and attachments.

feedparser reads a WXR file as plain RSS and loses what matters here (drafts, post types,
``post_tag`` terms, attachments), so the export is read with the standard library's
incremental XML parser: items are handled as they close, and a truncated or broken file
still yields every item before the damage. Format: https://developer.wordpress.org/ —
``wp:`` namespace ``http://wordpress.org/export/1.x/``.

Documents that declare entities are refused: an export never needs them, and refusing
them rules out entity-expansion attacks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import cast
from xml.etree.ElementTree import Element, ParseError, XMLPullParser

from bot.domain.feeds import ParsedFeed
from bot.domain.posts import NewPost, PostStatus
from bot.ingest.entry import RawEntry, SkippedEntry, build_post, language_code

_CHUNK = 1 << 20
_STATES = {"publish": PostStatus.PUBLISHED, "draft": PostStatus.DRAFT, "pending": PostStatus.DRAFT,
           "future": PostStatus.DRAFT}  # private, trash, auto-draft, inherit: never imported
_TERM_DOMAINS = frozenset({"category", "post_tag"})
_SHORTCODE = re.compile(r"\[/?(?:caption|gallery|embed|audio|video|playlist|code|sourcecode)\b[^\]]*\]", re.I)
_IMAGE_FILE = re.compile(r"\.(?:jpe?g|png|gif|webp|avif)(?:\?.*)?$", re.I)
_HAS_PARAGRAPHS = re.compile(r"<p[\s>]", re.I)
_BLOCK_START = re.compile(r"^<(?:p|div|h[1-6]|ul|ol|li|dl|blockquote|pre|table|figure|hr|!--)[\s>/]", re.I)
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


@lru_cache(maxsize=256)
def _name(tag: str) -> str:
    """'{http://wordpress.org/export/1.2/}status' → 'wp:status' (any WXR version)."""
    if not tag.startswith("{"):
        return tag
    namespace, local = tag[1:].split("}", 1)
    if namespace.split("://", 1)[-1].startswith("wordpress.org/export/"):
        return ("excerpt:" if namespace.rstrip("/").endswith("excerpt") else "wp:") + local
    if namespace == "http://purl.org/rss/1.0/modules/content/":
        return "content:" + local
    if namespace == "http://purl.org/dc/elements/1.1/":
        return "dc:" + local
    return local


def _children(element: Element) -> dict[str, str]:
    """First text of each child, by prefixed name."""
    values: dict[str, str] = {}
    for child in element:
        values.setdefault(_name(child.tag), child.text or "")
    return values


def autop(text: str) -> str:
    """WordPress stores post content without <p>: blank lines are paragraphs (wpautop)."""
    text = _SHORTCODE.sub("", text.replace("\r\n", "\n"))
    if _HAS_PARAGRAPHS.search(text):
        return text
    blocks = []
    for block in _PARAGRAPH_BREAK.split(text):
        block = block.strip()
        if block:
            blocks.append(block if _BLOCK_START.match(block) else "<p>" + block.replace("\n", "<br>\n") + "</p>")
    return "\n".join(blocks)


def _date(gmt: str, rfc822: str) -> datetime | None:
    gmt = gmt.strip()
    if gmt and not gmt.startswith("0000"):
        try:
            return datetime.strptime(gmt, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        except ValueError:
            pass
    try:
        parsed = parsedate_to_datetime(rfc822.strip()) if rfc822.strip() else None
    except (TypeError, ValueError):
        return None
    if parsed is None:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@dataclass
class _Export:
    items: list[dict[str, object]] = field(default_factory=list)
    attachments: dict[str, tuple[str, str | None, str]] = field(default_factory=dict)  # id → url, alt, parent
    first_attachment: dict[str, tuple[str, str | None, str]] = field(default_factory=dict)  # parent id → first
    channel: Element | None = None
    error: str | None = None


def _read_item(item: Element, export: _Export) -> None:
    values = _children(item)
    meta: dict[str, str] = {}
    terms: list[str] = []
    for child in item:
        name = _name(child.tag)
        if name == "wp:postmeta":
            pair = _children(child)
            meta.setdefault(pair.get("wp:meta_key", ""), pair.get("wp:meta_value", ""))
        elif name == "category" and child.get("domain") in _TERM_DOMAINS and child.text:
            terms.append(child.text)
    kind = values.get("wp:post_type", "post")
    if kind == "attachment":
        url = values.get("wp:attachment_url") or values.get("guid") or ""
        if not _IMAGE_FILE.search(url.strip()):
            return
        alt = meta.get("_wp_attachment_image_alt") or None
        attachment = (url, alt, values.get("wp:post_parent", "0"))
        export.attachments[values.get("wp:post_id", "")] = attachment
        if attachment[2] != "0":
            export.first_attachment.setdefault(attachment[2], attachment)
    elif kind == "post" and values.get("wp:status", "publish") in _STATES and not values.get("wp:post_password"):
        export.items.append({**values, "terms": tuple(terms), "thumbnail": meta.get("_thumbnail_id", "")})


def _read(data: bytes) -> _Export:
    export = _Export()
    head = data[: data.find(b"<rss")] if b"<rss" in data[:65536] else data[:65536]
    if b"<!ENTITY" in head:
        export.error = "entity declarations are not allowed in a WXR export"
        return export
    parser = XMLPullParser(events=("start", "end"))
    try:
        for offset in range(0, len(data), _CHUNK):
            parser.feed(data[offset:offset + _CHUNK])
            _drain(parser, export)
        parser.close()
        _drain(parser, export)
    except ParseError as exc:
        export.error = str(exc)
    return export


def _drain(parser: XMLPullParser, export: _Export) -> None:
    # With only "start"/"end" events asked for, every event carries an Element.
    for event, element in cast("Iterator[tuple[str, Element]]", parser.read_events()):
        if event == "start" and element.tag == "channel" and export.channel is None:
            export.channel = element
        elif event == "end" and element.tag == "item":
            _read_item(element, export)
            element.clear()


def _image_for(item: dict[str, object], export: _Export) -> tuple[str | None, str | None]:
    attachment = export.attachments.get(str(item["thumbnail"]))
    if attachment is None:
        attachment = export.first_attachment.get(str(item.get("wp:post_id")))  # one lookup, not a scan
    return (attachment[0] or None, attachment[1]) if attachment else (None, None)


def parse_wxr(data: bytes, *, source: str, default_language: str, now: datetime,
              markdown: bool = True) -> ParsedFeed:
    export = _read(data)
    channel = _children(export.channel) if export.channel is not None else {}
    authors = {}
    for child in export.channel if export.channel is not None else ():
        if _name(child.tag) == "wp:author":
            author = _children(child)
            authors[author.get("wp:author_login", "")] = author.get("wp:author_display_name") or None
    language = language_code(channel.get("language"), default_language)
    base = channel.get("wp:base_blog_url") or channel.get("link") or None
    entries: list[NewPost] = []
    skips: list[str] = []
    for number, item in enumerate(export.items, 1):
        login = str(item.get("dc:creator", ""))
        image_url, image_alt = _image_for(item, export)
        raw = RawEntry(
            guid=str(item.get("guid", "")) or None,
            link=str(item.get("link", "")) or None,
            title_html=str(item.get("title", "")),
            author=authors.get(login) or login or None,
            language=language,
            summary_html=str(item.get("excerpt:encoded", "")),
            body_html=autop(str(item.get("content:encoded", ""))),
            image_url=image_url,
            image_alt=image_alt,
            categories=item["terms"],  # type: ignore[arg-type]
            published=_date(str(item.get("wp:post_date_gmt", "")), str(item.get("pubDate", ""))),
            base_url=base,
            status=_STATES[str(item.get("wp:status", "publish"))],
        )
        try:
            entries.append(build_post(raw, source=source, default_language=language, now=now, markdown=markdown))
        except SkippedEntry as exc:
            skips.append(f"item {number}: {exc}")
        except Exception as exc:  # one odd item never loses the rest of the export
            skips.append(f"item {number}: unreadable ({type(exc).__name__}: {exc})")
    version = channel.get("wp:wxr_version", "").strip()
    return ParsedFeed(
        entries=tuple(entries), title=" ".join(channel.get("title", "").split()), error=export.error,
        kind="wxr", version=f"wxr{version}" if version else "wxr", link=channel.get("link") or None,
        language=language, skipped=len(skips), skips=tuple(skips),
    )
