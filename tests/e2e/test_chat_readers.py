"""Reader commands end to end: the real python-telegram-bot Application polls the sandbox Bot API,
a reader writes and presses buttons, the bot answers in French or English (issue 9 items 1, 2, 4)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from bot import runtime
from bot.app import App
from bot.domain.posts import PostStatus
from bot.sandbox import TelegramSandbox
from bot.services import notify
from bot.store import repository
from bot.store.models import Delivery, Follow, NotificationMode, Subscriber
from tests.conftest import CHANNEL
from tests.e2e import chat_readers_support as support
from tests.e2e.chat_readers_support import CAMILLE, SAM, Reader, buttons, count, data_of

POSTS = [
    support.post(1, "L’#anxiété au travail : 5 conseils « simples » 🧘", ["anxiété", "travail"]),
    support.post(2, "#Therabot : un #chatbot #IA qui apaise l’#anxiété", ["Therabot", "IA", "anxiété"]),
    support.post(3, "La #dépression expliquée aux proches", ["dépression", "santé mentale"]),
    support.post(4, "#IA et diagnostic : où en est-on ?", ["IA", "diagnostic"]),
    support.post(5, "Sommeil et #SantéMentale : ce que dit la science", ["sommeil", "santé mentale"]),
    support.post(6, "Télémédecine : la #téléconsultation en 2026", ["téléconsultation", "e-santé"]),
    support.post(7, "Les #objets connectés à l’hôpital", ["objets connectés", "hôpital"]),
    support.post(8, "#Nutrition et #cancer : le point", ["nutrition", "cancer"]),
    support.post(9, "L’#activité physique adaptée", ["activité physique"]),
]


@pytest.fixture
async def bot_up(relais: App, sandbox: TelegramSandbox) -> AsyncIterator[App]:
    await support.add_posts(relais, POSTS)
    async with support.running_bot(relais):
        yield relais


@pytest.fixture
def camille(sandbox: TelegramSandbox) -> Reader:
    return support.french_reader(sandbox)


@pytest.fixture
def sam(sandbox: TelegramSandbox) -> Reader:
    return support.english_reader(sandbox)


async def _subscriber(app: App, user_id: int) -> Subscriber | None:
    async with app.sessions() as session:
        return await session.scalar(select(Subscriber).where(Subscriber.telegram_user_id == user_id))


# -- the command menu and /help --------------------------------------------------------------------

async def test_the_menu_is_set_in_french_and_english_and_help_lists_the_same_commands(
        bot_up: App, sandbox: TelegramSandbox, camille: Reader, sam: Reader) -> None:
    french = sandbox.state.commands["default::"]
    english = sandbox.state.commands["default::en"]
    assert [c["command"] for c in french] == [c["command"] for c in english]
    commands = {"follow", "unfollow", "following", "tags", "latest", "search", "settings", "stop", "help"}
    assert commands == {c["command"] for c in french}
    assert french[0]["description"].startswith("suivre") and english[0]["description"].startswith("follow")
    aide = (await camille.say("/help")).text or ""
    help_en = (await sam.say("/help")).text or ""
    assert aide.startswith("Commandes\u00a0:") and help_en.startswith("Commands:")
    for command in french:  # the help says what the menu says: no command that does not exist
        assert f"/{command['command']} — {command['description']}" in aide
    for command in english:
        assert f"/{command['command']} — {command['description']}" in help_en


# -- item 1: one-tap follow from a real channel post --------------------------------------------------

async def test_a_follow_button_of_a_real_channel_post_follows_at_once_with_an_undo_button(
        relais: App, sandbox: TelegramSandbox, mastodon, camille: Reader, sam: Reader) -> None:
    async with relais.sessions.begin() as session:
        queued = await repository.add_post(session, support.post(20, "Sommeil et #SantéMentale : 5 idées reçues 😴",
                                                         ["santé mentale", "sommeil"], PostStatus.QUEUED))
        await relais.enqueue(session, queued, datetime.now(UTC), mode="now")
    report = await runtime.run_once_now(relais, worker_id="e2e")
    assert report.worker.dead == 0
    (channel_post,) = sandbox.messages(CHANNEL)
    label, url = channel_post.url_buttons()[0]
    assert url.startswith(f"https://t.me/{sandbox.bot_username}?start=")
    (payload,) = parse_qs(urlsplit(url).query)["start"]
    tag = label.removeprefix("Suivre ")  # "Suivre #SantéMentale" → "#SantéMentale"

    async with support.running_bot(relais):
        followed = await camille.say(f"/start {payload}")
        assert followed.text == f"Vous suivez désormais {tag}. Ses prochains articles arriveront ici."
        assert await count(relais, Follow) == 1
        again = await camille.say(f"/start {payload}")
        assert again.text == f"Vous suivez déjà {tag}."
        undo = await camille.press(followed, data_of(followed, "Annuler"))
        assert undo.params["text"].startswith(f"Vous ne suivez plus {tag}")
        assert await count(relais, Follow) == 0
        assert [label for label, _ in buttons(sandbox.message(CAMILLE, followed.message_id))] == [f"Suivre {tag}"]

        english = await sam.say(f"/start {payload}")
        assert english.text == f"You now follow {tag}. Its next articles will come here."
        assert data_of(english, "Undo")
        stale = await sam.say("/start follow_nosuchtag_anymore")
        garbage = await sam.say("/start follow-@@@not-base64")
        assert stale.text == garbage.text and (stale.text or "").startswith("Hello!")
    assert await count(relais, Follow) == 1  # Sam's


# -- item 2: the reader commands, in French and in English --------------------------------------------

async def test_follow_several_tags_any_case_or_accents_and_suggestions_for_unknown_ones(
        bot_up: App, camille: Reader, sam: Reader) -> None:
    answer = await camille.say("/follow ANXIETE #ia, Therabot anxité")
    assert answer.text is not None
    assert answer.text.startswith("Vous suivez désormais #anxiété, #IA, #Therabot.")
    assert "Je ne connais pas de sujet «\u00a0anxité\u00a0». Vouliez-vous dire #anxiété" in answer.text
    assert ("Suivre #anxiété", data_of(answer, "#anxiété")) in buttons(answer)
    again = await camille.say("/follow #Anxiété")
    assert again.text == "Vous suiviez déjà #anxiété."

    english = await sam.say("/follow sante mentale depression")
    assert english.text is not None and english.text.startswith("You now follow")
    assert "#dépression" in english.text
    unknown = await sam.say("/follow cardiologie")
    assert unknown.text == "I know no topic “cardiologie”."
    assert "I know no topic “sante”. Did you mean #SantéMentale" in english.text  # each word is a tag
    assert await count(bot_up, Follow) == 3 + 1  # Camille's three, Sam's dépression


async def test_a_suggestion_button_follows_the_suggested_tag_and_turns_into_unfollow(
        bot_up: App, camille: Reader) -> None:
    answer = await camille.say("/follow depresion")
    data = data_of(answer, "#dépression")
    toast = await camille.press(answer, data)
    assert toast.params["text"].startswith("Vous suivez désormais #dépression")
    assert buttons(camille.sandbox.message(CAMILLE, answer.message_id)) == [("Ne plus suivre #dépression", "uf" + data[1:])]


async def test_following_lists_with_one_unfollow_button_each_and_unfollow_works_both_ways(
        bot_up: App, camille: Reader, sam: Reader) -> None:
    assert (await camille.say("/following")).text == (
        "Vous ne suivez aucun sujet pour l’instant. Essayez /tags, ou /follow suivi d’un sujet.")
    await camille.say("/follow anxiété IA nutrition")
    listed = await camille.say("/following")
    assert listed.text == "Vous suivez 3 sujets\u00a0:\n#anxiété, #IA, #nutrition"
    assert [label for label, _ in buttons(listed)] == ["Ne plus suivre #anxiété", "Ne plus suivre #IA",
                                                       "Ne plus suivre #nutrition"]
    toast = await camille.press(listed, data_of(listed, "#IA"))
    assert toast.params["text"] == "Vous ne suivez plus #IA."
    assert "Suivre #IA" in [label for label, _ in buttons(camille.sandbox.message(CAMILLE, listed.message_id))]
    gone = await camille.say("/unfollow NUTRITION cancer")
    assert gone.text == "Vous ne suivez plus #nutrition.\nVous ne suiviez pas #cancer."
    assert (await camille.say("/following")).text == "Vous suivez 1 sujet\u00a0:\n#anxiété"

    await sam.say("/follow AI anxiety")  # no such tags: English words
    await sam.say("/follow ia")
    assert (await sam.say("/following")).text == "You follow 1 topic:\n#IA"
    assert (await sam.say("/unfollow ia")).text == "You no longer follow #IA."


async def test_tags_are_paginated_with_counts_and_toggles(bot_up: App, camille: Reader, sam: Reader) -> None:
    first = await camille.say("/tags")
    assert first.text is not None
    lines = first.text.splitlines()
    assert lines[0] == "Les sujets du blog, les plus fréquents d’abord\u00a0:"
    assert lines[1:5] == ["#anxiété — 2 articles", "#IA — 2 articles", "#SantéMentale — 2 articles",
                          "#ActivitéPhysique — 1 article"]  # most used first, then by name
    assert len(lines) == 1 + 8
    labels = [label for label, _ in buttons(first)]
    assert labels[-1] == "Suivants ›" and "‹ Précédents" not in labels
    toast = await camille.press(first, data_of(first, "Suivre #anxiété"))
    assert toast.params["text"].startswith("Vous suivez désormais #anxiété")
    assert "Ne plus suivre #anxiété" in [label for label, _ in buttons(camille.sandbox.message(CAMILLE, first.message_id))]

    await camille.press(first, data_of(first, "Suivants"))
    second = camille.sandbox.message(CAMILLE, first.message_id)  # the same message, edited to page 2
    assert second.edited and second.text is not None and second.text.splitlines()[1:] != lines[1:]
    assert [label for label, _ in buttons(second)][-1] == "‹ Précédents"
    shown = set(lines[1:]) | set(second.text.splitlines()[1:])
    assert len(shown) == len({tag for new in POSTS for tag in new.tags})  # every tag, once

    english = await sam.say("/tags")
    assert english.text is not None and english.text.startswith("The blog's topics, most frequent first:")
    assert "\n#IA — 2 articles\n" in english.text and "\n#cancer — 1 article\n" in english.text
    assert "Next ›" in [label for label, _ in buttons(english)]


async def test_latest_lists_the_last_posts_with_links_all_or_by_tag(bot_up: App, camille: Reader, sam: Reader) -> None:
    every = await camille.say("/latest")
    assert every.text is not None and every.text.startswith("Les derniers articles\u00a0:")
    assert every.text.index("L’#activité physique") < every.text.index("#Nutrition et #cancer")  # newest first
    assert "https://esante.example/article-9" in every.text
    by_tag = await camille.say("/latest #Anxiete")
    assert by_tag.text is not None and by_tag.text.startswith("Les derniers articles sur #Anxiete\u00a0:")
    assert "https://esante.example/article-1" in by_tag.text and "article-2" in by_tag.text
    assert "article-3" not in by_tag.text
    assert (await camille.say("/latest cardiologie")).text == "Je ne connais pas de sujet «\u00a0cardiologie\u00a0»."
    english = await sam.say("/latest ia")
    assert english.text is not None and english.text.startswith("Latest articles on #ia:")
    assert (await sam.say("/latest cardiology")).text == "I know no topic “cardiology”."


async def test_settings_digest_hour_language_pause_and_resume(bot_up: App, camille: Reader) -> None:
    screen = await camille.say("/settings")
    assert screen.text == "Notifications\u00a0: à chaque nouvel article\nLangue\u00a0: français"
    assert [label for label, _ in buttons(screen)] == ["✓ À chaque article", "Un résumé par jour", "✓ français",
                                                       "English", "Mettre en pause"]
    await camille.press(screen, data_of(screen, "Un résumé"))
    hours = camille.sandbox.message(CAMILLE, screen.message_id)
    assert hours.text == "À quelle heure voulez-vous votre résumé quotidien\u00a0? (heure de Europe/Paris)"
    assert len(buttons(hours)) == 24
    saved = await camille.press(hours, data_of(hours, "7\u00a0h"))
    assert saved.params["text"] == "C’est noté."
    digest = camille.sandbox.message(CAMILLE, screen.message_id)
    assert digest.text == "Notifications\u00a0: un résumé par jour, à 7\u00a0h\nLangue\u00a0: français"
    reader = await _subscriber(bot_up, CAMILLE)
    assert reader is not None and (reader.notification_mode, reader.digest_hour) == (NotificationMode.DIGEST, 7)

    await camille.press(digest, data_of(digest, "English"))
    english = camille.sandbox.message(CAMILLE, screen.message_id)
    assert english.text == "Notifications: one digest a day, at 7:00\nLanguage: English"
    assert (await camille.say("/following")).text == "You follow no topic yet. Try /tags, or /follow with a topic."
    await camille.press(english, data_of(english, "Pause"))
    paused = camille.sandbox.message(CAMILLE, screen.message_id)
    assert paused.text is not None and paused.text.startswith("Notifications: paused")
    await camille.press(paused, data_of(paused, "Resume"))
    await camille.press(paused, data_of(paused, "Every post"))
    reader = await _subscriber(bot_up, CAMILLE)
    assert reader is not None and (reader.paused, reader.notification_mode, reader.language) == (
        False, NotificationMode.INSTANT, "en")


async def test_settings_in_english(bot_up: App, sam: Reader) -> None:
    screen = await sam.say("/settings")
    assert screen.text == "Notifications: for every new article\nLanguage: English"
    assert [label for label, _ in buttons(screen)] == ["✓ Every post", "One daily digest", "français", "✓ English",
                                                       "Pause"]
    await sam.press(screen, data_of(screen, "One daily"))
    hours = sam.sandbox.message(SAM, screen.message_id)
    assert hours.text == "At what time do you want your daily digest? (Europe/Paris time)"
    await sam.press(hours, data_of(hours, "18:00"))
    assert sam.sandbox.message(SAM, screen.message_id).text == (
        "Notifications: one digest a day, at 18:00\nLanguage: English")


async def test_stop_asks_then_erases_every_row_of_the_reader(bot_up: App, camille: Reader, sam: Reader) -> None:
    await camille.say("/follow anxiété IA")
    await sam.say("/follow IA")
    async with bot_up.sessions() as session:
        camille_id = await session.scalar(select(Subscriber.id).where(Subscriber.telegram_user_id == CAMILLE))
    await notify.fan_out_due(bot_up, datetime.now(UTC))  # nothing sent on a channel yet: no delivery
    async with bot_up.sessions.begin() as session:
        session.add(Delivery(post_id=1, subscriber_id=camille_id))
    ask = await camille.say("/stop")
    assert ask.text is not None and ask.text.startswith("Vous ne suivrez plus aucun sujet")
    assert await count(bot_up, Subscriber, telegram_user_id=CAMILLE) == 1  # asking erases nothing
    await camille.press(ask, data_of(ask, "Oui, tout effacer"))
    done = camille.sandbox.message(CAMILLE, ask.message_id)
    assert done.text is not None and done.text.startswith("C’est fait\u00a0: 2 abonnements")
    assert buttons(done) == []
    assert await count(bot_up, Subscriber, telegram_user_id=CAMILLE) == 0
    assert await count(bot_up, Follow, subscriber_id=camille_id) == 0
    assert await count(bot_up, Delivery, subscriber_id=camille_id) == 0
    assert await count(bot_up, Follow) == 1  # Sam's follow stays

    english = await sam.say("/stop")
    assert english.text is not None and english.text.startswith("You will follow no topic any more")
    await sam.press(english, data_of(english, "Yes, erase"))
    assert await count(bot_up, Subscriber) == 0


# -- item 4: a reader who blocked the bot is inactive; /start makes them active again ------------------

async def _publish(app: App, new_post: object) -> None:
    """Queue a post; one `relais run --once` sends it to the channel, fans it out and notifies the readers."""
    async with app.sessions.begin() as session:
        queued = await repository.add_post(session, new_post)  # type: ignore[arg-type]
        await app.enqueue(session, queued, datetime.now(UTC), mode="now")
    report = await runtime.run_once_now(app, worker_id="e2e")
    assert report.worker.sent >= 1 and report.worker.delivered >= 1  # the channels, then the readers


async def test_a_blocked_reader_is_marked_inactive_by_the_delivery_and_start_brings_them_back(
        bot_up: App, sandbox: TelegramSandbox, camille: Reader, sam: Reader) -> None:
    await camille.say("/follow anxiété")
    await sam.say("/follow #Anxiete travail")
    sandbox.block(SAM)
    await _publish(bot_up, support.post(30, "L’#anxiété du dimanche soir 🌙", ["anxiété", "travail"], PostStatus.QUEUED))

    notification = camille.replies()[-1]  # the worker's notification, under Camille's own messages
    assert notification.text is not None and "dimanche soir" in notification.text
    reader = await _subscriber(bot_up, SAM)
    assert reader is not None and not reader.active  # the 403 at the first try
    assert all("dimanche" not in (m.text or "") for m in sandbox.messages(SAM))

    toast = await camille.press(notification, data_of(notification, "Ne plus suivre #anxiété"))
    assert toast.params["text"] == "Vous ne suivez plus #anxiété."
    assert [label for label, _ in buttons(sandbox.message(CAMILLE, notification.message_id))] == ["Suivre #anxiété"]

    sandbox.unblock(SAM)
    welcome = await sam.say("/start")
    assert (welcome.text or "").startswith("Hello!")
    reader = await _subscriber(bot_up, SAM)
    assert reader is not None and reader.active
    assert (await sam.say("/following")).text == "You follow 2 topics:\n#anxiété, #travail"  # kept while away
