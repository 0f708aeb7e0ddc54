"""Article HTML: sanitized with an allow-list (nh3), converted to text and Markdown.

Feeds carry whatever the blog's editor produced, and sometimes worse: the body is stored
only after nh3 (ammonia) has removed scripts, styles, frames, event handlers and every
URL scheme but http(s) and mailto — https://nh3.readthedocs.io/
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Literal
from urllib.parse import urljoin, urlsplit

import nh3
from markdownify import markdownify

# Tags whose content is dropped with them (not just unwrapped): code and foreign frames.
_DROP_WITH_CONTENT = frozenset({"script", "style", "iframe", "object", "embed", "noscript", "template",
                                "svg", "math", "form", "select", "textarea", "button", "audio", "video",
                                "frame", "frameset", "applet", "head", "title"})
_TAGS = frozenset(nh3.ALLOWED_TAGS) - {"area", "map", "nav", "center"} | {"source", "picture"}
_ATTRIBUTES = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "a": {"href", "hreflang", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "source": {"srcset", "type", "media"},
    "*": {"lang", "dir"},
}
_SCHEMES = frozenset({"http", "https", "mailto"})

_IMG = re.compile(r"<img\b[^>]*>", re.I)
_ATTR = re.compile(r'\s([a-z-]+)="([^"]*)"', re.I)
_TAG = re.compile(r"<[^>]+>")
_BLOCK_END = re.compile(r"</(p|div|li|h[1-6]|blockquote|pre|tr|figure|figcaption)>|<br\s*/?>", re.I)
_SPACES = re.compile(r"[ \t\r\f\v\u200b]+")
_NEWLINES = re.compile(r"\s*\n\s*")
# A paragraph holding nothing but (non-breaking) spaces, line breaks or empty inline tags:
# renders as a blank line (issue 11 item 13).
_EMPTY_PARAGRAPH = re.compile(
    r"<p\b[^>]*>(?:\s|&nbsp;|&#160;|&#xa0;|\u00a0|<br\s*/?>|</?(?:span|strong|b|em|i|u)\b[^>]*>)*</p>\s*", re.I)
# Where a trailing "related posts" or share block starts: by its class/id (the plug-ins'
# markup, before sanitizing drops it) or by its heading.
_TRAILER = re.compile(
    r"""<(?:div|section|aside|nav|ul|p|h[1-6])\b[^>]*\b(?:class|id)\s*=\s*["'][^"']*"""
    r"""(?:mf-related|related[-_ ]?(?:posts?|articles?)|jp-relatedposts|yarpp|crp_related|sharedaddy|share-?buttons|addtoany)"""
    r"""[^"']*["'][^>]*>"""
    r"|<(?:p|h[1-6]|div|strong|b)\b[^>]*>\s*(?:<(?:strong|b|em|span)\b[^>]*>\s*)*"
    r"(?:Articles? (?:en rapport|similaires|liés|connexes)|(?:À|A) lire (?:aussi|également)|Lire aussi"
    r"|Sur le même (?:sujet|thème)|Related (?:posts|articles|stories)|You (?:may|might) also like"
    r"|Partager(?: cet article)?|Share this|J[’']aime ça|Like this)"
    # …alone in its block, as a heading is: "À lire aussi : <a>…</a>" inside a paragraph is the author's.
    r"(?:\s|&nbsp;|\u00a0|:)*(?:</(?:strong|b|em|span)>\s*)*</(?:p|h[1-6]|div|strong|b)>", re.I)
MAX_TRAILER_TEXT = 1500  # longer than that after the heading, it is the article going on


@lru_cache(maxsize=64)
def _cleaner(base_url: str | None) -> nh3.Cleaner:
    relative: tuple[Literal["rewrite_with_base"], str] | Literal["pass_through"] = (
        ("rewrite_with_base", base_url) if base_url else "pass_through")
    return nh3.Cleaner(
        tags=set(_TAGS), clean_content_tags=set(_DROP_WITH_CONTENT), attributes=_ATTRIBUTES,
        url_schemes=set(_SCHEMES), url_relative=relative, link_rel="noopener noreferrer",
    )


def absolute_base(url: str | None) -> str | None:
    """``url`` when it can serve as a base for relative links (absolute http/https)."""
    if url and urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc:
        return url
    return None


def sanitize(fragment: str, base_url: str | None = None) -> str:
    """Allow-listed HTML, relative links resolved against ``base_url`` when it is absolute."""
    if not fragment or not fragment.strip():
        return ""
    if "<" not in fragment and "&" not in fragment:
        return fragment.strip()  # plain text: nothing to clean, and nh3 is the costly step
    clean = _cleaner(absolute_base(base_url)).clean(strip_trailer(fragment))
    return _EMPTY_PARAGRAPH.sub("", clean).strip()


def strip_trailer(fragment: str) -> str:
    """``fragment`` without its trailing related-posts or share block, which would otherwise
    fill the excerpt. Only a block near the end goes: a short text after its start."""
    for found in _TRAILER.finditer(fragment):
        before, after = fragment[:found.start()], fragment[found.start():]
        if len(to_text(after)) <= MAX_TRAILER_TEXT and to_text(before):
            return before  # the sanitizer closes what the cut left open
    return fragment


def to_text(fragment: str) -> str:
    """Plain text: tags dropped, entities decoded, blocks on their own line, spaces folded."""
    if not fragment:
        return ""
    if "<" in fragment:
        fragment = _BLOCK_END.sub("\n", fragment)
        fragment = _TAG.sub("", fragment)
    text = html.unescape(fragment).replace("\u00ad", "")
    text = _SPACES.sub(" ", text)
    return _NEWLINES.sub("\n", text).strip()


_LINE_BREAKS = re.compile(r"[ \t\r\n\f\v]+")


def inline_text(fragment: str) -> str:
    """Plain text on one line (titles, authors). Only ASCII whitespace is folded: the
    non-breaking spaces of French typography (« », before : ; ! ?) stay where they are."""
    return _LINE_BREAKS.sub(" ", to_text(fragment)).strip(" ")


def to_markdown(clean_html: str) -> str:
    if not clean_html:
        return ""
    return markdownify(clean_html, heading_style="ATX", bullets="-", escape_misc=False).strip()


def first_image(clean_html: str) -> tuple[str | None, str | None]:
    """(src, alt) of the first <img> with an http(s) source in sanitized HTML."""
    for tag in _IMG.finditer(clean_html):
        attrs = {name.lower(): html.unescape(value) for name, value in _ATTR.findall(tag.group(0))}
        src = attrs.get("src", "")
        if urlsplit(src).scheme in ("http", "https"):
            return src, (attrs.get("alt") or None)
    return None, None


def resolve(url: str | None, base_url: str | None) -> str | None:
    """An absolute URL for ``url`` (relative ones against ``base_url``); None if unusable."""
    if not url:
        return None
    url = url.strip()
    base = absolute_base(base_url)
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None
