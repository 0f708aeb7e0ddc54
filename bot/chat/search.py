"""`/search QUERY` in a private chat: one page of results with « Précédent / Suivant » buttons.

``search_reply`` (the app, a query, an offset, a language → text and buttons) holds the
logic; the handlers only parse the update and send. The buttons carry the offset and, when
it fits Telegram's 64 bytes, the query itself (``srch:10:santé mentale``); a longer query is
kept in ``chat_data`` under a short id (``srch:10:~3``). Forged or stale data — unparsable,
an offset out of range, an id from before a restart — is answered with "search again",
never raised.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.chat.context import RelaisContext
from bot.i18n import t
from bot.services import search as service
from bot.services.context import Services
from bot.services.search import SearchHit

PAGE = 5
PREFIX = "srch"
_DATA = re.compile(rf"{PREFIX}:(\d{{1,4}}):(.+)", re.DOTALL)
_CALLBACK_BYTES = 64  # https://core.telegram.org/bots/api#inlinekeyboardbutton
_KEPT = 50  # long queries remembered per chat for their buttons
_SHOWN = 80  # characters of the query repeated in the answer


@dataclass(frozen=True, slots=True)
class Reply:
    text: str  # HTML
    buttons: tuple[tuple[str, int], ...] = ()  # (label, offset of the page it shows)


def language_of(update: Update) -> str | None:
    return update.effective_user.language_code if update.effective_user else None


def _date(when: datetime | None, language: str | None) -> str:
    return t("search_date", language, day=when.day, month=when.month, year=when.year) if when else ""


def _hit(number: int, hit: SearchHit, language: str | None) -> str:
    title = html.escape(hit.title or hit.url or "")
    head = f'<a href="{html.escape(hit.url, quote=True)}">{title}</a>' if hit.url else title
    date = _date(hit.date, language)
    lines = [f"<b>{number}.</b> {head}" + (f" — {date}" if date else "")]
    if hit.excerpt:
        lines.append(html.escape(hit.excerpt))
    return "\n".join(lines)


async def search_reply(app: Services, query: str, offset: int, language: str | None) -> Reply:
    """The message for one page of ``/search query``."""
    if not query.strip():
        return Reply(t("search_usage", language))
    page = await service.search(app, query, offset=offset, limit=PAGE)
    if not page.understood:
        return Reply(t("search_not_understood", language))
    shown = html.escape(query if len(query) <= _SHOWN else query[:_SHOWN - 1] + "…")  # keeps the reply < 4096
    if not page.hits:
        return Reply(t("search_no_result", language, query=shown))
    header = t("search_results", language, query=shown, page=offset // PAGE + 1)
    body = "\n\n".join(_hit(offset + i + 1, hit, language) for i, hit in enumerate(page.hits))
    buttons = []
    if page.previous_offset is not None:
        buttons.append((t("search_previous", language), page.previous_offset))
    if page.next_offset is not None:
        buttons.append((t("search_next", language), page.next_offset))
    return Reply(f"{header}\n\n{body}", tuple(buttons))


def callback_data(query: str, offset: int, kept: dict[str, Any]) -> str:
    """What a page button carries: the query itself when it fits, else a short id into ``kept``."""
    data = f"{PREFIX}:{offset}:{query}"
    if len(data.encode()) <= _CALLBACK_BYTES:
        return data
    queries: dict[str, str] = kept.setdefault("searches", {})
    ids = {q: i for i, q in queries.items()}
    key = ids.get(query) or str(int(max(queries, key=int, default="0")) + 1)
    queries[key] = query
    for old in sorted(queries, key=int)[:-_KEPT]:
        del queries[old]
    return f"{PREFIX}:{offset}:~{key}"


def parse_callback(data: str, kept: dict[str, Any]) -> tuple[str, int] | None:
    """(query, offset) from a page button, or None when forged or stale."""
    match = _DATA.fullmatch(data)
    if not match or int(match.group(1)) > service.MAX_OFFSET:
        return None
    query = match.group(2)
    if query.startswith("~"):
        query = kept.get("searches", {}).get(query[1:])
    return (query, int(match.group(1))) if query else None


def _markup(reply: Reply, query: str, kept: dict[str, Any]) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=callback_data(query, offset, kept))
                                  for label, offset in reply.buttons]])


_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def _kept(context: RelaisContext) -> dict[Any, Any]:
    return context.chat_data if context.chat_data is not None else {}


async def search_command(update: Update, context: RelaisContext) -> None:
    message = update.effective_message
    if message is None:
        return
    query = " ".join(context.args or ())
    reply = await search_reply(context.app, query, 0, language_of(update))
    await message.reply_text(reply.text, parse_mode=ParseMode.HTML, link_preview_options=_NO_PREVIEW,
                             reply_markup=_markup(reply, query, _kept(context)))


async def search_page(update: Update, context: RelaisContext) -> None:
    button = update.callback_query
    if button is None:
        return
    kept = _kept(context)
    parsed = parse_callback(button.data or "", kept)
    if parsed is None or button.message is None or not button.message.is_accessible:
        await button.answer(t("search_expired", language_of(update)), show_alert=True)
        return
    query, offset = parsed
    reply = await search_reply(context.app, query, offset, language_of(update))
    await button.answer()
    try:
        await button.edit_message_text(reply.text, parse_mode=ParseMode.HTML, link_preview_options=_NO_PREVIEW,
                                       reply_markup=_markup(reply, query, kept))
    except BadRequest as exc:
        if "not modified" not in str(exc):  # a double tap shows the same page: nothing to do
            raise


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [CommandHandler("search", search_command, filters=filters.ChatType.PRIVATE),
            CallbackQueryHandler(search_page, pattern=f"^{PREFIX}:")]
