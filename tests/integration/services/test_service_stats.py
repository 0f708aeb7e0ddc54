"""bot.services.stats on a known data set: every number computed by hand, window edges included."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from services_support import NOW
from sqlalchemy import select

from bot.app import App
from bot.errors import UsageError
from bot.services import posts, stats
from bot.services.stats import Day, TagFollows, Window
from bot.store import repository
from bot.store.models import Channel, Delivery, DeliveryState, Follow, Publication, PublicationState, Subscriber

# NOW is Monday 4 May 2026, 08:00 in Paris. The 7-day window starts on Tuesday 28 April at
# midnight in Paris (27 April, 22:00 UTC); the 30-day one on Sunday 5 April (4 April, 22:00 UTC).
LAST_MINUTE_OUTSIDE_7 = datetime(2026, 4, 27, 21, 59, tzinfo=UTC)
FIRST_MINUTE_OF_7 = datetime(2026, 4, 27, 22, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _publication(post_id: int, channel_id: int, state: PublicationState, due: datetime,
                 sent: datetime | None = None) -> Publication:
    return Publication(post_id=post_id, channel_id=channel_id, state=state, due_at=due, next_attempt_at=due,
                       sent_at=sent, remote_id="1" if sent else None, idempotency_key=f"k-{post_id}-{channel_id}")


@pytest.fixture
async def data_set(app: App) -> dict[str, int]:
    ids = {}
    for name, title in (("p1", "L’#anxiété « au quotidien »"), ("p2", "Le #DMP expliqué"),
                        ("p3", "#Therabot : un #chatbot"), ("p4", "Bientôt l’#IA"), ("p5", "Jamais envoyé #IA")):
        ids[name] = (await posts.create(app, title, now=NOW)).post.id
    async with app.sessions.begin() as session:
        channels = {c.name: c.id for c in (await session.scalars(select(Channel))).all()}
        tg, mental, archive = channels["esante-telegram"], channels["sante-mentale"], channels["archive"]
        sent = PublicationState.SENT
        session.add_all([
            _publication(ids["p1"], tg, sent, NOW - DAY, NOW - DAY),  # Sunday 3 May
            _publication(ids["p1"], mental, sent, NOW - timedelta(hours=2), NOW - timedelta(hours=2)),  # today, 06:00
            _publication(ids["p2"], tg, sent, NOW - 10 * DAY, NOW - 10 * DAY),  # 30 days only
            _publication(ids["p2"], mental, sent, NOW - 40 * DAY, NOW - 40 * DAY),  # neither
            _publication(ids["p3"], archive, sent, LAST_MINUTE_OUTSIDE_7, LAST_MINUTE_OUTSIDE_7),
            _publication(ids["p3"], tg, PublicationState.DEAD, NOW - 3 * DAY),
            _publication(ids["p4"], tg, PublicationState.PENDING, NOW + timedelta(hours=1)),
            _publication(ids["p4"], mental, PublicationState.RETRY, NOW + timedelta(minutes=5)),
            _publication(ids["p5"], tg, PublicationState.DEAD, LAST_MINUTE_OUTSIDE_7),
        ])
        readers = [Subscriber(telegram_user_id=501, created_at=NOW - 2 * DAY),
                   Subscriber(telegram_user_id=502, created_at=NOW - 20 * DAY),
                   Subscriber(telegram_user_id=503, created_at=FIRST_MINUTE_OF_7, active=False),
                   Subscriber(telegram_user_id=504, created_at=NOW - 60 * DAY)]
        session.add_all(readers)
        await session.flush()
        s1, s2, s3, s4 = (r.id for r in readers)
        tags = await repository.tags_by_key(session, ["IA", "Santé mentale", "DMP", "Podcast"])
        ia, mentale, dmp, podcast = (t.id for t in tags.values())
        session.add_all([Follow(subscriber_id=s, tag_id=t) for s, t in (
            (s1, ia), (s1, mentale), (s2, ia), (s4, ia), (s4, podcast), (s3, mentale), (s3, dmp))])
        session.add_all([
            Delivery(post_id=ids["p1"], subscriber_id=s1, state=DeliveryState.SENT, created_at=NOW - DAY,
                     sent_at=NOW - DAY),
            Delivery(post_id=ids["p1"], subscriber_id=s2, state=DeliveryState.SENT, created_at=NOW - DAY,
                     sent_at=NOW - DAY + timedelta(minutes=1)),
            Delivery(post_id=ids["p1"], subscriber_id=s4, state=DeliveryState.SENT, created_at=NOW - DAY,
                     sent_at=FIRST_MINUTE_OF_7),
            Delivery(post_id=ids["p2"], subscriber_id=s1, state=DeliveryState.SENT, created_at=NOW - 10 * DAY,
                     sent_at=NOW - 10 * DAY),
            Delivery(post_id=ids["p2"], subscriber_id=s2, state=DeliveryState.DEAD, created_at=NOW - 10 * DAY),
            Delivery(post_id=ids["p3"], subscriber_id=s1, state=DeliveryState.DEAD, created_at=NOW - 3 * DAY),
            Delivery(post_id=ids["p3"], subscriber_id=s2, state=DeliveryState.PENDING, created_at=NOW - 3 * DAY),
        ])
    return ids


async def test_stats_count_what_went_out_what_waits_and_who_reads(app: App, data_set: dict[str, int]) -> None:
    result = await stats.stats(app, NOW, days=7)
    assert result.windows == (
        Window(7, posts_published=1, publications_sent=2, publications_dead=1, deliveries_sent=3,
               deliveries_failed=1, new_readers=2),
        Window(30, posts_published=3, publications_sent=4, publications_dead=2, deliveries_sent=4,
               deliveries_failed=2, new_readers=3),
    )
    assert (result.queue_length, result.queued_posts) == (2, 1)
    assert (result.readers_active, result.readers_inactive) == (3, 1)
    # the inactive reader's follows do not count: #DMP has no active follower
    assert result.top_tags == (TagFollows("IA", 3), TagFollows("Podcast", 1), TagFollows("Santé mentale", 1))
    assert result.days == (
        Day(date(2026, 4, 28), 0, 1),  # the first minute of the window, in Paris
        *(Day(date(2026, 4, d), 0, 0) for d in (29, 30)),
        *(Day(date(2026, 5, d), 0, 0) for d in (1, 2)),
        Day(date(2026, 5, 3), 1, 2),
        Day(date(2026, 5, 4), 1, 0),
    )
    assert result.timezone == "Europe/Paris" and result.window(30).posts_published == 3


async def test_stats_over_thirty_days_and_the_top_few_tags(app: App, data_set: dict[str, int]) -> None:
    result = await stats.stats(app, NOW, top=1)
    assert [d.day for d in result.days][::29] == [date(2026, 4, 5), date(2026, 5, 4)]
    assert sum(d.publications_sent for d in result.days) == result.window(30).publications_sent == 4
    assert sum(d.deliveries_sent for d in result.days) == result.window(30).deliveries_sent == 4
    assert result.top_tags == (TagFollows("IA", 3),)


async def test_stats_on_an_empty_database_are_zeros(app: App) -> None:
    result = await stats.stats(app, NOW, days=7)
    assert {w.days: w for w in result.windows}[7] == Window(7, 0, 0, 0, 0, 0, 0)
    assert (result.queue_length, result.readers_active, result.top_tags) == (0, 0, ())
    assert len(result.days) == 7 and result.days[-1] == Day(date(2026, 5, 4), 0, 0)


async def test_stats_refuse_other_spans(app: App) -> None:
    with pytest.raises(UsageError, match="--days must be 7 or 30"):
        await stats.stats(app, NOW, days=14)
    with pytest.raises(UsageError, match="--top must be between 1 and 100"):
        await stats.stats(app, NOW, top=0)
