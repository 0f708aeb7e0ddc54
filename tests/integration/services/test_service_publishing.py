"""bot.services.publishing on a real database: per-channel outcomes of enqueue, move, withdraw, retry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from services_support import NOW, paris, publications, set_state

from bot.app import App
from bot.errors import NotFound, UsageError
from bot.publish import outbox
from bot.services import posts, publishing
from bot.services.publishing import Outcome
from bot.store.models import PostStatus, PublicationState


async def _post(app: App, title: str, *tags: str) -> int:
    return (await posts.create(app, title, now=NOW, tags=tags)).post.id


def _by_channel(result: publishing.PostOutcomes) -> dict[str, tuple[Outcome, object]]:
    return {c.channel: (c.outcome, c.due_at) for c in result.channels}


async def test_enqueue_says_what_happened_on_each_channel(app: App) -> None:
    post_id = await _post(app, "L’#anxiété « au quotidien »", "Santé mentale")
    first = await publishing.enqueue(app, post_id, NOW)
    assert _by_channel(first) == {"esante-telegram": (Outcome.QUEUED, paris(4, 9)),
                                  "sante-mentale": (Outcome.QUEUED, NOW)}
    again = await publishing.enqueue(app, post_id, NOW + timedelta(minutes=5), mode="next")
    assert _by_channel(again) == {"esante-telegram": (Outcome.ALREADY_QUEUED, paris(4, 9)),
                                  "sante-mentale": (Outcome.ALREADY_QUEUED, NOW)}
    assert {c.state for c in again.channels} == {"pending"}


async def test_enqueue_reports_channels_that_do_not_match_and_paused_ones(app: App) -> None:
    post_id = await _post(app, "Le #DMP devient « Mon espace santé »")
    assert (await publishing.pause(app, "esante-telegram")).was_paused is False
    result = await publishing.enqueue(app, post_id, NOW, mode="now")
    [queued] = result.matched
    assert (queued.channel, queued.outcome, queued.paused, queued.due_at) == ("esante-telegram", Outcome.QUEUED, True, NOW)
    assert _by_channel(result)["sante-mentale"] == (Outcome.NOT_MATCHING, None)
    assert result.title == "Le #DMP devient « Mon espace santé »"


async def test_enqueue_of_a_sent_post_says_already_sent(app: App) -> None:
    post_id = await _post(app, "Le #DMP expliqué")
    [queued] = (await publishing.enqueue(app, post_id, NOW)).matched
    await set_state(app, queued.publication_id, PublicationState.SENT, remote_id="7")
    [again] = (await publishing.enqueue(app, post_id, NOW)).matched
    assert (again.outcome, again.state) == (Outcome.ALREADY_DONE, "sent")


async def test_bad_input_is_refused(app: App) -> None:
    post_id = await _post(app, "Le #DMP expliqué")
    with pytest.raises(NotFound, match="post 99 does not exist"):
        await publishing.enqueue(app, 99, NOW)
    with pytest.raises(UsageError, match="is in the past"):
        await publishing.enqueue(app, post_id, NOW, mode="at", at=NOW - timedelta(hours=1))
    with pytest.raises(UsageError, match="is in the past"):
        await publishing.reschedule(app, post_id, NOW, mode="at", at=NOW - timedelta(hours=1))
    for call in (publishing.pause(app, "nope"), publishing.resume(app, "nope", NOW),
                 publishing.queue_listing(app, NOW, channel="nope")):
        with pytest.raises(NotFound, match="unknown channel 'nope'"):
            await call
    assert await publications(app, post_id) == {}


async def test_reschedule_next_moves_the_post_first_and_the_queue_back(app: App) -> None:
    first, second = await _post(app, "Premier #IA"), await _post(app, "Second #IA")
    await publishing.enqueue(app, first, NOW)
    await publishing.enqueue(app, second, NOW)
    moved = await publishing.reschedule(app, second, NOW, mode="next")
    assert _by_channel(moved) == {"esante-telegram": (Outcome.MOVED, paris(4, 9)),
                                  "sante-mentale": (Outcome.NOT_MATCHING, None)}
    [listing] = await publishing.queue_listing(app, NOW, channel="esante-telegram")
    assert [(e.post_id, e.due_at) for e in listing.entries] == [(second, paris(4, 9)), (first, paris(4, 12, 30))]
    pinned = await publishing.reschedule(app, first, NOW, mode="at", at=paris(7, 8))
    assert _by_channel(pinned)["esante-telegram"] == (Outcome.MOVED, paris(7, 8))
    assert (await posts.get(app, first)).status == PostStatus.SCHEDULED


async def test_reschedule_leaves_sent_publications_alone(app: App) -> None:
    post_id = await _post(app, "Le #DMP expliqué")
    [queued] = (await publishing.enqueue(app, post_id, NOW)).matched
    await set_state(app, queued.publication_id, PublicationState.SENT, remote_id="7")
    [kept] = (await publishing.reschedule(app, post_id, NOW, mode="now")).matched
    assert (kept.outcome, kept.due_at) == (Outcome.ALREADY_DONE, paris(4, 9))


async def test_unschedule_withdraws_what_is_not_sent_and_allows_queueing_again(app: App) -> None:
    post_id = await _post(app, "L’#anxiété « au quotidien »", "Santé mentale")
    queued = {c.channel: c for c in (await publishing.enqueue(app, post_id, NOW)).matched}
    await set_state(app, queued["sante-mentale"].publication_id, PublicationState.SENT, remote_id="9")
    result = await publishing.unschedule(app, post_id)
    assert {c.channel: c.outcome for c in result.matched} == {"esante-telegram": Outcome.UNSCHEDULED,
                                                              "sante-mentale": Outcome.ALREADY_DONE}
    assert list(await publications(app, post_id)) == ["sante-mentale"]
    [listing] = await publishing.queue_listing(app, NOW, channel="esante-telegram")
    assert listing.entries == ()
    again = await publishing.enqueue(app, post_id, NOW)
    assert {c.channel: c.outcome for c in again.matched} == {"esante-telegram": Outcome.QUEUED,
                                                             "sante-mentale": Outcome.ALREADY_DONE}


async def test_unschedule_of_a_queued_post_puts_it_back_to_draft(app: App) -> None:
    post_id = (await posts.create(app, "Le #DMP expliqué", now=NOW, status=PostStatus.QUEUED)).post.id
    await publishing.unschedule(app, post_id)
    view = await posts.get(app, post_id)
    assert (view.status, view.scheduled_at) == (PostStatus.DRAFT, None)


async def test_unschedule_leaves_a_claimed_publication_to_its_worker(app: App) -> None:
    post_id = await _post(app, "Le #DMP expliqué")
    await publishing.enqueue(app, post_id, NOW, mode="now")
    async with app.sessions.begin() as session:
        [claimed] = await outbox.claim_due(session, NOW, "worker-1", 10)
    [left] = (await publishing.unschedule(app, post_id)).matched
    assert (left.outcome, left.state, left.publication_id) == (Outcome.ALREADY_DONE, "sending", claimed.id)


async def test_retry_dead_sends_again_only_what_never_went_out(app: App) -> None:
    never, deleted = await _post(app, "Jamais parti #IA"), await _post(app, "Suppression ratée #IA")
    [dead] = (await publishing.enqueue(app, never, NOW, mode="now")).matched
    [gone] = (await publishing.enqueue(app, deleted, NOW, mode="now")).matched
    await set_state(app, dead.publication_id, PublicationState.DEAD, attempts=8, last_error="403 Forbidden")
    await set_state(app, gone.publication_id, PublicationState.DEAD, remote_id="12", last_error="delete failed")
    later = NOW + timedelta(hours=2)
    [retried] = (await publishing.retry_dead(app, never, later)).matched
    assert (retried.outcome, retried.state) == (Outcome.RETRIED, "retry")
    [refused] = (await publishing.retry_dead(app, deleted, later)).matched
    assert (refused.outcome, refused.state) == (Outcome.ALREADY_DONE, "dead")
    async with app.sessions.begin() as session:
        claimed = await outbox.claim_due(session, later, "worker-1", 10)
    assert [(p.id, p.attempts) for p in claimed] == [(dead.publication_id, 1)]  # attempts were reset


async def test_channels_list_pause_and_resume(app: App) -> None:
    await publishing.enqueue(app, await _post(app, "Le #DMP expliqué"), NOW)
    assert (await publishing.pause(app, "esante-telegram")).was_paused is False
    assert (await publishing.pause(app, "esante-telegram")).was_paused is True
    channels = {c.name: c for c in await publishing.list_channels(app, NOW)}
    assert [(c.state, c.queued, c.target) for c in channels.values()] == [
        ("paused", 1, "@esante_demo"), ("active", 0, "@sante_mentale_fr"), ("disabled", 0, "@archive_esante")]
    assert channels["sante-mentale"].tags == ("Santé mentale",)
    report = await publishing.resume(app, "esante-telegram", paris(5, 20))  # missed 09:00 by a day and more
    [move] = report.moved
    assert (move.channel, move.old_due_at, move.new_due_at) == ("esante-telegram", paris(4, 9), paris(6, 9))
    assert (await publishing.list_channels(app, NOW))[0].state == "active"
