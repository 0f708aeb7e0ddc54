"""`relais demo`: the whole product on loopback, with no account anywhere.

It starts the Telegram sandbox (``bot.sandbox``) and a ``mastodon_mock`` server, configures
one demo Telegram channel and one demo Mastodon account in memory (nothing is written to a
file; the tokens are throwaway values of these two local servers), upgrades the database,
imports the bundled sample feed (``samples/esante.xml``) and publishes through the real path:
the outbox worker of ``relais run --once`` (``bot.runtime.run_once_now``). Then it reads back
what each platform received.

Re-running on the same database publishes nothing twice: the import is idempotent (same
bytes, same source name) and every publication is already ``sent``; the rows say so.

Needs the ``demo`` extra (aiohttp, tdjson, mastodon_mock); ``bot.cli.demo`` checks first. The
platforms are the demo's own; everything else is wired by the composition root (``bot.app``).
"""

from __future__ import annotations

import asyncio
import mimetypes
import secrets
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from sqlalchemy import select

from bot import runtime
from bot.app import App, open_app, upgrade_database
from bot.errors import RelaisError
from bot.ingest.service import ImportReport, import_source
from bot.publish.mastodon import MediaFile, fetch_media, status_text
from bot.publish.worker import WorkerReport
from bot.sandbox.server import TelegramSandbox
from bot.settings import Settings, load_settings
from bot.store import db
from bot.store.models import Channel, Post, Publication, PublicationState

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///relais-demo.db"
SAMPLE_SOURCE = "relais-demo-sample"  # posts.source: the same on every install, so re-runs find the posts
TELEGRAM_CHAT = "@relais_demo"
TELEGRAM_CHANNEL = "demo-telegram"
MASTODON_CHANNEL = "demo-mastodon"
MASTODON_ACCOUNT = "alice"  # seeded by mastodon_mock, with a token
WORKER_ID = "relais-demo"
# The sample's articles are dated in the past; a normal first import archives entries older
# than a week, the demo wants them all.
ALL_OF_THEM_DAYS = 100 * 365
# Where the sample feed says its images live; the demo serves the bundled copies instead,
# since a fresh machine may have no internet (the blog itself is fictional).
SAMPLE_IMAGES = "https://esante.example/wp-content/uploads/2026/11/"
CONTENT_WARNINGS = {"suicide": ["suicide", "prévention du suicide", "idées suicidaires"]}

Step = Callable[[str], None]


def sample_feed() -> resources.abc.Traversable:
    return resources.files("bot.samples").joinpath("esante.xml")


async def bundled_media(url: str) -> MediaFile | None:
    """The sample's images from the package; any other URL is downloaded as usual."""
    if not url.startswith(SAMPLE_IMAGES):
        return await fetch_media(url)
    image = resources.files("bot.samples").joinpath("images", url.removeprefix(SAMPLE_IMAGES))
    if not image.is_file():
        return None
    return MediaFile(image.read_bytes(), mimetypes.guess_type(image.name)[0] or "application/octet-stream")


# --- what the platforms received (read back from them, not from our database) -----------------

@dataclass(frozen=True, slots=True)
class TelegramReceived:
    message_id: int
    text: str  # after entity parsing, as the server stores it (caption of a photo)
    entities: tuple[dict[str, Any], ...]
    photo: str | None
    link_preview_url: str | None
    buttons: tuple[tuple[str, str], ...]  # (label, url)


@dataclass(frozen=True, slots=True)
class MastodonReceived:
    status_id: str
    url: str | None
    text: str
    spoiler_text: str
    language: str | None
    visibility: str
    media: tuple[tuple[str, str | None], ...]  # (url, description)


@dataclass(frozen=True, slots=True)
class DemoRow:
    """One sample article on one demo channel, as the outbox recorded it."""

    post_id: int
    title: str
    channel: str
    platform: str
    state: str
    published_now: bool  # sent by this run, not an earlier one
    remote_id: str | None
    error: str | None


@dataclass(frozen=True, slots=True)
class DemoResult:
    database: str  # password hidden
    telegram_chat: str
    imported: ImportReport
    worker: WorkerReport
    telegram: tuple[TelegramReceived, ...]
    mastodon: tuple[MastodonReceived, ...]
    rows: tuple[DemoRow, ...]

    @property
    def published_now(self) -> int:
        return sum(row.published_now for row in self.rows)

    @property
    def already_published(self) -> int:
        return sum(row.state == PublicationState.SENT and not row.published_now for row in self.rows)

    @property
    def failed(self) -> tuple[DemoRow, ...]:
        return tuple(row for row in self.rows if row.state != PublicationState.SENT)


def _telegram_received(sandbox: TelegramSandbox) -> tuple[TelegramReceived, ...]:
    received = []
    for message in sandbox.messages(TELEGRAM_CHAT, include_deleted=False):
        is_photo = message.photo is not None
        preview = message.link_preview_options or {}
        received.append(TelegramReceived(
            message_id=message.message_id, text=message.body or "",
            entities=tuple(message.caption_entities if is_photo else message.entities),
            photo=message.photo, link_preview_url=preview.get("url"), buttons=tuple(message.url_buttons()),
        ))
    return tuple(received)


def _mastodon_received(client: Any) -> tuple[MastodonReceived, ...]:
    statuses = client.account_statuses(client.me()["id"], limit=40)
    return tuple(
        MastodonReceived(
            status_id=str(s["id"]), url=s.get("url"), text=status_text(s.get("content") or ""),
            spoiler_text=s.get("spoiler_text") or "", language=s.get("language"),
            visibility=str(s.get("visibility")),
            media=tuple((str(m.get("url")), m.get("description")) for m in s.get("media_attachments") or []),
        )
        for s in reversed(statuses)  # oldest first, like the Telegram channel
    )


# --- the two platforms on loopback ----------------------------------------------------------

@dataclass
class Platforms:
    sandbox: TelegramSandbox
    mastodon: Any  # mastodon_mock.testing.MockServer
    mastodon_token: str
    telegram_chat: str = TELEGRAM_CHAT

    def mastodon_client(self) -> Any:
        return self.mastodon.client(token=self.mastodon_token)


def _throwaway_bot_token() -> str:
    """Shaped like a Bot API token (``<bot id>:<secret>``); valid for this sandbox only."""
    return f"{secrets.randbelow(9 * 10**9) + 10**9}:{secrets.token_urlsafe(26)}"


@asynccontextmanager
async def running_platforms() -> AsyncIterator[Platforms]:
    from mastodon_mock.config import DatabaseConfig, MastodonMockConfig
    from mastodon_mock.testing import DEFAULT_TEST_SEED, MockServer

    token = next(a.access_token for a in DEFAULT_TEST_SEED.accounts if a.username == MASTODON_ACCOUNT)
    with tempfile.TemporaryDirectory(prefix="relais-demo-media-") as media:
        config = MastodonMockConfig(database=DatabaseConfig(path=":memory:"), seed=DEFAULT_TEST_SEED,
                                    media_storage_path=media)
        mastodon = MockServer(config=config)
        try:
            await asyncio.to_thread(mastodon.start)
        except (TimeoutError, RuntimeError, OSError) as exc:
            raise RelaisError(f"could not start the Mastodon mock server on loopback: {exc}") from None
        try:
            sandbox = TelegramSandbox(_throwaway_bot_token(), bot_username="relais_demo_bot")
            try:
                await sandbox.start()
            except OSError as exc:
                raise RelaisError(f"could not start the Telegram sandbox on loopback: {exc}") from None
            try:
                sandbox.add_channel(TELEGRAM_CHAT, "Relais · démo")
                yield Platforms(sandbox, mastodon, token or "")
            finally:
                await sandbox.stop()
        finally:
            await asyncio.to_thread(mastodon.stop)


def demo_settings(database_url: str, platforms: Platforms, *, log_level: str = "WARNING",
                  log_format: str = "text") -> Settings:
    """The demo's configuration, in memory only: one Telegram channel, one Mastodon account."""
    return load_settings(
        None, env={}, database_url=database_url, log_level=log_level, log_format=log_format,
        telegram={"token": platforms.sandbox.token, "api_base_url": platforms.sandbox.base_url,
                  "rate_limits": False},  # the sandbox enforces no limits here
        profiles={
            "demo-telegram": {"hashtag_style": "inline", "max_length": 600, "prefer_image": True},
            "demo-mastodon": {"hashtag_style": "inline", "content_warnings": CONTENT_WARNINGS},
        },
        channels=[
            {"name": TELEGRAM_CHANNEL, "platform": "telegram", "chat": TELEGRAM_CHAT, "profile": "demo-telegram"},
            {"name": MASTODON_CHANNEL, "platform": "mastodon", "instance_url": platforms.mastodon.base_url,
             "token": platforms.mastodon_token, "profile": "demo-mastodon",
             "rate_limits": False},  # the mock has no limits; a real instance keeps the pacing
        ],
    )


# --- the run -------------------------------------------------------------------------------

async def import_sample(app: App, now: datetime) -> ImportReport:
    with resources.as_file(sample_feed()) as path:
        report = await import_source(app, str(path), now=now, policy="queue", name=SAMPLE_SOURCE,
                                     enqueue=app.enqueue, max_age_days=ALL_OF_THEM_DAYS,
                                     default_language="fr")
    if report.error and not report.entries and not report.not_modified:
        raise RelaisError(f"the bundled sample feed could not be imported: {report.error}")
    return report


async def outbox_rows(app: App, started: datetime) -> tuple[DemoRow, ...]:
    query = (
        select(Publication, Post, Channel)
        .join(Post, Post.id == Publication.post_id)
        .join(Channel, Channel.id == Publication.channel_id)
        .where(Post.source == SAMPLE_SOURCE, Channel.name.in_([TELEGRAM_CHANNEL, MASTODON_CHANNEL]))
        .order_by(Publication.due_at, Publication.id)
    )
    async with app.sessions() as session:
        found = (await session.execute(query)).all()
    return tuple(
        DemoRow(post_id=post.id, title=post.title, channel=channel.name, platform=str(channel.platform),
                state=str(publication.state),
                published_now=publication.state == PublicationState.SENT and publication.sent_at is not None
                and publication.sent_at >= started,
                remote_id=publication.remote_id, error=publication.last_error)
        for publication, post, channel in found
    )


async def run_demo(database_url: str = DEFAULT_DATABASE_URL, *, step: Step = lambda _: None,
                   log_level: str = "WARNING", log_format: str = "text",
                   configure: Callable[[Settings], None] = lambda _: None,
                   then: Callable[[DemoResult, Platforms, App], Awaitable[None]] | None = None) -> DemoResult:
    """Run the demo once; ``then`` runs while the platforms are still up (``--keep-running``).

    ``configure`` receives the settings before anything is sent (the CLI sets up logging
    with their secrets masked there).
    """
    database_url = load_settings(None, env={}, database_url=database_url).database_url  # checked, normalized
    step(f"Upgrading the database {db.safe_url(database_url)}")
    await upgrade_database(database_url)
    step("Starting the Telegram sandbox and a Mastodon server on loopback")
    async with running_platforms() as platforms:
        settings = demo_settings(database_url, platforms, log_level=log_level, log_format=log_format)
        configure(settings)
        async with open_app(settings) as app:
            step("Importing the sample feed")
            started = datetime.now(UTC)
            imported = await import_sample(app, started)
            step("Publishing through the outbox worker (relais run --once)")
            report = await runtime.run_once_now(app, worker_id=WORKER_ID, media_fetcher=bundled_media)
            step("Reading back what each platform received")
            mastodon = await asyncio.to_thread(_mastodon_received, platforms.mastodon_client())
            result = DemoResult(
                database=db.safe_url(database_url), telegram_chat=TELEGRAM_CHAT, imported=imported, worker=report.worker,
                telegram=_telegram_received(platforms.sandbox), mastodon=mastodon,
                rows=await outbox_rows(app, started),
            )
            if then is not None:
                await then(result, platforms, app)
    return result


__all__ = ["DEFAULT_DATABASE_URL", "DemoResult", "DemoRow", "MastodonReceived", "Platforms", "TelegramReceived",
           "bundled_media", "demo_settings", "run_demo", "running_platforms"]
