"""SQLAlchemy 2 models: the single source of truth for posts, the queue and deliveries.

Everything that must survive a restart is a row here: the publication outbox, each
notification delivery, feed cursors. Times are aware UTC (see ``UTCDateTime``).
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.domain.posts import PostStatus
from bot.store.types import UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(AsyncAttrs, DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012 (SQLAlchemy reads it as declared)


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(
        cls,
        native_enum=False,
        create_constraint=False,
        length=16,
        values_callable=lambda members: [m.value for m in members],
    )


class PublicationState(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    RETRY = "retry"
    DEAD = "dead"
    DELETED = "deleted"  # withdrawn: the sent message was deleted, or the post went before sending


class DeliveryKind(enum.StrEnum):
    POST = "post"  # one post, rendered as on the channel, with an unfollow button
    DIGEST = "digest"  # the day's posts (DigestItem rows); post_id is the newest of them


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    RETRY = "retry"
    DEAD = "dead"


class NotificationMode(enum.StrEnum):
    INSTANT = "instant"
    DIGEST = "digest"
    MUTED = "muted"


class AuthorRole(enum.StrEnum):
    AUTHOR = "author"
    ADMIN = "admin"


class Platform(enum.StrEnum):
    TELEGRAM = "telegram"
    MASTODON = "mastodon"


class PostTag(Base):
    __tablename__ = "post_tags"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    tag: Mapped[Tag] = relationship(lazy="joined")


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("source", "source_key"),
        Index(None, "status", "scheduled_at"),
        Index(None, "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(200))
    source_key: Mapped[str] = mapped_column(String(1000))
    url: Mapped[str | None] = mapped_column(String(2000))
    title: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str | None] = mapped_column(String(300))
    language: Mapped[str] = mapped_column(String(16), default="fr")
    summary: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    body_markdown: Mapped[str] = mapped_column(Text, default="")
    image_url: Mapped[str | None] = mapped_column(String(2000))
    image_alt: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[PostStatus] = mapped_column(_enum(PostStatus), default=PostStatus.DRAFT)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None]
    published_at_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    scheduled_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    author_user_id: Mapped[int | None] = mapped_column(BigInteger)  # who wrote it in the chat: told when it fails
    # Set in the transaction that created the readers' deliveries (bot/services/notify.py): a post
    # sent on a channel with this still NULL is picked up by the next fan-out sweep.
    fanned_out_at: Mapped[datetime | None] = mapped_column(index=True)

    post_tags: Mapped[list[PostTag]] = relationship(
        order_by=PostTag.position, cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def tags(self) -> list[Tag]:
        return [link.tag for link in self.post_tags]

    def __repr__(self) -> str:
        return f"Post(id={self.id!r}, source={self.source!r}, status={self.status!s}, title={self.title[:40]!r})"


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    display: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"Tag(key={self.key!r}, display={self.display!r})"


class Channel(Base):
    """A publishing target, synced from the configuration by name."""

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    platform: Mapped[Platform] = mapped_column(_enum(Platform))
    target: Mapped[str] = mapped_column(String(300))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"Channel(name={self.name!r}, platform={self.platform!s}, target={self.target!r})"


class Publication(Base):
    """One post on one channel: the outbox row, created before anything is sent."""

    __tablename__ = "publications"
    __table_args__ = (
        UniqueConstraint("post_id", "channel_id"),
        Index(None, "state", "next_attempt_at"),
        Index(None, "channel_id", "due_at"),
        Index(None, "channel_id", "state", "due_at"),  # the queue's last-slot probe (migration 0005_queue)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    state: Mapped[PublicationState] = mapped_column(_enum(PublicationState), default=PublicationState.PENDING)
    due_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None]
    remote_id: Mapped[str | None] = mapped_column(String(100))
    remote_url: Mapped[str | None] = mapped_column(String(2000))
    last_error: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    content_version: Mapped[int] = mapped_column(Integer, default=1)
    sent_version: Mapped[int | None] = mapped_column(Integer)
    needs_edit: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_delete: Mapped[bool] = mapped_column(Boolean, default=False)
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    post: Mapped[Post] = relationship(lazy="joined")
    channel: Mapped[Channel] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"Publication(id={self.id!r}, post_id={self.post_id!r}, channel_id={self.channel_id!r}, state={self.state!s})"


class Subscriber(Base):
    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    language: Mapped[str] = mapped_column(String(16), default="fr")
    notification_mode: Mapped[NotificationMode] = mapped_column(
        _enum(NotificationMode), default=NotificationMode.INSTANT
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # False: the reader blocked the bot
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    digest_hour: Mapped[int | None] = mapped_column(SmallInteger)  # 0-23 in settings.timezone (digest mode)
    digest_sent_on: Mapped[date | None] = mapped_column(Date)  # the local day of the last digest made
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Follow(Base):
    __tablename__ = "follows"

    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """One notification of one post to one subscriber: a row of the outbox, like a publication.

    Claimed, completed, failed and recovered by the same code (``bot.publish.outbox``). The
    unique (post, subscriber) pair means a fan-out can never notify one reader twice of a post.
    No idempotency key: Telegram's sendMessage has none, and the row itself is the guard.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("post_id", "subscriber_id"),
        Index(None, "state", "next_attempt_at"),
        # One digest per reader and local day; post deliveries have no day (NULLs never collide).
        Index("uq_deliveries_subscriber_id_digest_day", "subscriber_id", "digest_day", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    state: Mapped[DeliveryState] = mapped_column(_enum(DeliveryState), default=DeliveryState.PENDING)
    due_at: Mapped[datetime | None]  # when it may go (a digest waits); None with next_attempt_at None: not yet
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None]
    remote_id: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    kind: Mapped[DeliveryKind] = mapped_column(_enum(DeliveryKind), default=DeliveryKind.POST,
                                               server_default=DeliveryKind.POST.value)
    digest_day: Mapped[date | None] = mapped_column(Date)

    post: Mapped[Post] = relationship(lazy="joined")
    subscriber: Mapped[Subscriber] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"Delivery(id={self.id!r}, post_id={self.post_id!r}, subscriber_id={self.subscriber_id!r}, state={self.state!s})"


class DigestItem(Base):
    """A post listed in a digest delivery (the digest's ``post_id`` is only its newest)."""

    __tablename__ = "digest_items"

    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Author(Base):
    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    role: Mapped[AuthorRole] = mapped_column(_enum(AuthorRole), default=AuthorRole.AUTHOR)
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeedSource(Base):
    """A polled feed: its HTTP validators, its last-seen marker and its failure streak."""

    __tablename__ = "feed_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str] = mapped_column(String(2000))
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    last_seen_at: Mapped[datetime | None]
    last_polled_at: Mapped[datetime | None]
    next_poll_at: Mapped[datetime | None] = mapped_column(index=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    failing_since: Mapped[datetime | None]  # the streak's first failure; None after a success
    failure_notified_at: Mapped[datetime | None]  # admins told about this streak (bot.chat.notify)
    # sha256 of the last imported bytes: the same bytes again are a local "304".
    content_digest: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChatState(Base):
    """What the chat Application persists (PTB persistence, bot/chat/persistence.py), as JSON.

    ``kind`` is "conversation" (``name`` = the ConversationHandler's name, ``key`` = its key),
    "user" or "chat" (``key`` = the id). The database is the only copy: no pickle file.
    """

    __tablename__ = "chat_state"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    data: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
