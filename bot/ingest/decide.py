"""Pure decisions: what to do with each parsed entry, given what is stored and ``now``.

No database, no clock: the service loads ``Stored`` snapshots, asks here, then writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.domain.posts import NewPost, PostStatus
from bot.ingest import html as h

# A failing source waits interval × 2^failures, but never more than this.
MAX_BACKOFF = timedelta(hours=12)
_TEXT_FIELDS = ("title", "url", "author", "summary", "image_url", "image_alt")


class Policy(StrEnum):
    QUEUE = "queue"  # new entries take the next free posting slot
    DRAFT = "draft"  # new entries wait for an author


class Action(StrEnum):
    ADD = "add"
    UPDATE = "update"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class Stored:
    """What the store holds for one (source, key): enough to merge without losing data."""

    id: int
    content_hash: str
    post: NewPost | None = None  # loaded only when the hashes differ


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    post: NewPost
    stored_id: int | None = None


def merge(old: NewPost, new: NewPost) -> NewPost:
    """``new`` over ``old``, but an empty or truncated value never replaces a good one."""
    changes: dict[str, Any] = {}
    for name in _TEXT_FIELDS:
        if not getattr(new, name) and getattr(old, name):
            changes[name] = getattr(old, name)
    # The Markdown always goes with the body it was made from.
    if (not new.body_html and old.body_html) or _is_excerpt_of(new.body_html, old.body_html):
        changes["body_html"], changes["body_markdown"] = old.body_html, old.body_markdown
    if not new.tags and old.tags:
        changes["tags"] = old.tags
    if new.published_at_estimated and old.published_at and not old.published_at_estimated:
        changes["published_at"], changes["published_at_estimated"] = old.published_at, False
    return replace(new, content_hash="", **changes) if changes else replace(new, content_hash="")


def _is_excerpt_of(new_html: str, old_html: str) -> bool:
    """A feed that switched to excerpts ("… […]") must not shorten the stored article."""
    if not new_html or len(new_html) >= len(old_html):
        return False
    new_text = h.inline_text(new_html).rstrip(" .…[]").strip()
    return bool(new_text) and h.inline_text(old_html).startswith(new_text[: max(20, len(new_text) - 20)])


def merge_duplicates(entries: Iterable[NewPost]) -> list[NewPost]:
    """One entry per source key, later repeats merged over earlier ones, first order kept."""
    by_key: dict[str, NewPost] = {}
    for entry in entries:
        first = by_key.get(entry.source_key)
        if first is None:
            by_key[entry.source_key] = entry
        else:  # the first occurrence wins; a repeat only fills what it lacks
            merged = merge(entry, first)
            tags = tuple(dict.fromkeys([*first.tags, *entry.tags]))
            by_key[entry.source_key] = replace(merged, tags=tags, status=first.status)
    return list(by_key.values())


def archive_cutoff(*, now: datetime, first_import: bool, last_seen_at: datetime | None,
                   max_age_days: int) -> datetime | None:
    """Entries published before this are archived: the last-seen marker, else N days on a first import."""
    if last_seen_at is not None:
        return last_seen_at
    if first_import:
        return now - timedelta(days=max_age_days)
    return None


def new_status(entry: NewPost, policy: Policy, cutoff: datetime | None) -> PostStatus:
    if entry.status == PostStatus.DRAFT:  # the author's own draft (WXR) stays one
        return PostStatus.DRAFT
    if cutoff is not None and not entry.published_at_estimated and entry.published_at is not None \
            and entry.published_at < cutoff:
        return PostStatus.ARCHIVED
    return PostStatus.QUEUED if policy == Policy.QUEUE else PostStatus.DRAFT


def decide(entries: Iterable[NewPost], stored: Mapping[str, Stored], *, policy: Policy,
           cutoff: datetime | None) -> list[Decision]:
    decisions = []
    for entry in entries:
        known = stored.get(entry.source_key)
        if known is None:
            decisions.append(Decision(Action.ADD, replace(entry, status=new_status(entry, policy, cutoff))))
            continue
        if entry.computed_hash() == known.content_hash:
            decisions.append(Decision(Action.UNCHANGED, entry, known.id))
            continue
        merged = merge(known.post, entry) if known.post is not None else entry
        action = Action.UNCHANGED if merged.computed_hash() == known.content_hash else Action.UPDATE
        decisions.append(Decision(action, merged, known.id))
    return decisions


def next_poll(now: datetime, interval: timedelta, failures: int) -> datetime:
    """When to poll again: the interval after a success, doubled per failure, capped."""
    if failures <= 0:
        return now + interval
    return now + min(interval * (2 ** min(failures, 20)), max(MAX_BACKOFF, interval))


def last_seen(entries: Iterable[NewPost], previous: datetime | None) -> datetime | None:
    dates = [e.published_at for e in entries if e.published_at is not None and not e.published_at_estimated]
    if previous is not None:
        dates.append(previous)
    return max(dates) if dates else None
