"""Author commands end to end: each one by an author, each one refused to a reader, forged buttons, /grant."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select, update

from bot import runtime
from bot.app import App, open_app
from bot.chat.author_callbacks import VERBS
from bot.domain.posts import PostStatus
from bot.sandbox import TelegramSandbox
from bot.services import posts, publishing
from bot.settings import AccessSettings, Settings
from bot.store.models import Author, ChatState, Post, Publication, PublicationState
from tests.conftest import CHANNEL
from tests.e2e.chat_driver import buttons, is_alert, running_chat
from tests.e2e.conftest import statuses

ADMIN, AUTHOR, READER, NEWCOMER = 6001, 6002, 6003, 6004
NOW = datetime.now(UTC).replace(microsecond=0)
COMMANDS = ["/new", "/drafts", "/queue", "/schedule 1 demain 9h", "/publish 1", "/preview 1", "/edit 1 title Autre titre",
            "/delete 1", "/retry 1", "/import https://esante.example/feed/", "/grant 6004", "/revoke 6002", "/authors"]


@pytest.fixture
async def app(e2e_settings: Settings, engine, sandbox: TelegramSandbox) -> AsyncIterator[App]:
    slotted = [c.model_copy(update={"slots": [time(9), time(12, 30), time(18)]}) for c in e2e_settings.channels]
    settings = e2e_settings.model_copy(update={"access": AccessSettings(admins=[ADMIN], authors=[AUTHOR]),
                                               "channels": slotted})
    for user, name, lang in ((ADMIN, "Dominique", "fr"), (AUTHOR, "Camille", "fr"), (READER, "Alex", "en"),
                             (NEWCOMER, "Lou", "fr")):
        sandbox.add_user(user, name, language_code=lang)
    async with open_app(settings) as opened:
        yield opened


async def counts(app: App) -> dict[str, object]:
    async with app.sessions() as session:
        return {
            "posts": await session.scalar(select(func.count()).select_from(Post).where(Post.deleted_at.is_(None))),
            "publications": [(p.id, p.state, p.due_at) for p in
                             (await session.scalars(select(Publication).order_by(Publication.id))).unique().all()],
            "authors": await session.scalar(select(func.count()).select_from(Author)),
            "statuses": [(p.id, p.status, p.title) for p in (await session.scalars(select(Post))).all()],
            "conversations": await session.scalar(select(func.count()).select_from(ChatState)
                                                  .where(ChatState.kind == "conversation")),
        }


async def a_queued_post(app: App, title: str = "#Therabot : un #chatbot qui écoute") -> int:
    created = await posts.create(app, title, now=NOW, body="<p>Une étude sur la #dépression.</p>", author_user_id=AUTHOR)
    await publishing.enqueue(app, created.post.id, NOW, mode="queue")
    return created.post.id


async def test_a_reader_gets_one_refusal_per_command_and_nothing_changes(app: App, sandbox, mastodon) -> None:
    post_id = await a_queued_post(app)
    before = await counts(app)
    async with running_chat(app, sandbox, NOW) as chat:
        for command in COMMANDS:
            answer = await chat.say(READER, command.replace(" 1", f" {post_id}"))
            assert [m.text for m in answer] == ["Sorry, this command is for the blog’s authors only."], command
        for verb in sorted(VERBS):
            _, alert = await chat.press(READER, f"a:{verb}:{post_id}")
            assert is_alert(alert) and alert["text"] in ("Sorry, this command is for the blog’s authors only.",
                                                         "This button is no longer valid."), verb
        # an author who is not an admin is refused the admin commands
        for command in ("/grant 6004", "/revoke 6002", "/authors"):
            (answer,) = await chat.say(AUTHOR, command)
            assert answer.text.startswith("Désolé, cette commande est réservée")
    assert await counts(app) == before
    assert sandbox.messages(CHANNEL) == [] and statuses(mastodon) == []


async def test_forged_and_stale_buttons_get_an_alert_and_change_nothing(app: App, sandbox) -> None:
    post_id = await a_queued_post(app)
    before = await counts(app)
    forged = [f"a:{verb}:999999" for verb in sorted(VERBS)]  # every verb, an unknown post
    forged += [f"a:{verb}:{post_id}" for verb in ("now", "queue", "when", "draft", "cancel")]  # no /new in progress
    forged += ["a:pub:abc", "a:zzz:1", "a:pub:0", "a:pub:1:2", "a:", "a:del:-1", f"a:pub:{'9' * 30}"]
    async with running_chat(app, sandbox, NOW) as chat:
        for data in forged:
            messages, alert = await chat.press(AUTHOR, data)
            assert messages == [] and is_alert(alert) and alert["text"] == "Ce bouton n’est plus valable.", data
    assert await counts(app) == before


async def test_every_author_command(app: App, sandbox, mastodon) -> None:
    first = await a_queued_post(app)
    second = await a_queued_post(app, "Le #sommeil et l’#IA")
    draft = (await posts.create(app, "Brouillon sur la #télémédecine", now=NOW, body="<p>À finir.</p>")).post.id
    async with running_chat(app, sandbox, NOW) as chat:
        (drafts,) = await chat.say(AUTHOR, "/drafts")
        assert "1 brouillon" in drafts.text and f"n°{draft}" in drafts.text
        (queue,) = await chat.say(AUTHOR, "/queue")
        assert "telegram — 2 en attente" in queue.text and "mastodon — 2 en attente" in queue.text
        keyboard = buttons(queue)
        assert f"⬆ {second}" in keyboard and f"✖ {first}" in keyboard
        (moved,), _ = await chat.press(AUTHOR, keyboard[f"⬆ {second}"], queue)
        assert "déplacé" in moved.text
        listing = await publishing.queue_listing(app, NOW)
        assert [e.post_id for e in listing[0].entries] == [second, first]  # one place up: the slots swapped
        assert [e.post_id for e in listing[1].entries] == [second, first]
        (edge,), _ = await chat.press(AUTHOR, keyboard[f"⬆ {second}"], queue)
        assert "déjà à ce bout" in edge.text
        (back,), _ = await chat.press(AUTHOR, keyboard[f"⬇ {second}"], queue)
        listing = await publishing.queue_listing(app, NOW)
        assert [e.post_id for e in listing[0].entries] == [first, second] and "déplacé" in back.text
        (unqueued,), _ = await chat.press(AUTHOR, keyboard[f"✖ {first}"], queue)
        assert "unscheduled" in unqueued.text
        (scheduled,) = await chat.say(AUTHOR, f"/schedule {first} demain 9h")
        assert "moved" in scheduled.text or "queued" in scheduled.text
        (refused,) = await chat.say(AUTHOR, f"/schedule {first} hier")
        assert "déjà passé" in refused.text
        previews = await chat.say(AUTHOR, f"/preview {draft}")
        assert len(previews) == 4 and previews[0].text.startswith("Aperçu pour telegram")
        (published,) = await chat.say(AUTHOR, f"/publish {draft}")
        assert "telegram: queued" in published.text.replace("\u00a0", "")
        report = await runtime.run_once_now(app, worker_id="e2e")
        assert report.worker.sent == 2 and len(sandbox.messages(CHANNEL)) == 1 and len(statuses(mastodon)) == 1
        (edited,) = await chat.say(AUTHOR, f"/edit {draft} title La #télémédecine, deux ans après")
        assert "modifié" in edited.text and "2" in edited.text
        (same,) = await chat.say(AUTHOR, f"/edit {draft} title La #télémédecine, deux ans après")
        assert "Rien n’a changé" in same.text
        report = await runtime.run_once_now(app, worker_id="e2e")
        assert report.worker.edited == 2
        assert "deux ans après" in sandbox.messages(CHANNEL)[0].text
        assert any("deux ans après" in s["content"] for s in statuses(mastodon))
        (confirm,) = await chat.say(AUTHOR, f"/delete {draft}")
        (kept,), _ = await chat.press(AUTHOR, buttons(confirm)["Garder"], confirm)
        assert "gardé" in kept.text and (await posts.get(app, draft)).id == draft
        (deleted,), _ = await chat.press(AUTHOR, buttons(confirm)["Supprimer"], confirm)
        assert "supprimé" in deleted.text
        report = await runtime.run_once_now(app, worker_id="e2e")
        assert report.worker.deleted == 2
        assert sandbox.messages(CHANNEL, include_deleted=False) == [] and statuses(mastodon) == []
        (nothing,) = await chat.say(AUTHOR, f"/retry {second}")
        assert "pas de publication échouée" in nothing.text
        async with app.sessions.begin() as session:
            await session.execute(update(Publication).where(Publication.post_id == second)
                                  .values(state=PublicationState.DEAD, last_error="Telegram: Forbidden"))
        (retried,) = await chat.say(AUTHOR, f"/retry {second}")
        assert "retried" in retried.text
        (moved,) = await chat.say(AUTHOR, f"/publish {second}")  # already waiting: moved to now, not refused
        assert "telegram: moved" in moved.text.replace("\u00a0", "")
        (usage,) = await chat.say(AUTHOR, "/publish")
        assert usage.text.startswith("Usage")
    async with app.sessions() as session:
        states = {p.state for p in (await session.scalars(select(Publication).where(Publication.post_id == second)))
                  .unique().all()}
    assert states == {PublicationState.RETRY}


async def test_admin_grants_by_id_or_by_a_forwarded_message_and_revokes(app: App, sandbox) -> None:
    async with running_chat(app, sandbox, NOW) as chat:
        (refused,) = await chat.say(NEWCOMER, "/drafts")
        assert refused.text.startswith("Désolé")
        forwarded = sandbox.forwarded(ADMIN, NEWCOMER, "Je voudrais écrire sur la #téléconsultation")
        (granted,) = await chat.say(ADMIN, "/grant", reply_to=forwarded)
        assert granted.text == f"{NEWCOMER} est maintenant auteur."
        (drafts,) = await chat.say(NEWCOMER, "/drafts")
        assert "brouillon" in drafts.text
        (again,) = await chat.say(ADMIN, f"/grant {NEWCOMER}")
        assert "déjà" in again.text
        (listing,) = await chat.say(ADMIN, "/authors")
        assert f"{ADMIN} — administrateur" in listing.text and f"{NEWCOMER} — auteur" in listing.text
        (revoked,) = await chat.say(ADMIN, f"/revoke {NEWCOMER}")
        assert "n’est plus auteur" in revoked.text
        (refused,) = await chat.say(NEWCOMER, "/drafts")
        assert refused.text.startswith("Désolé")
        (config,) = await chat.say(ADMIN, f"/revoke {AUTHOR}")
        assert "configuration" in config.text  # rights from the file stay
        (usage,) = await chat.say(ADMIN, "/grant")
        assert usage.text.startswith("Usage")


async def test_import_edits_one_progress_message(app: App, sandbox) -> None:
    from aiohttp import web

    from tests.conftest import FIXTURES, loopback_http

    feed = (FIXTURES / "feeds" / "wordpress_rss20.xml").read_text("utf-8")

    async def serve(request: web.Request) -> web.Response:
        return web.Response(text=feed, content_type="application/rss+xml")

    server = web.Application()
    server.router.add_get("/feed/", serve)
    async with loopback_http(server) as base, running_chat(app, sandbox, NOW) as chat:
        (progress,) = await chat.say(AUTHOR, f"/import {base}/feed/")
    final = sandbox.message(AUTHOR, progress.message_id)
    assert final.edited and "nouveaux" in final.text and "erreur\u00a0: —" in final.text
    assert len(sandbox.messages(AUTHOR)) == 1  # one message, edited in place
    assert final.edits <= 2  # the clock does not move: at most the first progress and the summary
    drafts_or_queued = await posts.list_posts(app, limit=100)
    assert drafts_or_queued.total >= 1 and all(p.status in (PostStatus.QUEUED, PostStatus.DRAFT, PostStatus.PUBLISHED,
                                                            PostStatus.ARCHIVED) for p in drafts_or_queued.posts)


async def test_the_author_is_told_when_a_publication_goes_dead_and_can_retry(app: App, sandbox, mastodon) -> None:
    from bot.chat.notify import notify_dead

    created = await posts.create(app, "#Therabot : un #chatbot qui écoute", now=NOW, body="<p>Étude.</p>",
                                 author_user_id=AUTHOR)
    await publishing.enqueue(app, created.post.id, NOW, mode="now")
    sandbox.faults.fail(403, method="sendMessage", description="Forbidden: bot was kicked from the channel chat")
    report = await runtime.run_once_now(app, worker_id="e2e")  # the worker gives up and tells the author
    assert report.worker.dead == 1
    (notice,) = sandbox.messages(AUTHOR)
    assert "n’a pas pu être publié sur telegram" in notice.text and "bot was kicked" in notice.text
    assert "n’a pas le droit" in notice.text
    async with running_chat(app, sandbox, NOW) as chat:
        (retried,), _ = await chat.press(AUTHOR, buttons(notice)["Réessayer"], notice)
        assert "retried" in retried.text
        async with app.sessions() as session:
            (publication,) = (await session.scalars(select(Publication).where(
                Publication.post_id == created.post.id, Publication.channel.has(name="telegram")))).unique()
        assert not await notify_dead(app, chat.application.bot, publication.id)  # not dead any more: nothing to tell
    report = await runtime.run_once_now(app, worker_id="e2e")
    assert report.worker.sent == 1 and len(sandbox.messages(CHANNEL)) == 1


async def test_a_delete_telegram_refuses_is_told_with_the_message_to_remove(app: App, sandbox, mastodon) -> None:
    created = await posts.create(app, "#Therabot : un #chatbot qui écoute", now=NOW, body="<p>Étude.</p>",
                                 author_user_id=AUTHOR)
    await publishing.enqueue(app, created.post.id, NOW, mode="now")
    assert (await runtime.run_once_now(app, worker_id="e2e")).worker.sent == 2
    await posts.delete(app, created.post.id, now=NOW)
    later = NOW + timedelta(hours=49)  # past Telegram's 48 h window for deleteMessage
    report = await runtime.run_once_now(app, worker_id="e2e", clock=lambda: later)
    assert report.worker.deleted == 1 and statuses(mastodon) == []  # Mastodon deletes
    (notice,) = sandbox.messages(AUTHOR)
    assert "n’a pas pu être retiré de telegram" in notice.text and "t.me" in notice.text
    assert buttons(notice) == {}
