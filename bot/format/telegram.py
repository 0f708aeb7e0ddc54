"""Article + profile → a Telegram message (HTML) or a photo with its caption.

Layout: the title in bold (hashtags inline or not), a blank line, the excerpt, the
read-more link, then the remaining hashtags. Lengths are UTF-16 code units of the text
after entity parsing, i.e. of our plain text (https://core.telegram.org/api/entities).
"""

from __future__ import annotations

from html import escape

from bot.deeplinks import follow_payload
from bot.format import hashtags as tags
from bot.format.counting import utf16_length
from bot.format.fit import SEPARATOR, Parts, fit
from bot.format.links import with_utm
from bot.format.model import (
    TELEGRAM_CAPTION_LIMIT,
    TELEGRAM_TEXT_LIMIT,
    Article,
    FollowButton,
    LinkPreview,
    Profile,
    TelegramRender,
)
from bot.format.text import Run
from bot.i18n import base_language, t

# The follow buttons share one row under the post (issue 9: a row per tag buried the channel).
# Telegram shrinks buttons to fit a row and cuts their labels: a few short ones stay readable.
MAX_FOLLOW_BUTTONS = 3
MAX_FOLLOW_ROW_CHARACTERS = 40  # the labels together, ≈ what a phone shows on one row uncut


def _html(runs: list[Run]) -> str:
    """Runs → Telegram HTML: only b, i and a, always closed, text escaped."""
    out: list[str] = []
    for run in runs:
        if not run.text:
            continue
        chunk = escape(run.text, quote=False)
        if run.href and run.text.strip():
            chunk = f'<a href="{escape(run.href, quote=True)}">{chunk}</a>'
        if run.italic and run.text.strip():
            chunk = f"<i>{chunk}</i>"
        if run.bold and run.text.strip():
            chunk = f"<b>{chunk}</b>"
        out.append(chunk)
    return "".join(out)


def render_telegram(article: Article, profile: Profile) -> TelegramRender:
    link = with_utm(article.url, profile.utm)
    photo = article.image_url if profile.prefer_image and with_utm(article.image_url, None) else None
    platform_limit = TELEGRAM_CAPTION_LIMIT if photo else TELEGRAM_TEXT_LIMIT
    limit = min(platform_limit, profile.max_length or platform_limit)
    label = t("read_more", article.language) if link else ""
    parts = Parts.build(article, profile, link_label=label)
    chosen, length = fit(parts, limit, utf16_length, lambda p: _plain(p, link))
    text = SEPARATOR.join(_sections(chosen, link))
    follow_tags = tuple(h.display for h in parts.hashtags)
    return TelegramRender(
        text=text,
        photo=photo,
        link_preview=LinkPreview(link, prefer_large_media=article.image_url is not None) if link and not photo else None,
        follow_tags=follow_tags,
        follow_buttons=follow_row(follow_tags, article.language),
        length=length,
        limit=limit,
        language=base_language(article.language),
    )


def follow_row(tags_by_relevance: tuple[str, ...], language: str | None) -> tuple[FollowButton, ...]:
    """The most relevant tags that fit one compact row: at most three, labels short enough
    together; always the first tag that can have a button at all."""
    row: list[FollowButton] = []
    width = 0
    for display in tags_by_relevance:
        payload, body = follow_payload(display), tags.hashtag_body(display)
        if payload is None or body is None or any(b.payload == payload for b in row):
            continue  # too long for a deep link, not a hashtag, or a tag already there
        label = t("follow_tag_button", language, tag=body)  # "Suivre #SantéMentale"
        if row and width + len(label) > MAX_FOLLOW_ROW_CHARACTERS:
            break
        row.append(FollowButton(label, payload))
        width += len(label)
        if len(row) == MAX_FOLLOW_BUTTONS:
            break
    return tuple(row)


def _sections(p: Parts, link: str | None) -> list[str]:
    """The HTML of each non-empty section, in order."""
    sections = []
    if p.title:
        sections.append(f"<b>{escape(p.title, quote=False)}</b>")
    if p.excerpt:
        sections.append(_html(list(p.excerpt)))
    if link and p.link_label:
        sections.append(f'<a href="{escape(link, quote=True)}">{escape(p.link_label, quote=False)}</a>')
    if p.trailing:
        sections.append(escape(tags.line(p.trailing), quote=False))
    return sections


def _plain(p: Parts, link: str | None) -> str:
    """What ``_sections`` would show once parsed, without building its HTML."""
    texts = [p.title, "".join(r.text for r in p.excerpt), p.link_label if link else "", tags.line(p.trailing)]
    return SEPARATOR.join(text for text in texts if text)

