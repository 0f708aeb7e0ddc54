"""`/healthz`, `/readyz` and `/metrics` on a loopback port, served inside `relais run`'s event loop.

- ``/healthz`` (liveness): answers 200 as long as the event loop runs handlers; a process
  whose loop is stuck does not answer, and the supervisor (Docker's HEALTHCHECK) restarts it.
- ``/readyz`` (readiness): 200 when the database answers ``SELECT 1`` within two seconds, with
  each platform's last success and failure; 503 with a JSON ``reason`` otherwise. A failing
  platform does not make the process unready: restarting it would not help Telegram.
- ``/metrics``: Prometheus text format (``bot.metrics``), the database gauges read at scrape time.

The server is aiohttp's (already a dependency), bound to ``[health] listen``:``port``,
127.0.0.1:8081 by default: nothing here is for the outside world.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from typing import Protocol

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import ConfigError, RelaisError
from bot.metrics import CONTENT_TYPE, Metrics
from bot.services import status as status_service
from bot.services.context import Services

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
DATABASE_TIMEOUT = 2.0  # seconds for SELECT 1: below Docker's 5 s health-check timeout


class Observed(Services, Protocol):
    """What the endpoints read: the app's engine (SELECT 1), sessions (the snapshot) and metrics."""

    @property
    def engine(self) -> AsyncEngine: ...

    @property
    def metrics(self) -> Metrics: ...


def _now() -> datetime:
    return datetime.now(UTC)


def health_app(app: Observed, *, clock: Clock = _now, database_timeout: float = DATABASE_TIMEOUT) -> web.Application:
    """The aiohttp application answering the three endpoints for ``app``."""
    metrics = app.metrics

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"alive": True})

    async def readyz(_request: web.Request) -> web.Response:
        reason = await status_service.database_reachable(app.engine, database_timeout)
        if reason is None:
            try:
                snapshot = await status_service.status(app, clock())
            except RelaisError as exc:  # the database went away between the two queries
                reason = str(exc)
        if reason is not None:
            return web.json_response({"ready": False, "reason": reason}, status=503)
        platforms = snapshot.as_dict()["platforms"]
        return web.json_response({"ready": True, "database": "ok", "platforms": platforms})

    async def metrics_endpoint(_request: web.Request) -> web.Response:
        up = await status_service.database_reachable(app.engine, database_timeout) is None
        if up:
            metrics.set_status(await status_service.status(app, clock()))
        metrics.database_up.set(1 if up else 0)  # gauges keep their last values while it is down
        return web.Response(body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE})

    web_app = web.Application()
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/readyz", readyz)
    web_app.router.add_get("/metrics", metrics_endpoint)
    return web_app


@asynccontextmanager
async def serve_health(app: Observed, *, listen: str, port: int, clock: Clock = _now,
                       database_timeout: float = DATABASE_TIMEOUT) -> AsyncIterator[str]:
    """Serve the endpoints until the block exits; yields the base URL (port 0: any free port)."""
    runner = web.AppRunner(health_app(app, clock=clock, database_timeout=database_timeout), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, listen, port)
        try:
            await site.start()
        except OSError as exc:
            raise ConfigError(
                f"health: cannot listen on {listen}:{port} ({exc.strerror or exc}); give each process on this host "
                "its own port (RELAIS_HEALTH__PORT), or set [health] enabled = false"
            ) from None
        host, bound = runner.addresses[0][:2]
        url = f"http://{host}:{bound}"
        log.info("health and metrics on %s (/healthz, /readyz, /metrics)", url)
        yield url
    finally:
        await runner.cleanup()


async def start_health(stack: AsyncExitStack, app: Observed) -> str | None:
    """`relais run`'s one call: serve the endpoints per ``[health]`` until ``stack`` closes.

    Returns the base URL, or None when ``[health] enabled = false`` or the port is taken.
    A taken port is logged as an error and Relais publishes on without the endpoints: they
    watch the work, they must never stop it (the image's HEALTHCHECK then reports unhealthy).
    Stopping is the stack's job: the listener closes last, after the workers have stopped.
    """
    health = app.settings.health
    if not health.enabled:
        return None
    try:
        return await stack.enter_async_context(serve_health(app, listen=health.listen, port=health.port))
    except ConfigError as exc:
        log.error("%s; running without them", exc)
        return None
