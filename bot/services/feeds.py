"""Feeds: one-off imports of sources and the polling of configured feeds, over :mod:`bot.ingest.service`.

The rule kept here: a source equal to a configured feed's URL imports with that feed's
name, policy and first-import guard, unless the caller overrides policy or guard. New
entries stored as queued take the publishing side's enqueue hook.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import httpx
from sqlalchemy import select, update

from bot.ingest import decide
from bot.ingest import service as ingest
from bot.ingest.decide import Policy
from bot.ingest.fetch import DEFAULT_MAX_BYTES, is_url, make_client
from bot.ingest.service import ImportReport
from bot.services.context import Services
from bot.services.publishing import enqueue_hook
from bot.settings import Settings
from bot.store.models import FeedSource


class ImportProgress(Protocol):
    """Told what an import is doing, source by source (a progress bar, a chat message…)."""

    def started(self, location: str) -> None: ...

    def stored(self, location: str, done: int, total: int) -> None: ...

    def finished(self, location: str, report: ImportReport) -> None: ...


def feed_options(settings: Settings, location: str, *, policy: Policy | None = None,
                 max_age_days: int | None = None) -> dict[str, Any]:
    """``import_source`` keywords for ``location``: a configured feed's own settings, then the overrides."""
    feed = next((f for f in settings.feeds if f.url == location), None)
    options = ingest.feed_options(feed) if feed else {}
    if policy is not None:
        options["policy"] = policy
    if max_age_days is not None:
        options["max_age_days"] = max_age_days
    return options


def _stored_callback(progress: ImportProgress | None, location: str) -> ingest.Progress | None:
    if progress is None:
        return None
    return lambda done, total: progress.stored(location, done, total)


def _located(location: str) -> str:
    return location if is_url(location) else str(Path(location).expanduser())


async def import_sources(app: Services, sources: Sequence[str], *, now: datetime, policy: Policy | None = None,
                         max_age_days: int | None = None, max_bytes: int = DEFAULT_MAX_BYTES, force: bool = False,
                         progress: ImportProgress | None = None) -> list[ImportReport]:
    """Import feed URLs or files one after the other (one transaction each); one bad source never stops the rest."""
    reports = []
    async with make_client() as client:
        for location in sources:
            if progress is not None:
                progress.started(location)
            report = await ingest.import_source(
                app.sessions, _located(location), now=now, client=client, enqueue=enqueue_hook(app.settings),
                default_language=app.settings.default_language, max_bytes=max_bytes, force=force,
                progress=_stored_callback(progress, location),
                **feed_options(app.settings, location, policy=policy, max_age_days=max_age_days),
            )
            if progress is not None:
                progress.finished(location, report)
            reports.append(report)
    return reports


async def poll_due(app: Services, *, now: datetime, client: httpx.AsyncClient | None = None) -> list[ImportReport]:
    """Poll every configured feed whose time has come (the scheduler's job)."""
    return await ingest.poll_due(app.sessions, app.settings.feeds, now=now, client=client,
                                 enqueue=enqueue_hook(app.settings), default_language=app.settings.default_language)


# --- feed health ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FeedStatus:
    """A feed as the poller last left it (``feed_sources``)."""

    name: str
    url: str
    configured: bool  # False: a source imported once by hand, never polled
    interval_minutes: int | None  # configured feeds only
    last_attempt: datetime | None  # the last fetch, successful or not; None: never fetched
    last_success: datetime | None
    last_error: str | None  # of the last fetch (a feed can parse with an error and still give entries)
    failures: int  # failed fetches in a row
    next_attempt: datetime | None  # None: at the next poll (configured, never fetched) or never (not configured)
    last_seen_at: datetime | None  # the newest entry seen


async def feed_statuses(app: Services) -> list[FeedStatus]:
    """Configured feeds in configuration order, then the other sources known from imports, by name."""
    async with app.sessions() as session:
        rows = {row.name: row for row in (await session.scalars(select(FeedSource).order_by(FeedSource.name))).all()}
    statuses = [_status(feed.name, feed.url, rows.pop(feed.name, None), feed.interval_minutes)
                for feed in app.settings.feeds]
    return statuses + [_status(row.name, row.url, row, None) for row in rows.values()]


def _last_failed_try(next_poll_at: datetime, interval_minutes: int, failures: int) -> datetime:
    """A failure stores only the next poll time; the try was that time less the backoff of the streak."""
    backoff = decide.next_poll(next_poll_at, timedelta(minutes=interval_minutes), failures) - next_poll_at
    return next_poll_at - backoff


def _status(name: str, url: str, row: FeedSource | None, interval: int | None) -> FeedStatus:
    if row is None:
        return FeedStatus(name, url, interval is not None, interval, None, None, None, 0, None, None)
    last_attempt = row.last_polled_at
    if row.failures and row.next_poll_at is not None and interval is not None:
        last_attempt = _last_failed_try(row.next_poll_at, interval, row.failures)
    return FeedStatus(name, url, interval is not None, interval, last_attempt, row.last_polled_at, row.last_error,
                      row.failures, row.next_poll_at if interval is not None else None, row.last_seen_at)


@dataclass(frozen=True, slots=True)
class FailingFeed:
    """A configured feed whose polls have been failing since ``failing_since``."""

    id: int
    name: str
    url: str
    failing_since: datetime
    failures: int
    last_error: str | None
    next_attempt: datetime | None


async def failing_feeds_to_tell(app: Services, now: datetime, after: timedelta = timedelta(days=1)) -> list[FailingFeed]:
    """Configured feeds failing for at least ``after`` whose admins were not told about this streak yet.

    One-off imports of other sources are left out: nobody polls them again, so nothing is "down".
    """
    configured = [feed.name for feed in app.settings.feeds]
    if not configured:
        return []
    query = select(FeedSource).where(FeedSource.name.in_(configured), FeedSource.failing_since <= now - after,
                                     FeedSource.failure_notified_at.is_(None)).order_by(FeedSource.name)
    async with app.sessions() as session:
        rows = (await session.scalars(query)).all()
    return [FailingFeed(r.id, r.name, r.url, r.failing_since, r.failures, r.last_error, r.next_poll_at)
            for r in rows if r.failing_since is not None]


async def mark_told(app: Services, feed_ids: Sequence[int], now: datetime) -> None:
    """Record that the admins were told about these feeds' current streaks (a success since then clears it)."""
    if not feed_ids:
        return
    async with app.sessions.begin() as session:
        await session.execute(update(FeedSource).where(FeedSource.id.in_(feed_ids), FeedSource.failing_since.is_not(None))
                              .values(failure_notified_at=now))
