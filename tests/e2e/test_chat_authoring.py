"""/new end to end: the real Application, the sandbox Bot API, the database, every ending, a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot import runtime
from bot.app import App, open_app
from bot.chat.authoring import NAME
from bot.sandbox import TelegramSandbox
from bot.settings import AccessSettings, Settings
from bot.store.models import ChatState, Post, PostStatus, Publication
from tests.conftest import CHANNEL
from tests.e2e.chat_driver import buttons, is_alert, running_chat
from tests.e2e.conftest import statuses

ADMIN, AUTHOR, ENGLISH_AUTHOR, READER = 5001, 5002, 5003, 5004
NOW = datetime.now(UTC).replace(microsecond=0)
TITLE = "#Therabot : un #chatbot qui écoute l’#anxiété"
TEXT = "<b>Une étude « randomisée »</b> montre des effets nets sur la #dépression ! 🧠 <a href=\"https://esante.example/t\">l’article</a>"


@pytest.fixture
async def authoring(e2e_settings: Settings, engine, sandbox: TelegramSandbox) -> AsyncIterator[App]:
    settings = e2e_settings.model_copy(update={"access": AccessSettings(admins=[ADMIN], authors=[AUTHOR, ENGLISH_AUTHOR])})
    sandbox.add_user(ADMIN, "Dominique", language_code="fr")
    sandbox.add_user(AUTHOR, "Camille", language_code="fr")
    sandbox.add_user(ENGLISH_AUTHOR, "Sam", language_code="en")
    sandbox.add_user(READER, "Alex", language_code="fr")
    async with open_app(settings) as app:
        yield app


async def post_row(app: App, post_id: int) -> Post:
    async with app.sessions() as session:
        post = await session.get(Post, post_id)
        assert post is not None
        return post


async def publications(app: App, post_id: int) -> list[Publication]:
    async with app.sessions() as session:
        return list((await session.scalars(select(Publication).where(Publication.post_id == post_id))).unique().all())


async def write_until_choice(chat, user: int = AUTHOR, *, photo: str | None = None, tags: str = "#IA prévention",
                             title: str = TITLE) -> int:
    """/new → title → text → tags → photo or /skip; returns the draft's id (the previews are on screen)."""
    (ask,) = await chat.say(user, "/new")
    assert "titre" in ask.text or "title" in ask.text
    await chat.say(user, title)
    (saved,) = await chat.say(user, TEXT, parse_mode="HTML")
    post_id = int(saved.text.split("°")[1].split()[0]) if "°" in saved.text else int(saved.text.split("#")[1].split()[0])
    await chat.say(user, tags)
    shown = await (chat.photo(user, photo) if photo else chat.say(user, "/skip"))
    headers = [m for m in shown if m.text and m.text.startswith(("Aperçu pour", "Preview for"))]
    assert len(headers) == 2  # one Telegram channel, one Mastodon account
    assert buttons(shown[-1])  # the five endings
    return post_id


async def test_publish_now_keeps_formatting_and_tags_and_reaches_both_platforms(authoring: App, sandbox, mastodon) -> None:
    async with running_chat(authoring, sandbox, NOW) as chat:
        post_id = await write_until_choice(chat, photo="AgACtherabot")
        shown = sandbox.messages(AUTHOR)
        header = next(m for m in shown if m.text and m.text.startswith("Aperçu pour telegram"))
        telegram_preview = shown[shown.index(header) + 1]
        measured = len(telegram_preview.text.encode("utf-16-le")) // 2  # as Telegram counts, after parsing
        assert f"{measured}/4096" in header.text
        assert any(e["type"] == "bold" for e in telegram_preview.entities)  # the author's formatting, kept
        choice = buttons(shown[-1])
        assert list(choice) == ["Publier maintenant", "Mettre en file", "Programmer…", "Garder en brouillon", "Annuler"]
        answer, _ = await chat.press(AUTHOR, choice["Publier maintenant"], shown[-1])
        assert "publié maintenant" in answer[-1].text
    post = await post_row(authoring, post_id)
    assert "<b>" in post.body_html or "<strong>" in post.body_html
    assert post.author_user_id == AUTHOR and post.image_url == "AgACtherabot_1280"
    tags = {link.tag.display for link in post.post_tags}
    assert {"Therabot", "chatbot", "anxiété", "dépression", "IA", "prévention"} <= tags
    report = await runtime.run_once_now(authoring, worker_id="e2e")
    assert report.worker.sent == 2
    (sent,) = sandbox.messages(CHANNEL)
    assert sent.text == telegram_preview.text and sent.entities == telegram_preview.entities  # the preview went out
    assert any("Therabot" in s["content"] for s in statuses(mastodon))


async def test_queue_ending_queues_on_every_channel(authoring: App, sandbox) -> None:
    async with running_chat(authoring, sandbox, NOW) as chat:
        post_id = await write_until_choice(chat)
        last = sandbox.last_message(AUTHOR)
        answer, _ = await chat.press(AUTHOR, buttons(last)["Mettre en file"], last)
    assert "mis en file" in answer[-1].text
    assert (await post_row(authoring, post_id)).status == PostStatus.QUEUED
    assert {p.channel.name for p in await publications(authoring, post_id)} == {"telegram", "mastodon"}


async def test_schedule_in_french_refuses_the_past_and_the_dst_gap_then_takes_demain_9h(authoring: App, sandbox) -> None:
    async with running_chat(authoring, sandbox, NOW) as chat:
        post_id = await write_until_choice(chat)
        last = sandbox.last_message(AUTHOR)
        (ask,), _ = await chat.press(AUTHOR, buttons(last)["Programmer…"], last)
        assert "demain 9h" in ask.text and "Europe/Paris" in ask.text
        (past,) = await chat.say(AUTHOR, "hier")
        assert "déjà passé" in past.text and "Quand" in past.text
        (gap,) = await chat.say(AUTHOR, "2027-03-28 02:30")
        assert "n’existe pas" in gap.text and "heure d’été" in gap.text
        assert await publications(authoring, post_id) == []  # nothing happened yet
        (done,) = await chat.say(AUTHOR, "demain 9h")
    paris = authoring.settings.tz
    expected = datetime.combine(NOW.astimezone(paris).date() + timedelta(days=1), datetime.min.time().replace(hour=9),
                                tzinfo=paris)
    assert "programmé" in done.text and expected.strftime("%Y-%m-%d %H:%M") in done.text
    assert (await post_row(authoring, post_id)).status == PostStatus.SCHEDULED
    assert {p.due_at for p in await publications(authoring, post_id)} == {expected.astimezone(UTC)}


async def test_schedule_in_english_for_an_english_author(authoring: App, sandbox) -> None:
    async with running_chat(authoring, sandbox, NOW) as chat:
        post_id = await write_until_choice(chat, ENGLISH_AUTHOR)
        last = sandbox.last_message(ENGLISH_AUTHOR)
        assert list(buttons(last)) == ["Publish now", "Add to queue", "Schedule…", "Keep as draft", "Cancel"]
        await chat.press(ENGLISH_AUTHOR, buttons(last)["Schedule…"], last)
        (done,) = await chat.say(ENGLISH_AUTHOR, "tomorrow 9am")
    paris = authoring.settings.tz
    expected = datetime.combine(NOW.astimezone(paris).date() + timedelta(days=1), datetime.min.time().replace(hour=9),
                                tzinfo=paris)
    assert done.text.startswith(f"Post #{post_id} scheduled")
    assert {p.due_at for p in await publications(authoring, post_id)} == {expected.astimezone(UTC)}


async def test_keep_as_draft_and_cancel(authoring: App, sandbox) -> None:
    async with running_chat(authoring, sandbox, NOW) as chat:
        kept = await write_until_choice(chat)
        last = sandbox.last_message(AUTHOR)
        (answer,), _ = await chat.press(AUTHOR, buttons(last)["Garder en brouillon"], last)
        assert "brouillon" in answer.text
        cancelled = await write_until_choice(chat, tags="/skip", title="Un second article sur l’#IA")
        last = sandbox.last_message(AUTHOR)
        (answer,), _ = await chat.press(AUTHOR, buttons(last)["Annuler"], last)
        assert "annulé" in answer.text
        # the kept draft's buttons are stale now: an alert, nothing changes
        _, alert = await chat.press(AUTHOR, f"a:now:{kept}")
    assert is_alert(alert) and "plus valable" in alert["text"]
    assert (await post_row(authoring, kept)).status == PostStatus.DRAFT and await publications(authoring, kept) == []
    assert (await post_row(authoring, cancelled)).deleted_at is not None


async def test_slash_cancel_leaves_at_any_step_and_keeps_what_was_typed(authoring: App, sandbox) -> None:
    async with running_chat(authoring, sandbox, NOW) as chat:
        await chat.say(AUTHOR, "/new")
        (left,) = await chat.say(AUTHOR, "/cancel")
        assert left.text == "Écriture quittée."
        await chat.say(AUTHOR, "/new")
        await chat.say(AUTHOR, TITLE)
        await chat.say(AUTHOR, TEXT, parse_mode="HTML")
        (left,) = await chat.say(AUTHOR, "/cancel")
        assert "reste en brouillon" in left.text
        # the conversation is over: plain text gets the general hint, not a step of /new
        (hint,) = await chat.say(AUTHOR, "un texte perdu")
        assert "/follow" in hint.text and "/help" in hint.text
    async with authoring.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Post)) == 1
        assert await session.scalar(select(func.count()).select_from(ChatState).where(ChatState.name == NAME)) == 0


async def test_a_restart_in_the_middle_loses_nothing(authoring: App, sandbox) -> None:
    async with running_chat(authoring, sandbox, NOW) as chat:
        await chat.say(AUTHOR, "/new")
        await chat.say(AUTHOR, TITLE)
        (saved,) = await chat.say(AUTHOR, TEXT, parse_mode="HTML")
        offset = chat.offset
    async with authoring.sessions() as session:
        (row,) = (await session.scalars(select(ChatState).where(ChatState.kind == "conversation"))).all()
        assert (row.name, row.key) == (NAME, f"[{AUTHOR},{AUTHOR}]")
    # a new Application on the same database, as after `relais run` is restarted
    async with open_app(authoring.settings) as again, running_chat(again, sandbox, NOW, offset) as chat:
        (photo,) = await chat.say(AUTHOR, "#IA")
        assert "photo" in photo.text
        shown = await chat.say(AUTHOR, "/skip")
        post_id = int(saved.text.split("°")[1].split()[0])
        answer, _ = await chat.press(AUTHOR, buttons(shown[-1])["Mettre en file"], shown[-1])
        assert f"n°{post_id} mis en file" in answer[-1].text
    post = await post_row(authoring, post_id)
    assert post.title == TITLE and post.status == PostStatus.QUEUED


async def test_help_shows_author_commands_to_authors_and_admin_commands_to_admins_only(authoring: App, sandbox) -> None:
    async with running_chat(authoring, sandbox, NOW) as chat:
        (reader,) = await chat.say(READER, "/help")
        (author,) = await chat.say(AUTHOR, "/help")
        (admin,) = await chat.say(ADMIN, "/help")
        (english,) = await chat.say(ENGLISH_AUTHOR, "/help")
    assert reader.text.startswith("Commandes\u00a0:") and "/follow" in reader.text
    assert "/new" not in reader.text and "/grant" not in reader.text
    assert "Commandes d’auteur" in author.text and "/new" in author.text and "/grant" not in author.text
    assert "/new" in admin.text and "/grant" in admin.text and "/authors" in admin.text
    assert english.text.startswith("Commands:") and "/new" in english.text and "Commandes" not in english.text
