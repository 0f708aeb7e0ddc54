"""Managing posts from the chat: /drafts /queue /schedule /publish /preview /edit /delete /retry /import.

Each command is for authors only (``guarded``) and calls one service; each button carries
``a:<verb>:<post id>`` (bot/chat/author_callbacks.py) and is checked again when it is pressed: a
reader, a forged or a stale button gets a short alert and nothing changes.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.chat import author_callbacks as callbacks
from bot.chat.access import allowed, guarded, language, now, reply
from bot.chat.authoring import date_problem, send_previews
from bot.chat.context import RelaisContext
from bot.domain.posts import PostStatus
from bot.errors import RelaisError
from bot.i18n import t, tn
from bot.ingest.service import ImportReport
from bot.services import feeds, posts, publishing
from bot.services.dates import parse_when
from bot.services.publishing import Outcome
from bot.services.queue_moves import Direction, enqueue_or_move, move

LISTED = 20  # posts or queue entries shown per message
PROGRESS_EVERY = 1.0  # seconds between two edits of the /import progress message (Telegram: ~1 msg/s per chat)


def _post_id(context: RelaisContext) -> int | None:
    args = context.args or []
    return int(args[0]) if args and args[0].isdigit() and int(args[0]) > 0 else None


async def _usage(update: Update, text: str) -> None:
    await reply(update, text)


def _local(context: RelaisContext, when: datetime | None) -> str:
    return when.astimezone(context.app.settings.tz).strftime("%Y-%m-%d %H:%M") if when else "—"


def _outcomes(context: RelaisContext, outcomes: publishing.PostOutcomes, lang: str | None) -> str:
    lines = [t("outcome_state", lang, channel=c.channel, outcome=c.outcome.value, when=_local(context, c.due_at))
             for c in outcomes.matched]
    return "\n".join([t("post_line_title", lang, id=outcomes.post_id, title=outcomes.title), *lines])


@guarded()
async def drafts(update: Update, context: RelaisContext) -> None:
    lang = language(update)
    page = await posts.list_posts(context.app, status=PostStatus.DRAFT, limit=LISTED)
    lines = [t("post_line_title", lang, id=p.id, title=p.title) for p in page.posts]
    await reply(update, "\n".join([tn("drafts_count", "drafts_count_plural", len(lines), lang), *lines]))


def _queue_keyboard(post_ids: list[int]) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(f"{label} {post_id}", callback_data=callbacks.data(verb, post_id))
             for verb, label in (("up", "⬆"), ("down", "⬇"), ("pub", "▶"), ("unq", "✖"))]
            for post_id in post_ids]
    return InlineKeyboardMarkup(rows)


@guarded()
async def queue(update: Update, context: RelaisContext) -> None:
    lang = language(update)
    listing = await publishing.queue_listing(context.app, now(context))
    lines: list[str] = []
    shown: list[int] = []
    for channel in listing:
        lines.append(t("queue_channel", lang, channel=channel.name, count=len(channel.entries)))
        for entry in channel.entries[:LISTED]:
            lines.append(t("queue_entry", lang, position=entry.position, when=entry.due_local.strftime("%Y-%m-%d %H:%M"),
                           id=entry.post_id, title=entry.title))
            if entry.post_id not in shown:
                shown.append(entry.post_id)
    markup = _queue_keyboard(shown[:LISTED]) if shown else None
    await reply(update, "\n".join(lines) or t("queue_empty", lang), reply_markup=markup)


@guarded()
async def schedule(update: Update, context: RelaisContext) -> None:
    post_id, lang, app = _post_id(context), language(update), context.app
    if post_id is None or len(context.args or []) < 2:
        return await _usage(update, t("schedule_usage", language(update)))
    parsed = parse_when(" ".join((context.args or [])[1:]), now=now(context), zone=app.settings.tz)
    if parsed.at is None:
        assert parsed.problem is not None
        return await reply(update, date_problem(parsed.problem, lang, parsed.wall, app.settings.timezone))
    await _enqueue_or_move(update, context, post_id, "at", parsed.at)


async def _enqueue_or_move(update: Update, context: RelaisContext, post_id: int, mode: publishing.Mode,
                           at: datetime | None = None) -> None:
    lang = language(update)
    try:
        outcomes = await enqueue_or_move(context.app, post_id, now(context), mode=mode, at=at)
    except RelaisError as exc:
        return await reply(update, t("command_failed", lang, reason=str(exc)))
    await reply(update, _outcomes(context, outcomes, lang))


@guarded()
async def publish(update: Update, context: RelaisContext) -> None:
    post_id = _post_id(context)
    if post_id is None:
        return await _usage(update, t("publish_usage", language(update)))
    await _enqueue_or_move(update, context, post_id, "now")


@guarded()
async def preview(update: Update, context: RelaisContext) -> None:
    post_id = _post_id(context)
    if post_id is None or update.effective_message is None:
        return await _usage(update, t("preview_usage", language(update)))
    try:
        await send_previews(update.effective_message, context, post_id, language(update))
    except RelaisError as exc:
        await reply(update, t("command_failed", language(update), reason=str(exc)))


@guarded()
async def edit(update: Update, context: RelaisContext) -> None:
    """/edit ID title|text|tags NEW VALUE: sent messages follow on every platform (the worker edits them)."""
    post_id, args, lang = _post_id(context), context.args or [], language(update)
    message = update.effective_message
    if post_id is None or len(args) < 3 or args[1] not in ("title", "text", "tags") or message is None:
        return await _usage(update, t("edit_usage", language(update)))
    value = (message.text or "").split(args[1], 1)[1].strip()
    changes: dict[str, Any] = {"title": value} if args[1] == "title" else {"body": value} if args[1] == "text" \
        else {"tags": [w.lstrip("#") for w in value.replace(",", " ").split() if w.lstrip("#")]}
    try:
        edited = await posts.edit(context.app, post_id, now=now(context), **changes)
    except RelaisError as exc:
        return await reply(update, t("command_failed", lang, reason=str(exc)))
    await reply(update, t("edited", lang, id=post_id, edits=edited.edits_requested) if edited.changed
                else t("edit_unchanged", lang, id=post_id))


@guarded()
async def delete(update: Update, context: RelaisContext) -> None:
    post_id, lang = _post_id(context), language(update)
    if post_id is None:
        return await _usage(update, t("delete_usage", language(update)))
    try:
        found = await posts.get(context.app, post_id)
    except RelaisError as exc:
        return await reply(update, t("command_failed", lang, reason=str(exc)))
    keyboard = InlineKeyboardMarkup([[
        InlineKeyboardButton(t("button_delete", lang), callback_data=callbacks.data("del", post_id)),
        InlineKeyboardButton(t("button_keep", lang), callback_data=callbacks.data("keep", post_id)),
    ]])
    await reply(update, t("delete_confirm", lang, id=post_id, title=found.title), reply_markup=keyboard)


@guarded()
async def retry(update: Update, context: RelaisContext) -> None:
    post_id = _post_id(context)
    if post_id is None:
        return await _usage(update, t("retry_usage", language(update)))
    await _retry(update, context, post_id)


async def _retry(update: Update, context: RelaisContext, post_id: int) -> None:
    lang = language(update)
    try:
        outcomes = await publishing.retry_dead(context.app, post_id, now(context))
    except RelaisError as exc:
        return await reply(update, t("command_failed", lang, reason=str(exc)))
    retried = [c for c in outcomes.channels if c.outcome is Outcome.RETRIED]
    await reply(update, _outcomes(context, outcomes, lang) if retried else t("retry_nothing", lang, id=post_id))


class ChatProgress:
    """feeds.ImportProgress that edits ONE message in place, at most once per PROGRESS_EVERY (injected clock)."""

    def __init__(self, message: Message, context: RelaisContext, lang: str | None) -> None:
        self.message, self.context, self.lang = message, context, lang
        self.last: datetime | None = None
        self.pending: asyncio.Task[Any] | None = None
        self.text = ""

    def _show(self, text: str, *, force: bool = False) -> None:
        moment = now(self.context)
        if text == self.text or (not force and self.last and (moment - self.last).total_seconds() < PROGRESS_EVERY):
            return
        if self.pending is not None and not self.pending.done():
            return  # one edit in flight at a time; the final one is forced after the import
        self.last, self.text = moment, text
        self.pending = asyncio.get_running_loop().create_task(self.message.edit_text(text))

    def started(self, location: str) -> None:
        self._show(t("import_started", self.lang, source=location))

    def stored(self, location: str, done: int, total: int) -> None:
        self._show(t("import_progress", self.lang, source=location, done=done, total=total))

    def finished(self, location: str, report: ImportReport) -> None:
        return None  # the summary is one final edit, after every source

    async def settle(self, text: str) -> None:
        if self.pending is not None:
            await asyncio.gather(self.pending, return_exceptions=True)
        if text != self.text:
            await self.message.edit_text(text)


@guarded()
async def import_feed(update: Update, context: RelaisContext) -> None:
    lang, args, message = language(update), context.args or [], update.effective_message
    if not args or not args[0].startswith(("http://", "https://")) or message is None:
        return await _usage(update, t("import_usage", language(update)))
    sent = await message.reply_text(t("import_started", lang, source=args[0]))
    progress = ChatProgress(sent, context, lang)
    progress.text = sent.text or ""
    reports = await feeds.import_sources(context.app, [args[0]], now=now(context), progress=progress)
    lines = [t("import_done", lang, source=r.location, added=r.added, queued=r.queued, updated=r.updated,
               error=r.error or "—") for r in reports]
    await progress.settle("\n".join(lines))


async def button(update: Update, context: RelaisContext) -> None:
    """Every management button: checked for access and validity before anything is done."""
    query = update.callback_query
    assert query is not None
    lang = language(update)
    if await allowed(update, context) is None:
        return
    pressed = callbacks.parse(query.data)
    if pressed is None:
        await query.answer(t("button_stale", lang), show_alert=True)
        return
    app, post_id = context.app, pressed.post_id
    try:
        await posts.get(app, post_id)
    except RelaisError:
        await query.answer(t("button_stale", lang), show_alert=True)
        return
    await query.answer()
    try:
        if pressed.verb == "del":
            await posts.delete(app, post_id, now=now(context))
            await reply(update, t("deleted", lang, id=post_id))
        elif pressed.verb == "keep":
            await reply(update, t("delete_kept", lang, id=post_id))
        elif pressed.verb == "retry":
            await _retry(update, context, post_id)
        elif pressed.verb == "unq":
            await reply(update, _outcomes(context, await publishing.unschedule(app, post_id), lang))
        elif pressed.verb == "pub":
            await reply(update, _outcomes(context, await publishing.reschedule(app, post_id, now(context), mode="now"),
                                          lang))
        else:
            swaps = await move(app, post_id, Direction.UP if pressed.verb == "up" else Direction.DOWN, now(context))
            lines = [t("moved_line", lang, channel=s.channel, when=_local(context, s.due_at)) if s.other_post_id
                     else t("not_moved_line", lang, channel=s.channel) for s in swaps]
            await reply(update, "\n".join([t("post_line_title", lang, id=post_id, title=(await posts.get(app, post_id)).title),
                                           *lines]))
    except RelaisError as exc:
        await reply(update, t("command_failed", lang, reason=str(exc)))


COMMANDS = {"drafts": drafts, "queue": queue, "schedule": schedule, "publish": publish, "preview": preview,
            "edit": edit, "delete": delete, "retry": retry, "import": import_feed}


def register(application: Application[Any, RelaisContext, Any, Any, Any, Any]) -> None:
    for name, handler in COMMANDS.items():
        application.add_handler(CommandHandler(name, handler))
    verbs = "|".join(sorted(callbacks.VERBS - {"now", "queue", "when", "draft", "cancel"}))
    application.add_handler(CallbackQueryHandler(button, pattern=rf"^{callbacks.PREFIX}:({verbs}):[1-9]"))
