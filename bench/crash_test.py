"""Crash test: SIGKILL the real `relais run --role worker` at random moments, restart, repeat.

POSTS posts are queued for one Telegram channel (the Bot API sandbox, in this process) and
one Mastodon account (mastodon_mock on loopback). The harness starts
``python -m bot --config <generated> run --role worker`` as a subprocess, waits until it
has begun publishing, SIGKILLs it at a random moment (seeded RNG, seed printed), restarts
it, KILLS times, then lets a last run finish and stops it with SIGTERM. Every Bot API
``sendMessage`` and every Mastodon ``POST /api/v1/statuses`` is slowed down (a random
100–500 ms on Telegram, 300–900 ms on Mastodon; half of them *after* the post is stored, so
a kill loses the answer) so that kills land while sends are in flight.

The contract checked (issue 5; exit code 1 when broken):

* Mastodon: every post exactly once (the Idempotency-Key covers the send in flight);
* Telegram: nothing lost; at most one duplicate per kill, and each duplicate is a message
  the platform accepted while the kill cut the answer off (at most one per kill);
* every publication row ``sent``; the last run exits cleanly on SIGTERM.

    .venv/bin/python bench/crash_test.py [--kills 20] [--posts 50] [--readers 0] [--seed N] [--database URL]

``--readers N`` adds a fan-out: N readers (private chats in the sandbox) each with a pending
notification of post 1, sent by the same worker after the channel posts, a random
20–200 ms per notification (half of them held *after* the message is stored). Delivery
outcomes are recorded in batches (``bot.publish.outcomes``), so a kill may repeat the batch
not yet written; the contract (docs/reliability.md): no reader missed, every delivery row
``sent``, no reader notified more than once per kill (1 + kills messages at most), and at
most kills × (batch size + sends in flight) duplicates in all.

``--database`` takes a scratch database (e.g. PostgreSQL): Relais' tables in it are DROPPED
and recreated. Default: a fresh SQLite file in a temporary directory.

``--sabotage fresh-key|sent-first|no-recovery`` runs the worker through a shim that breaks
one guarantee (a new Idempotency-Key per try; mark ``sent`` before sending; never recover
a killed worker's claims), to show that the harness does catch it.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import re
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a plain script from anywhere
    sys.path.insert(0, str(ROOT))

from bench.report import emit  # noqa: E402 (after the sys.path line above)

CHANNEL = "@sante_numerique"
MASTODON_TOKEN = "alice_token"  # seeded by mastodon_mock for its account "alice"
MASTODON_TOKEN_ENV = "RELAIS_CRASH_MASTODON_TOKEN"
READY = "publishing to"  # bot.runtime logs "worker … publishing to N channel(s)" once the scheduler runs
NUMBER = re.compile(r"n°(\d+)")  # each post's title carries its number
CLAIM_TIMEOUT = 1  # seconds: one worker at a time here, so a killed worker's claims may be retaken at once
SABOTAGES = ("fresh-key", "sent-first", "no-recovery")
# A few 5xx answers among the sends: retried after a backoff (15–30 s), they must not turn
# into `dead` however many kills the row lived through.
TRANSIENT_ERRORS = 0.04


# --- what the harness reports -------------------------------------------------------------


@dataclass(frozen=True)
class PlatformCount:
    platform: str
    expected: int
    present: int  # posts with at least one message
    messages: int
    duplicates: int  # messages beyond one per post
    missing: int
    unanswered: int  # messages the platform stored while a kill cut off its answer
    most_unanswered_in_one_kill: int
    kills: int


@dataclass(frozen=True)
class ReaderCount:
    readers: int
    notified: int  # readers with at least one message
    messages: int
    duplicates: int  # messages beyond one per reader
    most_per_reader: int
    missing: int


@dataclass
class CrashReport:
    seed: int
    database: str
    kills: int
    telegram: PlatformCount
    mastodon: PlatformCount
    states: dict[str, int]
    final_exit: int | None
    seconds: float
    violations: list[str] = field(default_factory=list)
    deliveries: ReaderCount | None = None
    delivery_states: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations


def contract_violations(report: CrashReport, posts: int) -> list[str]:
    """Issue 5's crash contract, one sentence per broken clause."""
    found = []
    masto, tg = report.mastodon, report.telegram
    if masto.missing or masto.duplicates:
        found.append(f"Mastodon: {masto.missing} missing, {masto.duplicates} duplicated (every post exactly once)")
    if tg.missing:
        found.append(f"Telegram: {tg.missing} posts lost")
    if tg.duplicates > report.kills:
        found.append(f"Telegram: {tg.duplicates} duplicates for {report.kills} kills (at most one per kill)")
    if tg.most_unanswered_in_one_kill > 1:
        found.append(f"Telegram: one kill cut off {tg.most_unanswered_in_one_kill} answers (one send in flight at most)")
    if tg.duplicates != tg.unanswered:
        found.append(f"Telegram: {tg.duplicates} duplicates but {tg.unanswered} sends were in flight at the kills")
    if report.states != {"sent": 2 * posts}:
        found.append(f"publication states {report.states}, expected all {2 * posts} sent")
    if report.final_exit != 0:
        found.append(f"the last run did not stop cleanly (exit code {report.final_exit})")
    return found + delivery_violations(report)


def delivery_violations(report: CrashReport) -> list[str]:
    """The deliveries' bound: nobody missed, nobody notified more than once per kill, at most the
    unwritten batches repeated."""
    from bot.publish.outcomes import OutcomeBatching
    from bot.publish.worker import IN_FLIGHT

    readers = report.deliveries
    if readers is None:
        return []
    found = []
    if readers.missing:
        found.append(f"deliveries: {readers.missing} readers never notified")
    if readers.most_per_reader > 1 + report.kills:
        found.append(f"deliveries: a reader got {readers.most_per_reader} messages for {report.kills} kills "
                     "(once more per kill at most)")
    bound = report.kills * (OutcomeBatching().size + IN_FLIGHT)
    if readers.duplicates > bound:
        found.append(f"deliveries: {readers.duplicates} duplicates, more than {bound} (kills × (batch + in flight))")
    if report.delivery_states != {"sent": readers.readers}:
        found.append(f"delivery states {report.delivery_states}, expected all {readers.readers} sent")
    return found


# --- the platforms ------------------------------------------------------------------------


def slow_down(sandbox: Any, mastodon_url: str, hold: AnswerHold, rng: random.Random, sends: int,
              transient_errors: float = TRANSIENT_ERRORS) -> None:
    """Random per-request latency on both platforms for the next ``sends`` sends.

    Half of them before the platform acts (a kill then cancels the send), half after (the
    post is out, and the kill loses the answer: the case only idempotency can save). A few
    sends get a 5xx instead.
    """
    import httpx

    for _ in range(sends):
        if rng.random() < transient_errors:
            sandbox.faults.fail(502, method="sendMessage")
            continue
        # after=True: the sandbox stores the message, then waits — the answer a kill cuts off.
        sandbox.faults.delay(round(rng.uniform(0.1, 0.5), 3), method="sendMessage", after=rng.random() < 0.5)
    with httpx.Client(base_url=mastodon_url) as client:
        for _ in range(sends):
            if rng.random() < transient_errors:
                client.post("/api/v1/_mock/faults", json={
                    "match": {"methods": ["POST"], "path": "/api/v1/statuses"},
                    "effect": {"type": "status", "status": 503}, "count": 1,
                }).raise_for_status()
                hold.delays.append(0.0)
                continue
            # Longer than Telegram's: Relais spaces Mastodon calls ~1 s apart (300 per 5 min), so
            # only a long request is likely to be in flight when the kill lands.
            held = rng.randint(300, 900)
            before, after = (held, 0) if rng.random() < 0.5 else (0, held)
            hold.delays.append(after / 1000)
            client.post("/api/v1/_mock/faults", json={
                "match": {"methods": ["POST"], "path": "/api/v1/statuses"},
                "effect": {"type": "latency", "delay_ms": before}, "count": 1,
            }).raise_for_status()


class AnswerHold:
    """A loopback proxy before mastodon_mock that holds the answer to ``POST /api/v1/statuses``.

    mastodon_mock's latency fault sleeps *before* its handler, which then finds the killed
    client gone and creates nothing; holding the answer after the status exists is what makes
    a kill lose an answer the Idempotency-Key must cover.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.delays: list[float] = []
        self._runner: Any = None
        self.base_url = ""

    async def __aenter__(self) -> AnswerHold:
        from aiohttp import ClientSession, web

        self._client = ClientSession()
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._runner.cleanup()
        await self._client.close()

    async def _forward(self, request: Any) -> Any:
        from aiohttp import web

        skip = {"host", "content-length", "transfer-encoding", "connection"}
        headers = {k: v for k, v in request.headers.items() if k.lower() not in skip}
        async with self._client.request(request.method, self.upstream + request.path_qs, headers=headers,
                                        data=await request.read(), allow_redirects=False) as answer:
            body = await answer.read()
            kept = {k: v for k, v in answer.headers.items()
                    if k.lower() not in skip | {"content-encoding", "date", "server"}}
        if request.method == "POST" and request.path == "/api/v1/statuses" and self.delays:
            await asyncio.sleep(self.delays.pop(0))
        return web.Response(body=body, status=answer.status, headers=kept)


def telegram_messages(sandbox: Any) -> list[tuple[str, int]]:
    """(message id, post number) of every message in the channel."""
    return [(str(m.message_id), _number(m.text or m.caption or "")) for m in sandbox.messages(CHANNEL)]


def mastodon_statuses(server: Any) -> list[tuple[str, int]]:
    """(status id, post number) of every status of the account."""
    client = server.client("alice")
    found = client.fetch_remaining(client.account_statuses(client.me()["id"], limit=40))
    return [(str(s["id"]), _number(s["content"])) for s in found]


def _number(text: str) -> int:
    match = NUMBER.search(text)
    return int(match.group(1)) if match else -1


# --- the database ---------------------------------------------------------------------------


def write_config(folder: Path, database_url: str, sandbox_url: str, mastodon_url: str) -> Path:
    from bot.samples import two_channel_config

    config = folder / "relais.toml"
    config.write_text(two_channel_config(
        sandbox_url, CHANNEL, mastodon_url, MASTODON_TOKEN_ENV,
        top=f'database_url = "{database_url}"\nlog_level = "INFO"',
        schedule=f"claim_timeout_seconds = {CLAIM_TIMEOUT}",
    ), encoding="utf-8")
    return config


def environment(sandbox_token: str) -> dict[str, str]:
    """The caller's environment without its RELAIS_* settings (they would beat the generated file)."""
    kept = {k: v for k, v in os.environ.items() if not k.upper().startswith("RELAIS_")}
    return {**kept, "RELAIS_TELEGRAM__TOKEN": sandbox_token, MASTODON_TOKEN_ENV: MASTODON_TOKEN,
            "PYTHONPATH": str(ROOT)}


async def prepare(settings: Any, posts: int) -> None:
    """Fresh schema, then ``posts`` articles queued "now" on both channels."""
    from sqlalchemy import text

    from bot.app import open_app
    from bot.samples import numbered_article
    from bot.store import db
    from bot.store.models import Base
    from bot.store.repository import add_post
    from bot.store.search import drop_index

    engine = db.create_engine(settings.database_url)
    async with engine.begin() as conn:
        await conn.run_sync(drop_index)  # the search index depends on posts
        await conn.run_sync(Base.metadata.drop_all)
        await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    await db.upgrade(engine)
    await engine.dispose()
    async with open_app(settings) as app, app.sessions.begin() as session:
        for number in range(1, posts + 1):
            post = await add_post(session, numbered_article(number))
            await app.enqueue(session, post, datetime.now(UTC), mode="now")


READER_BASE = 9_000_000  # the readers' Telegram ids in the sandbox


async def prepare_readers(settings: Any, readers: int) -> None:
    """``readers`` subscribers, each with a pending notification of post 1 (as the fan-out writes them)."""
    from sqlalchemy import insert, literal, select

    from bot.app import open_app
    from bot.store.models import Delivery, DeliveryState, Post, Subscriber

    now = datetime.now(UTC)
    async with open_app(settings) as app, app.sessions.begin() as session:
        await session.execute(insert(Subscriber), [{"telegram_user_id": READER_BASE + n} for n in range(readers)])
        first = select(Post.id).order_by(Post.id).limit(1).scalar_subquery()
        await session.execute(insert(Delivery).from_select(
            ["post_id", "subscriber_id", "state", "due_at", "next_attempt_at", "attempts"],
            select(first, Subscriber.id, literal(DeliveryState.PENDING.value), literal(now), literal(now), literal(0))))


async def delivery_states(settings: Any) -> dict[str, int]:
    from sqlalchemy import func, select

    from bot.store import db
    from bot.store.models import Delivery

    engine = db.create_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(select(Delivery.state, func.count()).group_by(Delivery.state))).all()
    finally:
        await engine.dispose()
    return {str(state): int(n) for state, n in rows}


def slow_down_notifications(sandbox: Any, rng: random.Random, sends: int) -> None:
    """20–200 ms on each notification, half of them after the message is stored."""
    for _ in range(sends):
        sandbox.faults.delay(round(rng.uniform(0.02, 0.2), 3), method="sendMessage", after=rng.random() < 0.5)


def count_readers(sandbox: Any, readers: int) -> ReaderCount:
    per_reader = [len(sandbox.messages(READER_BASE + n)) for n in range(readers)]
    notified = sum(1 for n in per_reader if n)
    return ReaderCount(readers=readers, notified=notified, messages=sum(per_reader),
                       duplicates=sum(per_reader) - notified, most_per_reader=max(per_reader, default=0),
                       missing=readers - notified)


async def publications(settings: Any) -> list[tuple[str, int, str]]:
    """(channel name, post number, state) of every publication."""
    from sqlalchemy import select

    from bot.store import db
    from bot.store.models import Channel, Post, Publication

    engine = db.create_engine(settings.database_url)
    try:
        async with db.session_factory(engine)() as session:
            rows = (await session.execute(
                select(Channel.name, Post.title, Publication.state)
                .join(Channel, Channel.id == Publication.channel_id).join(Post, Post.id == Publication.post_id)
            )).all()
    finally:
        await engine.dispose()
    return [(name, _number(title), str(state)) for name, title, state in rows]


# --- the worker process ---------------------------------------------------------------------


class Worker:
    """One incarnation of `relais run --role worker`, its log written to a file."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path) -> None:
        self.command, self.env, self.log = command, env, log
        self.ready = asyncio.Event()
        self.process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> Worker:
        self.process = await asyncio.create_subprocess_exec(
            *self.command, env=self.env, cwd=ROOT, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE)
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        with self.log.open("wb") as out:
            async for line in self.process.stderr:
                out.write(line)
                if READY.encode() in line:
                    self.ready.set()

    async def wait_ready(self, timeout: float = 60) -> None:
        waiter = asyncio.create_task(self.ready.wait())
        assert self.process is not None
        died = asyncio.create_task(self.process.wait())
        _done, _ = await asyncio.wait({waiter, died}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        died.cancel()
        if not self.ready.is_set():
            raise RuntimeError(f"worker did not start (exit {self.process.returncode}); see {self.log}")

    async def kill_if_alive(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    async def stop(self, sig: signal.Signals, timeout: float = 30) -> int:
        assert self.process is not None and self._reader is not None
        if self.process.returncode is None:
            self.process.send_signal(sig)
        code = await asyncio.wait_for(self.process.wait(), timeout)
        await self._reader
        return code


def worker_command(config: Path, sabotage: str | None) -> list[str]:
    relais = ["--config", str(config), "run", "--role", "worker"]
    if sabotage:
        return [sys.executable, str(Path(__file__).resolve()), "--as-worker", sabotage, *relais]
    return [sys.executable, "-m", "bot", *relais]


# --- the run ----------------------------------------------------------------------------------


@dataclass
class _Unanswered:
    """Messages a platform stored for publications the database does not have as sent."""

    seen: dict[str, set[str]] = field(default_factory=lambda: {"telegram": set(), "mastodon": set()})
    most_in_one_kill: dict[str, int] = field(default_factory=lambda: {"telegram": 0, "mastodon": 0})

    def after_kill(self, remote: dict[str, list[tuple[str, int]]], rows: list[tuple[str, int, str]]) -> None:
        unsent = {(name, number) for name, number, state in rows if state != "sent"}
        for platform, messages in remote.items():
            new = {mid for mid, number in messages if (platform, number) in unsent} - self.seen[platform]
            self.seen[platform] |= new
            self.most_in_one_kill[platform] = max(self.most_in_one_kill[platform], len(new))


def count(platform: str, messages: list[tuple[str, int]], posts: int, kills: int,
          unanswered: _Unanswered) -> PlatformCount:
    per_post = collections.Counter(number for _, number in messages)
    present = sum(1 for number in range(1, posts + 1) if per_post[number])
    return PlatformCount(
        platform=platform, expected=posts, present=present, messages=len(messages),
        duplicates=len(messages) - present, missing=posts - present,
        unanswered=len(unanswered.seen[platform]), most_unanswered_in_one_kill=unanswered.most_in_one_kill[platform],
        kills=kills,
    )


async def crash_test(*, kills: int, posts: int, seed: int, database_url: str | None = None,
                     sabotage: str | None = None, folder: Path | None = None,
                     kill_window: tuple[float, float] = (0.3, 3.0), final_timeout: float = 180,
                     transient_errors: float = TRANSIENT_ERRORS, readers: int = 0,
                     progress: Callable[[str], None] = lambda line: None) -> CrashReport:
    """Run the whole crash test; the caller prints or asserts on the report."""
    from mastodon_mock.testing import MockServer

    from bot.sandbox import TelegramSandbox
    from bot.settings import load_settings

    started = time.monotonic()
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="relais-crash-") as scratch:
        work = folder or Path(scratch)
        url = database_url or f"sqlite+aiosqlite:///{work / 'crash.db'}"
        with MockServer(log_level="critical") as mastodon:
            async with TelegramSandbox() as sandbox, AnswerHold(mastodon.base_url) as hold:
                sandbox.add_channel(CHANNEL, "Santé numérique")
                config = write_config(work, url, sandbox.base_url, hold.base_url)
                env = environment(sandbox.token)
                settings = load_settings(config, env=env)
                await prepare(settings, posts)
                for n in range(readers):
                    sandbox.add_user(READER_BASE + n, f"Lectrice {n}")
                if readers:
                    await prepare_readers(settings, readers)
                await asyncio.to_thread(slow_down, sandbox, mastodon.base_url, hold, rng, 2 * posts + kills,
                                        transient_errors)
                slow_down_notifications(sandbox, rng, 2 * readers)
                command = worker_command(config, sabotage)
                unanswered = _Unanswered()

                async def snapshot() -> dict[str, list[tuple[str, int]]]:
                    return {"telegram": telegram_messages(sandbox),
                            "mastodon": await asyncio.to_thread(mastodon_statuses, mastodon)}

                live: Worker | None = None
                try:
                    for kill in range(1, kills + 1):
                        worker = live = await Worker(command, env, work / f"worker-{kill:02}.log").start()
                        await worker.wait_ready()
                        pause = rng.uniform(*kill_window)
                        await asyncio.sleep(pause)
                        if worker.process is not None and worker.process.returncode is not None:
                            raise RuntimeError(f"worker {kill} exited by itself; see {worker.log}")
                        await worker.stop(signal.SIGKILL)
                        # Let the platforms finish what the dead client had sent (slowest latency: 0.9 s),
                        # and the killed claims age past the claim timeout.
                        await asyncio.sleep(max(1.2, CLAIM_TIMEOUT + 0.1))
                        remote = await snapshot()
                        unanswered.after_kill(remote, await publications(settings))
                        progress(f"kill {kill:2}/{kills} after {pause:4.2f} s: " + "; ".join(
                            f"{name} {len(remote[name])} messages, {len(unanswered.seen[name])} unanswered"
                            for name in ("telegram", "mastodon")))

                    final = live = await Worker(command, env, work / "worker-final.log").start()
                    await final.wait_ready()
                    deadline = time.monotonic() + final_timeout
                    while time.monotonic() < deadline:
                        rows = await publications(settings)
                        notices = await delivery_states(settings) if readers else {}
                        if all(state == "sent" for _, _, state in rows) and set(notices) <= {"sent"}:
                            break
                        await asyncio.sleep(0.5)
                    final_exit = await final.stop(signal.SIGTERM)
                    remote = await snapshot()
                    notified = count_readers(sandbox, readers) if readers else None
                finally:  # never leave a worker behind when the harness itself fails
                    if live is not None:
                        await live.kill_if_alive()
                rows = await publications(settings)
                notices = await delivery_states(settings) if readers else {}
        states = dict(collections.Counter(state for _, _, state in rows))
        report = CrashReport(
            seed=seed, database=url.split("://")[0], kills=kills,
            telegram=count("telegram", remote["telegram"], posts, kills, unanswered),
            mastodon=count("mastodon", remote["mastodon"], posts, kills, unanswered),
            states=states, final_exit=final_exit, seconds=time.monotonic() - started,
            deliveries=notified, delivery_states=notices,
        )
        report.violations = contract_violations(report, posts)
        return report


def table(report: CrashReport) -> str:
    head = ("platform", "expected", "present", "messages", "duplicates", "missing", "unanswered at kill", "kills")
    rows = [head] + [
        (c.platform, c.expected, c.present, c.messages, c.duplicates, c.missing,
         f"{c.unanswered} (≤{c.most_unanswered_in_one_kill}/kill)", c.kills)
        for c in (report.telegram, report.mastodon)
    ]
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(head))]
    lines = ["  ".join(str(v).ljust(w) if i == 0 else str(v).rjust(w) for i, (v, w) in enumerate(zip(row, widths, strict=False)))
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    readers = report.deliveries
    if readers is not None:
        lines.append(f"\ndeliveries: {readers.readers} readers, {readers.notified} notified, {readers.missing} missing, "
                     f"{readers.messages} messages, {readers.duplicates} duplicates, at most {readers.most_per_reader} "
                     f"per reader; states {report.delivery_states}")
    return "\n".join(lines)


# --- sabotaged worker (proof that the harness can fail) ------------------------------------------


def run_sabotaged_worker(mode: str, relais_args: list[str]) -> None:
    """`relais …` with one guarantee broken, in this process."""
    import uuid
    from types import SimpleNamespace

    from bot import cli
    from bot.publish import outbox, targets, worker

    if mode == "fresh-key":
        targets.idempotency_key_for = lambda key, version: f"relais-{uuid.uuid4()}"  # type: ignore[assignment]
    elif mode == "sent-first":
        async def send_after_marking(self: Any, publication: Any) -> None:
            job, target = targets.Job.of(publication), self.targets[publication.channel.name]
            timed = worker._Send(str(publication.channel.platform), job.channel, time.monotonic())
            await self.record_sent(outbox.PUBLICATIONS, job.publication_id, SimpleNamespace(remote_id="?"), timed,
                                   remote_url=None, sent_version=job.content_version)
            await target.send(job, await self._render(target, publication), self.now)

        worker._Pass.send = send_after_marking  # type: ignore[method-assign]
    elif mode == "no-recovery":
        async def never(*args: Any, **kwargs: Any) -> int:
            return 0

        outbox.recover_stale = never  # type: ignore[assignment]
    else:
        raise SystemExit(f"unknown sabotage {mode!r}: {', '.join(SABOTAGES)}")
    sys.argv = ["relais", *relais_args]
    cli.main()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--posts", type=int, default=50)
    parser.add_argument("--readers", type=int, default=0, help="a fan-out of post 1 to this many readers")
    parser.add_argument("--seed", type=int, default=None, help="default: a random one (printed)")
    parser.add_argument("--database", default=None, help="a SCRATCH database URL: its Relais tables are dropped")
    parser.add_argument("--sabotage", choices=SABOTAGES, default=None)
    parser.add_argument("--final-timeout", type=float, default=180, help="seconds the last run gets to finish")
    parser.add_argument("--keep", type=Path, default=None, help="keep worker logs (and SQLite file) in this folder")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1_000_000)
    print(f"crash test: {args.posts} posts, {args.kills} SIGKILLs, seed {seed}"
          f"{', sabotage ' + args.sabotage if args.sabotage else ''}", flush=True)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    report = asyncio.run(crash_test(kills=args.kills, posts=args.posts, seed=seed, database_url=args.database,
                                    sabotage=args.sabotage, folder=args.keep, final_timeout=args.final_timeout,
                                    readers=args.readers,
                                    progress=lambda line: print(line, flush=True)))
    print()
    print(table(report))
    print(f"\ndatabase {report.database}; publication states {report.states}; last run exit code "
          f"{report.final_exit}; {report.seconds:.0f} s; seed {seed}")
    for violation in report.violations:
        print(f"VIOLATION: {violation}")
    print("RESULT", "ok" if report.ok else "FAILED")
    tg, masto = report.telegram, report.mastodon
    emit("crash.contract", f"crash test, {report.kills} SIGKILLs: Telegram duplicates/missing, Mastodon duplicates/missing",
         f"{tg.duplicates}/{tg.missing}, {masto.duplicates}/{masto.missing}", passed=report.ok, database=report.database,
         posts=args.posts, kills=report.kills, readers=args.readers, seed=seed, violations=len(report.violations),
         seconds=round(report.seconds))
    return 0 if report.ok else 1


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--as-worker":
        run_sabotaged_worker(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(main())
