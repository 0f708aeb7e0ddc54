"""`relais run` end to end: queue → worker → Telegram sandbox and Mastodon mock, edits, deletes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from conftest import CHANNEL, statuses

from bot import runtime
from bot.store import repository
from bot.sandbox.samples import numbered_article as article


async def queue_now(app, numbers) -> list[int]:
    ids = []
    async with app.sessions.begin() as session:
        for number in numbers:
            post = await repository.add_post(session, article(number))
            await app.enqueue(session, post, datetime.now(UTC), mode="now")
            ids.append(post.id)
    return ids


async def test_run_once_publishes_edits_and_deletes_on_both_platforms(relais, sandbox, mastodon) -> None:
    ids = await queue_now(relais, [1, 2, 3])

    report = await runtime.run_once_now(relais, worker_id="e2e")
    assert (report.worker.sent, report.worker.dead, report.worker.retried) == (6, 0, 0)
    messages = sandbox.messages(CHANNEL)
    assert len(messages) == 3
    assert all("Lire la suite" in m.text and m.reply_markup for m in messages)
    assert any(url.startswith("https://t.me/") and "start=follow" in url for _, url in messages[0].url_buttons())
    toots = statuses(mastodon)
    assert len(toots) == 3 and all(t["language"] == "fr" for t in toots)

    again = await runtime.run_once_now(relais, worker_id="e2e")
    assert again.worker.sent == 0
    assert len(sandbox.messages(CHANNEL)) == 3 and len(statuses(mastodon)) == 3

    from bot.publish import outbox

    async with relais.sessions.begin() as session:
        post = await repository.get_post(session, ids[0])
        post.title = "#Therabot n°1 : l’étude corrigée"
        await outbox.request_edits(session, [post.id])
    edited = await runtime.run_once_now(relais, worker_id="e2e")
    assert edited.worker.edited == 2
    assert any("l’étude corrigée" in m.text for m in sandbox.messages(CHANNEL) if m.edited)
    assert any("corrigée" in t["content"] for t in statuses(mastodon))

    async with relais.sessions.begin() as session:
        await repository.delete_post(session, ids[1])
    deleted = await runtime.run_once_now(relais, worker_id="e2e")
    assert deleted.worker.deleted == 2
    assert len(sandbox.messages(CHANNEL, include_deleted=False)) == 2
    assert len(statuses(mastodon)) == 2


async def test_long_running_worker_publishes_what_is_queued_and_stops_cleanly(relais, sandbox, mastodon) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.run_forever(relais, role=runtime.Role.WORKER, stop=stop, worker_id="w1"))
    try:
        await queue_now(relais, [10, 11])
        for _ in range(100):
            if len(sandbox.messages(CHANNEL)) == 2 and len(statuses(mastodon)) == 2:
                break
            await asyncio.sleep(0.1)
        assert len(sandbox.messages(CHANNEL)) == 2
        assert len(statuses(mastodon)) == 2
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_updates_role_answers_start_in_the_users_language(relais, sandbox) -> None:
    user = sandbox.add_user(4242, "Camille", language_code="fr")
    english = sandbox.add_user(4343, "Sam", language_code="en")
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.run_forever(relais, role=runtime.Role.UPDATES, stop=stop))
    try:
        sandbox.inject_message(user, "/start")
        sandbox.inject_message(english, "/help")
        for _ in range(100):
            if sandbox.messages(4242) and sandbox.messages(4343):
                break
            await asyncio.sleep(0.1)
        assert sandbox.last_message(4242).text.startswith("Bonjour\u00a0!")
        assert sandbox.last_message(4343).text.startswith("Commands:")
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
