"""Move a post one place up or down its channels' queues (it swaps due times with its neighbour), or to a mode.

The slots stay where they are; only which post takes which slot changes, on every channel
where the post waits. Only pending publications that are not claimed and not overdue take
part (overdue ones are the catch-up policy's); a post already first (or last) stays put.
One transaction; channel rows are locked first, as ``bot.publish.queue`` does.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.publish import queue
from bot.publish.queue import Mode
from bot.services import publishing
from bot.services.context import Services
from bot.store import repository
from bot.store.models import Channel, Publication, PublicationState


class Direction(enum.IntEnum):
    UP = -1
    DOWN = 1


@dataclass(frozen=True, slots=True)
class Swap:
    channel: str
    other_post_id: int | None  # None: already first (up) or last (down) on this channel
    due_at: datetime | None  # the post's due time after the move (aware UTC)


async def _waiting(session: AsyncSession, channel_id: int, now: datetime) -> list[tuple[int, int, datetime]]:
    """(publication id, post id, due time) of what waits on the channel, in due order: light rows, not ORM objects."""
    query = (select(Publication.id, Publication.post_id, Publication.due_at)
             .where(Publication.channel_id == channel_id, Publication.state == PublicationState.PENDING,
                    Publication.claimed_by.is_(None), Publication.due_at >= now)
             .order_by(Publication.due_at, Publication.id))
    return [(pid, post_id, due) for pid, post_id, due in (await session.execute(query)).all() if due is not None]


async def move(app: Services, post_id: int, direction: Direction, now: datetime) -> list[Swap]:
    """Swap ``post_id``'s place with its neighbour's on each channel where it waits, in channel order."""
    now = now.astimezone(UTC)
    async with app.sessions.begin() as session:
        await repository.get_post(session, post_id)  # NotFound for an unknown or deleted post
        channels = (await session.execute(
            select(Channel.id, Channel.name).join(Publication, Publication.channel_id == Channel.id)
            .where(Publication.post_id == post_id).order_by(Channel.id).with_for_update(of=Channel))).all()
        swaps: list[Swap] = []
        moves: dict[int, datetime] = {}
        for channel_id, name in channels:
            waiting = await _waiting(session, channel_id, now)
            index = next((i for i, (_, post, _) in enumerate(waiting) if post == post_id), None)
            if index is None:
                continue
            other = index + direction
            if not 0 <= other < len(waiting):
                swaps.append(Swap(name, None, waiting[index][2]))
                continue
            (mine, _, my_due), (theirs, their_post, their_due) = waiting[index], waiting[other]
            moves |= {mine: their_due, theirs: my_due}
            swaps.append(Swap(name, their_post, their_due))
        await queue.apply_moves(session, moves, f"post {post_id} moved {direction.name.lower()}")
        return swaps


async def enqueue_or_move(app: Services, post_id: int, now: datetime, *, mode: Mode,
                          at: datetime | None = None) -> publishing.PostOutcomes:
    """Queue a post by ``mode``; where it already waits, move it there instead ("publish now" on a queued post)."""
    outcomes = await publishing.enqueue(app, post_id, now, mode=mode, at=at)
    if any(c.outcome is publishing.Outcome.ALREADY_QUEUED for c in outcomes.channels):
        return await publishing.reschedule(app, post_id, now, mode=mode, at=at)
    return outcomes
