"""The outbox state machine on a real database (SQLite; PostgreSQL with RELAIS_TEST_DATABASE_URL).

The contract (claim, complete, retry, back off, give up, recover, release) is tested once,
parametrised over both kinds of row: channel publications and reader deliveries. Edits,
deletes and channel filters are publications' own.
"""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import pytest
from publish_support import NOW, make_channel, make_delivery, make_post, make_publication, make_subscriber
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.errors import PermanentError, RetryableError
from bot.publish import outbox
from bot.publish.outbox import DELIVERIES, PUBLICATIONS, Kind, RetryPolicy
from bot.store import db
from bot.store.models import Platform, Publication
from bot.store.models import PublicationState as State
from tests.conftest import POSTGRES_URL


@pytest.fixture(params=[PUBLICATIONS, DELIVERIES], ids=lambda kind: kind.name)
def kind(request) -> Kind:
    return request.param


async def _row(sessions, row_id: int, kind: Kind = PUBLICATIONS):
    async with sessions() as session:
        return await session.get(kind.model, row_id)


async def _claim(sessions, now=NOW, worker="w1", limit=10, kind: Kind = PUBLICATIONS, **kwargs) -> list:
    async with sessions.begin() as session:
        return await outbox.claim_due(session, now, worker, limit, kind=kind, **kwargs)


async def _complete(session, kind: Kind, row_id: int, remote_id: str) -> bool:
    extra = {"remote_url": None, "sent_version": 1} if kind is PUBLICATIONS else {}
    return await outbox.complete(session, row_id, remote_id=remote_id, now=NOW, kind=kind, **extra)


async def _make_row(session, kind: Kind, name: str = "masto", **fields):
    post = await make_post(session)
    if kind is PUBLICATIONS:
        return await make_publication(session, post, await make_channel(session, name), **fields)
    return await make_delivery(session, post, await make_subscriber(session), **fields)


@pytest.fixture
async def one(sessions):
    """One pending publication due at NOW on an enabled Mastodon channel."""
    async with sessions.begin() as session:
        return (await _make_row(session, PUBLICATIONS)).id


@pytest.fixture
async def due(sessions, kind):
    """One pending row of ``kind`` due at NOW: a publication on a channel, or a reader's notification."""
    async with sessions.begin() as session:
        return (await _make_row(session, kind)).id


async def test_claim_moves_due_rows_to_sending_once(sessions, kind, due) -> None:
    assert await _claim(sessions, now=NOW - timedelta(seconds=1), kind=kind) == []  # not due yet
    [claimed] = await _claim(sessions, kind=kind)
    assert claimed.id == due and claimed.state == kind.states.SENDING
    assert claimed.claimed_by == "w1" and claimed.claimed_at == NOW and claimed.attempts == 1
    assert claimed.post.title  # loaded for rendering
    assert (claimed.channel.name == "masto") if kind is PUBLICATIONS else claimed.subscriber.telegram_user_id
    assert await _claim(sessions, worker="w2", kind=kind) == []  # already taken


async def test_release_gives_unsent_claims_back_as_if_never_claimed(sessions, kind, due) -> None:
    await _claim(sessions, kind=kind)
    async with sessions.begin() as session:
        assert await outbox.release(session, [due], "someone-else", kind=kind) == 0
        assert await outbox.release(session, [due], "w1", kind=kind) == 1
    row = await _row(sessions, due, kind)
    assert (row.state, row.attempts, row.claimed_by) == (kind.states.PENDING, 0, None)


async def test_deliveries_of_inactive_readers_or_deleted_posts_are_not_claimed(sessions) -> None:
    async with sessions.begin() as session:
        gone = await make_post(session)
        gone.deleted_at = NOW
        await make_delivery(session, gone, await make_subscriber(session))
        await make_delivery(session, await make_post(session), await make_subscriber(session, active=False))
        await make_delivery(session, await make_post(session), await make_subscriber(session),
                            due_at=None, next_attempt_at=None)
    assert await _claim(sessions, kind=DELIVERIES) == []


async def test_a_reader_is_never_given_two_deliveries_of_one_post(sessions) -> None:
    async with sessions.begin() as session:
        post, reader = await make_post(session), await make_subscriber(session)
        await make_delivery(session, post, reader)
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            await make_delivery(session, post, reader)


async def test_paused_disabled_deleted_and_other_channels_are_not_claimed(sessions) -> None:
    async with sessions.begin() as session:
        paused = await make_channel(session, "paused", paused=True)
        disabled = await make_channel(session, "disabled", enabled=False)
        live = await make_channel(session, "live")
        other = await make_channel(session, "other")
        for channel in (paused, disabled, other):
            await make_publication(session, await make_post(session), channel)
        gone = await make_post(session)
        gone.deleted_at = NOW
        await make_publication(session, gone, live)
        await make_publication(session, await make_post(session), live, due_at=None, next_attempt_at=None)
    assert await _claim(sessions, channel_names=["paused", "disabled", "live"]) == []
    assert [p.channel.name for p in await _claim(sessions)] == ["other"]


async def test_complete_stores_the_answer_and_resets_the_attempts(sessions, kind, due) -> None:
    await _claim(sessions, kind=kind)
    async with sessions.begin() as session:
        assert await _complete(session, kind, due, "110")
    row = await _row(sessions, due, kind)
    assert (row.state, row.remote_id, row.sent_at) == (kind.states.SENT, "110", NOW)
    assert row.claimed_by is None and row.claimed_at is None and row.attempts == 0
    async with sessions.begin() as session:  # a second answer for the same row is a duplicate
        assert not await _complete(session, kind, due, "111")
    assert (await _row(sessions, due, kind)).remote_id == "110"


async def test_a_publication_records_its_url_and_version(sessions, one) -> None:
    await _claim(sessions)
    async with sessions.begin() as session:
        assert await outbox.complete(session, one, remote_id="110", remote_url="https://m.example/@a/110",
                                     sent_version=1, now=NOW)
    row = await _row(sessions, one)
    assert (row.remote_url, row.sent_version, row.needs_edit) == ("https://m.example/@a/110", 1, False)


async def test_retry_after_is_honoured_exactly(sessions, kind, due) -> None:
    await _claim(sessions, kind=kind)
    async with sessions.begin() as session:
        state = await outbox.fail(session, due, RetryableError("Telegram: Flood control", retry_after=17), NOW,
                                  kind=kind)
    row = await _row(sessions, due, kind)
    assert state == kind.states.RETRY and row.next_attempt_at == NOW + timedelta(seconds=17)
    assert row.last_error == "Telegram: Flood control" and row.claimed_by is None
    assert await _claim(sessions, now=NOW + timedelta(seconds=16), kind=kind) == []
    assert [p.id for p in await _claim(sessions, now=NOW + timedelta(seconds=17), kind=kind)] == [due]


async def test_backoff_grows_with_jitter_inside_its_bounds_and_gives_up(sessions, kind, due) -> None:
    policy = RetryPolicy(base=timedelta(seconds=10), cap=timedelta(seconds=60), max_attempts=5)
    rng = random.Random(4)
    now = NOW
    for attempt in range(1, 5):
        [claimed] = await _claim(sessions, now=now, kind=kind)
        assert claimed.attempts == attempt
        async with sessions.begin() as session:
            assert await outbox.fail(session, due, RetryableError("timed out"), now, policy=policy, rng=rng,
                                     kind=kind) == kind.states.RETRY
        row = await _row(sessions, due, kind)
        ceiling = min(60, 10 * 2 ** (attempt - 1))
        assert timedelta(seconds=ceiling / 2) <= row.next_attempt_at - now <= timedelta(seconds=ceiling)
        assert await _claim(sessions, now=row.next_attempt_at - timedelta(seconds=1), kind=kind) == []
        now = row.next_attempt_at
    await _claim(sessions, now=now, kind=kind)
    async with sessions.begin() as session:
        assert await outbox.fail(session, due, RetryableError("timed out"), now, policy=policy,
                                 kind=kind) == kind.states.DEAD
    row = await _row(sessions, due, kind)
    assert row.last_error == "gave up after 5 attempts: timed out" and row.next_attempt_at is None
    assert await _claim(sessions, now=now + timedelta(days=1), kind=kind) == []


async def test_permanent_error_is_dead_at_once_with_the_platform_message(sessions, kind, due) -> None:
    await _claim(sessions, kind=kind)
    async with sessions.begin() as session:
        state = await outbox.fail(session, due, PermanentError("Telegram: Chat not found"), NOW, kind=kind)
    row = await _row(sessions, due, kind)
    assert state == kind.states.DEAD and row.last_error == "Telegram: Chat not found"
    assert await _claim(sessions, now=NOW + timedelta(days=1), kind=kind) == []


async def test_recover_stale_returns_abandoned_sends(sessions, kind, due) -> None:
    await _claim(sessions, kind=kind)
    async with sessions.begin() as session:
        assert await outbox.recover_stale(session, NOW + timedelta(minutes=5), timedelta(minutes=10), kind=kind) == 0
        assert await outbox.recover_stale(session, NOW + timedelta(minutes=11), timedelta(minutes=10), kind=kind) == 1
    row = await _row(sessions, due, kind)
    assert row.state == kind.states.RETRY and row.next_attempt_at == NOW + timedelta(minutes=11)
    assert "outcome unknown" in row.last_error and row.claimed_by is None
    [again] = await _claim(sessions, now=NOW + timedelta(minutes=11), kind=kind)
    assert again.attempts == 1  # a crash is not a try the platform refused (see below)


async def test_crashes_do_not_use_up_the_retries_of_a_transient_error(sessions, kind, due) -> None:
    # Found by bench/crash_test.py: a worker claims a whole batch, so every SIGKILL used to
    # add an attempt to rows it never even sent; after 8 kills one 5xx made a post `dead`.
    policy = RetryPolicy(max_attempts=3)
    now = NOW
    for _ in range(5):  # five workers claim it and are killed
        await _claim(sessions, now=now, kind=kind)
        now += timedelta(minutes=11)
        async with sessions.begin() as session:
            assert await outbox.recover_stale(session, now, timedelta(minutes=10), kind=kind) == 1
    await _claim(sessions, now=now, kind=kind)
    async with sessions.begin() as session:
        state = await outbox.fail(session, due, RetryableError("HTTP 502"), now, policy=policy, kind=kind)
    assert state == kind.states.RETRY


async def test_a_late_failure_does_not_undo_another_workers_claim(sessions, kind, due) -> None:
    await _claim(sessions, worker="slow", kind=kind)
    async with sessions.begin() as session:
        await outbox.recover_stale(session, NOW + timedelta(minutes=11), timedelta(minutes=10), kind=kind)
    await _claim(sessions, now=NOW + timedelta(minutes=11), worker="w2", kind=kind)
    async with sessions.begin() as session:  # the slow worker's call finally times out
        assert await outbox.fail(session, due, RetryableError("timed out"), NOW, worker_id="slow", kind=kind) is None
    row = await _row(sessions, due, kind)
    assert (row.state, row.claimed_by) == (kind.states.SENDING, "w2")


async def test_stale_change_claims_of_sent_publications_are_released(sessions, one) -> None:
    await _sent(sessions, one)
    async with sessions.begin() as session:
        (await session.get(Publication, one)).needs_delete = True
    async with sessions.begin() as session:
        [_] = await outbox.claim_changes(session, NOW, "killed", 10)
    async with sessions.begin() as session:
        assert await outbox.recover_stale(session, NOW + timedelta(minutes=11), timedelta(minutes=10)) == 1
    row = await _row(sessions, one)
    assert (row.state, row.claimed_by) == (State.SENT, None)


async def _sent(sessions, one) -> None:
    await _claim(sessions)
    async with sessions.begin() as session:
        await outbox.complete(session, one, remote_id="42", remote_url=None, sent_version=1, now=NOW)


async def test_a_changed_post_is_edited_once(sessions, one) -> None:
    await _sent(sessions, one)
    async with sessions.begin() as session:
        assert await outbox.claim_changes(session, NOW, "w1", 10) == []
        row = await session.get(Publication, one)
        assert await outbox.request_edits(session, [row.post_id]) == 1
    async with sessions.begin() as session:
        [job] = await outbox.claim_changes(session, NOW, "w1", 10)
        assert not outbox.wants_delete(job) and job.content_version == 2
        assert await outbox.claim_changes(session, NOW, "w2", 10) == []
    async with sessions.begin() as session:
        await outbox.complete_edit(session, one, version=2, now=NOW)
    row = await _row(sessions, one)
    assert (row.needs_edit, row.sent_version, row.claimed_by, row.state) == (False, 2, None, State.SENT)


async def test_a_change_while_sending_is_edited_after_the_send(sessions, one) -> None:
    [claimed] = await _claim(sessions)
    async with sessions.begin() as session:
        await outbox.request_edits(session, [claimed.post_id])
        await outbox.complete(session, one, remote_id="42", remote_url=None, sent_version=1, now=NOW)
    row = await _row(sessions, one)
    assert row.state == State.SENT and row.needs_edit is True and row.content_version == 2


async def test_a_deleted_post_deletes_sent_and_withdraws_unsent(sessions, one) -> None:
    await _sent(sessions, one)
    async with sessions.begin() as session:
        row = await session.get(Publication, one)
        unsent = await make_publication(session, row.post, await make_channel(session, "later"),
                                        due_at=NOW + timedelta(hours=1))
        row.post.deleted_at = NOW
    async with sessions.begin() as session:
        assert await outbox.withdraw_unsent(session, NOW) == 1
        [job] = await outbox.claim_changes(session, NOW, "w1", 10)
        assert outbox.wants_delete(job)
        await outbox.complete_delete(session, one, NOW)
    assert (await _row(sessions, one)).state == State.DELETED
    assert (await _row(sessions, unsent.id)).state == State.DELETED
    async with sessions.begin() as session:
        assert await outbox.claim_changes(session, NOW, "w1", 10) == []


async def test_failed_changes_retry_then_give_up(sessions, one) -> None:
    await _sent(sessions, one)
    policy = RetryPolicy(max_attempts=2)
    async with sessions.begin() as session:
        (await session.get(Publication, one)).needs_delete = True
    async with sessions.begin() as session:
        await outbox.claim_changes(session, NOW, "w1", 10)
        assert await outbox.fail_change(session, one, RetryableError("503"), NOW, delete=True, policy=policy)
    row = await _row(sessions, one)
    assert row.state == State.SENT and row.next_attempt_at > NOW and row.last_error == "delete failed: 503"
    async with sessions.begin() as session:
        assert await outbox.claim_changes(session, NOW, "w1", 10) == []  # backing off
        [_] = await outbox.claim_changes(session, row.next_attempt_at, "w1", 10)
        assert not await outbox.fail_change(session, one, RetryableError("503"), NOW, delete=True, policy=policy)
    row = await _row(sessions, one)
    assert row.state == State.DEAD and row.last_error == "delete failed: gave up after 2 attempts: 503"


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (RELAIS_TEST_DATABASE_URL): SQLite has one writer")
async def test_two_workers_on_postgresql_never_claim_the_same_row(sessions, database_url, kind) -> None:
    async with sessions.begin() as session:
        channels = [await make_channel(session, f"c{i}", Platform.TELEGRAM, f"@canal{i}") for i in range(3)]
        for n in range(300):
            if kind is PUBLICATIONS:
                await make_publication(session, await make_post(session), channels[n % 3])
            else:
                await make_delivery(session, await make_post(session), await make_subscriber(session))
    engines = [db.create_engine(database_url) for _ in range(2)]
    try:
        factories = [db.session_factory(engine) for engine in engines]

        async def worker(name: str, factory) -> list[int]:
            mine: list[int] = []
            while True:
                async with factory.begin() as session:
                    batch = await outbox.claim_due(session, NOW, name, 7, kind=kind)
                    await asyncio.sleep(0)  # hold the row locks while the other one tries
                if not batch:
                    return mine
                mine += [p.id for p in batch]

        first, second = await asyncio.gather(worker("w1", factories[0]), worker("w2", factories[1]))
    finally:
        for engine in engines:
            await engine.dispose()
    assert not set(first) & set(second)
    assert len(first) + len(second) == len(set(first) | set(second)) == 300
    assert first and second  # both did work: SKIP LOCKED, not a queue behind one lock
    async with sessions() as session:
        rows = (await session.scalars(select(kind.model))).unique().all()
    assert {p.claimed_by for p in rows if p.id in set(first)} == {"w1"}
    assert all(p.state == kind.states.SENDING and p.attempts == 1 for p in rows)
