"""Pure renders of reader notifications: one post (as on the channel, with an unfollow button)
and the daily digest (a list of links). No database, no clock: data in, render out.

Buttons are :class:`bot.chat.callbacks.Button` data (label + ``uf:<tag_id>``), turned into
the library's keyboard by whoever sends. The labels follow the *reader's* language; the post
text stays in the post's own language.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from bot.chat.callbacks import Action, Button, encode
from bot.domain.hashtags import hashtag_body
from bot.format.counting import utf16_length
from bot.format.model import TELEGRAM_TEXT_LIMIT, Article, Profile, TelegramRender
from bot.format.telegram import render_telegram
from bot.i18n import t, tn

MAX_UNFOLLOW_BUTTONS = 3  # one compact row; the reader's other follows are in /following


@dataclass(frozen=True, slots=True)
class FollowedTag:
    id: int
    display: str


@dataclass(frozen=True, slots=True)
class DigestEntry:
    title: str
    url: str | None


@dataclass(frozen=True, slots=True)
class Notification:
    render: TelegramRender
    buttons: tuple[Button, ...] = ()  # one row


def unfollow_button(tag: FollowedTag, language: str) -> Button:
    return Button(t("unfollow_tag_button", language, tag=hashtag_body(tag.display) or tag.display),
                  encode(Action.UNFOLLOW, tag.id))


def notification_render(post: Article, subscriber_language: str, profile: Profile,
                        followed: Sequence[FollowedTag] = (), *, rendered: TelegramRender | None = None) -> Notification:
    """The post as the channel shows it, without "follow" buttons (the reader follows already),
    with « Ne plus suivre #Tag » for the followed tags that brought it. ``rendered``: the post's
    ``render_telegram(post, profile)`` when the caller already has it (a fan-out renders it once)."""
    buttons = tuple(unfollow_button(tag, subscriber_language) for tag in followed[:MAX_UNFOLLOW_BUTTONS])
    render = dataclasses.replace(rendered or render_telegram(post, profile), follow_tags=(), follow_buttons=(),
                                 callback_buttons=tuple((b.label, b.callback_data) for b in buttons))
    return Notification(render, buttons)


def _entry_html(entry: DigestEntry) -> str:
    title = escape(entry.title.strip() or entry.url or "…", quote=False)
    return f"• <a href=\"{escape(entry.url)}\">{title}</a>" if entry.url else f"• {title}"


def digest_render(entries: Sequence[DigestEntry], language: str, *, limit: int = TELEGRAM_TEXT_LIMIT) -> Notification:
    """The day's posts as one message: a heading with the count, then one linked line per post.

    Lines that would pass the limit are summed up in a last « … et N autres » line. Lengths are
    counted on the HTML source, which is never shorter than the text Telegram counts.
    """
    heading = "<b>" + escape(tn("digest_heading", "digest_heading_plural", len(entries), language), quote=False) + "</b>"
    lines = [heading]
    for shown, entry in enumerate(entries):
        line = _entry_html(entry)
        rest = len(entries) - shown
        more = escape(tn("digest_more", "digest_more_plural", rest - 1, language), quote=False) if rest > 1 else ""
        if utf16_length("\n".join([*lines, line, more])) > limit:
            lines.append(escape(tn("digest_more", "digest_more_plural", rest, language), quote=False))
            break
        lines.append(line)
    text = "\n".join(lines)
    return Notification(TelegramRender(text=text, length=utf16_length(text), language=language))
