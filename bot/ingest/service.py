"""Import and poll: fetch → parse → decide → store, one transaction per source.

``import_source`` serves ``relais import``; ``poll`` and ``poll_due`` serve the scheduler.
Both take ``now`` and an optional ``enqueue`` hook that the publishing side provides: it is
awaited inside the import's transaction for every new post stored as QUEUED, so a post and
its publications are committed together or not at all.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import FetchError, IngestError
from bot.ingest import decide as d
from bot.ingest import store
from bot.ingest.discover import feed_links, is_html
from bot.ingest.fetch import DEFAULT_MAX_BYTES, Fetched, check_location, fetch_url, is_url, make_client, read_file
from bot.ingest.markdown import to_markdown_many
from bot.ingest.parse import ParsedFeed, parse_feed
from bot.settings import FeedSettings
from bot.store.models import FeedSource, PostStatus
from bot.store.repository import tags_by_key

log = logging.getLogger(__name__)

# Bump when parsing changes what is stored: the same bytes are then imported again.
PARSER_VERSION = "2"
# Two imports of one source at once: the loser of a unique-key race starts its transaction
# again and then sees the winner's rows (issue 11 item 4).
ATTEMPTS = 3
DEFAULT_INTERVAL = timedelta(minutes=30)
Progress = Callable[[int, int], None]
R = TypeVar("R")


@dataclass
class ImportReport:
    """What one source's import did. ``archived`` new entries are not counted in ``added``."""

    source: str
    location: str
    kind: str = ""
    title: str = ""
    entries: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    archived: int = 0
    skipped: int = 0  # entries that could not become posts; ``skips`` says which and why
    errors: int = 0  # 1 when the source failed or its document is damaged (``error`` says how)
    queued: int = 0
    not_modified: bool = False
    error: str | None = None  # the reason alone: whoever shows it names the source
    failures: int = 0
    next_poll_at: datetime | None = None  # set only for a scheduled source: nothing retries a one-off import
    skips: list[str] = field(default_factory=list)
    feed_url: str | None = None  # the feed an HTML page pointed to (autodiscovery)

    @property
    def failed(self) -> bool:
        """Nothing could be imported (an error, and no entry read)."""
        return self.error is not None and self.entries == 0 and not self.not_modified

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["next_poll_at"] = self.next_poll_at.isoformat() if self.next_poll_at else None
        data["failed"] = self.failed
        return data


def source_name(location: str) -> str:
    """The ``posts.source`` for an ad-hoc import: the URL, or the file's absolute path."""
    name = location if is_url(location) else str(Path(location).expanduser().resolve())
    return name if len(name) <= 200 else "sha256:" + hashlib.sha256(name.encode()).hexdigest()


def _sessions(app_or_sessions: Any) -> async_sessionmaker[AsyncSession]:
    return getattr(app_or_sessions, "sessions", app_or_sessions)


async def import_source(
    app_or_sessions: Any,
    location: str,
    *,
    now: datetime,
    policy: d.Policy | str | None = None,
    name: str | None = None,
    enqueue: store.Enqueue | None = None,
    client: httpx.AsyncClient | None = None,
    max_age_days: int = 7,
    interval: timedelta = DEFAULT_INTERVAL,
    default_language: str = "fr",
    max_bytes: int = DEFAULT_MAX_BYTES,
    force: bool = False,
    progress: Progress | None = None,
    scheduled: bool = False,
) -> ImportReport:
    """Import one URL or file. ``policy`` None: ``draft`` for WXR exports, ``queue`` for feeds.

    Never raises for a bad source or a database refusal: the report carries the error, and
    the source's failure streak and next poll time are recorded. An exception raised by the
    ``enqueue`` hook propagates (after the rollback): that is a bug, not bad input.
    ``scheduled``: the scheduler polls this source again (a configured feed), so the report
    gives the next try. The outcome is logged at DEBUG only: the caller presents the report
    (the import table; ``poll_due`` logs it for the scheduler).
    """
    sessions = _sessions(app_or_sessions)
    try:
        check_location(location)
    except FetchError as exc:  # not even a name to record it under: "http://[::1" resolves to nothing
        return _unrecorded_failure(ImportReport(source=name or location, location=location), str(exc))
    name = name or source_name(location)
    report = ImportReport(source=name, location=location)
    etag, modified, digest = await _retrying(lambda: _cursor_validators(sessions, name, location))
    try:
        fetched = await _fetch_feed(location, client, None if force else etag, None if force else modified,
                                    max_bytes, report)
        parsed = None
        new_digest = hashlib.sha256(PARSER_VERSION.encode() + fetched.content).hexdigest()
        if fetched.not_modified or (new_digest == digest and not force):
            report.not_modified = True
        else:
            parsed = await asyncio.to_thread(parse_feed, fetched.content, source=name, headers=fetched.headers,
                                             default_language=default_language, now=now, markdown=False)
            if not parsed.entries and parsed.error:
                raise IngestError(parsed.error)
    except IngestError as exc:
        return await _record_failure(sessions, report, str(exc), now, interval, scheduled)

    async def commit() -> ImportReport:
        attempt = ImportReport(source=name, location=location, feed_url=report.feed_url,
                               not_modified=report.not_modified)
        await _commit(sessions, name, location, fetched, parsed, new_digest, attempt, now=now, policy=policy,
                      interval=interval, max_age_days=max_age_days, enqueue=enqueue, progress=progress)
        return attempt

    try:
        report = await _retrying(commit)
    except SQLAlchemyError as exc:  # rolled back: nothing half-written; the source is reported
        log.exception("storing %s failed", name)
        return await _record_failure(sessions, ImportReport(source=name, location=location),
                                     f"database error: {type(exc).__name__}", now, interval, scheduled)
    if not scheduled:
        report.next_poll_at = None
    _log_report(report, logging.DEBUG)
    return report


async def _cursor_validators(sessions: async_sessionmaker[AsyncSession], name: str,
                             location: str) -> tuple[str | None, str | None, str | None]:
    async with sessions.begin() as session:
        cursor = await store.feed_source(session, name, location)
        return cursor.etag, cursor.last_modified, cursor.content_digest


def _is_race(exc: SQLAlchemyError) -> bool:
    """Lost a race with a concurrent import of the same source: worth one more go."""
    if isinstance(exc, IntegrityError):
        return True  # a unique key another transaction took first: its rows are visible now
    if isinstance(exc, DBAPIError):
        state = getattr(exc.orig, "sqlstate", None) or getattr(getattr(exc.orig, "__cause__", None), "sqlstate", None)
        return state in ("40001", "40P01") or "database is locked" in str(exc.orig)
    return False


async def _retrying(work: Callable[[], Awaitable[R]]) -> R:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await work()
        except SQLAlchemyError as exc:
            if attempt == ATTEMPTS or not _is_race(exc):
                raise
            log.debug("concurrent import, attempt %d again: %s", attempt, type(exc).__name__)
    raise AssertionError("unreachable")


async def _commit(sessions: async_sessionmaker[AsyncSession], name: str, location: str, fetched: Fetched,
                  parsed: ParsedFeed | None, new_digest: str, report: ImportReport, *, now: datetime,
                  policy: d.Policy | str | None, interval: timedelta, max_age_days: int,
                  enqueue: store.Enqueue | None, progress: Progress | None) -> None:
    async with sessions.begin() as session:
        cursor = await store.feed_source(session, name, location)
        if parsed is not None:
            chosen = d.Policy(policy) if policy else (d.Policy.DRAFT if parsed.kind == "wxr" else d.Policy.QUEUE)
            await _store(session, cursor, parsed, report, now=now, policy=chosen, max_age_days=max_age_days,
                         enqueue=enqueue, progress=progress)
            cursor.etag, cursor.last_modified, cursor.content_digest = fetched.etag, fetched.last_modified, new_digest
            cursor.last_error = parsed.error
        cursor.failures, cursor.last_polled_at = 0, now
        cursor.failing_since = cursor.failure_notified_at = None
        cursor.next_poll_at = report.next_poll_at = d.next_poll(now, interval, 0)


async def _fetch_feed(location: str, client: httpx.AsyncClient | None, etag: str | None, modified: str | None,
                      max_bytes: int, report: ImportReport) -> Fetched:
    """The source's bytes; for an HTML page, the bytes of the feed it links to (autodiscovery)."""
    fetched = await _fetch(location, client, etag, modified, max_bytes)
    if fetched.not_modified or not is_html(fetched.content, fetched.headers):
        return fetched
    links = feed_links(fetched.content, fetched.location if is_url(fetched.location) else None)
    link = next((link for link in links if is_url(link)), None)
    if link is None:
        raise IngestError("this is an HTML page with no feed link" if not links else
                          f"this is an HTML page whose feed link {links[0][:200]!r} is not an http(s) URL")
    report.feed_url = link
    feed = await _fetch(link, client, None, None, max_bytes)
    if is_html(feed.content, feed.headers):
        raise IngestError(f"this is an HTML page whose feed link {link} is an HTML page too")
    return feed


async def _fetch(location: str, client: httpx.AsyncClient | None, etag: str | None, modified: str | None,
                 max_bytes: int) -> Fetched:
    if not is_url(location):
        return await asyncio.to_thread(read_file, location, max_bytes=max_bytes)
    if client is not None:
        return await fetch_url(client, location, etag=etag, last_modified=modified, max_bytes=max_bytes)
    async with make_client() as own:
        return await fetch_url(own, location, etag=etag, last_modified=modified, max_bytes=max_bytes)


async def _store(session: AsyncSession, cursor: FeedSource, parsed: ParsedFeed, report: ImportReport, *,
                 now: datetime, policy: d.Policy, max_age_days: int, enqueue: store.Enqueue | None,
                 progress: Progress | None) -> None:
    entries = d.merge_duplicates(parsed.entries)
    report.kind, report.title, report.entries = parsed.kind, parsed.title, len(parsed.entries)
    report.skipped, report.skips = parsed.skipped, list(parsed.skips)
    report.errors = 1 if parsed.error else 0
    report.error = parsed.error
    cutoff = d.archive_cutoff(now=now, first_import=cursor.last_polled_at is None,
                              last_seen_at=cursor.last_seen_at, max_age_days=max_age_days)
    stored = await store.stored_hashes(session, cursor.name, [e.source_key for e in entries])
    changed = {e.source_key: stored[e.source_key].id for e in entries
               if e.source_key in stored and e.computed_hash() != stored[e.source_key].content_hash}
    posts = await store.load_posts(session, list(changed.values()))
    for key, post_id in changed.items():
        stored[key] = d.Stored(post_id, stored[key].content_hash, store.snapshot(posts[post_id]))
    decisions = await _with_markdown(d.decide(entries, stored, policy=policy, cutoff=cutoff))
    report.unchanged = sum(x.action == d.Action.UNCHANGED for x in decisions)
    writes = [x for x in decisions if x.action != d.Action.UNCHANGED]
    for start in range(0, len(writes), 1000):
        batch = writes[start:start + 1000]
        tags = await tags_by_key(session, store.tag_displays(batch))
        added = [x for x in batch if x.action == d.Action.ADD]
        updated = [x for x in batch if x.action == d.Action.UPDATE]
        await store.add_posts(session, added, tags, now, enqueue)
        await store.update_posts(session, updated, posts, tags, now)
        report.archived += sum(x.post.status == PostStatus.ARCHIVED for x in added)
        report.added += sum(x.post.status != PostStatus.ARCHIVED for x in added)
        report.queued += sum(x.post.status == PostStatus.QUEUED for x in added)
        report.updated += len(updated)
        if progress is not None:
            progress(start + len(batch), len(writes))
    cursor.last_seen_at = d.last_seen(entries, cursor.last_seen_at)


async def _with_markdown(decisions: list[d.Decision]) -> list[d.Decision]:
    """Markdown only for what will be written (parsing skipped it: it is the costliest step)."""
    todo = [i for i, x in enumerate(decisions) if x.action != d.Action.UNCHANGED]
    converted = await to_markdown_many([decisions[i].post.body_html for i in todo])
    for i, markdown in zip(todo, converted, strict=True):
        decisions[i] = replace(decisions[i], post=replace(decisions[i].post, body_markdown=markdown))
    return decisions


async def _record_failure(sessions: async_sessionmaker[AsyncSession], report: ImportReport, error: str,
                          now: datetime, interval: timedelta, scheduled: bool) -> ImportReport:
    """A failed attempt: one more in the streak, the next poll backed off — never dropped."""
    async def record() -> None:
        async with sessions.begin() as session:
            cursor = await store.feed_source(session, report.source, report.location)
            cursor.failures += 1
            cursor.failing_since = cursor.failing_since or now
            cursor.last_error = error
            cursor.next_poll_at = d.next_poll(now, interval, cursor.failures)
            report.failures, report.next_poll_at = cursor.failures, cursor.next_poll_at

    await _retrying(record)
    if not scheduled:
        return _unrecorded_failure(report, error)
    report.error, report.errors = error, 1
    log.debug("source %s failed (%d in a row): %s", report.source, report.failures, error)
    return report


def _unrecorded_failure(report: ImportReport, error: str) -> ImportReport:
    """A one-off import's failure: the caller shows it; nothing will try again."""
    report.error, report.errors, report.next_poll_at = error, 1, None
    log.debug("source %s failed: %s", report.source, error)
    return report


def _log_report(report: ImportReport, level: int) -> None:
    """One line per source; at INFO, a failure is a WARNING."""
    if report.failed:
        level = logging.WARNING if level == logging.INFO else level
        if log.isEnabledFor(level):
            retry = f"; next attempt at {report.next_poll_at.isoformat()}" if report.next_poll_at else ""
            log.log(level, "source %s failed (%d in a row): %s%s", report.source, report.failures, report.error, retry)
        return
    if not log.isEnabledFor(level):
        return
    if report.not_modified:
        log.log(level, "source %s: not modified", report.source)
        return
    log.log(level, "source %s: %d added (%d queued), %d updated, %d unchanged, %d archived, %d skipped%s",
            report.source, report.added, report.queued, report.updated, report.unchanged, report.archived,
            report.skipped, f" ({report.error})" if report.error else "")


def feed_options(feed: FeedSettings) -> dict[str, Any]:
    """``import_source`` keywords that a configured feed decides (its name, policy, guard, interval)."""
    return {"name": feed.name, "policy": feed.policy, "max_age_days": feed.first_import_max_age_days,
            "interval": timedelta(minutes=feed.interval_minutes), "scheduled": True}


async def poll(app_or_sessions: Any, feed: FeedSettings, *, now: datetime, client: httpx.AsyncClient | None = None,
               enqueue: store.Enqueue | None = None, default_language: str = "fr",
               max_bytes: int = DEFAULT_MAX_BYTES) -> ImportReport:
    """Poll one configured feed now (conditional GET; its policy and first-import guard)."""
    return await import_source(
        app_or_sessions, feed.url, now=now, enqueue=enqueue, client=client, default_language=default_language,
        max_bytes=max_bytes, **feed_options(feed),
    )


async def poll_due(app_or_sessions: Any, feeds: Sequence[FeedSettings], *, now: datetime,
                   client: httpx.AsyncClient | None = None, enqueue: store.Enqueue | None = None,
                   default_language: str = "fr") -> list[ImportReport]:
    """Poll every configured feed whose next poll time has come; one bad feed never stops the rest."""
    sessions = _sessions(app_or_sessions)
    async with sessions() as session:
        due = []
        for feed in feeds:
            cursor = await session.scalar(select(FeedSource).where(FeedSource.name == feed.name))
            if cursor is None or cursor.next_poll_at is None or cursor.next_poll_at <= now:
                due.append(feed)
    reports = []
    for feed in due:
        try:
            reports.append(await poll(sessions, feed, now=now, client=client, enqueue=enqueue,
                                      default_language=default_language))
            _log_report(reports[-1], logging.INFO)  # the scheduler has no table: the log is its record
        except Exception as exc:
            log.exception("polling %s failed", feed.name)
            report = ImportReport(source=feed.name, location=feed.url)
            reports.append(await _record_failure(sessions, report, f"{type(exc).__name__}: {exc}", now,
                                                 timedelta(minutes=feed.interval_minutes), scheduled=True))
    return reports
