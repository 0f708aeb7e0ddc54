"""Article + profile → a Mastodon status: plain text, spoiler_text, language, media.

Layout: the title on the first line, a blank line, the excerpt, "Lire la suite : URL"
(bare URL: Mastodon links it and counts it as ``url_length``), then the hashtags. The
length is Mastodon's: graphemes, URLs as 23, the content warning included
(https://docs.joinmastodon.org/user/posting/#text).
"""

from __future__ import annotations

from functools import partial

from bot.format import hashtags as tags
from bot.format.counting import mastodon_length
from bot.format.fit import SEPARATOR, Parts, fit
from bot.format.links import with_utm
from bot.format.model import MASTODON_MAX_CHARACTERS, MASTODON_URL_LENGTH, Article, MastodonRender, Profile
from bot.format.text import plain
from bot.i18n import base_language, t

# Mastodon rejects media descriptions over 1500 characters (MediaAttachment::MAX_DESCRIPTION_LENGTH).


def content_warning(article: Article, profile: Profile) -> str:
    """spoiler_text naming every topic whose trigger tags the post carries, in its language."""
    topics: list[str] = []
    for display in article.tags:
        topic = profile.content_warnings.get(tags.tag_key(display))
        if topic and topic not in topics:
            topics.append(topic)
    return t("content_warning", article.language, topic=", ".join(topics)) if topics else ""


def render_mastodon(
    article: Article,
    profile: Profile,
    *,
    max_characters: int = MASTODON_MAX_CHARACTERS,
    url_length: int = MASTODON_URL_LENGTH,
) -> MastodonRender:
    link = with_utm(article.url, profile.utm)
    spoiler = content_warning(article, profile)
    measure_status = partial(mastodon_length, url_length=url_length)
    cw_length = mastodon_length("", spoiler)
    limit = min(max_characters, profile.max_length or max_characters)
    label = t("read_more_link", article.language, url=link) if link else ""
    parts = Parts.build(article, profile, link_label=label)

    def status_of(p: Parts) -> str:
        sections = [p.title]
        sections.append(plain(list(p.excerpt)))
        sections.append(p.link_label or (link or ""))
        sections.append(tags.line(p.trailing))
        return SEPARATOR.join(s for s in sections if s)

    chosen, length = fit(parts, limit - cw_length, measure_status, status_of)
    status = status_of(chosen)
    alt = article.image_alt or None  # cut to the instance's description_limit by the publisher
    return MastodonRender(
        status=status,
        spoiler_text=spoiler,
        language=base_language(article.language),
        visibility=profile.visibility,
        media_url=with_utm(article.image_url, None),
        media_alt=alt if article.image_url else None,
        length=length + cw_length,
        limit=limit,
    )
