"""Article + profile → a Telegram message (HTML) or a photo with its caption.

Layout: the title in bold (hashtags inline or not), a blank line, the excerpt, the
read-more link, then the remaining hashtags. Lengths are UTF-16 code units of the text
after entity parsing, i.e. of our plain text (https://core.telegram.org/api/entities).
"""

from __future__ import annotations

from html import escape

from bot.format import hashtags as tags
from bot.format.counting import utf16_length
from bot.format.fit import SEPARATOR, Parts, fit
from bot.format.links import with_utm
from bot.format.model import (
    TELEGRAM_CAPTION_LIMIT,
    TELEGRAM_TEXT_LIMIT,
    Article,
    LinkPreview,
    Profile,
    TelegramRender,
)
from bot.format.text import Run
from bot.i18n import base_language, t


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
    return TelegramRender(
        text=text,
        photo=photo,
        link_preview=LinkPreview(link, prefer_large_media=article.image_url is not None) if link and not photo else None,
        follow_tags=tuple(h.display for h in parts.hashtags),
        length=length,
        limit=limit,
        language=base_language(article.language),
    )


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

