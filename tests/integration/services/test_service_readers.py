"""bot.services.readers on a real database: follow, unfollow, list, read, settings, stop, /start."""

from __future__ import annotations

import pytest
from readers_support import add_post, add_reader, count, send_on
from services_support import NOW, READER

from bot.app import App
from bot.chat.callbacks import Action, parse
from bot.deeplinks import follow_payload
from bot.domain.posts import PostStatus
from bot.errors import NotFound, UsageError
from bot.services import notify, readers
from bot.services.readers import Outcome
from bot.store.models import Delivery, Follow, NotificationMode, Subscriber

THERABOT = "#Therabot : un #chatbot #IA qui améliore la #dépression, l’#anxiété…"


@pytest.fixture
async def blog(app: App) -> App:
    await add_post(app, THERABOT, ["Therabot", "chatbot", "IA", "dépression", "anxiété"])
    await add_post(app, "L’#anxiété au travail : 5 conseils 🧘", ["anxiété", "Santé mentale"])
    await add_post(app, "Le #DMP devient « Mon espace santé »", ["DMP", "e-santé"])
    await add_post(app, "Brouillon sur l’#anxiété", ["anxiété", "Brouillon"], status=PostStatus.DRAFT)
    return app


def outcomes(results: tuple[readers.TagResult, ...]) -> list[tuple[str, Outcome, str | None]]:
    return [(r.asked, r.outcome, r.tag.display if r.tag else None) for r in results]


async def test_follow_several_tags_whatever_the_case_accents_and_hash(blog: App) -> None:
    results = await readers.follow(blog, READER, ["anxiete", "#IA,", "#DÉPRESSION", "#Anxiété"], "fr-FR")
    assert outcomes(results) == [("anxiete", Outcome.FOLLOWED, "anxiété"), ("#IA", Outcome.FOLLOWED, "IA"),
                                 ("#DÉPRESSION", Outcome.FOLLOWED, "dépression"),
                                 ("#Anxiété", Outcome.ALREADY, "anxiété")]
    again = await readers.follow(blog, READER, ["ia"])
    assert outcomes(again) == [("ia", Outcome.ALREADY, "IA")]
    assert [t.display for t in await readers.following(blog, READER)] == ["anxiété", "dépression", "IA"]


async def test_a_camel_case_hashtag_finds_the_tag_with_a_space(blog: App) -> None:
    results = await readers.follow(blog, READER, ["#SantéMentale"])
    assert outcomes(results) == [("#SantéMentale", Outcome.FOLLOWED, "Santé mentale")]
    assert results[0].tag is not None and results[0].tag.hashtag == "#SantéMentale"


async def test_an_unknown_tag_gets_the_closest_existing_ones(blog: App) -> None:
    (result,) = await readers.follow(blog, READER, ["#anxieté2"])
    assert result.outcome is Outcome.UNKNOWN and result.tag is None
    assert [t.display for t in result.suggestions][:1] == ["anxiété"]
    assert len(result.suggestions) <= 3
    (nothing,) = await readers.follow(blog, READER, ["#zzzzqqq"])
    assert nothing.suggestions == ()
    assert await readers.following(blog, READER) == ()


async def test_follow_and_unfollow_by_tag_id_and_unknown_ids(blog: App) -> None:
    (ia,) = await readers.follow(blog, READER, ["IA"])
    assert ia.tag is not None
    assert (await readers.unfollow_tag(blog, READER, ia.tag.id)).outcome is Outcome.UNFOLLOWED
    assert (await readers.unfollow_tag(blog, READER, ia.tag.id)).outcome is Outcome.NOT_FOLLOWED
    assert (await readers.follow_tag(blog, READER, ia.tag.id)).outcome is Outcome.FOLLOWED
    assert (await readers.follow_tag(blog, READER, ia.tag.id)).outcome is Outcome.ALREADY
    assert (await readers.follow_tag(blog, READER, 999_999)).outcome is Outcome.UNKNOWN


async def test_unfollow_several(blog: App) -> None:
    await readers.follow(blog, READER, ["IA", "anxiété", "DMP"])
    results = await readers.unfollow(blog, READER, ["#ia", "Therabot", "#nope"])
    assert [(r.asked, r.outcome) for r in results] == [
        ("#ia", Outcome.UNFOLLOWED), ("Therabot", Outcome.NOT_FOLLOWED), ("#nope", Outcome.UNKNOWN)]
    assert [t.display for t in await readers.following(blog, READER)] == ["anxiété", "DMP"]


async def test_too_many_tags_at_once_is_a_usage_error(blog: App) -> None:
    with pytest.raises(UsageError, match="at most"):
        await readers.follow(blog, READER, [f"t{i}" for i in range(21)])


async def test_tags_page_counts_readable_posts_and_paginates(blog: App) -> None:
    await readers.follow(blog, READER, ["IA"])
    first = await readers.tags_page(blog, READER, offset=0, limit=2)
    assert [(c.tag.display, c.posts) for c in first.tags] == [("anxiété", 2), ("chatbot", 1)]  # the draft not counted
    assert first.has_more and first.offset == 0
    everything = await readers.tags_page(blog, READER, offset=0, limit=50)
    assert len(everything.tags) == 8 and not everything.has_more  # Brouillon: only on a draft
    assert {c.tag.display for c in everything.tags if c.followed} == {"IA"}
    last = await readers.tags_page(blog, None, offset=6, limit=2)
    assert len(last.tags) == 2 and not last.has_more
    with pytest.raises(UsageError):
        await readers.tags_page(blog, READER, offset=-1)


async def test_latest_is_newest_first_without_drafts_or_deleted(app: App) -> None:
    from datetime import timedelta
    old = await add_post(app, "Ancien #IA", ["IA"], published_at=NOW - timedelta(days=3))
    new = await add_post(app, "Nouveau #IA", ["IA"], published_at=NOW - timedelta(days=1))
    await add_post(app, "Effacé #IA", ["IA"], deleted=True)
    await add_post(app, "Brouillon #IA", ["IA"], status=PostStatus.DRAFT)
    queued = await add_post(app, "Envoyé #santé", ["santé"], status=PostStatus.QUEUED, published_at=None)
    await send_on(app, queued, "esante-telegram")
    await notify.fan_out_due(app, NOW)  # out on a channel: readable
    assert [p.id for p in await readers.latest(app, "ia")] == [new, old]
    assert [p.id for p in await readers.latest(app)] == [queued, new, old]
    assert [p.id for p in await readers.latest(app, limit=1)] == [queued]
    links = await readers.latest(app, "#IA")
    assert links[0].url and links[0].url.startswith("https://") and links[0].published_at is not None
    with pytest.raises(NotFound):
        await readers.latest(app, "inconnu")


async def test_settings_digest_hour_language_pause(app: App) -> None:
    reader = await readers.reader(app, READER, "en-GB")
    assert (reader.language, reader.mode, reader.paused) == ("en", NotificationMode.INSTANT, False)
    with pytest.raises(UsageError, match="hour"):
        await readers.change_settings(app, READER, mode=NotificationMode.DIGEST)
    with pytest.raises(UsageError):
        await readers.change_settings(app, READER, digest_hour=24)
    with pytest.raises(UsageError):
        await readers.change_settings(app, READER, language="de")
    changed = await readers.change_settings(app, READER, mode=NotificationMode.DIGEST, digest_hour=7, language="fr")
    assert (changed.mode, changed.digest_hour, changed.language) == (NotificationMode.DIGEST, 7, "fr")
    paused = await readers.change_settings(app, READER, paused=True)
    assert paused.paused and paused.digest_hour == 7
    assert not (await readers.change_settings(app, READER, paused=False)).paused


async def test_stop_erases_everything(blog: App) -> None:
    other = await add_reader(blog, 4004, ["IA"])
    await add_reader(blog, READER, ["IA", "anxiété", "dépression"])
    post = await add_post(blog, "Nouveau #IA", ["IA"])
    await send_on(blog, post, "esante-telegram")
    await notify.fan_out_due(blog, NOW)
    erased = await readers.stop(blog, READER)
    assert (erased.follows, erased.deliveries, erased.subscriber) == (3, 1, True)
    assert await count(blog, Subscriber) == 1 and await count(blog, Follow) == 1 and await count(blog, Delivery) == 1
    async with blog.sessions() as session:
        assert (await session.get(Subscriber, other)) is not None
    assert await readers.stop(blog, READER) == readers.Erased(0, 0, subscriber=False)


async def test_start_makes_the_reader_then_reactivates_a_blocked_one(app: App) -> None:
    first = await readers.start(app, READER, "en")
    assert first.created and not first.reactivated and first.reader.language == "en" and first.followed is None
    await notify.mark_blocked(app, first.reader.id, now=NOW)
    assert not (await readers.reader(app, READER)).active
    back = await readers.start(app, READER, "fr")
    assert not back.created and back.reactivated and back.reader.active
    assert back.reader.language == "en"  # the reader's choice stays


async def test_deep_link_follow_and_undo(blog: App) -> None:
    payload = follow_payload("Santé mentale")
    assert payload is not None
    started = await readers.start(blog, READER, "fr", payload)
    assert started.followed is not None and not started.followed.already
    assert started.followed.tag.hashtag == "#SantéMentale"
    undo = parse(started.followed.undo_data)
    assert undo is not None and undo.action is Action.UNFOLLOW and undo.value == started.followed.tag.id
    again = await readers.start(blog, READER, "fr", payload)
    assert again.followed is not None and again.followed.already
    assert (await readers.unfollow_tag(blog, READER, undo.value)).outcome is Outcome.UNFOLLOWED


@pytest.mark.parametrize("payload", ["follow_inexistant", "follow-%%%", "follow-", "bonjour", "follow_A B"])
async def test_a_stale_or_foreign_payload_is_not_a_follow(blog: App, payload: str) -> None:
    started = await readers.start(blog, READER, "fr", payload)
    assert started.followed is None and started.created
    assert await readers.following(blog, READER) == ()
