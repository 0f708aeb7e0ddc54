"""`relais run`: the long-running process — Telegram updates, scheduler, outbox workers.

Built from an ``App`` (see ``bot.app``), so the CLI stays a few lines. Roles let a deployment
scale out: exactly one process may receive Telegram updates (Telegram answers 409 to a
second getUpdates), while workers can be many on PostgreSQL (claims use SKIP LOCKED).

Shutdown (SIGINT/SIGTERM): the scheduler stops waking jobs, the sweep in flight finishes
(each publication is recorded the moment its platform answers), then connections close.
Nothing is held in memory that the database does not also hold.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import os
import random
import signal
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.app import App, build_chat_application, make_render
from bot.errors import ConfigError, PublishError
from bot.format.model import TelegramRender
from bot.health import start_health
from bot.ingest import service as ingest
from bot.publish import queue
from bot.publish.classify import scrub
from bot.publish.mastodon import MediaFetcher, fetch_media
from bot.publish.outbox import PUBLICATIONS, RetryPolicy
from bot.publish.ratelimit import MastodonLimits, TelegramLimits
from bot.publish.targets import DeliveryTarget, MastodonTarget, Sent, Target, build_targets
from bot.publish.worker import IN_FLIGHT, Deliveries, RenderPublication, WorkerReport, run_once
from bot.schedule.scheduler import Every, JobSpec, build_scheduler, in_transaction, relais_jobs
from bot.services import notify
from bot.services.delivery_render import DeliveryRenderer
from bot.settings import FeedSettings, Settings
from bot.store.models import Post

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.publish.telegram import TelegramPublisher

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class Role(enum.StrEnum):
    ALL = "all"
    UPDATES = "updates"
    WORKER = "worker"


def use_uvloop() -> bool:
    """Run the event loop on uvloop when it is installed (``pip install 'relais[fast]'``): about
    10 % more publications per CPU second (bench/publish_rate.py --uvloop). True when in use."""
    try:
        import uvloop
    except ImportError:
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True


def utc_clock() -> datetime:
    return datetime.now(UTC)


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@asynccontextmanager
async def telegram_reachable(settings: Settings) -> AsyncIterator[None]:
    """Turn a failed first contact with the Bot API (getMe) into one clear line.

    At start-up there is nothing to retry into: say what is wrong and exit, and let the
    supervisor (systemd, cron) start again. Later failures are per publication and retried.
    """
    from telegram.error import InvalidToken, TelegramError

    base = settings.telegram.api_base_url
    try:
        yield
    except InvalidToken:
        raise ConfigError(f"telegram.token: rejected by the Bot API at {base} — check RELAIS_TELEGRAM__TOKEN") from None
    except TelegramError as exc:
        raise PublishError(f"Telegram Bot API at {base} is unavailable: {scrub(str(exc))}") from None


# Reconnecting to an unreachable Bot API: 5 s, 10 s, … up to 5 minutes between tries.
RECONNECT = RetryPolicy(base=timedelta(seconds=5), cap=timedelta(minutes=5), max_attempts=0)


class TelegramLink:
    """The Telegram publisher, reconnected with backoff while the Bot API is unreachable.

    A platform that is down holds back its own channels only (issue 11 item 2): the worker
    starts anyway, Mastodon goes on, and the outage is logged once, not every sweep. A token
    the Bot API rejects is still a configuration error, raised at once.
    """

    def __init__(self, publisher: TelegramPublisher, settings: Settings, channels: int) -> None:
        self.publisher, self.settings, self.channels = publisher, settings, channels
        self.up = False
        self.failures = 0
        self.next_try: datetime | None = None

    async def connect(self, now: datetime) -> bool:
        """True when the Bot API answered (now or before); tries again only once the backoff is over."""
        if self.up:
            return True
        if self.next_try is not None and now < self.next_try:
            return False
        try:
            async with telegram_reachable(self.settings):
                await self.publisher.start()
        except ConfigError:
            raise
        except PublishError as exc:
            self.failures += 1
            self.next_try = now + RECONNECT.delay(self.failures, random.Random())
            if self.failures == 1:
                log.warning("%s: its %d channel(s) and reader notifications wait; retrying with backoff",
                            exc, self.channels)
            else:
                log.debug("Telegram still unreachable (try %d); next try at %s", self.failures, self.next_try)
            return False
        if self.failures:
            log.warning("Telegram Bot API reachable again after %d failed tries; its channels resume", self.failures)
        self.up, self.failures, self.next_try = True, 0, None
        return True

    # TelegramPublisherLike: the targets call these only while the link is up
    async def send(self, chat: str, render: TelegramRender) -> Sent:
        return await self.publisher.send(chat, render)

    async def edit(self, chat: str, remote_id: str, render: TelegramRender) -> None:
        await self.publisher.edit(chat, remote_id, render)

    async def delete(self, chat: str, remote_id: str, sent_at: datetime, now: datetime) -> bool:
        return await self.publisher.delete(chat, remote_id, sent_at, now)


@dataclass
class Publishing:
    """The publishers for every enabled channel and the sweep that drives them."""

    app: App
    targets: dict[str, Target]
    worker_id: str
    clock: Clock = utc_clock
    batch: int = IN_FLIGHT  # sends in flight per pass; claims go on while rows are due
    stale_after: timedelta = timedelta(minutes=10)  # claims older than this are a dead worker's
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    telegram: TelegramLink | None = None
    deliveries: Deliveries | None = None  # reader notifications, when a Telegram publisher exists
    notify_dead: Callable[[int], Awaitable[object]] | None = None  # tells the author (bot.chat.notify)
    render: RenderPublication = field(init=False)

    def __post_init__(self) -> None:
        self.render = make_render(self.app.settings, self.targets)  # profiles built once, not per pass

    @property
    def held_back(self) -> tuple[str, ...]:
        """Channels whose platform is unreachable: they wait, the others publish."""
        if self.telegram is None or self.telegram.up:
            return ()
        return tuple(name for name, target in self.targets.items() if not isinstance(target, MastodonTarget))

    async def _reachable(self, now: datetime) -> tuple[dict[str, Target], Deliveries | None]:
        if self.telegram is not None and not await self.telegram.connect(now):
            held = set(self.held_back)
            return {name: target for name, target in self.targets.items() if name not in held}, None
        return self.targets, self.deliveries

    async def sweep(self, now: datetime | None = None) -> WorkerReport:
        """Publish what is due: batch after batch while batches come back full.

        One batch per wake would cap a process at ``batch`` publications per
        ``schedule.sweep_seconds`` (50 per 30 s by default, under 2 per second, where Telegram
        allows 30): a backlog must be paced by the rate limiters, not by the sweep interval
        (measured by bench/publish_limits.py and bench/publish_rate.py).
        """
        # One sweep at a time per process: the interval sweep and the slot wake
        # may fire together; the lock also lets shutdown wait for the one in flight.
        async with self.lock:
            passes: list[WorkerReport] = []
            when = now or self.clock()
            targets, deliveries = await self._reachable(self.clock())
            while True:
                report = await run_once(
                    self.app.sessions, when, worker_id=self.worker_id, publishers=targets,
                    render=self.render, limit=self.batch, stale_after=self.stale_after, deliveries=deliveries,
                    metrics=self.app.metrics,
                )
                passes.append(report)
                for error in report.errors:
                    if self.notify_dead and not error.retrying and error.kind == PUBLICATIONS.name:
                        await self.notify_dead(error.publication_id)
                if report.claimed < self.batch:
                    return combine(passes)
                when = max(when, self.clock())  # a long backlog: record sent_at as it goes

    async def drain(self, now: datetime | None = None, max_passes: int = 1000) -> WorkerReport:
        """Sweep until a sweep finds nothing to do (for `run --once`)."""
        sweeps: list[WorkerReport] = []
        for _ in range(max_passes):
            report = await self.sweep(now)
            sweeps.append(report)
            if not any(getattr(report, name) for name in ("sent", "delivered", "retried", "dead", "edited", "deleted")):
                break
        return combine(sweeps)


def combine(reports: list[WorkerReport]) -> WorkerReport:
    """The sum of several worker passes (errors in order)."""
    counted = [f.name for f in fields(WorkerReport) if f.name != "errors"]
    total = {name: sum(getattr(r, name) for r in reports) for name in counted}
    return WorkerReport(**total, errors=tuple(e for r in reports for e in r.errors))


async def open_publishing(stack: AsyncExitStack, app: App, *, worker_id: str, clock: Clock = utc_clock,
                          media_fetcher: MediaFetcher = fetch_media) -> Publishing:
    """Start the Telegram publisher (when a Telegram channel exists) and build every target.

    An unreachable Bot API does not stop the start: Telegram's channels wait (see ``TelegramLink``).
    """
    settings = app.settings
    link = None
    limits = TelegramLimits(allow_paid_broadcast=settings.telegram.allow_paid_broadcast) \
        if settings.telegram.rate_limits else None
    telegram_channels = sum(1 for c in settings.channels if c.enabled and c.platform == "telegram")
    if telegram_channels:
        from bot.publish.telegram import TelegramPublisher

        settings.require_telegram_token()
        publisher = TelegramPublisher.from_settings(settings)
        stack.push_async_callback(publisher.stop)
        link = TelegramLink(publisher, settings, telegram_channels)
        await link.connect(clock())
    targets = build_targets(settings, link, telegram_limits=limits, mastodon_limits=MastodonLimits(),
                            media_fetcher=media_fetcher)
    deliveries = Deliveries(DeliveryTarget(link, limits), DeliveryRenderer(app), notify.blocked_hook(app)) \
        if link is not None else None
    tell_author = None
    if link is not None:
        from bot.chat.notify import notify_dead

        tell_author = partial(notify_dead, app, link.publisher.bot)
    return Publishing(app=app, targets=targets, worker_id=worker_id, clock=clock,
                      stale_after=timedelta(seconds=settings.schedule.claim_timeout_seconds),
                      telegram=link, deliveries=deliveries, notify_dead=tell_author)


async def poll_feeds(app: App, feeds: list[FeedSettings], now: datetime) -> list[ingest.ImportReport]:
    """Poll the feeds whose next poll time has come (a failing feed's backoff is honoured)."""

    async def enqueue(session: AsyncSession, post: Post, when: datetime) -> None:
        await app.enqueue(session, post, when)  # ingest wants no result back

    reports = await ingest.poll_due(app, feeds, now=now, enqueue=enqueue, default_language=app.settings.default_language)
    for failed in (r for r in reports if r.error):
        app.metrics.count_feed_error(failed.source)
    return reports


async def poll_feed(app: App, feed: FeedSettings, now: datetime) -> list[ingest.ImportReport]:
    return await poll_feeds(app, [feed], now)


@dataclass(frozen=True)
class OnceReport:
    feeds: tuple[ingest.ImportReport, ...]
    moved: int
    late: int
    worker: WorkerReport
    held_back: tuple[str, ...] = ()  # channels not served: their platform was unreachable

    @property
    def partial(self) -> bool:
        """Something was given up or held back: `run --once` exits with PARTIAL_FAILURE."""
        return bool(self.worker.dead or self.held_back)


async def run_once_now(app: App, *, worker_id: str | None = None, clock: Clock = utc_clock,
                       media_fetcher: MediaFetcher = fetch_media) -> OnceReport:
    """`relais run --once`: poll every feed, apply the catch-up policy, publish what is due, notify
    the readers of what went out (the fan-out and the digests due, as the `notify` job does), exit."""
    now = clock()
    reports = await poll_feeds(app, list(app.settings.feeds), now)
    async with app.sessions.begin() as session:
        caught = await queue.catch_up(session, now, app.settings)
    async with AsyncExitStack() as stack:
        publishing = await open_publishing(stack, app, worker_id=worker_id or default_worker_id(), clock=clock,
                                           media_fetcher=media_fetcher)
        worker = await publishing.drain()
        if publishing.deliveries is not None:  # readers are notified through Telegram only
            made = await notify.notify_sweep(app)(clock())
            if made.fanned_out or made.digests:
                worker = combine([worker, await publishing.drain()])
    return OnceReport(tuple(reports), len(caught.moved), len(caught.late), worker, publishing.held_back)


async def _start_updates(stack: AsyncExitStack, app: App) -> None:
    """Receive Telegram updates (long polling, or a webhook with secret-token checks)."""
    settings = app.settings
    application = build_chat_application(app)
    async with telegram_reachable(settings):
        await application.initialize()
    # run_polling/run_webhook would call these hooks; this process drives the lifecycle itself.
    if application.post_shutdown is not None:
        stack.push_async_callback(application.post_shutdown, application)
    stack.push_async_callback(application.shutdown)
    if application.post_init is not None:
        await application.post_init(application)
    await application.start()
    stack.push_async_callback(application.stop)
    updater = application.updater
    assert updater is not None
    if settings.telegram.mode == "webhook":
        secret = settings.telegram.webhook_secret
        if not settings.telegram.webhook_url:
            raise ConfigError("telegram.webhook_url: required when telegram.mode = \"webhook\"")
        await updater.start_webhook(
            listen=settings.telegram.webhook_listen, port=settings.telegram.webhook_port,
            url_path=urlsplit(settings.telegram.webhook_url).path.lstrip("/"),
            webhook_url=settings.telegram.webhook_url,
            secret_token=secret.get_secret_value() if secret else None,
        )
    else:
        await updater.start_polling(drop_pending_updates=False)
    stack.push_async_callback(updater.stop)
    log.info("receiving Telegram updates by %s", settings.telegram.mode)


async def run_forever(app: App, *, role: Role, stop: asyncio.Event, worker_id: str | None = None,
                      clock: Clock = utc_clock, media_fetcher: MediaFetcher = fetch_media) -> None:
    """Run until ``stop`` is set; release everything in order."""
    settings = app.settings
    async with AsyncExitStack() as stack:
        await start_health(stack, app)  # first in, last out: answers until everything else stopped
        if role in (Role.ALL, Role.UPDATES):
            settings.require_telegram_token()
            await _start_updates(stack, app)
        if role in (Role.ALL, Role.WORKER):
            publishing = await open_publishing(stack, app, worker_id=worker_id or default_worker_id(), clock=clock,
                                               media_fetcher=media_fetcher)
            jobs = relais_jobs(
                settings, sweep=publishing.sweep, poll=partial(poll_feed, app),
                catch_up=in_transaction(app.sessions, partial(queue.catch_up, settings=settings)),
                next_due=in_transaction(app.sessions, queue.next_due_at),
            )
            jobs.append(JobSpec("notify", Every(settings.schedule.sweep_seconds), notify.notify_sweep(app)))
            if publishing.telegram is not None:  # admins hear of feeds failing for a day; a quarter-hour is soon enough
                from bot.chat.notify import notify_failing_feeds

                jobs.append(JobSpec("feed-alerts", Every(15 * 60),
                                    partial(notify_failing_feeds, app, publishing.telegram.publisher.bot)))
            scheduler = build_scheduler(jobs, clock=clock, timezone=settings.tz)
            scheduler.start()

            async def stop_scheduler() -> None:
                scheduler.shutdown(wait=False)
                async with publishing.lock:  # the sweep in flight records its outcomes first
                    pass

            stack.push_async_callback(stop_scheduler)
            log.info("worker %s publishing to %d channel(s)", publishing.worker_id, len(publishing.targets))
        await stop.wait()
        log.info("stopping: finishing work in flight")
    log.info("stopped")


def install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def serve(app: App, *, role: Role, worker_id: str | None = None) -> None:
    stop = asyncio.Event()
    install_signal_handlers(stop)
    await run_forever(app, role=role, stop=stop, worker_id=worker_id)


__all__ = ["OnceReport", "Publishing", "Role", "make_render", "run_forever", "run_once_now", "serve"]

