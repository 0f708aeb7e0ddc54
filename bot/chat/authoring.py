"""/new: write a post in the chat, step by step, and choose how it goes out.

title → text (Telegram formatting kept as HTML, sanitized by the posts service; inline
#hashtags become tags) → extra tags or /skip → a photo or /skip → each channel's render with
its length and limit → Publier maintenant / Mettre en file / Programmer… / Garder en
brouillon / Annuler. The post is a draft row from the end of the text step, so nothing typed
is lost; the conversation itself is persisted (bot/chat/persistence.py) and survives a restart.
``user_data["new"]`` holds only JSON: the post id and the title until the post exists.
"""

from __future__ import annotations

import warnings
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.chat import author_callbacks as callbacks
from bot.chat.access import allowed, language, now, reply
from bot.chat.context import RelaisContext
from bot.errors import RelaisError
from bot.format import TelegramRender
from bot.i18n import t
from bot.services import posts, publishing
from bot.services.dates import DateProblem, parse_when
from bot.services.preview import previews

TITLE, TEXT, TAGS, PHOTO, CHOICE, WHEN = range(6)
END = ConversationHandler.END
ENDINGS = ("now", "queue", "when", "draft", "cancel")
NAME = "new_post"
_MANAGE_VERBS = "|".join(sorted(callbacks.VERBS - set(ENDINGS)))


def _draft(context: RelaisContext) -> dict[str, Any]:
    assert context.user_data is not None
    draft: dict[str, Any] = context.user_data.setdefault("new", {})
    return draft


def _forget(context: RelaisContext) -> None:
    if context.user_data is not None:
        context.user_data.pop("new", None)


async def start(update: Update, context: RelaisContext) -> int:
    if await allowed(update, context) is None:
        return END
    _forget(context)
    await reply(update, t("new_ask_title", language(update)))
    return TITLE


async def got_title(update: Update, context: RelaisContext) -> int:
    assert update.effective_message is not None
    _draft(context)["title"] = update.effective_message.text or ""
    await reply(update, t("new_ask_text", language(update)))
    return TEXT


async def got_text(update: Update, context: RelaisContext) -> int:
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    draft = _draft(context)
    try:
        created = await posts.create(context.app, draft.get("title", ""), now=now(context), body=message.text_html,
                                     author_user_id=user.id)
    except RelaisError as exc:
        await reply(update, t("command_failed", language(update), reason=str(exc)))
        return TEXT
    draft["post_id"] = created.post.id
    tags = " ".join(f"#{tag}" for tag in created.post.tags) or "—"
    await reply(update, t("new_ask_tags", language(update), id=created.post.id, tags=tags))
    return TAGS


def _tag_words(text: str) -> list[str]:
    return [word.lstrip("#") for word in text.replace(",", " ").split() if word.lstrip("#")]


async def got_tags(update: Update, context: RelaisContext) -> int:
    assert update.effective_message is not None
    post_id = _draft(context)["post_id"]
    current = await posts.get(context.app, post_id)
    await posts.edit(context.app, post_id, now=now(context),
                     tags=[*current.tags, *_tag_words(update.effective_message.text or "")])
    await reply(update, t("new_ask_photo", language(update)))
    return PHOTO


async def skip_tags(update: Update, context: RelaisContext) -> int:
    await reply(update, t("new_ask_photo", language(update)))
    return PHOTO


async def got_photo(update: Update, context: RelaisContext) -> int:
    message = update.effective_message
    assert message is not None
    image = message.photo[-1].file_id if message.photo else (message.text or "").strip()
    if not message.photo and not image.startswith(("http://", "https://")):
        await reply(update, t("new_photo_invalid", language(update)))
        return PHOTO
    await posts.edit(context.app, _draft(context)["post_id"], now=now(context), image_url=image)
    return await show_previews(update, context)


async def skip_photo(update: Update, context: RelaisContext) -> int:
    return await show_previews(update, context)


async def send_previews(message: Message, context: RelaisContext, post_id: int, lang: str | None) -> None:
    """Each channel's render as it will be published, after a line with its length and limit."""
    for preview in await previews(context.app, post_id):
        await message.reply_text(t("preview_header", lang, channel=preview.channel, platform=preview.platform,
                                   length=preview.length, limit=preview.limit))
        render = preview.render
        if isinstance(render, TelegramRender) and render.photo:
            await message.reply_photo(render.photo, caption=render.text, parse_mode=render.parse_mode)
        elif isinstance(render, TelegramRender):
            await message.reply_text(render.text, parse_mode=render.parse_mode)
        else:  # Mastodon: plain text, its content warning first, as a reader unfolds it
            warning = f"⚠ {render.spoiler_text}\n\n" if render.spoiler_text else ""
            await message.reply_text(warning + render.status)


def endings_keyboard(post_id: int, lang: str | None) -> InlineKeyboardMarkup:
    texts = {"now": t("button_publish_now", lang), "queue": t("button_queue", lang),
             "when": t("button_schedule", lang), "draft": t("button_keep_draft", lang),
             "cancel": t("button_cancel", lang)}
    rows = [[InlineKeyboardButton(texts[verb], callback_data=callbacks.data(verb, post_id))] for verb in ENDINGS]
    return InlineKeyboardMarkup(rows)


async def show_previews(update: Update, context: RelaisContext) -> int:
    message = update.effective_message
    assert message is not None
    post_id, lang = _draft(context)["post_id"], language(update)
    await send_previews(message, context, post_id, lang)
    await message.reply_text(t("new_choose", lang), reply_markup=endings_keyboard(post_id, lang))
    return CHOICE


async def _outcome_line(outcomes: publishing.PostOutcomes, context: RelaisContext, lang: str | None) -> str:
    zone = context.app.settings.tz
    lines = [t("outcome_line", lang, channel=c.channel,
               when=c.due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if c.due_at else "—")
             for c in outcomes.matched]
    return "\n".join(lines) or t("outcome_no_channel", lang)


async def chosen(update: Update, context: RelaisContext) -> int:
    query = update.callback_query
    assert query is not None
    if await allowed(update, context) is None:  # rights taken back during the conversation
        _forget(context)
        return END
    lang, button = language(update), callbacks.parse(query.data)
    draft = _draft(context)
    if button is None or button.verb not in ENDINGS or button.post_id != draft.get("post_id"):
        await query.answer(t("button_stale", lang), show_alert=True)
        return CHOICE
    await query.answer()
    app, post_id = context.app, button.post_id
    if button.verb == "when":
        await reply(update, t("new_ask_when", lang, zone=app.settings.timezone))
        return WHEN
    if button.verb == "draft":
        await reply(update, t("new_kept_draft", lang, id=post_id))
    elif button.verb == "cancel":
        await posts.delete(app, post_id, now=now(context))
        await reply(update, t("new_cancelled", lang))
    else:
        outcomes = await publishing.enqueue(app, post_id, now(context), mode="now" if button.verb == "now" else "queue")
        done = t("new_published", lang, id=post_id) if button.verb == "now" else t("new_queued", lang, id=post_id)
        await reply(update, done + "\n" + await _outcome_line(outcomes, context, lang))
    _forget(context)
    return END


def date_problem(problem: DateProblem, lang: str | None, wall: Any, zone: str) -> str:
    shown = wall.strftime("%Y-%m-%d %H:%M") if wall else ""
    if problem is DateProblem.PAST:
        return t("date_past", lang, when=shown)
    if problem is DateProblem.DST_GAP:
        return t("date_dst_gap", lang, when=shown, zone=zone)
    return t("date_unreadable", lang)


async def got_when(update: Update, context: RelaisContext) -> int:
    assert update.effective_message is not None
    if await allowed(update, context) is None:
        _forget(context)
        return END
    lang, app = language(update), context.app
    parsed = parse_when(update.effective_message.text or "", now=now(context), zone=app.settings.tz)
    if parsed.at is None:
        assert parsed.problem is not None
        await reply(update, date_problem(parsed.problem, lang, parsed.wall, app.settings.timezone) + "\n"
                    + t("new_ask_when", lang, zone=app.settings.timezone))
        return WHEN
    post_id = _draft(context)["post_id"]
    outcomes = await publishing.enqueue(app, post_id, now(context), mode="at", at=parsed.at)
    await reply(update, t("new_scheduled", lang, id=post_id, when=parsed.at.strftime("%Y-%m-%d %H:%M %Z")) + "\n"
                + await _outcome_line(outcomes, context, lang))
    _forget(context)
    return END


async def cancel(update: Update, context: RelaisContext) -> int:
    post_id = _draft(context).get("post_id")
    lang = language(update)
    await reply(update, t("new_left_draft", lang, id=post_id) if post_id else t("new_left", lang))
    _forget(context)
    return END


async def use_the_buttons(update: Update, context: RelaisContext) -> int:
    await reply(update, t("new_use_buttons", language(update)))
    return CHOICE


async def stale_button(update: Update, context: RelaisContext) -> None:
    """A button of a conversation that is over, or data no handler knows: an alert, nothing else."""
    if update.callback_query:
        await update.callback_query.answer(t("button_stale", language(update)), show_alert=True)


def conversation() -> ConversationHandler[RelaisContext]:
    text = filters.TEXT & ~filters.COMMAND
    endings = rf"^{callbacks.PREFIX}:({'|'.join(ENDINGS)}):"
    with warnings.catch_warnings():
        # per_message=False is meant: one draft per user and chat, buttons included (PTBUserWarning).
        warnings.simplefilter("ignore")
        return ConversationHandler(
            entry_points=[CommandHandler("new", start)],
            states={
                TITLE: [MessageHandler(text, got_title)],
                TEXT: [MessageHandler(text, got_text)],
                TAGS: [CommandHandler("skip", skip_tags), MessageHandler(text, got_tags)],
                PHOTO: [CommandHandler("skip", skip_photo), MessageHandler(filters.PHOTO | text, got_photo)],
                CHOICE: [CallbackQueryHandler(chosen, pattern=endings), MessageHandler(text, use_the_buttons)],
                WHEN: [MessageHandler(text, got_when)],
            },
            fallbacks=[CommandHandler("cancel", cancel)],
            name=NAME, persistent=True, allow_reentry=True,
        )


def register(application: Application[Any, RelaisContext, Any, Any, Any, Any]) -> None:
    application.add_handler(conversation())
    # Every author button the handlers above and bot/chat/manage.py do not take: stale or forged.
    application.add_handler(CallbackQueryHandler(stale_button, pattern=rf"^{callbacks.PREFIX}:(?!({_MANAGE_VERBS}):[1-9])"))
