"""bot.services.notify on a real database: fan-out of a sent post, digests, blocked readers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from readers_support import LATER, add_post, add_reader, count, deliveries, send_on
from services_support import NOW, READER
from sqlalchemy import event, insert, select

from bot import tdlib
from bot.app import App
from bot.chat.callbacks import Action, parse
from bot.services import delivery_render, notify, readers
from bot.store.models import Delivery, DeliveryKind, DeliveryState, DigestItem, Follow, NotificationMode, Post, Subscriber

TITLE = "#Therabot : un #chatbot #IA qui améliore la #dépression, l’#anxiété…"
TAGS = ["Therabot", "chatbot", "IA", "dépression", "anxiété"]


async def test_one_delivery_per_reader_even_with_several_matching_tags(app: App) -> None:
    post = await add_post(app, TITLE, TAGS)
    await add_post(app, "Le #DMP devient « Mon espace santé »", ["DMP"])
    many = await add_reader(app, 4001, ["IA", "anxiété", "dépression"])
    one = await add_reader(app, 4002, ["chatbot"])
    await add_reader(app, 4003, ["DMP"])  # follows nothing of this post
    assert await notify.fan_out_due(app, NOW) == ()  # not sent on a channel yet: nothing
    await send_on(app, post, "esante-telegram")
    assert await notify.fan_out_due(app, NOW) == (notify.FanOut(post, 2),)
    assert await deliveries(app) == sorted([(post, many), (post, one)])


async def test_paused_inactive_and_digest_readers_are_left_out(app: App) -> None:
    post = await add_post(app, TITLE, TAGS)
    instant = await add_reader(app, 4001, ["IA"])
    await add_reader(app, 4002, ["IA"], paused=True)
    await add_reader(app, 4003, ["IA"], active=False)
    await add_reader(app, 4004, ["IA"], mode=NotificationMode.DIGEST, hour=8)
    await add_reader(app, 4005, ["IA"], mode=NotificationMode.MUTED)
    await send_on(app, post, "esante-telegram")
    await notify.fan_out_due(app, NOW)
    assert await deliveries(app) == [(post, instant)]


async def test_fan_out_is_idempotent_and_once_per_post_on_two_channels(app: App) -> None:
    post = await add_post(app, TITLE, TAGS)
    reader = await add_reader(app, 4001, ["IA"])
    await send_on(app, post, "esante-telegram")
    await send_on(app, post, "sante-mentale")
    assert [f.deliveries for f in await notify.fan_out_due(app, NOW)] == [1]
    assert await notify.fan_out_due(app, LATER) == ()
    async with app.sessions.begin() as session:  # a crash before the mark: the sweep does it again
        (await session.get_one(Post, post)).fanned_out_at = None
    assert await notify.fan_out_due(app, LATER) == (notify.FanOut(post, 0),)
    assert await deliveries(app) == [(post, reader)]
    async with app.sessions() as session:
        assert (await session.get_one(Post, post)).fanned_out_at == LATER


async def test_a_deleted_post_is_not_fanned_out(app: App) -> None:
    post = await add_post(app, TITLE, TAGS, deleted=True)
    await add_reader(app, 4001, ["IA"])
    await send_on(app, post, "esante-telegram")
    assert await notify.fan_out_due(app, NOW) == ()


@contextmanager
def statements(app: App) -> Iterator[list[str]]:
    seen: list[str] = []

    def count_it(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    event.listen(app.engine.sync_engine, "before_cursor_execute", count_it)
    try:
        yield seen
    finally:
        event.remove(app.engine.sync_engine, "before_cursor_execute", count_it)


async def test_fan_out_to_5000_readers_is_a_bounded_number_of_statements(app: App) -> None:
    post = await add_post(app, TITLE, TAGS)
    async with app.sessions.begin() as session:
        tag_id = (await session.get_one(Post, post)).post_tags[2].tag_id
        await session.execute(insert(Subscriber), [
            {"telegram_user_id": 10_000 + i, "language": "fr", "notification_mode": "instant", "active": True,
             "paused": False, "created_at": NOW} for i in range(5000)])
        ids = (await session.scalars(select(Subscriber.id))).all()
        await session.execute(insert(Follow), [{"subscriber_id": i, "tag_id": tag_id, "created_at": NOW} for i in ids])
    await send_on(app, post, "esante-telegram")
    with statements(app) as seen:
        done = await notify.fan_out_due(app, NOW, batch=1000)
    assert done == (notify.FanOut(post, 5000),)
    inserts = [s for s in seen if s.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 5  # one INSERT … SELECT per batch of 1,000 subscriber ids
    assert len(seen) <= 5 * 2 + 6  # plus one batch bound each, the due posts, the mark, begin/commit
    assert await count(app, Delivery) == 5000


async def test_mark_blocked_gives_up_waiting_deliveries(app: App) -> None:
    sent = [await add_post(app, title, ["IA"]) for title in ("Un #IA", "Deux #IA")]
    blocked = await add_reader(app, 4001, ["IA"])
    other = await add_reader(app, 4002, ["IA"])
    for post in sent:
        await send_on(app, post, "esante-telegram")
    await notify.fan_out_due(app, NOW)
    assert await notify.mark_blocked(app, blocked, now=NOW) == 2
    async with app.sessions() as session:
        rows = (await session.scalars(select(Delivery))).all()
        assert {(d.subscriber_id, d.state) for d in rows} == {(blocked, DeliveryState.DEAD), (other, DeliveryState.PENDING)}
        assert not (await session.get_one(Subscriber, blocked)).active
    post = await add_post(app, "Trois #IA", ["IA"])
    await send_on(app, post, "esante-telegram")
    await notify.fan_out_due(app, NOW)
    assert (post, blocked) not in await deliveries(app)


# Europe/Paris moves from CET (UTC+1) to CEST (UTC+2) on Sunday 29 March 2026 at 02:00.
# On the 29th the day since the previous 08:00 is 23 hours long: a post 23.5 hours old was in yesterday's digest.
@pytest.mark.parametrize(("local_day", "utc_hour_at_8", "listed"), [(28, 7, 3), (29, 6, 2), (30, 6, 3)])
async def test_a_digest_at_the_readers_hour_across_the_dst_change(app: App, local_day: int, utc_hour_at_8: int,
                                                                  listed: int) -> None:
    await add_post(app, "Premier #IA", ["IA"], published_at=NOW - timedelta(days=60))
    reader = await add_reader(app, READER, ["IA"], mode=NotificationMode.DIGEST, hour=8)
    at_8 = datetime(2026, 3, local_day, utc_hour_at_8, 0, tzinfo=UTC)
    posts = []
    for hours_before in (30, 23.5, 5, 1):  # 30 h: before the previous digest hour, never in this one
        post = await add_post(app, f"Article #IA {hours_before}", ["IA"], published_at=at_8 - timedelta(hours=hours_before))
        await send_on(app, post, "esante-telegram", at_8 - timedelta(hours=hours_before))
        await notify.fan_out_due(app, at_8 - timedelta(hours=hours_before))
        posts.append(post)
    assert await notify.digest_due(app, at_8 - timedelta(minutes=1)) == ()  # 07:59 local: not yet
    made = await notify.digest_due(app, at_8)
    assert [(d.subscriber_id, d.day.day, d.posts) for d in made] == [(reader, local_day, listed)]
    assert await notify.digest_due(app, at_8 + timedelta(hours=3)) == ()  # once a day
    async with app.sessions() as session:
        (digest,) = (await session.scalars(select(Delivery))).all()
        items = (await session.scalars(select(DigestItem.post_id).order_by(DigestItem.position))).all()
    assert (digest.kind, digest.post_id, digest.subscriber_id) == (DeliveryKind.DIGEST, posts[-1], reader)
    assert list(items) == posts[::-1][:listed]  # newest first
    tomorrow = await notify.digest_due(app, at_8 + timedelta(days=1))
    assert [d.posts for d in tomorrow] == [0]  # nothing new, and no post twice


async def test_digest_readers_paused_or_instant_get_no_digest(app: App) -> None:
    await add_post(app, "Premier #IA", ["IA"])
    await add_reader(app, 4001, ["IA"], mode=NotificationMode.DIGEST, hour=8, paused=True)
    await add_reader(app, 4002, ["IA"])
    assert await notify.digest_due(app, NOW + timedelta(hours=12)) == ()


async def test_notification_render_passes_tdlib_with_an_unfollow_button(app: App) -> None:
    post = await add_post(app, TITLE, TAGS)
    reader = await add_reader(app, READER, ["IA", "anxiété"])
    await readers.change_settings(app, READER, language="en")
    await send_on(app, post, "esante-telegram")
    await notify.fan_out_due(app, NOW)
    async with app.sessions() as session:
        delivery_id = await session.scalar(select(Delivery.id).where(Delivery.subscriber_id == reader))
    assert delivery_id is not None
    chat, notification = await delivery_render.notification_for(app, delivery_id)
    assert chat == READER and notification.render.follow_tags == ()
    plain, _ = tdlib.parse_html(notification.render.text)
    assert "Therabot" in plain
    assert [b.label for b in notification.buttons] == ["Unfollow #IA", "Unfollow #anxiété"]
    callbacks = [parse(b.callback_data) for b in notification.buttons]
    assert all(c is not None and c.action is Action.UNFOLLOW for c in callbacks)


async def test_digest_render_of_a_delivery_passes_tdlib(app: App) -> None:
    sent = [await add_post(app, title, ["IA"]) for title in ("L’#IA & la « santé » <mentale>", "Un autre article #IA")]
    await add_reader(app, READER, ["IA"], mode=NotificationMode.DIGEST, hour=8)
    for post in sent:
        await send_on(app, post, "esante-telegram")
    await notify.fan_out_due(app, NOW)
    await notify.digest_due(app, NOW + timedelta(hours=2))
    async with app.sessions() as session:
        delivery_id = await session.scalar(select(Delivery.id))
    assert delivery_id is not None
    _, notification = await delivery_render.notification_for(app, delivery_id)
    plain, entities = tdlib.parse_html(notification.render.text)
    assert plain.startswith("2 nouveaux articles") and "L’#IA & la « santé » <mentale>" in plain
    assert sum(e["type"]["@type"] == "textEntityTypeTextUrl" for e in entities) == 2
