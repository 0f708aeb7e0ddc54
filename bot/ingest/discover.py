"""HTML pages given as sources: recognised as such, and their feed found the way feed
readers do (RSS autodiscovery: ``<link rel="alternate" type="application/rss+xml" href>``,
https://www.rssboard.org/rss-autodiscovery).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html.parser import HTMLParser
from urllib.parse import urljoin

_HTML_START = re.compile(rb"^(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)[\s>]", re.I | re.S)
_FEED_ROOT = re.compile(rb"<(?:rss|feed|rdf:RDF)[\s>]")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json")
_READABLE = FEED_TYPES[:3]  # JSON Feed is not read by Relais (yet): never followed


def is_html(data: bytes, headers: Mapping[str, str] | None = None) -> bool:
    """An HTML document rather than a feed: by its first tag, or by its type when no feed root shows."""
    head = data[:4096]
    if _HTML_START.match(head):
        return True
    content_type = (headers or {}).get("content-type", "").split(";")[0].strip().lower()
    return content_type == "text/html" and not _FEED_ROOT.search(data[:65536])


class _AlternateLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "link":
            return
        values = {name.lower(): (value or "") for name, value in attrs}
        rel = values.get("rel", "").lower().split()
        kind = values.get("type", "").lower().split(";")[0].strip()
        if "alternate" in rel and kind in _READABLE and values.get("href", "").strip():
            self.links.append(values["href"].strip())


def feed_links(page: bytes, base_url: str | None) -> list[str]:
    """The page's RSS/Atom alternate links, in page order, made absolute against ``base_url``."""
    parser = _AlternateLinks()
    parser.feed(page[:1 << 20].decode("utf-8", "replace"))  # links sit in <head>: the first MiB is plenty
    parser.close()
    return [urljoin(base_url, link) if base_url else link for link in dict.fromkeys(parser.links)]
