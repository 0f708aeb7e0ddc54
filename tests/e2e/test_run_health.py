"""`relais run` serves /healthz, /readyz and /metrics, and the figures move as it publishes.

Scraped over HTTP from a running worker (in-process, as tests/e2e/test_run.py) and from a real
`relais run` process, against the Telegram sandbox and mastodon_mock.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot import runtime
from bot.app import App, open_app
from bot.settings import Settings
from tests.conftest import CHANNEL
from tests.e2e.conftest import statuses, terminate
from tests.e2e.test_run import queue_now

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(exposition: str) -> Samples:
    """Every sample of a Prometheus text exposition: (name, sorted labels) → value."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(exposition) for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


async def healthz(client: httpx.AsyncClient, process: asyncio.subprocess.Process | None = None) -> httpx.Response:
    """GET /healthz once the listener is up (a bound for a stuck start, not a timing: a loaded machine waits)."""
    for _ in range(2400):
        try:
            return await client.get("/healthz")
        except httpx.ConnectError:
            assert process is None or process.returncode is None, "relais run exited before serving"
            await asyncio.sleep(0.05)
    raise AssertionError("/healthz never answered")


def with_health(settings: Settings, port: int) -> Settings:
    return settings.model_copy(update={"health": settings.health.model_copy(update={"port": port})})


@asynccontextmanager
async def running_worker(app: App) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.run_forever(app, role=runtime.Role.WORKER, stop=stop, worker_id="w-health"))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


async def test_metrics_move_as_publications_are_sent_and_rate_limited(e2e_settings, engine, sandbox, mastodon,
                                                                      unused_tcp_port) -> None:
    from tests.integration.publish.publish_support import MastodonServer

    settings = with_health(e2e_settings, unused_tcp_port)
    base = f"http://127.0.0.1:{unused_tcp_port}"
    # Mastodon's first POST /statuses is a 429; its rate-limit window resets in an hour.
    MastodonServer(mastodon).fault(path="/api/v1/statuses", methods=["POST"], type="ratelimit",
                                   headers={"X-RateLimit-Reset": str(int(time.time()) + 3600)})
    async with open_app(settings) as app, httpx.AsyncClient(base_url=base) as client:
        async with running_worker(app):
            assert (await healthz(client)).json() == {"alive": True}
            before = await scrape(client)
            assert value(before, "relais_database_up") == 1
            assert value(before, "relais_publications", channel="telegram", state="sent") == 0

            await queue_now(app, [31])
            for _ in range(2400):  # until the worker has recorded both outcomes (the gauges read the database)
                after = await scrape(client)
                if (value(after, "relais_publications", channel="telegram", state="sent"),
                        value(after, "relais_publications", channel="mastodon", state="retry")) == (1, 1):
                    break
                await asyncio.sleep(0.05)
            assert len(sandbox.messages(CHANNEL)) == 1 and statuses(mastodon) == []
            ready = (await client.get("/readyz")).json()
        assert (await _closed(base)), "the endpoints stop with the process"

    assert value(after, "relais_publications", channel="telegram", state="sent") == 1
    assert value(after, "relais_publications", channel="telegram", state="pending") == 0
    assert value(after, "relais_queue_depth", queue="telegram") == 0
    assert value(after, "relais_queue_depth", queue="mastodon") == 1  # waits for the instance's reset
    assert value(after, "relais_rate_limited_total", platform="mastodon") == 1
    assert value(after, "relais_retries_total", kind="publication") == 1
    assert value(after, "relais_send_seconds_count", platform="telegram", channel="telegram", outcome="sent") == 1
    assert value(after, "relais_send_seconds_count", platform="mastodon", channel="mastodon", outcome="retry") == 1
    assert value(after, "relais_send_seconds_count", platform="mastodon", channel="mastodon", outcome="sent") == 0
    assert value(after, "relais_last_success_timestamp_seconds", platform="telegram") > 0
    assert ready["ready"] is True and ready["database"] == "ok"
    assert ready["platforms"]["telegram"]["last_success"] and not ready["platforms"]["telegram"]["last_failure"]
    assert ready["platforms"]["mastodon"]["last_failure"] and not ready["platforms"]["mastodon"]["last_success"]


async def _closed(base: str) -> bool:
    try:
        async with httpx.AsyncClient() as client:
            await client.get(f"{base}/healthz", timeout=2)
    except httpx.TransportError:
        return True
    return False


async def test_readyz_and_metrics_while_the_queue_waits(e2e_settings, engine, sandbox, mastodon, unused_tcp_port) -> None:
    """Two posts queued, the worker not started: ready, queue depth 2 per channel, nothing sent."""
    from bot.health import serve_health

    async with open_app(e2e_settings) as app:
        await queue_now(app, [41, 42])
        async with serve_health(app, listen="127.0.0.1", port=0) as base, httpx.AsyncClient(base_url=base) as client:
            samples = await scrape(client)
            ready = await client.get("/readyz")
    assert ready.status_code == 200
    never = {"last_success": None, "last_failure": None}
    assert ready.json()["platforms"] == {"telegram": never, "mastodon": never}
    assert value(samples, "relais_queue_depth", queue="telegram") == 2
    assert value(samples, "relais_publications", channel="mastodon", state="pending") == 2
    assert value(samples, "relais_oldest_due_seconds") >= 0


async def test_a_real_relais_run_process_answers_the_health_checks(e2e_config, e2e_settings, engine, database_url,
                                                                   sandbox, mastodon, unused_tcp_port) -> None:
    config, secrets = e2e_config
    async with open_app(e2e_settings) as app:
        await queue_now(app, [51])
    env = {**os.environ, **secrets, "RELAIS_HEALTH__PORT": str(unused_tcp_port)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), "--database", database_url, "run", "--role", "worker",
        env=env, stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{unused_tcp_port}") as client:
            assert (await healthz(client, process)).status_code == 200  # what the Docker image's HEALTHCHECK asks
            assert (await client.get("/readyz")).status_code == 200
            for _ in range(2400):
                samples = await scrape(client)
                if value(samples, "relais_publications", channel="mastodon", state="sent") == 1:
                    break
                await asyncio.sleep(0.05)
    finally:
        stderr_text = await terminate(process)
    assert process.returncode == 0, stderr_text
    assert value(samples, "relais_publications", channel="telegram", state="sent") == 1
    assert value(samples, "relais_send_seconds_count", platform="telegram", channel="telegram", outcome="sent") == 1
    assert f"127.0.0.1:{unused_tcp_port}" in stderr_text  # where it listens is logged
