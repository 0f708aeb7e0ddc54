"""The formatter's data: what goes in (Article, Profile) and what comes out (renders).

Frozen dataclasses only: the publisher, the CLI and the tests share them, and nothing
here knows about ORM sessions, HTTP clients or the clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.domain.tags import clean_display, tag_key

Platform = Literal["telegram", "mastodon"]
HashtagStyle = Literal["trailing", "inline"]

# https://core.telegram.org/bots/api#sendmessage (text 1-4096) and #sendphoto (caption 0-1024),
# both counted after entity parsing.
TELEGRAM_TEXT_LIMIT = 4096
TELEGRAM_CAPTION_LIMIT = 1024
# Mastodon's defaults; the publisher passes the instance's live values (/api/v2/instance).
MASTODON_MAX_CHARACTERS = 500
MASTODON_URL_LENGTH = 23


@dataclass(frozen=True, slots=True)
class Article:
    """One post as the formatter sees it. ``tags`` are display forms, most relevant first."""

    title: str
    body_html: str = ""
    url: str | None = None
    tags: tuple[str, ...] = ()
    language: str = "fr"
    image_url: str | None = None
    image_alt: str | None = None
    summary: str = ""  # plain text, used when the body is empty

    @classmethod
    def from_post(cls, post: Any) -> Article:
        """From a ``NewPost`` (tags as strings) or an ORM ``Post`` (tags as ``Tag`` rows)."""
        tags = tuple(getattr(tag, "display", tag) for tag in post.tags)
        return cls(
            title=post.title or "",
            body_html=post.body_html or "",
            url=post.url or None,
            tags=tuple(clean_display(t) for t in tags if isinstance(t, str)),
            language=post.language or "fr",
            image_url=post.image_url or None,
            image_alt=post.image_alt or None,
            summary=post.summary or "",
        )


@dataclass(frozen=True, slots=True)
class Profile:
    """How one channel's posts look (built from ``bot.settings.ProfileSettings``)."""

    platform: Platform = "telegram"
    max_length: int | None = None  # cap on the whole render; None = the platform's limit
    hashtag_style: HashtagStyle = "trailing"
    max_hashtags: int = 5
    prefer_image: bool = False
    utm: str | None = None
    read_more: bool = True
    # tag key → topic named in the content warning
    content_warnings: Mapping[str, str] = field(default_factory=dict)
    visibility: str = "public"

    @classmethod
    def from_settings(cls, platform: str, ps: Any, *, visibility: str = "public") -> Profile:
        if platform not in ("telegram", "mastodon"):
            raise ValueError(f"unknown platform {platform!r}")
        warnings: dict[str, str] = {}
        for topic, tags in ps.content_warnings.items():
            for tag in [topic, *tags]:
                warnings.setdefault(tag_key(tag), topic)
        return cls(
            platform=platform,  # type: ignore[arg-type]
            max_length=ps.max_length,
            hashtag_style=ps.hashtag_style,
            max_hashtags=ps.max_hashtags,
            prefer_image=ps.prefer_image,
            utm=ps.utm,
            read_more=ps.read_more,
            content_warnings=warnings,
            visibility=visibility,
        )


@dataclass(frozen=True, slots=True)
class LinkPreview:
    """Bot API LinkPreviewOptions: https://core.telegram.org/bots/api#linkpreviewoptions"""

    url: str
    prefer_large_media: bool = False


@dataclass(frozen=True, slots=True)
class FollowButton:
    """A "follow #tag" button under a channel post, as data: the publisher turns it into
    ``https://t.me/<bot>?start=<payload>`` (see ``bot.deeplinks``)."""

    label: str  # "Suivre #SantéMentale", in the post's language
    payload: str  # the deep-link start payload; ``bot.deeplinks.followed_tag_key`` reads it back


@dataclass(frozen=True, slots=True)
class TelegramRender:
    text: str  # HTML: the message text, or the caption when ``photo`` is set
    parse_mode: str = "HTML"
    photo: str | None = None
    link_preview: LinkPreview | None = None
    follow_tags: tuple[str, ...] = ()  # the post's hashtags (display forms), most relevant first
    follow_buttons: tuple[FollowButton, ...] = ()  # ONE row under the post: a few of ``follow_tags``
    callback_buttons: tuple[tuple[str, str], ...] = ()  # (label, callback data): one row (reader notifications)
    length: int = 0  # UTF-16 code units of the text after entity parsing
    limit: int = TELEGRAM_TEXT_LIMIT
    language: str = "fr"  # the post's (base) language, for the buttons' labels

    @property
    def is_caption(self) -> bool:
        return self.photo is not None


@dataclass(frozen=True, slots=True)
class MastodonRender:
    status: str
    spoiler_text: str = ""
    language: str = "fr"
    visibility: str = "public"
    media_url: str | None = None
    media_alt: str | None = None
    length: int = 0  # as Mastodon counts: graphemes, URLs = 23, content warning included
    limit: int = MASTODON_MAX_CHARACTERS
