"""Crash test, Mastodon side: SIGKILL the publishing process at random moments, restart, repeat.

50 posts go to one Mastodon account (mastodon_mock on loopback, the real Mastodon.py); a
child process runs the worker until the queue is empty; the parent kills it with SIGKILL
at a random moment, KILLS times, then lets a last child finish. Every post must end up on
Mastodon exactly once (the Idempotency-Key covers the send in flight at each kill) and
every publication ``sent``. The Telegram half joins when the Bot API sandbox is merged
(at most one duplicate per kill is allowed there: Telegram has no idempotency key).

    PYTHONPATH=. /work/main/.venv/bin/python bench/crash_publish.py [KILLS] [POSTS]
"""

from __future__ import annotations

import asyncio
import collections
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import httpx
from mastodon_mock.testing import MockServer
from sqlalchemy import func, select

from bot.publish.mastodon import MastodonPublisher
from bot.publish.ratelimit import Rate
from bot.publish.targets import MastodonTarget
from bot.publish.worker import run_once
from bot.store import db
from bot.store.models import Channel, Platform, Post, Publication, PublicationState


def render(publication: Publication) -> SimpleNamespace:
    """Stands in for the formatter: the duck-typed MastodonRender the publisher reads."""
    return SimpleNamespace(status=f"{publication.post.title} {publication.post.url}", spoiler_text="",
                           language="fr", visibility="public", media_url=None, media_alt=None)


async def child(url: str, base_url: str) -> None:
    engine = db.create_engine(url)
    sessions = db.session_factory(engine)
    # Throttled to 2 requests/s so that every kill lands while the queue is still being worked.
    target = MastodonTarget(MastodonPublisher(api_base_url=base_url, access_token="alice_token",
                                              limiter=Rate(2, 1).limiter()))
    worker = f"pid-{os.getpid()}"
    while True:
        now = datetime.now(UTC)
        # A killed predecessor's claims are old after a second: no other worker runs meanwhile.
        await run_once(sessions, now, worker_id=worker, publishers={"masto": target}, render=render,
                       limit=5, stale_after=timedelta(seconds=1))
        async with sessions() as session:
            left = await session.scalar(select(func.count()).select_from(Publication)
                                        .where(Publication.state != PublicationState.SENT))
        if not left:
            break
        await asyncio.sleep(0.05)
    await engine.dispose()


async def prepare(url: str, posts: int) -> None:
    engine = db.create_engine(url)
    await db.upgrade(engine)
    sessions = db.session_factory(engine)
    now = datetime.now(UTC) - timedelta(seconds=1)
    async with sessions.begin() as session:
        channel = Channel(name="masto", platform=Platform.MASTODON, target="mock")
        session.add(channel)
        rows = [Post(source="crash", source_key=str(i), title=f"#Santé : article n° {i} sur l’#IA",
                     url=f"https://esante.example/{i}") for i in range(posts)]
        session.add_all(rows)
        await session.flush()
        session.add_all(Publication(post_id=p.id, channel_id=channel.id, due_at=now, next_attempt_at=now,
                                    idempotency_key=f"crash-{p.id}") for p in rows)
    await engine.dispose()


async def states(url: str) -> collections.Counter[str]:
    engine = db.create_engine(url)
    async with db.session_factory(engine)() as session:
        rows = (await session.execute(select(Publication.state, func.count()).group_by(Publication.state))).all()
    await engine.dispose()
    return collections.Counter({str(state): count for state, count in rows})


def main() -> None:
    kills = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    posts = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    rng = random.Random(int(os.environ.get("SEED", "7")))
    with tempfile.TemporaryDirectory() as folder, MockServer(log_level="critical") as server:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'crash.db'}"
        asyncio.run(prepare(url, posts))
        # Each status takes 300 ms on the server: a kill often lands while one is in flight,
        # which the server then finishes without us hearing the answer.
        httpx.post(f"{server.base_url}/api/v1/_mock/faults", json={
            "match": {"methods": ["POST"], "path": "/api/v1/statuses"},
            "effect": {"type": "latency", "delay_ms": 300}}).raise_for_status()
        command = [sys.executable, __file__, "--child", url, server.base_url]
        killed_mid_run = in_flight = 0  # in_flight: claims a kill left in `sending`
        for _ in range(kills):
            process = subprocess.Popen(command, env={**os.environ, "PYTHONPATH": os.getcwd()},
                                       stderr=subprocess.PIPE, text=True)
            time.sleep(rng.uniform(0.3, 2.5))  # startup takes ~1 s: some kills land before any send
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                killed_mid_run += 1
            in_flight += sum(int(line.split()[1]) for line in process.communicate()[1].splitlines()
                             if line.startswith("recovered "))
            time.sleep(1.1)  # let the claims of the killed process go stale
        final = subprocess.run(command, env={**os.environ, "PYTHONPATH": os.getcwd()}, timeout=300,
                               stderr=subprocess.PIPE, text=True)
        in_flight += sum(int(line.split()[1]) for line in final.stderr.splitlines() if line.startswith("recovered "))
        client = server.client("alice")
        statuses = client.fetch_remaining(client.account_statuses(client.me()["id"], limit=40))
        per_post = collections.Counter(s["content"] for s in statuses)
        counts = asyncio.run(states(url))
    print(f"{'posts':28} {posts}")
    print(f"{'SIGKILLs (process alive)':28} {killed_mid_run} of {kills}")
    print(f"{'claims left by kills':28} {in_flight}  (sending → retry, resent with the same key)")
    print(f"{'final run exit code':28} {final.returncode}")
    print(f"{'publication states':28} {dict(counts)}")
    print(f"{'Mastodon statuses':28} {len(statuses)}")
    print(f"{'posts on Mastodon once':28} {sum(1 for c in per_post.values() if c == 1)}")
    print(f"{'posts duplicated':28} {sum(1 for c in per_post.values() if c > 1)}")
    print(f"{'posts missing':28} {posts - len(per_post)}")
    ok = len(statuses) == len(per_post) == posts and counts == {"sent": posts} and final.returncode == 0
    print("RESULT", "ok" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        asyncio.run(child(sys.argv[2], sys.argv[3]))
    else:
        main()
