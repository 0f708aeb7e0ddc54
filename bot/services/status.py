"""Is Relais healthy? One snapshot of the queue read from the database, for `relais status`,
`/readyz` and the `/metrics` gauges alike.

Every figure is one grouped query (five in all, none proportional to the rows it counts in
Python), so a scrape every 15 s costs the database a handful of index scans.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.errors import DatabaseUnavailable
from bot.services.context import Services
from bot.store.db import connected
from bot.store.models import Channel, Delivery, DeliveryState, FeedSource, Publication, PublicationState

WAITING = (PublicationState.PENDING.value, PublicationState.RETRY.value)
FAILED = (PublicationState.RETRY, PublicationState.DEAD)
READERS = "readers"  # the queue of reader notifications, next to the channels' queues
MAX_FEEDS_SHOWN = 50


@dataclass(frozen=True)
class PlatformSeen:
    """When a platform last accepted a publication, and when one last failed there."""

    last_success: datetime | None = None
    last_failure: datetime | None = None


@dataclass(frozen=True)
class FailingFeed:
    name: str
    failures: int  # in a row
    last_error: str | None
    next_poll_at: datetime | None


@dataclass(frozen=True)
class Status:
    now: datetime
    publications: dict[tuple[str, str], int] = field(default_factory=dict)  # (channel, state) → count
    deliveries: dict[str, int] = field(default_factory=dict)  # state → count
    queue_depth: dict[str, int] = field(default_factory=dict)  # channel name, or READERS → rows waiting
    oldest_due_seconds: float | None = None  # None: nothing due is waiting
    platforms: dict[str, PlatformSeen] = field(default_factory=dict)
    failing_feeds: tuple[FailingFeed, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (times in ISO 8601 UTC), for `relais status --json` and `/readyz`."""
        by_channel: dict[str, dict[str, int]] = {}
        for (channel, state), count in sorted(self.publications.items()):
            by_channel.setdefault(channel, {})[state] = count
        return {
            "now": self.now.isoformat(),
            "queue_depth": dict(sorted(self.queue_depth.items())),
            "oldest_due_seconds": self.oldest_due_seconds,
            "publications": by_channel,
            "deliveries": dict(sorted(self.deliveries.items())),
            "platforms": {name: {"last_success": _iso(seen.last_success), "last_failure": _iso(seen.last_failure)}
                          for name, seen in sorted(self.platforms.items())},
            "failing_feeds": [{"name": f.name, "failures": f.failures, "last_error": f.last_error,
                               "next_poll_at": _iso(f.next_poll_at)} for f in self.failing_feeds],
        }


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


async def database_reachable(engine: AsyncEngine, timeout: float = 2.0) -> str | None:
    """``None`` when ``SELECT 1`` answers within ``timeout`` seconds, else why not (password masked)."""
    try:
        async with asyncio.timeout(timeout), connected(engine, connecting=True), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except TimeoutError:
        return f"database did not answer SELECT 1 within {timeout:g} s"
    except DatabaseUnavailable as exc:
        return str(exc)
    return None


async def status(app: Services, now: datetime) -> Status:
    """The queue, the platforms and the feeds as the database has them at ``now``."""
    async with app.sessions() as session:
        publications = await _publications(session)
        deliveries = await _deliveries(session)
        return Status(
            now=now,
            publications=publications,
            deliveries=deliveries,
            queue_depth=_queue_depth(publications, deliveries),
            oldest_due_seconds=await _oldest_due(session, now),
            platforms=await _platforms(session),
            failing_feeds=await _failing_feeds(session),
        )


async def _publications(session: AsyncSession) -> dict[tuple[str, str], int]:
    rows = await session.execute(
        select(Channel.name, Publication.state, func.count())
        .join(Channel, Channel.id == Publication.channel_id)
        .group_by(Channel.name, Publication.state)
    )
    return {(name, PublicationState(state).value): count for name, state, count in rows}


async def _deliveries(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Delivery.state, func.count()).group_by(Delivery.state))
    return {DeliveryState(state).value: count for state, count in rows}


def _queue_depth(publications: dict[tuple[str, str], int], deliveries: dict[str, int]) -> dict[str, int]:
    depth: dict[str, int] = {}
    for (channel, state), count in publications.items():
        depth[channel] = depth.get(channel, 0) + (count if state in WAITING else 0)
    depth[READERS] = sum(deliveries.get(state, 0) for state in WAITING)
    return depth


async def _oldest_due(session: AsyncSession, now: datetime) -> float | None:
    # The worker's own notion of "due" (bot.publish.outbox): the retry time, else the slot time.
    due = func.coalesce(Publication.next_attempt_at, Publication.due_at)
    oldest = await session.scalar(
        select(func.min(due)).where(Publication.state.in_(list(WAITING)), due <= now)
    )
    return max(0.0, (now - oldest).total_seconds()) if oldest is not None else None


async def _platforms(session: AsyncSession) -> dict[str, PlatformSeen]:
    # updated_at of a row in retry or dead is when its last failure was recorded: nothing else
    # touches a row in those states but the worker (or an edit request, a rare and close time).
    failed_at = case((Publication.state.in_(FAILED), Publication.updated_at))
    rows = await session.execute(
        select(Channel.platform, func.max(Publication.sent_at), func.max(failed_at))
        .join(Channel, Channel.id == Publication.channel_id)
        .group_by(Channel.platform)
    )
    return {str(platform): PlatformSeen(success, failure) for platform, success, failure in rows}


async def _failing_feeds(session: AsyncSession) -> tuple[FailingFeed, ...]:
    rows = await session.scalars(
        select(FeedSource).where(FeedSource.failures > 0)
        .order_by(FeedSource.failures.desc(), FeedSource.name).limit(MAX_FEEDS_SHOWN)
    )
    return tuple(FailingFeed(f.name, f.failures, f.last_error, f.next_poll_at) for f in rows)
