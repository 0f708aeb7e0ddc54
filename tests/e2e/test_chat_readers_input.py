"""Bad input to the reader chat, end to end (issue 9 item 6): every case is answered clearly or
ignored, and no handler raises (the error handler would log "handler failed")."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import App
from bot.chat.application import update_context
from bot.sandbox import TelegramSandbox
from bot.sandbox.state import Message
from bot.store.models import Follow, Subscriber
from tests.e2e import chat_readers_support as support
from tests.e2e.chat_readers_support import CAMILLE, SAM, Reader, buttons, count, data_of


@pytest.fixture
async def bot_up(relais: App, sandbox: TelegramSandbox, caplog: pytest.LogCaptureFixture) -> AsyncIterator[App]:
    await support.add_posts(relais, [support.post(1, "L’#anxiété au travail : 5 conseils « simples » 🧘", ["anxiété", "travail"]),
                                     support.post(2, "#Therabot : un #chatbot #IA", ["Therabot", "IA"])])
    caplog.set_level(logging.INFO)
    async with support.running_bot(relais):
        yield relais
    failures = [r for r in caplog.records if "handler failed" in r.getMessage()]
    assert failures == [], "a handler raised: " + "; ".join(r.getMessage() for r in failures)


@pytest.fixture
def camille(sandbox: TelegramSandbox) -> Reader:
    return support.french_reader(sandbox)


async def test_an_unknown_command_gets_a_hint_towards_help(bot_up: App, camille: Reader, sandbox: TelegramSandbox) -> None:
    sam = support.english_reader(sandbox)
    assert (await camille.say("/abonner anxiété")).text == (
        "Je ne connais pas cette commande. Tapez /help pour voir celles que je comprends.")
    assert (await sam.say("/subscribe anxiety")).text == (
        "I don’t know that command. Send /help to see the ones I understand.")
    assert await count(bot_up, Subscriber) == 0  # bad input creates no reader


async def test_missing_arguments_get_the_usage_line(bot_up: App, camille: Reader, sandbox: TelegramSandbox) -> None:
    sam = support.english_reader(sandbox)
    assert (await camille.say("/follow")).text == "Utilisation\u00a0: /follow SUJET… — par exemple /follow anxiété IA"
    assert (await camille.say("/unfollow #")).text == "Utilisation\u00a0: /unfollow SUJET… — par exemple /unfollow anxiété"
    assert (await sam.say("/follow   ")).text == "Usage: /follow TOPIC… — for example /follow anxiety AI"
    assert (await sam.say("/unfollow")).text == "Usage: /unfollow TOPIC… — for example /unfollow anxiety"


async def test_over_long_input_and_too_many_tags_are_refused(bot_up: App, camille: Reader, sandbox: TelegramSandbox) -> None:
    sam = support.english_reader(sandbox)
    forged = "/follow " + "anxiété " * 700  # more than Telegram's 4096 characters: only a forged update
    assert (await camille.say(forged)).text == "Message trop long\u00a0: je lis au plus 4096 caractères."
    many = "/follow " + " ".join(f"sujet{n}" for n in range(21))
    assert (await camille.say(many)).text == "20 sujets au plus à la fois, s’il vous plaît."
    commas = "/follow " + ",".join(f"sujet{n}" for n in range(21))  # one word for Telegram, 21 for the service
    assert (await sam.say(commas)).text == "At most 20 topics at once, please."
    assert (await sam.say("/latest " + "x" * 5000)).text == "Message too long: I read at most 4096 characters."
    assert await count(bot_up, Follow) == 0


async def test_a_long_unknown_tag_is_echoed_within_telegrams_limit(bot_up: App, camille: Reader) -> None:
    words = " ".join(f"{n:02d}" + "é" * 180 for n in range(20))  # 20 unknown tags, each echoed back
    answer = await camille.say("/follow " + words)
    assert answer.text is not None and answer.text.count("Je ne connais pas de sujet") >= 15
    assert len(answer.text.encode("utf-16-le")) // 2 <= 4096


@pytest.mark.parametrize("kind", ["sticker", "photo", "document"])
async def test_stickers_photos_and_documents_get_a_hint(
        bot_up: App, camille: Reader, sandbox: TelegramSandbox, kind: str) -> None:
    sam = support.english_reader(sandbox)
    assert (await camille.send(kind)).text == (
        "Je ne lis que les commandes écrites (pas les images, autocollants ni fichiers). Tapez /help pour les voir.")
    assert (await sam.send(kind)).text == (
        "I only read written commands (no pictures, stickers or files). Send /help to see them.")


async def test_plain_text_gets_a_hint(bot_up: App, camille: Reader) -> None:
    assert (await camille.say("anxiété")).text == (
        "Je réponds aux commandes\u00a0: par exemple /follow anxiété pour suivre un sujet, ou /help pour tout voir.")


async def test_in_a_group_the_bot_says_once_to_write_in_private_then_stays_silent(
        bot_up: App, sandbox: TelegramSandbox, camille: Reader) -> None:
    sam = support.english_reader(sandbox)
    group = sandbox.add_channel("@lecteurs_sante", "Lecteurs santé", chat_type="supergroup")
    sandbox.inject_message(camille.user, "/follow anxiété", chat=group.id)
    await support.until(lambda: sandbox.messages(group.id))
    (told,) = sandbox.messages(group.id)
    assert told.text == f"Je réponds aux lecteurs en message privé\u00a0: écrivez-moi sur @{sandbox.bot_username}."
    sandbox.inject_message(sam.user, "/tags", chat=group.id)
    sandbox.inject_message(sam.user, "bonjour à tous", chat=group.id)
    sandbox.inject_attachment(sam.user, "sticker", chat=group.id)
    await sam.settled()  # everything before Sam's private /help was handled
    assert sandbox.messages(group.id) == [told]
    assert await count(bot_up, Follow) == 0


def _unfollow_button(message: Message) -> str:
    return data_of(message, "Ne plus suivre")


async def test_forged_and_stale_buttons_are_answered_never_raised(bot_up: App, camille: Reader, sandbox: TelegramSandbox) -> None:
    sam = support.english_reader(sandbox)
    listed = await camille.say("/follow anxiété")
    for data in ["", "garbage", "zz:1", "f:", "f:-1", "f:01", "f:1x", "f:" + "9" * 40, "tp:abc", "stop:",
                 "o:h:24", "o:l:de", "o:x:1", "\u00e9:1", "f:99999"]:
        answer = await camille.press(listed, data)
        assert answer.params.get("text") == "Ce bouton n’est plus valable.", data
        assert answer.params.get("show_alert") in (True, "true", "True")
    stop_of_sam = f"stop:{SAM}"  # a forwarded or forged confirmation of somebody else's /stop
    assert (await camille.press(listed, stop_of_sam)).params["text"] == "Ce bouton ne vous est pas destiné."
    assert await count(bot_up, Subscriber, telegram_user_id=CAMILLE) == 1
    english = await sam.say("/tags")
    assert (await sam.press(english, "f:424242")).params["text"] == "This button is no longer valid."
    far = await sam.press(english, "tp:900000000")  # a page past the end: an empty page, not an error
    assert "text" not in far.params
    assert sam.sandbox.message(SAM, english.message_id).text == "No topics yet."
    assert [label for label, _ in buttons(sam.sandbox.message(SAM, english.message_id))] == ["‹ Previous"]


async def test_an_old_button_after_stop_does_not_bring_the_reader_back(bot_up: App, camille: Reader) -> None:
    listed = await camille.say("/tags")
    ask = await camille.say("/stop")
    await camille.press(ask, data_of(ask, "Oui"))
    assert await count(bot_up, Subscriber) == 0
    await camille.press(ask, f"stop:{CAMILLE}")  # pressed twice
    await camille.say("/help")
    await camille.say("/following")
    assert await count(bot_up, Subscriber) == 0  # help and lists create no reader
    await camille.press(listed, data_of(listed, "#anxiété"))  # following again is first contact again
    assert await count(bot_up, Follow) == 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.text(min_size=1, max_size=64))
async def test_any_callback_data_is_answered(bot_up: App, camille: Reader, data: str) -> None:
    answer = await camille.press(camille.replies()[-1] if camille.replies() else None, data)  # type: ignore[arg-type]
    assert answer.params.get("text")  # a toast: stale button, not yours, or what the button did


def test_the_error_log_names_the_update_never_its_text() -> None:
    from telegram import Update

    update = Update.de_json({"update_id": 12, "message": {
        "message_id": 3, "date": 0, "text": "/follow mon secret médical",
        "chat": {"id": 5, "type": "private", "first_name": "Camille"},
        "from": {"id": 5, "is_bot": False, "first_name": "Camille"}}}, None)
    found = update_context(update)
    assert found == {"update_id": 12, "kind": "message", "chat_type": "private", "command": "/follow"}
    assert "secret" not in str(found)


async def test_a_failing_handler_is_logged_with_the_update_context_and_the_reader_told(
        relais: App, sandbox: TelegramSandbox, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.services import readers

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(readers, "following", broken)
    camille = support.french_reader(sandbox)
    caplog.set_level(logging.INFO)
    async with support.running_bot(relais):
        answer = await camille.say("/following mes sujets très privés")
        toast = await camille.press(answer, "f:1")  # the buttons path still works
    assert answer.text == "Désolé, quelque chose s’est mal passé de notre côté. Réessayez dans un instant."
    assert toast.params.get("text")
    (failure,) = [r for r in caplog.records if "handler failed" in r.getMessage()]
    line = failure.getMessage()
    assert "kind=message" in line and "chat_type=private" in line and "command=/following" in line
    assert "update_id=" in line and "RuntimeError" in line
    assert not [r for r in caplog.records if "très privés" in r.getMessage()]  # never the message text
    # httpx logs request URLs (the token) at INFO: bot.logs' RedactSecrets masks it where logging is
    # configured; what Relais itself logs never holds it
    assert not [r for r in caplog.records if r.name.startswith("bot.") and sandbox.token in r.getMessage()]
