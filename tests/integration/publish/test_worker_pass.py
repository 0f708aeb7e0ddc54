"""run_once end to end: a real database, the real Mastodon.py against mastodon_mock, and a
stand-in for the Telegram publisher (the sandbox lands with its own branch) that fails with
python-telegram-bot's real exception classes."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from publish_support import NOW, make_channel, make_post, make_publication
from sqlalchemy import select
from telegram.error import BadRequest, Forbidden, RetryAfter, TimedOut

from bot.errors import FormatError
from bot.format import MastodonRender, TelegramRender
from bot.publish import outbox
from bot.publish.mastodon import MastodonPublisher, idempotency_key_for
from bot.publish.targets import MastodonTarget, TelegramTarget
from bot.publish.telegram import SentMessage
from bot.publish.worker import run_once
from bot.store.models import Platform, Post, Publication
from bot.store.models import PublicationState as State
from bot.store.repository import delete_post

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")




def render(publication: Publication):
    post = publication.post
    if "💥" in post.title:
        raise FormatError("the title cannot be rendered")
    text = f"{post.title}\n\n{post.url}"
    if publication.channel.platform == Platform.MASTODON:
        return MastodonRender(status=text)
    return TelegramRender(text=text)


@dataclass
class FakeTelegram:
    """Records messages like a chat would; ``failures[title fragment]`` raises instead."""

    failures: dict[str, Exception] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    edit_failure: Exception | None = None

    async def send(self, chat: str, render: TelegramRender) -> SentMessage:
        for fragment, error in self.failures.items():
            if fragment in render.text:
                raise error
        remote_id = str(len(self.messages) + 1)
        self.messages[remote_id] = render.text
        return SentMessage(remote_id, f"https://t.me/{chat.lstrip('@')}/{remote_id}")

    async def edit(self, chat: str, remote_id: str, render: TelegramRender) -> None:
        if self.edit_failure is not None:
            raise self.edit_failure
        self.messages[remote_id] = render.text

    async def delete(self, chat: str, remote_id: str, sent_at: datetime, now: datetime) -> bool:
        if now - sent_at > timedelta(hours=48):
            return False
        self.messages.pop(remote_id, None)
        return True


@pytest.fixture
def telegram() -> FakeTelegram:
    return FakeTelegram()


@pytest.fixture
def targets(mastodon, telegram):
    return {
        "masto": MastodonTarget(MastodonPublisher(api_base_url=mastodon.base_url, access_token="alice_token")),
        "canal": TelegramTarget(telegram),
    }


async def _queue(sessions, titles: list[str]) -> list[int]:
    async with sessions.begin() as session:
        masto = await make_channel(session, "masto")
        canal = await make_channel(session, "canal", Platform.TELEGRAM, "@canal_esante")
        posts = [await make_post(session, title) for title in titles]
        for post in posts:
            for channel in (masto, canal):
                await make_publication(session, post, channel)
        return [post.id for post in posts]


async def _states(sessions) -> dict[tuple[int, str], Publication]:
    async with sessions() as session:
        rows = (await session.scalars(select(Publication))).all()
        return {(p.post_id, p.channel.name): p for p in rows}


async def _run(sessions, targets, now=NOW, **kwargs):
    return await run_once(sessions, now, worker_id="w1", publishers=targets, render=render,
                          rng=random.Random(1), **kwargs)


async def test_one_bad_publication_never_stops_the_rest(sessions, targets, telegram, mastodon) -> None:
    telegram.failures = {"#chatbot": Forbidden("Forbidden: bot was kicked from the channel chat"),
                         "#IA": RetryAfter(17)}
    await _queue(sessions, ["#Santé : le #chatbot", "L’#IA à l’hôpital", "#Dépression : écouter", "💥 titre cassé"])
    report = await _run(sessions, targets)
    assert (report.sent, report.retried, report.dead) == (4, 1, 3)
    assert {(e.channel, e.retrying) for e in report.errors} == {("canal", False), ("canal", True), ("masto", False)}
    assert len(mastodon.statuses()) == 3 and len(telegram.messages) == 1
    rows = await _states(sessions)
    retry = next(p for p in rows.values() if p.state == State.RETRY)
    assert retry.next_attempt_at == NOW + timedelta(seconds=17) and retry.channel.name == "canal"
    kicked = next(p for p in rows.values() if p.last_error and "kicked" in p.last_error)
    assert kicked.state == State.DEAD
    sent = [p for p in rows.values() if p.state == State.SENT]
    assert all(p.remote_id and p.sent_at == NOW for p in sent)
    assert {p.remote_url for p in sent if p.channel.name == "masto"} == {s["url"] for s in mastodon.statuses()}

    telegram.failures = {}
    later = await _run(sessions, targets, now=NOW + timedelta(seconds=17))
    assert (later.sent, later.retried, later.dead) == (1, 0, 0)
    assert len(mastodon.statuses()) == 3  # nothing sent twice


async def test_edits_and_deletes_follow_the_post(sessions, targets, telegram, mastodon) -> None:
    first, second = await _queue(sessions, ["#Santé : le #chatbot", "#Dépression : écouter"])
    await _run(sessions, targets)
    async with sessions.begin() as session:
        post = await session.get(Post, first)
        post.title = "#Santé : le #chatbot, mis à jour"
        await outbox.request_edits(session, [first])
        await delete_post(session, second, NOW)
    report = await _run(sessions, targets, now=NOW + timedelta(minutes=1))
    assert (report.edited, report.deleted, report.errors) == (2, 2, ())
    [status] = mastodon.statuses()
    assert "mis à jour" in status["content"]
    assert list(telegram.messages.values()) == ["#Santé : le #chatbot, mis à jour\n\n" + post.url]
    again = await _run(sessions, targets, now=NOW + timedelta(minutes=2))
    assert (again.edited, again.deleted) == (0, 0)


async def test_not_modified_counts_as_edited_and_too_old_to_delete_is_dead(sessions, targets, telegram) -> None:
    [only] = await _queue(sessions, ["#Santé : le #chatbot"])
    await _run(sessions, targets)
    telegram.edit_failure = BadRequest("Message is not modified: specified new message content and reply "
                                       "markup are exactly the same")
    async with sessions.begin() as session:
        await outbox.request_edits(session, [only])
    report = await _run(sessions, targets)
    assert report.edited == 2 and report.errors == ()
    async with sessions.begin() as session:
        await delete_post(session, only, NOW)
    report = await _run(sessions, targets, now=NOW + timedelta(hours=49))
    assert report.deleted == 1
    [error] = report.errors
    assert error.channel == "canal" and error.action == "delete" and not error.retrying
    rows = await _states(sessions)
    assert rows[(only, "canal")].state == State.DEAD and "48 h" in rows[(only, "canal")].last_error
    assert rows[(only, "masto")].state == State.DELETED


async def test_a_crash_after_mastodon_answered_does_not_post_twice(sessions, targets, mastodon) -> None:
    await _queue(sessions, ["#Santé : le #chatbot"])
    async with sessions.begin() as session:  # a worker claims, posts, and dies before recording
        [claimed, _] = await outbox.claim_due(session, NOW, "crashed", 10)
    masto = next(p for p in [claimed, _] if p.channel.name == "masto")
    await targets["masto"].publisher.send(render(masto), now=NOW,
                                          idempotency_key=idempotency_key_for(masto.idempotency_key, 1))
    assert (await _run(sessions, targets, now=NOW + timedelta(minutes=5))).sent == 0  # still in flight
    report = await _run(sessions, targets, now=NOW + timedelta(minutes=11))
    assert report.recovered == 2 and report.sent == 2
    assert len(mastodon.statuses()) == 1


async def test_timeouts_retry_with_backoff_until_dead(sessions, targets, telegram) -> None:
    telegram.failures = {"#chatbot": TimedOut()}
    [only] = await _queue(sessions, ["#Santé : le #chatbot"])
    now = NOW
    policy = outbox.RetryPolicy(max_attempts=3)
    for expected in (State.RETRY, State.RETRY, State.DEAD):
        await _run(sessions, targets, now=now, policy=policy)
        row = (await _states(sessions))[(only, "canal")]
        assert row.state == expected
        now = row.next_attempt_at or now
    assert row.last_error.startswith("gave up after 3 attempts: Telegram: Timed out")


async def test_shutdown_releases_what_was_not_sent_and_keeps_the_in_flight_one(sessions, telegram) -> None:
    started = asyncio.Event()

    class Stuck(FakeTelegram):
        async def send(self, chat, render):
            started.set()
            await asyncio.Event().wait()  # the platform never answers

    await _queue(sessions, ["#Santé : un", "#Santé : deux", "#Santé : trois"])
    task = asyncio.create_task(run_once(sessions, NOW, worker_id="w1", render=render,
                                        publishers={"canal": TelegramTarget(Stuck())}))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    rows = [p for p in (await _states(sessions)).values() if p.channel.name == "canal"]
    assert sorted((p.state, p.attempts, p.claimed_by) for p in rows) == [
        (State.PENDING, 0, None), (State.PENDING, 0, None), (State.SENDING, 1, "w1")]


async def test_a_retry_past_the_idempotency_hour_finds_the_status_instead_of_reposting(sessions, targets,
                                                                                      mastodon) -> None:
    async with sessions.begin() as session:
        masto = await make_channel(session, "masto")
        post = await make_post(session, "#Santé : le #chatbot")
        await make_publication(session, post, masto, due_at=NOW - timedelta(hours=2),
                               state=State.RETRY, attempts=1, next_attempt_at=NOW)
    # The first attempt went through two hours ago but its answer was lost; Mastodon has
    # forgotten the key since (a different key stands in for that).
    earlier = await targets["masto"].publisher.send(MastodonRender(f"{post.title}\n\n{post.url}"),
                                                    idempotency_key="forgotten",
                                                    now=NOW - timedelta(hours=2))
    report = await _run(sessions, {"masto": targets["masto"]})
    assert report.sent == 1
    assert [str(s["id"]) for s in mastodon.statuses()] == [earlier.remote_id]
    assert (await _states(sessions))[(post.id, "masto")].remote_id == earlier.remote_id


async def test_a_send_cut_off_by_a_crash_is_looked_up_past_the_idempotency_hour(sessions, targets, mastodon) -> None:
    # Recovery gives the crashed claim's attempt back (attempts 1 → 0); the look-back must
    # still see that the first try may have gone through.
    async with sessions.begin() as session:
        masto = await make_channel(session, "masto")
        post = await make_post(session, "#Santé : le #chatbot")
        publication = await make_publication(session, post, masto, due_at=NOW - timedelta(hours=2))
    async with sessions.begin() as session:
        [claimed] = await outbox.claim_due(session, NOW - timedelta(hours=2), "killed", 10)
    earlier = await targets["masto"].publisher.send(MastodonRender(f"{post.title}\n\n{post.url}"),
                                                    idempotency_key="forgotten", now=NOW - timedelta(hours=2))
    report = await _run(sessions, {"masto": targets["masto"]})  # recovers, then sends again
    assert report.recovered == 1 and report.sent == 1
    assert [str(s["id"]) for s in mastodon.statuses()] == [earlier.remote_id]
    assert (await _states(sessions))[(post.id, "masto")].remote_id == earlier.remote_id
    assert claimed.id == publication.id
