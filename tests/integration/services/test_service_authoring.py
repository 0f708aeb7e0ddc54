"""What the author commands stand on, on a real database: publish that moves, retry of every
dead publication, the history with its links, and the feeds' health."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web
from services_support import NOW, make_app, paris, publications
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App
from bot.errors import NotFound, PermanentError, RetryableError, UsageError
from bot.publish import outbox
from bot.services import feeds, history, posts, publishing
from bot.services.publishing import Outcome
from bot.store.models import Channel, PostStatus, PublicationState
from tests.conftest import loopback_http


async def _post(app: App, title: str, *tags: str) -> int:
    return (await posts.create(app, title, now=NOW, tags=tags)).post.id


def _moves(result: publishing.PostOutcomes) -> dict[str, tuple[Outcome, object, object]]:
    return {c.channel: (c.outcome, c.moved_from, c.due_at) for c in result.matched}


async def send_through_outbox(app: App, when, *, remote_id: str = "42", remote_url: str | None = None) -> list[int]:
    """Stand in for the worker's happy path: claim what is due at ``when`` and record it sent."""
    async with app.sessions.begin() as session:
        claimed = await outbox.claim_due(session, when, "worker-1", 50)
        for n, publication in enumerate(claimed):
            await outbox.complete(session, publication.id, remote_id=f"{remote_id}{n or ''}", remote_url=remote_url,
                                  sent_version=1, now=when)
    return [p.id for p in claimed]


async def fail_through_outbox(app: App, when, error: Exception) -> list[int]:
    """Stand in for the worker meeting a platform error: claim what is due and record the failure."""
    async with app.sessions.begin() as session:
        claimed = await outbox.claim_due(session, when, "worker-1", 50)
        for publication in claimed:
            await outbox.fail(session, publication.id, error, when, worker_id="worker-1")
    return [p.id for p in claimed]


# --- publish: queue, or move what is queued --------------------------------------------------

async def test_publish_without_a_mode_queues_and_leaves_a_queued_post_where_it_is(app: App) -> None:
    post_id = await _post(app, "L’#anxiété « au quotidien »", "Santé mentale")
    first = await publishing.publish(app, post_id, NOW)
    assert _moves(first) == {"esante-telegram": (Outcome.QUEUED, None, paris(4, 9)),
                             "sante-mentale": (Outcome.QUEUED, None, NOW)}
    again = await publishing.publish(app, post_id, NOW + timedelta(minutes=5))
    assert {c.outcome for c in again.matched} == {Outcome.ALREADY_QUEUED}


async def test_publish_now_next_and_at_move_a_queued_post_and_say_from_where(app: App) -> None:
    first, second = await _post(app, "Premier #IA"), await _post(app, "Second #IA")
    await publishing.publish(app, first, NOW)
    await publishing.publish(app, second, NOW)  # 12:30, behind the first
    nxt = await publishing.publish(app, second, NOW, mode="next")
    assert _moves(nxt) == {"esante-telegram": (Outcome.MOVED, paris(4, 12, 30), paris(4, 9))}
    [listing] = await publishing.queue_listing(app, NOW, channel="esante-telegram")
    assert [(e.post_id, e.due_at) for e in listing.entries] == [(second, paris(4, 9)), (first, paris(4, 12, 30))]
    pinned = await publishing.publish(app, first, NOW, mode="at", at=paris(7, 8))
    assert _moves(pinned) == {"esante-telegram": (Outcome.MOVED, paris(4, 12, 30), paris(7, 8))}
    assert (await posts.get(app, first)).status == PostStatus.SCHEDULED
    now = await publishing.publish(app, first, NOW, mode="now")
    assert _moves(now) == {"esante-telegram": (Outcome.MOVED, paris(7, 8), NOW)}
    assert len(await publications(app, first)) == 1  # moved, never duplicated


async def test_publish_with_a_mode_queues_where_missing_and_moves_where_queued(app: App) -> None:
    post_id = await _post(app, "L’#anxiété « au quotidien »", "Santé mentale")
    await publishing.publish(app, post_id, NOW)
    [mental] = [c for c in (await publishing.unschedule(app, post_id)).matched if c.channel == "sante-mentale"]
    assert mental.outcome is Outcome.UNSCHEDULED
    await publishing.publish(app, post_id, NOW)  # back on both, at the end of the queue
    async with app.sessions.begin() as session:  # withdraw it from one channel only
        await session.execute(update(Channel).where(Channel.name == "sante-mentale").values(paused=True))
    result = await publishing.publish(app, post_id, NOW + timedelta(hours=1), mode="now")
    assert {c.channel: c.outcome for c in result.matched} == {"esante-telegram": Outcome.MOVED,
                                                              "sante-mentale": Outcome.MOVED}
    assert {c.channel: c.paused for c in result.matched} == {"esante-telegram": False, "sante-mentale": True}


async def test_publish_refuses_bad_input_and_changes_nothing(app: App) -> None:
    post_id = await _post(app, "Le #DMP expliqué")
    await publishing.publish(app, post_id, NOW)
    with pytest.raises(UsageError, match="is in the past"):
        await publishing.publish(app, post_id, NOW, mode="at", at=NOW - timedelta(minutes=1))
    with pytest.raises(NotFound, match="post 99 does not exist"):
        await publishing.publish(app, 99, NOW, mode="now")
    assert (await publications(app, post_id))["esante-telegram"].due_at == paris(4, 9)


async def test_publish_leaves_a_sent_publication_alone(app: App) -> None:
    post_id = await _post(app, "Le #DMP expliqué")
    await publishing.publish(app, post_id, NOW, mode="now")
    await send_through_outbox(app, NOW)
    [kept] = (await publishing.publish(app, post_id, NOW, mode="next")).matched
    assert (kept.outcome, kept.state, kept.moved_from) == (Outcome.ALREADY_DONE, "sent", None)


async def test_an_edit_names_the_channels_whose_sent_message_follows(app: App) -> None:
    post_id = await _post(app, "L’#anxiété « au quotidien »", "Santé mentale")
    assert (await posts.edit(app, post_id, now=NOW, title="L’#anxiété, au quotidien")).edited_on == ()
    await publishing.publish(app, post_id, NOW, mode="now")
    async with app.sessions.begin() as session:  # one sent, one still waiting (its render will be fresh)
        [first] = await outbox.claim_due(session, NOW, "worker-1", 1)
        await outbox.complete(session, first.id, remote_id="7", remote_url=None, sent_version=1, now=NOW)
    edited = await posts.edit(app, post_id, now=NOW, tags=["Santé mentale", "Sommeil"])
    assert (edited.edits_requested, edited.edited_on) == (1, ("esante-telegram",))


# --- retry every dead publication ---------------------------------------------------------------

async def test_retry_all_dead_revives_each_post_that_never_went_out(app: App) -> None:
    kicked, fine = await _post(app, "Refusé par Telegram #IA"), await _post(app, "Bien parti #DMP")
    await publishing.publish(app, kicked, NOW, mode="now")
    dead = await fail_through_outbox(app, NOW, PermanentError("Forbidden: bot was kicked from the channel chat"))
    await publishing.publish(app, fine, NOW + timedelta(minutes=1), mode="now")
    await send_through_outbox(app, NOW + timedelta(minutes=1))
    gone = await _post(app, "Supprimé depuis #IA")
    await publishing.publish(app, gone, NOW + timedelta(minutes=2), mode="now")
    await fail_through_outbox(app, NOW + timedelta(minutes=2), PermanentError("Bad Request: chat not found"))
    await posts.delete(app, gone, now=NOW + timedelta(minutes=3))  # a deleted post is never sent again
    assert (await publications(app, kicked))["esante-telegram"].state == PublicationState.DEAD

    later = NOW + timedelta(hours=1)
    results = await publishing.retry_all_dead(app, later)
    assert [(r.post_id, [(c.outcome, c.state, c.publication_id) for c in r.matched]) for r in results] == [
        (kicked, [(Outcome.RETRIED, "retry", dead[0])])]
    assert await publishing.retry_all_dead(app, later) == []  # nothing dead any more
    assert await send_through_outbox(app, later) == dead


async def test_a_retryable_failure_is_not_dead_and_not_retried(app: App) -> None:
    post_id = await _post(app, "Serveur saturé #IA")
    await publishing.publish(app, post_id, NOW, mode="now")
    await fail_through_outbox(app, NOW, RetryableError("Timed out"))
    assert await publishing.retry_all_dead(app, NOW) == []
    [waiting] = (await publishing.retry_dead(app, post_id, NOW)).matched
    assert (waiting.outcome, waiting.state) == (Outcome.ALREADY_QUEUED, "retry")


# --- history ---------------------------------------------------------------------------------------

async def test_history_lists_sent_messages_newest_first_with_links(app: App) -> None:
    older = await _post(app, "L’#anxiété « au quotidien »", "Santé mentale")
    await publishing.publish(app, older, NOW, mode="now")
    await send_through_outbox(app, NOW, remote_id="17")  # both channels, Telegram links from @targets
    newer = await _post(app, "Le #DMP expliqué")
    await publishing.publish(app, newer, NOW + timedelta(hours=2), mode="now")
    await send_through_outbox(app, NOW + timedelta(hours=2), remote_id="18",
                              remote_url="https://t.me/esante_demo/18?single")
    waiting = await _post(app, "Pas encore parti #IA")
    await publishing.publish(app, waiting, NOW)

    sent = await history.history(app)
    assert [(s.post_id, s.channel, s.link, s.state) for s in sent] == [
        (newer, "esante-telegram", "https://t.me/esante_demo/18?single", "sent"),  # the platform's own URL wins
        (older, "sante-mentale", "https://t.me/sante_mentale_fr/171", "sent"),
        (older, "esante-telegram", "https://t.me/esante_demo/17", "sent"),
    ]
    assert sent[0].sent_at == NOW + timedelta(hours=2) and sent[0].title == "Le #DMP expliqué"
    assert [s.post_id for s in await history.history(app, channel="sante-mentale")] == [older]
    assert [s.channel for s in await history.history(app, post_id=older, limit=1)] == ["sante-mentale"]
    assert await history.history(app, post_id=waiting) == []
    await posts.delete(app, older, now=NOW + timedelta(hours=3))
    assert len(await history.history(app, post_id=older)) == 2  # a deleted post keeps its history


async def test_history_refuses_bad_input(app: App) -> None:
    with pytest.raises(UsageError, match="--limit must be between 1 and 1000"):
        await history.history(app, limit=0)
    with pytest.raises(NotFound, match="post 5 does not exist"):
        await history.history(app, post_id=5)
    with pytest.raises(NotFound, match="unknown channel 'nope'; configured channels: esante-telegram"):
        await history.history(app, channel="nope")


def test_message_links_by_platform() -> None:
    assert history.message_link("telegram", "@esante_demo", "5", None) == "https://t.me/esante_demo/5"
    assert history.message_link("telegram", "-1001234567890", "5", None) is None  # private: no public address
    assert history.message_link("mastodon", "https://masto.example", "1099",
                                "https://masto.example/@esante/1099") == "https://masto.example/@esante/1099"
    assert history.message_link("mastodon", "https://masto.example", "1099", None) is None


# --- feeds' health -------------------------------------------------------------------------------------

async def test_feed_statuses_show_each_feed_last_fetch_error_streak_and_next_attempt(
        database_url: str, engine: AsyncEngine, tmp_path: Path) -> None:
    failures = {"count": 0}

    async def broken(request: web.Request) -> web.Response:
        failures["count"] += 1
        return web.Response(status=503, text="Service indisponible")

    server = web.Application()
    server.router.add_get("/feed/", broken)
    async with loopback_http(server) as base:
        configured = [{"name": "esante-blog", "url": f"{base}/feed/", "interval_minutes": 15},
                      {"name": "podcast", "url": f"{base}/podcast/", "interval_minutes": 60}]
        app = make_app(database_url, engine, feeds=configured)
        await app.sync_channels()
        before = await feeds.feed_statuses(app)
        assert [(f.name, f.configured, f.last_attempt, f.failures, f.next_attempt) for f in before] == [
            ("esante-blog", True, None, 0, None), ("podcast", True, None, 0, None)]
        await feeds.poll_due(app, now=NOW)
        await feeds.poll_due(app, now=NOW + timedelta(minutes=30))  # esante-blog: backed off to 06:30 + 1 h
        await feeds.poll_due(app, now=NOW + timedelta(minutes=90))
    local = tmp_path / "archive.xml"
    local.write_text("<rss><channel><title>Archives</title></channel></rss>", encoding="utf-8")
    await feeds.import_sources(app, [str(local)], now=NOW)

    blog, podcast, archive = await feeds.feed_statuses(app)
    assert failures["count"] == 3
    assert (blog.failures, blog.last_attempt, blog.next_attempt, blog.last_success) == (
        3, NOW + timedelta(minutes=90), NOW + timedelta(minutes=90) + timedelta(minutes=15 * 8), None)
    assert "503" in (blog.last_error or "")
    assert (podcast.failures, podcast.last_attempt, podcast.next_attempt) == (1, NOW, NOW + timedelta(hours=2))
    assert "404" in (podcast.last_error or "")
    assert (archive.configured, archive.last_attempt, archive.next_attempt, archive.failures) == (False, NOW, None, 0)
    assert archive.url == str(local)
