"""The outbox: claim, complete, fail, back off and recover — once, for every sendable row.

Two kinds of rows go out through it (DESIGN.md rule 6): channel *publications* and reader
*deliveries*. A row exists before anything is sent. A worker *claims* due rows (state
``sending``, stamped with its id), calls the platform, and records the answer at once, each
row in its own short transaction. On PostgreSQL the claim is ``SELECT … FOR UPDATE SKIP
LOCKED`` so several ``relais run`` processes never take the same row; on SQLite (one writer
at a time) the guarded ``UPDATE … WHERE state IN (…)`` is the lock. A :class:`Kind` says
which table and which rows are eligible; every function below takes one (publications by
default).

Sent publications carry two more jobs through the same discipline: *edit* (``needs_edit``,
the post changed after it went out) and *delete* (``needs_delete`` or the post was deleted).
A change job is claimed by stamping ``claimed_by``/``claimed_at`` while the row stays ``sent``.

``attempts`` counts the tries of the current job: the send, then each edit or delete.
"""

from __future__ import annotations

import functools
import logging
import random
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import BindParameter, ColumnElement, ScalarResult, Select, Table, and_, bindparam, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.dml import Update

from bot.errors import PublishError, RetryableError
from bot.store.models import Channel, Delivery, DeliveryState, Post, Publication, Subscriber
from bot.store.models import PublicationState as State

log = logging.getLogger(__name__)

Row = Publication | Delivery


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with "equal jitter": the n-th retry waits in [d/2, d], d = base·2ⁿ⁻¹ ≤ cap."""

    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)
    max_attempts: int = 8

    def delay(self, attempts: int, rng: random.Random | None = None) -> timedelta:
        ceiling = min(self.cap, self.base * (2 ** max(attempts - 1, 0)))
        return ceiling * (rng or random).uniform(0.5, 1.0)


DEFAULT_POLICY = RetryPolicy()


@dataclass(frozen=True, slots=True)
class Kind:
    """One table of sendable rows: its model, its states and which due rows may be claimed now."""

    name: str  # "publication", "delivery": in logs and reports
    model: Any  # Publication or Delivery: same claim columns, same state names
    states: Any  # PublicationState or DeliveryState
    # id → (joins and filters beyond state and due time); the scope narrows it (channel names)
    eligible: Callable[[Select[Any], Collection[str] | None], Select[Any]]
    has_changes: bool = False  # sent rows may be claimed again for an edit or a delete

    @property
    def sendable(self) -> tuple[Any, Any]:
        return (self.states.PENDING, self.states.RETRY)

    def due(self, now: datetime) -> ColumnElement[bool]:
        # A pending row without next_attempt_at falls back to its due time; with neither it waits.
        return func.coalesce(self.model.next_attempt_at, self.model.due_at) <= now


def _eligible_publications(query: Select[Any], channel_names: Collection[str] | None) -> Select[Any]:
    query = (
        query.join(Channel, Channel.id == Publication.channel_id).join(Post, Post.id == Publication.post_id)
        .where(Channel.enabled.is_(True), Channel.paused.is_(False), Post.deleted_at.is_(None),
               Publication.needs_delete.is_(False))
    )
    return _channel_filter(query, channel_names)


def _eligible_deliveries(query: Select[Any], scope: Collection[str] | None) -> Select[Any]:
    return (
        query.join(Subscriber, Subscriber.id == Delivery.subscriber_id).join(Post, Post.id == Delivery.post_id)
        .where(Subscriber.active.is_(True), Post.deleted_at.is_(None))
    )


PUBLICATIONS = Kind("publication", Publication, State, _eligible_publications, has_changes=True)
DELIVERIES = Kind("delivery", Delivery, DeliveryState, _eligible_deliveries)
SENDABLE = PUBLICATIONS.sendable


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _channel_filter(query: Select[Any], channel_names: Collection[str] | None) -> Select[Any]:
    return query if channel_names is None else query.where(Channel.name.in_(list(channel_names)))


async def _claim(session: AsyncSession, kind: Kind, candidates: Select[Any], guard: ColumnElement[bool],
                 values: dict[str, Any]) -> list[Any]:
    """Lock-free on SQLite, SKIP LOCKED on PostgreSQL; the guard makes the UPDATE the arbiter."""
    model = kind.model
    if _is_postgres(session):
        candidates = candidates.with_for_update(skip_locked=True, of=model)
    ids = list((await session.scalars(candidates)).all())
    if not ids:
        return []
    result = await session.execute(
        update(model).where(model.id.in_(ids), guard).values(**values)
        .returning(model.id).execution_options(synchronize_session=False)
    )
    claimed = list(result.scalars().all())
    if not claimed:
        return []
    rows: ScalarResult[Any] = await session.scalars(
        select(model).where(model.id.in_(claimed)).order_by(model.id).execution_options(populate_existing=True)
    )
    return list(rows.unique().all())


async def claim_due(session: AsyncSession, now: datetime, worker_id: str, limit: int, *,
                    channel_names: Collection[str] | None = None, kind: Kind = PUBLICATIONS) -> list[Any]:
    """Move up to ``limit`` due sends to ``sending`` for this worker; the caller commits."""
    model = kind.model
    candidates = kind.eligible(
        select(model.id).where(model.state.in_(kind.sendable), kind.due(now)), channel_names,
    ).order_by(func.coalesce(model.next_attempt_at, model.due_at), model.id).limit(limit)
    return await _claim(
        session, kind, candidates, model.state.in_(kind.sendable),
        {"state": kind.states.SENDING, "claimed_by": worker_id, "claimed_at": now, "attempts": model.attempts + 1},
    )


async def complete(session: AsyncSession | AsyncConnection, row_id: int, *, remote_id: str, now: datetime,
                   kind: Kind = PUBLICATIONS, **values: Any) -> bool:
    """Record the platform's answer; False when the row was already sent (a duplicate went out).

    One Core UPDATE: the worker runs it on a bare pooled connection, no ORM session per row.
    ``values``: what else the kind records (a publication's ``remote_url`` and ``sent_version``).
    """
    model = kind.model
    if kind is PUBLICATIONS:
        values["needs_edit"] = Publication.content_version > values["sent_version"]
    result = await session.execute(
        update(model)
        .where(model.id == row_id, model.state.in_((kind.states.SENDING, *kind.sendable)))
        .values(state=kind.states.SENT, remote_id=remote_id, sent_at=now, last_error=None, claimed_by=None,
                claimed_at=None, next_attempt_at=None, attempts=0, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        log.warning("%s %s was already completed; remote message %s is a duplicate", kind.name, row_id, remote_id)
        return False
    return True


async def complete_many(connection: AsyncConnection, outcomes: Sequence[dict[str, Any]], *, now: datetime,
                        kind: Kind = DELIVERIES) -> None:
    """Record many sends at once (``{"row_id", "sent_remote_id"}`` each): one executemany UPDATE.

    Rows another worker already completed are left alone (the guard), as in :func:`complete`.
    """
    await connection.execute(_complete_many_statement(kind), [{**outcome, "sent_now": now} for outcome in outcomes])


# The two executemany UPDATEs are built once: building a Core statement costs more CPU than
# executing it for the few rows a group commit usually carries.
@functools.cache
def _complete_many_statement(kind: Kind) -> Update:
    table = kind.model.__table__
    return (
        update(table)
        # IN (…) cannot be expanded in an executemany: spelled out as ORs
        .where(table.c.id == bindparam("row_id"),
               or_(*(table.c.state == state for state in (kind.states.SENDING, *kind.sendable))))
        .values(state=kind.states.SENT, remote_id=bindparam("sent_remote_id"), sent_at=bindparam("sent_now"),
                last_error=None, claimed_by=None, claimed_at=None, next_attempt_at=None, attempts=0)
    )


@functools.cache
def _complete_publications_statement() -> Update:
    table = cast(Table, Publication.__table__)
    version: BindParameter[int] = bindparam("version")
    return (
        update(table)
        .where(table.c.id == bindparam("row_id"),
               or_(*(table.c.state == state for state in (State.SENDING, *SENDABLE))))
        .values(state=State.SENT, remote_id=bindparam("sent_remote_id"), remote_url=bindparam("sent_remote_url"),
                sent_version=version, needs_edit=table.c.content_version > version, sent_at=bindparam("sent_now"),
                last_error=None, claimed_by=None, claimed_at=None, next_attempt_at=None, attempts=0)
    )


async def complete_publications(connection: AsyncConnection, outcomes: Sequence[dict[str, Any]], *,
                                now: datetime) -> int:
    """Record sent publications together (``{"row_id", "sent_remote_id", "sent_remote_url", "version"}``
    each): one executemany UPDATE, the same columns :func:`complete` sets. Returns the rows
    updated; fewer than given means some were already sent (a duplicate went out)."""
    result = await connection.execute(_complete_publications_statement(),
                                      [{**outcome, "sent_now": now} for outcome in outcomes])
    updated = int(result.rowcount)
    if updated < len(outcomes):
        log.warning("%d of %d publications were already completed: their new messages are duplicates",
                    len(outcomes) - updated, len(outcomes))
    return updated


async def release(session: AsyncSession, row_ids: Collection[int], worker_id: str, *,
                  kind: Kind = PUBLICATIONS) -> int:
    """Give back claims that never reached the platform (shutdown): as if never claimed."""
    if not row_ids:
        return 0
    model, states = kind.model, kind.states
    result = await session.execute(
        update(model)
        .where(model.id.in_(list(row_ids)), model.claimed_by == worker_id)
        .values(state=case((model.state != states.SENDING, model.state),
                           (model.attempts <= 1, states.PENDING), else_=states.RETRY),
                attempts=model.attempts - 1, claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _ours(row: Row, worker_id: str | None) -> bool:
    return worker_id is None or row.claimed_by == worker_id


def _next_try(attempts: int, error: PublishError, now: datetime, policy: RetryPolicy,
              rng: random.Random | None) -> datetime | None:
    """When to try again, or None to give up."""
    if not isinstance(error, RetryableError) or attempts >= policy.max_attempts:
        return None
    if error.retry_after is not None:  # the platform said exactly when
        return now + timedelta(seconds=error.retry_after)
    return now + policy.delay(attempts, rng)


def _give_up_message(attempts: int, error: PublishError) -> str:
    if isinstance(error, RetryableError):
        return f"gave up after {attempts} attempts: {error}"
    return str(error)


async def fail(session: AsyncSession, row_id: int, error: PublishError, now: datetime, *,
               policy: RetryPolicy = DEFAULT_POLICY, rng: random.Random | None = None,
               worker_id: str | None = None, kind: Kind = PUBLICATIONS) -> Any:
    """Send failed: ``retry`` at the next try time, or ``dead`` with the platform's message.

    None when the row is no longer ours (recovered and claimed by another worker meanwhile).
    """
    row = await session.get(kind.model, row_id, populate_existing=True)
    if row is None or row.state != kind.states.SENDING or not _ours(row, worker_id):
        return None
    when = _next_try(row.attempts, error, now, policy, rng)
    row.claimed_by = row.claimed_at = None
    if when is None:
        row.state, row.last_error, row.next_attempt_at = kind.states.DEAD, _give_up_message(row.attempts, error), None
    else:
        row.state, row.last_error, row.next_attempt_at = kind.states.RETRY, str(error), when
    await session.flush()
    return row.state


async def recover_stale(session: AsyncSession, now: datetime, older_than: timedelta, *,
                        kind: Kind = PUBLICATIONS) -> int:
    """Return work left by a crashed worker: ``sending`` → ``retry`` now; stale change claims released.

    A Telegram message in flight at the crash may then go out twice (one per crash); Mastodon
    sends are protected by the Idempotency-Key. The claim's attempt is given back: a worker
    claims a whole batch, so most rows it leaves were never tried, and a crash is no answer
    from the platform — counting it let a few kills turn one later 5xx into ``dead``.
    """
    cutoff = now - older_than
    model, states = kind.model, kind.states
    sends = await session.execute(
        update(model)
        .where(model.state == states.SENDING, model.claimed_at < cutoff)
        .values(state=states.RETRY, next_attempt_at=now, claimed_by=None, claimed_at=None,
                attempts=case((model.attempts > 0, model.attempts - 1), else_=0),
                last_error="worker stopped while sending; outcome unknown")
        .execution_options(synchronize_session=False)
    )
    recovered = int(sends.rowcount)  # type: ignore[attr-defined]
    if kind.has_changes:
        changes = await session.execute(
            update(model)
            .where(model.state == states.SENT, model.claimed_at < cutoff)
            .values(claimed_by=None, claimed_at=None)
            .execution_options(synchronize_session=False)
        )
        recovered += int(changes.rowcount)  # type: ignore[attr-defined]
    if recovered:
        log.warning("recovered %d %s rows left by a stopped worker", recovered, kind.name)
    return recovered


# --- Edits and deletes of sent publications ------------------------------------------------


def wants_delete(publication: Publication) -> bool:
    return publication.needs_delete or publication.post.deleted_at is not None


async def claim_changes(session: AsyncSession, now: datetime, worker_id: str, limit: int, *,
                        channel_names: Collection[str] | None = None) -> list[Publication]:
    """Claim sent publications that must be edited or deleted; :func:`wants_delete` tells which."""
    wanted = or_(Publication.needs_edit.is_(True), Publication.needs_delete.is_(True), Post.deleted_at.is_not(None))
    free = and_(Publication.state == State.SENT, Publication.claimed_at.is_(None))
    candidates = (
        select(Publication.id)
        .join(Channel, Channel.id == Publication.channel_id)
        .join(Post, Post.id == Publication.post_id)
        .where(free, wanted, Channel.enabled.is_(True),
               or_(Publication.next_attempt_at.is_(None), Publication.next_attempt_at <= now))
        .order_by(Publication.id)
        .limit(limit)
    )
    return await _claim(
        session, PUBLICATIONS, _channel_filter(candidates, channel_names), free,
        {"claimed_by": worker_id, "claimed_at": now, "attempts": Publication.attempts + 1},
    )


async def complete_edit(session: AsyncSession, publication_id: int, *, version: int, now: datetime) -> None:
    await session.execute(
        update(Publication).where(Publication.id == publication_id)
        .values(sent_version=version, needs_edit=Publication.content_version > version, claimed_by=None,
                claimed_at=None, next_attempt_at=None, attempts=0, last_error=None)
        .execution_options(synchronize_session=False)
    )


async def complete_delete(session: AsyncSession, publication_id: int, now: datetime, *,
                          note: str | None = None) -> None:
    await session.execute(
        update(Publication).where(Publication.id == publication_id)
        .values(state=State.DELETED, needs_edit=False, needs_delete=False, claimed_by=None, claimed_at=None,
                next_attempt_at=None, attempts=0, last_error=note)
        .execution_options(synchronize_session=False)
    )


async def fail_change(session: AsyncSession, publication_id: int, error: PublishError, now: datetime, *,
                      delete: bool, policy: RetryPolicy = DEFAULT_POLICY,
                      rng: random.Random | None = None, worker_id: str | None = None) -> bool:
    """An edit or delete failed; returns True when it will be retried.

    Giving up on an edit leaves the message as it was (state stays ``sent``); giving up on a
    delete turns the publication ``dead`` so an author is told to remove the message by hand.
    """
    publication = await session.get(Publication, publication_id, populate_existing=True)
    if publication is None or not _ours(publication, worker_id):
        return False
    when = _next_try(publication.attempts, error, now, policy, rng)
    publication.claimed_by = publication.claimed_at = None
    publication.next_attempt_at = when
    action = "delete" if delete else "edit"
    if when is None:
        publication.last_error = f"{action} failed: {_give_up_message(publication.attempts, error)}"
        publication.attempts = 0
        if delete:
            publication.state, publication.needs_delete = State.DEAD, False
        else:
            publication.needs_edit = False
    else:
        publication.last_error = f"{action} failed: {error}"
    await session.flush()
    return when is not None


async def withdraw_unsent(session: AsyncSession, now: datetime) -> int:
    """Publications not sent yet whose post was deleted (or that were withdrawn) never go out."""
    gone = select(Post.id).where(Post.deleted_at.is_not(None))
    result = await session.execute(
        update(Publication)
        .where(Publication.state.in_(SENDABLE),
               or_(Publication.needs_delete.is_(True), Publication.post_id.in_(gone)))
        .values(state=State.DELETED, needs_delete=False, next_attempt_at=None,
                last_error="withdrawn before publication")
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def request_edits(session: AsyncSession, post_ids: Sequence[int]) -> int:
    """The posts changed: sent (or in-flight) publications must be edited to the new version.

    Unsent ones are rendered fresh when they go out and keep their version, so a retry keeps
    the same Mastodon Idempotency-Key.
    """
    result = await session.execute(
        update(Publication)
        .where(Publication.post_id.in_(list(post_ids)), Publication.state.in_((State.SENT, State.SENDING)))
        .values(content_version=Publication.content_version + 1,
                needs_edit=Publication.state == State.SENT)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
