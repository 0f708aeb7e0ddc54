"""`/search` and inline mode through the real python-telegram-bot Application against the sandbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from bot import tdlib
from bot.app import App, build_chat_application
from bot.domain.posts import PostStatus
from bot.sandbox import TelegramSandbox
from bot.services import posts

NOW = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
CAMILLE, JOHN = 7001, 7002


async def until(condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def publish(app: App, title: str, *, days_ago: int, image: bool = False, body: str | None = None) -> int:
    body = body or f"<p>Retour d’expérience d’une équipe. La #télémédecine change le suivi. {'Détails. ' * 20}</p>"
    if image:
        body += '<p><img src="https://esante.example/img/teleconsultation.jpg" alt="Une téléconsultation"></p>'
    created = await posts.create(app, title, now=NOW, body=body, status=PostStatus.PUBLISHED,
                                 url=f"https://esante.example/{days_ago}")
    async with app.sessions.begin() as session:
        await session.execute(text("UPDATE posts SET published_at = :at, image_url = :image WHERE id = :id"),
                              {"at": NOW - timedelta(days=days_ago), "id": created.post.id,
                               "image": "https://esante.example/img/teleconsultation.jpg" if image else None})
    return created.post.id


@pytest.fixture
async def bot_running(relais: App, sandbox: TelegramSandbox) -> AsyncIterator[TelegramSandbox]:
    sandbox.add_user(CAMILLE, "Camille", language_code="fr")
    sandbox.add_user(JOHN, "John", language_code="en")
    application = build_chat_application(relais)
    async with application:
        await application.post_init(application)  # binds the App, as `relais run` does
        await application.start()
        await application.updater.start_polling(poll_interval=0, timeout=1)
        yield sandbox
        await application.updater.stop()
        await application.stop()
    await application.post_shutdown(application)


def buttons(message) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return [(b["text"], b["callback_data"]) for row in rows for b in row]


async def test_search_pages_forward_and_back_in_french_and_english(relais: App, bot_running: TelegramSandbox) -> None:
    sandbox = bot_running
    ids = [await publish(relais, f"Télémédecine, épisode {n} : le suivi à distance", days_ago=n) for n in range(7)]
    await publish(relais, "Un article sur le sommeil", days_ago=1, body="<p>Dormir mieux.</p>")
    sandbox.inject_message(CAMILLE, "/search telemedecine")
    await until(lambda: len(sandbox.messages(CAMILLE)) == 1)
    first = sandbox.last_message(CAMILLE)
    tdlib.parse_html(first.sent_html or "")  # Telegram would accept it
    assert first.text.startswith("🔎 «\u00a0telemedecine\u00a0» — page 1")
    assert first.text.count("Télémédecine, épisode") == 5 and "sommeil" not in first.text
    assert "Retour d’expérience" in first.text and "/05/2026" in first.text
    assert [label for label, _ in buttons(first)] == ["Suivant\u00a0»"]

    sandbox.inject_callback_query(CAMILLE, buttons(first)[0][1], message=first)
    await until(lambda: sandbox.message(CAMILLE, first.message_id).edits == 1)
    second = sandbox.message(CAMILLE, first.message_id)
    assert "page 2" in second.text and second.text.count("Télémédecine, épisode") == 2
    assert [label for label, _ in buttons(second)] == ["«\u00a0Précédent"]
    assert sandbox.callback_answers[-1].params.get("show_alert") in (None, False)
    sandbox.inject_callback_query(CAMILLE, buttons(second)[0][1], message=second)
    await until(lambda: sandbox.message(CAMILLE, first.message_id).edits == 2)
    assert "page 1" in sandbox.message(CAMILLE, first.message_id).text
    assert len(ids) == 7

    sandbox.inject_message(JOHN, "/search #Télémédecine suivi")
    await until(lambda: len(sandbox.messages(JOHN)) == 1)
    english = sandbox.last_message(JOHN)
    assert english.text.startswith("🔎 “#Télémédecine suivi” — page 1") and "2026-05-" in english.text
    assert [label for label, _ in buttons(english)] == ["Next »"]


async def test_search_answers_usage_junk_nothing_and_long_queries(relais: App, bot_running: TelegramSandbox) -> None:
    sandbox = bot_running
    for n in range(6):
        await publish(relais, f"Télémédecine et prévention, numéro {n}", days_ago=n)
    long_query = "prévention " + " ".join(["télémédecine"] * 6)  # its button cannot carry it: kept by id
    for command in ("/search", "/search * -", "/search introuvable", f"/search {long_query}", "/search " + "é🧠 " * 1300):
        sandbox.inject_message(CAMILLE, command)
    await until(lambda: len(sandbox.messages(CAMILLE)) == 5)
    usage, junk, nothing, long_answer, pasted = sandbox.messages(CAMILLE)
    assert pasted.text.startswith("Aucun article ne correspond") and len(pasted.text) < 200
    assert usage.text.startswith("Tapez /search") and junk.text.startswith("Je n’ai pas compris")
    assert nothing.text == "Aucun article ne correspond à «\u00a0introuvable\u00a0»."
    ((_label, data),) = buttons(long_answer)
    assert data.startswith("srch:5:~") and len(data.encode()) <= 64
    sandbox.inject_callback_query(CAMILLE, data, message=long_answer)
    await until(lambda: sandbox.message(CAMILLE, long_answer.message_id).edits == 1)
    assert "numéro 0" in sandbox.message(CAMILLE, long_answer.message_id).text  # equal ranks: last stored first


@pytest.mark.parametrize("forged", ["srch:5:~999", "srch:99999:santé", "srch:x:y", "srch:", "srch:0:"])
async def test_forged_or_stale_page_buttons_are_answered(relais: App, bot_running: TelegramSandbox,
                                                         forged: str) -> None:
    sandbox = bot_running
    sandbox.inject_message(CAMILLE, "/search")
    await until(lambda: len(sandbox.messages(CAMILLE)) == 1)
    sandbox.inject_callback_query(CAMILLE, forged, message=sandbox.last_message(CAMILLE))
    await until(lambda: len(sandbox.callback_answers) == 1)
    answer = sandbox.callback_answers[0].params
    assert answer["text"] == "Cette recherche a expiré. Relancez /search." and answer["show_alert"]
    assert sandbox.last_message(CAMILLE).edits == 0


async def test_inline_mode_pages_with_next_offset_and_shares_the_post(relais: App,
                                                                     bot_running: TelegramSandbox) -> None:
    sandbox = bot_running
    for n in range(25):
        await publish(relais, f"Télémédecine, fiche {n}", days_ago=n, image=n == 0)
    await publish(relais, "Le dernier billet", days_ago=0, body="<p>Sur autre chose.</p>")  # the newest
    sandbox.inject_inline_query(CAMILLE, "télémédecine")
    await until(lambda: len(sandbox.inline_answers) == 1)
    first = sandbox.inline_answers[0].params
    assert len(first["results"]) == 20 and first["next_offset"] == "20"
    sandbox.inject_inline_query(CAMILLE, "télémédecine", offset=first["next_offset"])
    await until(lambda: len(sandbox.inline_answers) == 2)
    second = sandbox.inline_answers[1].params
    assert len(second["results"]) == 5 and second.get("next_offset", "") == ""
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}
    article = next(r for r in first["results"] + second["results"] if r["title"] == "Télémédecine, fiche 0")
    assert article["type"] == "article" and article["thumbnail_url"].endswith("teleconsultation.jpg")
    assert "Retour d’expérience" in article["description"] and len(article["description"]) <= 160
    content = article["input_message_content"]
    plain, entities = tdlib.parse_html(content["message_text"])
    assert plain.startswith("Télémédecine, fiche 0") and "Lire la suite" in plain
    assert any(e["type"]["@type"] == "textEntityTypeTextUrl" for e in entities)


    sandbox.inject_inline_query(CAMILLE, "")
    sandbox.inject_inline_query(CAMILLE, "télémédecine", offset="-1; DROP TABLE posts")
    sandbox.inject_inline_query(CAMILLE, '"*')
    await until(lambda: len(sandbox.inline_answers) == 5)
    latest, forged, junk = (a.params for a in sandbox.inline_answers[2:])
    assert latest["results"][0]["title"] == "Le dernier billet" and latest["next_offset"] == "20"
    assert forged["results"] == [] and junk["results"] == []
