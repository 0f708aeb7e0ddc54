"""What the reader commands answer, as text and button data: pure, from the services' results.

The handlers (bot/chat) send these; nothing here touches Telegram or the database. Texts are
plain (no parse mode): tag names and titles come from the blog and are shown as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.chat.callbacks import Action, Button, encode
from bot.i18n import t, tn
from bot.services.readers import (
    DeepLinkFollow,
    Erased,
    Outcome,
    PostLink,
    Reader,
    TagPage,
    TagRef,
    TagResult,
)
from bot.store.models import NotificationMode


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()  # rows


def _tags(tags: Sequence[TagRef]) -> str:
    return ", ".join(tag.hashtag for tag in tags)


def _grouped(results: Sequence[TagResult], outcome: Outcome) -> list[TagRef]:
    return [r.tag for r in results if r.outcome is outcome and r.tag is not None]


def _unknown_line(result: TagResult, language: str) -> str:
    if result.suggestions:
        return t("reader_unknown_tag_suggest", language, tag=result.asked, suggestions=_tags(result.suggestions))
    return t("reader_unknown_tag", language, tag=result.asked)


def _follow_button(tag: TagRef, language: str) -> Button:
    return Button(t("follow_tag_button", language, tag=tag.hashtag.lstrip("#")), encode(Action.FOLLOW, tag.id))


def _unfollow_button(tag: TagRef, language: str) -> Button:
    return Button(t("unfollow_tag_button", language, tag=tag.hashtag.lstrip("#")), encode(Action.UNFOLLOW, tag.id))


def _suggestion_buttons(results: Sequence[TagResult], language: str) -> tuple[tuple[Button, ...], ...]:
    refs = dict.fromkeys(s for r in results for s in r.suggestions)
    row = tuple(_follow_button(ref, language) for ref in list(refs)[:3])
    return (row,) if row else ()


def _summary(results: Sequence[TagResult], language: str, lines: Sequence[str]) -> str:
    """The non-empty ``lines``, then one line per unknown word."""
    unknown = [_unknown_line(r, language) for r in results if r.outcome is Outcome.UNKNOWN]
    return "\n".join([line for line in lines if line] + unknown)


def follow_reply(results: Sequence[TagResult], language: str) -> Reply:
    """``/follow``: what was followed, what already was, and the closest tags to the unknown ones."""
    followed, already = _grouped(results, Outcome.FOLLOWED), _grouped(results, Outcome.ALREADY)
    lines = [t("reader_followed", language, tags=_tags(followed)) if followed else "",
             t("reader_already_followed", language, tags=_tags(already)) if already else ""]
    return Reply(_summary(results, language, lines), _suggestion_buttons(results, language))


def unfollow_reply(results: Sequence[TagResult], language: str) -> Reply:
    gone, never = _grouped(results, Outcome.UNFOLLOWED), _grouped(results, Outcome.NOT_FOLLOWED)
    lines = [t("reader_unfollowed", language, tags=_tags(gone)) if gone else "",
             t("reader_not_followed", language, tags=_tags(never)) if never else ""]
    return Reply(_summary(results, language, lines))


def deep_link_reply(followed: DeepLinkFollow, language: str) -> Reply:
    """``/start follow_…``: « Vous suivez désormais #SantéMentale » with an undo button."""
    if followed.already:
        return Reply(t("reader_deeplink_already", language, tag=followed.tag.hashtag))
    undo = Button(t("undo_button", language), followed.undo_data)
    return Reply(t("reader_deeplink_followed", language, tag=followed.tag.hashtag), ((undo,),))


def following_reply(tags: Sequence[TagRef], language: str) -> Reply:
    """``/following``: the list, one unfollow button per tag."""
    if not tags:
        return Reply(t("reader_following_none", language))
    text = tn("reader_following", "reader_following_plural", len(tags), language) + "\n" + _tags(tags)
    rows = tuple((_unfollow_button(tag, language),) for tag in tags)
    return Reply(text, rows)


def tags_reply(page: TagPage, language: str) -> Reply:
    """``/tags``: one line per tag with its post count, a follow/unfollow toggle each, and paging."""
    lines = [t("reader_tags_heading", language)]
    rows: list[tuple[Button, ...]] = []
    for item in page.tags:
        lines.append(tn("reader_tag_line", "reader_tag_line_plural", item.posts, language, tag=item.tag.hashtag))
        rows.append((_unfollow_button(item.tag, language) if item.followed else _follow_button(item.tag, language),))
    paging = []
    if page.offset > 0:
        paging.append(Button(t("page_previous", language), encode(Action.TAGS_PAGE, max(page.offset - page.limit, 0))))
    if page.has_more:
        paging.append(Button(t("page_next", language), encode(Action.TAGS_PAGE, page.offset + page.limit)))
    if not page.tags:
        lines = [t("reader_tags_none", language)]
    return Reply("\n".join(lines), (*rows, tuple(paging)) if paging else tuple(rows))


def latest_reply(posts: Sequence[PostLink], language: str, tag: str | None = None) -> Reply:
    if not posts:
        return Reply(t("reader_latest_none", language))
    heading = t("reader_latest_tag", language, tag=tag) if tag else t("reader_latest", language)
    lines = [heading] + [f"• {p.title}" + (f"\n  {p.url}" if p.url else "") for p in posts]
    return Reply("\n".join(lines))


def settings_reply(reader: Reader, language: str) -> Reply:
    """``/settings``: how the reader is notified, in which language, paused or not."""
    if reader.paused:
        mode = t("settings_paused", language)
    elif reader.mode is NotificationMode.DIGEST:
        mode = t("settings_digest", language, hour=reader.digest_hour)
    elif reader.mode is NotificationMode.MUTED:
        mode = t("settings_muted", language)
    else:
        mode = t("settings_instant", language)
    return Reply(t("settings_summary", language, mode=mode, language=t("language_name", reader.language)))


def stop_confirmation(user_id: int, language: str) -> Reply:
    """``/stop`` asks first: erasing cannot be undone."""
    return Reply(t("stop_confirm", language), ((Button(t("stop_confirm_button", language), encode(Action.STOP, user_id)),),))


def stop_reply(erased: Erased, language: str) -> Reply:
    return Reply(tn("stop_done", "stop_done_plural", erased.follows, language))
