"""One parsed source, whatever its format (feedparser's RSS/Atom or a WordPress export)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.posts import NewPost


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """One source's entries as the store wants them, plus what went wrong while reading.

    Entries carry the status *at the source*: PUBLISHED, or DRAFT for a WXR draft; the
    decider (``bot.ingest.decide``) replaces it with the source's queue policy.
    """

    entries: tuple[NewPost, ...]
    title: str = ""
    error: str | None = None  # why the document is broken (bozo); entries before it are kept
    kind: str = "unknown"  # rss | atom | wxr | cdf | unknown
    version: str = ""  # finer: feedparser's version ("rss20", "atom10"…) or "wxr1.2"
    link: str | None = None
    language: str | None = None
    skipped: int = 0  # entries that could not be turned into posts
    skips: tuple[str, ...] = ()  # why, one line per skipped entry, naming it
