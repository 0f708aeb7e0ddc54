"""A post before it is stored: what ingest, the authoring commands and the store share."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.tags import tag_key


class PostStatus(enum.StrEnum):
    DRAFT = "draft"
    QUEUED = "queued"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    ARCHIVED = "archived"


@dataclass(frozen=True, slots=True)
class NewPost:
    """What it takes to store a post; ingest and the authoring commands both build one."""

    source: str
    source_key: str
    title: str
    url: str | None = None
    author: str | None = None
    language: str = "fr"
    summary: str = ""
    body_html: str = ""
    body_markdown: str = ""
    image_url: str | None = None
    image_alt: str | None = None
    tags: tuple[str, ...] = ()
    status: PostStatus = PostStatus.DRAFT
    published_at: datetime | None = None
    published_at_estimated: bool = False
    scheduled_at: datetime | None = None
    content_hash: str = field(default="")

    def computed_hash(self) -> str:
        """Hash of what readers see; a change here means the post must be edited downstream."""
        if self.content_hash:
            return self.content_hash
        digest = hashlib.sha256()
        for part in (self.title, self.url or "", self.body_html, self.image_url or "", self.image_alt or "",
                     "\x1f".join(tag_key(t) for t in self.tags)):
            digest.update(part.encode("utf-8"))
            digest.update(b"\x00")
        return digest.hexdigest()
