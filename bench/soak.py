"""Reliability soak: a backlog under faults while the worker is SIGKILLed every 30 s (issue 13).

POSTS posts are queued on two channels (the Telegram sandbox, in this process, and
mastodon_mock behind crash_test's answer-holding proxy) and READERS readers follow their tags
(each post has two of TAGS tags; a reader follows one, every fourth reader two). Then the
real ``relais run --role worker`` (WORKERS processes) publishes and notifies while:

* the sandbox answers 5 % of ``sendMessage`` calls with a 5xx, delays others (some *after*
  the message is stored), and every STORM seconds turns on a tight overall limit for 2 s:
  real 429 answers with ``retry_after``;
* mastodon_mock answers 5 % of ``POST /api/v1/statuses`` with a 5xx and 2 % with a 429, and
  the proxy holds some answers after the status exists (what a kill then loses);
* every KILL_EVERY seconds one worker is SIGKILLed (the workers in turn) and restarted.

After CHAOS seconds the faults stop; the workers finish (within the budget plus 120 s of grace
for retries backed off near its end: what is left then is stuck) and are stopped with SIGTERM.
The contract checked (exit code 1 when broken):

* Mastodon: every post exactly once; Telegram channel: nothing lost, at most one duplicate per kill;
* notifications (when the fan-out exists): the deliveries are exactly the (follower, post)
  pairs, every follower got each of their posts, no reader got more repeats than there
  were kills (one delivery per reader in flight at a kill), and nothing went to a reader who
  does not follow the post;
* nothing stuck: every publication and delivery ``sent``, every post fanned out; clean SIGTERM exits.

    .venv/bin/python bench/soak.py [--minutes 5] [--posts 500] [--readers 2000] [--seed N]
    .venv/bin/python bench/soak.py --database postgresql+asyncpg://…/scratch   # two workers

``--database`` takes a SCRATCH database: Relais' tables in it are DROPPED. Default: a fresh
SQLite file and one worker (SQLite has no SKIP LOCKED: one worker at a time).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import importlib.util
import logging
import random
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a plain script from anywhere
    sys.path.insert(0, str(ROOT))

from bench.crash_test import (  # noqa: E402 (after the sys.path line above)
    CHANNEL,
    MASTODON_TOKEN_ENV,
    NUMBER,
    SABOTAGES,
    AnswerHold,
    Worker,
    environment,
    mastodon_statuses,
    prepare,
    publications,
    telegram_messages,
    worker_command,
)
from bench.report import emit  # noqa: E402

FIRST_READER_ID = 700_000_000  # Telegram user ids of the readers
THEMES = ("IA", "santé mentale", "télémédecine", "dépression", "anxiété", "sommeil", "diabète", "cancer",
          "nutrition", "prévention", "e-santé", "données de santé", "hôpital", "pédiatrie", "gériatrie",
          "addictions", "cardiologie", "recherche", "éthique", "objets connectés")
TRANSIENT = 0.05  # share of sends answered 5xx, both platforms
MASTODON_429 = 0.02
STORM_SECONDS = 2.0  # each 429 storm on the sandbox lasts this long


def notifications_available() -> bool:
    """The fan-out of reader notifications exists in this tree (issue 12, branch readers)."""
    return importlib.util.find_spec("bot.services.notify") is not None


# --- the population -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Population:
    """Posts, tags and readers, all derived from three numbers (the expected pairs too)."""

    posts: int
    readers: int
    tags: int

    def tag(self, index: int) -> str:
        return f"{THEMES[index % len(THEMES)]} {2016 + index // len(THEMES)}"

    def post_tags(self, number: int) -> tuple[int, int]:
        first = number % self.tags
        second = (number * 7 + 3) % self.tags
        return first, second if second != first else (first + 1) % self.tags

    def follows(self, reader: int) -> set[int]:
        followed = {reader % self.tags}
        if reader % 4 == 0:  # some readers follow two tags: a post with both is still ONE notification
            followed.add((reader * 13 + 5) % self.tags)
        return followed

    def user_id(self, reader: int) -> int:
        return FIRST_READER_ID + reader

    def expected_pairs(self) -> set[tuple[int, int]]:
        """(Telegram user id, post number) of every notification the readers must get."""
        readers_of: dict[int, list[int]] = collections.defaultdict(list)
        for reader in range(self.readers):
            for tag in self.follows(reader):
                readers_of[tag].append(self.user_id(reader))
        return {(uid, number) for number in range(1, self.posts + 1)
                for tag in set(self.post_tags(number)) for uid in readers_of[tag]}

    def article(self, number: int) -> Any:
        from bot.domain.posts import NewPost, PostStatus

        first, second = (self.tag(i) for i in self.post_tags(number))
        return NewPost(
            source="https://esante.example/feed", source_key=f"https://esante.example/?p={number}",
            title=f"Le point n°{number} : #{first.replace(' ', '')} et #{second.replace(' ', '')} à l’hôpital",
            url=f"https://esante.example/point-{number}",
            body_html="<p>Ce qu’il faut retenir de la semaine «\u00a0e-santé\u00a0»\u00a0! 🩺</p>",
            tags=(first, second), language="fr", status=PostStatus.QUEUED,
        )


async def populate(settings: Any, people: Population, with_readers: bool) -> None:
    """Fresh schema (crash_test.prepare), the posts queued now, the readers and their follows."""
    from sqlalchemy import select

    from bot.app import open_app
    from bot.publish.queue import enqueue
    from bot.store.models import Follow, Subscriber, Tag
    from bot.store.repository import add_post

    await prepare(settings, 0)
    async with open_app(settings) as app, app.sessions.begin() as session:
        for number in range(1, people.posts + 1):
            post = await add_post(session, people.article(number))
            await enqueue(session, post, datetime.now(UTC), settings=settings, mode="now")
        if not with_readers:
            return
        tag_ids = {display: tag_id for tag_id, display in (await session.execute(select(Tag.id, Tag.display))).all()}
        readers = [Subscriber(telegram_user_id=people.user_id(r), language="fr") for r in range(people.readers)]
        session.add_all(readers)
        await session.flush()
        session.add_all(Follow(subscriber_id=row.id, tag_id=tag_ids[people.tag(t)])
                        for r, row in enumerate(readers) for t in people.follows(r) if people.tag(t) in tag_ids)


# --- faults ---------------------------------------------------------------------------------------


@dataclass
class Chaos:
    """Keeps a short queue of random faults ahead of both platforms until stopped."""

    sandbox: Any
    mastodon_url: str
    hold: AnswerHold
    rng: random.Random
    storm_every: float
    injected: collections.Counter[str] = field(default_factory=collections.Counter)
    rejected_429: int = 0

    async def run(self, stop: asyncio.Event) -> None:
        import httpx

        last_storm = time.monotonic()
        async with httpx.AsyncClient(base_url=self.mastodon_url) as client:
            while not stop.is_set():
                self._telegram()
                await self._mastodon(client)
                if time.monotonic() - last_storm >= self.storm_every:
                    last_storm = time.monotonic()
                    await self._storm()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.5)
            await client.delete("/api/v1/_mock/faults")
        self.sandbox.faults.pending.clear()
        self.hold.delays.clear()

    def _telegram(self) -> None:
        faults = self.sandbox.faults
        while len(faults.pending) < 100:
            draw = self.rng.random()
            if draw < TRANSIENT:
                faults.fail(self.rng.choice((500, 502, 503)), method="sendMessage")
                self.injected["telegram 5xx"] += 1
            elif draw < TRANSIENT + 0.15:  # slow: after=True stores the message first (a kill loses the answer)
                faults.delay(round(self.rng.uniform(0.05, 0.4), 3), method="sendMessage", after=self.rng.random() < 0.5)
            else:
                faults.delay(0, method="sendMessage")  # no-op placeholder: keeps the draw per request

    async def _mastodon(self, client: Any) -> None:
        pending = len((await client.get("/api/v1/_mock/faults")).json())
        for _ in range(max(0, 10 - pending)):
            draw = self.rng.random()
            if draw < TRANSIENT:
                effect: dict[str, Any] = {"type": "status", "status": self.rng.choice((500, 502, 503))}
                self.injected["mastodon 5xx"] += 1
            elif draw < TRANSIENT + MASTODON_429:
                reset = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
                effect = {"type": "ratelimit", "headers": {"Retry-After": "2", "X-RateLimit-Reset": reset}}
                self.injected["mastodon 429"] += 1
            else:
                effect = {"type": "latency", "delay_ms": 0}
            (await client.post("/api/v1/_mock/faults", json={
                "match": {"methods": ["POST"], "path": "/api/v1/statuses"}, "effect": effect, "count": 1,
            })).raise_for_status()
        while len(self.hold.delays) < 10:  # answers held after the status exists
            self.hold.delays.append(round(self.rng.uniform(0.1, 0.4), 3) if self.rng.random() < 0.3 else 0.0)

    async def _storm(self) -> None:
        from bot.sandbox.limits import RateLimits

        self.sandbox.limits = RateLimits(overall_per_second=3)
        await asyncio.sleep(STORM_SECONDS)
        self.rejected_429 += self.sandbox.rejected_429
        self.sandbox.limits = RateLimits()
        self.injected["telegram 429 storms"] += 1


# --- what the soak reports ----------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    name: str
    expected: int
    messages: int
    missing: int
    duplicates: int
    worst: int = 0  # notifications: most repeats to one reader
    strays: int = 0  # notifications to a reader who does not follow the post


@dataclass
class SoakReport:
    seed: int
    database: str
    workers: int
    kills: int
    posts: int
    readers: int
    channels: list[Tally]
    notifications: Tally | None
    deliveries_made: int  # delivery rows the fan-out created
    publication_states: dict[str, int]
    delivery_states: dict[str, int]
    not_fanned_out: int
    exits: list[int | None]
    injected: dict[str, int]
    seconds: float
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations


def contract_violations(report: SoakReport) -> list[str]:
    """The soak's contract (issue 13): the sentence of every clause that does not hold."""
    telegram, mastodon, kills = report.channels[0], report.channels[1], report.kills
    clauses = [
        (mastodon.missing == mastodon.duplicates == 0,
         f"Mastodon: {mastodon.missing} missing, {mastodon.duplicates} duplicated (every post exactly once)"),
        (telegram.missing == 0, f"Telegram: {telegram.missing} posts lost"),
        (telegram.duplicates <= kills, f"Telegram: {telegram.duplicates} duplicates for {kills} kills (at most one per kill)"),
        (report.publication_states == {"sent": 2 * report.posts},
         f"publication states {report.publication_states}, expected all {2 * report.posts} sent"),
        (all(code == 0 for code in report.exits), f"the last runs did not stop cleanly (exit codes {report.exits})"),
    ]
    notes = report.notifications
    if notes is not None:
        clauses += [
            (report.deliveries_made == notes.expected,
             f"fan-out made {report.deliveries_made} deliveries, expected {notes.expected} (one per follower and post)"),
            (notes.missing == 0, f"notifications: {notes.missing} (reader, post) pairs never notified"),
            (notes.strays == 0, f"notifications: {notes.strays} sent to readers who do not follow the post"),
            (notes.worst <= kills,
             f"notifications: one reader got {notes.worst} repeats for {kills} kills (at most one per kill)"),
            (set(report.delivery_states) <= {"sent"}, f"delivery states {report.delivery_states}: some not sent"),
            (report.not_fanned_out == 0, f"{report.not_fanned_out} posts never fanned out"),
        ]
    return [sentence for holds, sentence in clauses if not holds]


def tally(name: str, numbers: list[int], posts: int) -> Tally:
    per_post = collections.Counter(numbers)
    present = sum(1 for number in range(1, posts + 1) if per_post[number])
    return Tally(name, posts, len(numbers), posts - present, len(numbers) - present)


def tally_notifications(sandbox: Any, people: Population, expected: set[tuple[int, int]]) -> Tally:
    received: collections.Counter[tuple[int, int]] = collections.Counter()
    for reader in range(people.readers):
        uid = people.user_id(reader)
        for message in sandbox.messages(uid):
            match = NUMBER.search(message.text or message.caption or "")
            received[(uid, int(match.group(1)) if match else -1)] += 1
    repeats: collections.Counter[int] = collections.Counter()
    for (uid, _number), copies in received.items():
        repeats[uid] += copies - 1
    return Tally("notifications", len(expected), sum(received.values()), len(expected - received.keys()),
                 sum(repeats.values()), worst=max(repeats.values(), default=0), strays=len(received.keys() - expected))


async def outbox_state(settings: Any, with_readers: bool) -> tuple[dict[str, int], dict[str, int], int, int]:
    """(publication states, delivery states, delivery rows, posts not fanned out)."""
    from sqlalchemy import func, select

    from bot.store import db
    from bot.store.models import Post

    rows = await publications(settings)
    states = dict(collections.Counter(state for _, _, state in rows))
    if not with_readers:
        return states, {}, 0, 0
    from bot.store.models import Delivery

    engine = db.create_engine(settings.database_url)
    try:
        async with db.session_factory(engine)() as session:
            deliveries = dict((str(s), n) for s, n in (await session.execute(
                select(Delivery.state, func.count()).group_by(Delivery.state))).all())
            unfanned = await session.scalar(select(func.count()).select_from(Post).where(Post.fanned_out_at.is_(None)))
    finally:
        await engine.dispose()
    return states, deliveries, sum(deliveries.values()), int(unfanned or 0)


def finished(states: tuple[dict[str, int], dict[str, int], int, int], posts: int, with_readers: bool) -> bool:
    publications_done = states[0] == {"sent": 2 * posts}
    return publications_done and (not with_readers or (set(states[1]) <= {"sent"} and states[3] == 0))


# --- the run ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    posts: int = 500
    readers: int = 2000
    tags: int = 1000
    workers: int = 1
    chaos_seconds: float = 270  # faults and kills; then the workers finish what is left
    kill_every: float = 30
    budget_seconds: float = 300  # the whole run of the workers, chaos included
    final_grace: float = 120  # beyond the budget, for retries backed off near its end (then: stuck)
    storm_every: float = 20
    claim_timeout: int = 2  # one worker: its dead predecessor's claims may be retaken almost at once
    sabotage: str | None = None


def write_config(folder: Path, url: str, sandbox_url: str, mastodon_url: str, claim_timeout: int) -> Path:
    from bot.samples import two_channel_config

    config = folder / "relais.toml"
    config.write_text(two_channel_config(
        sandbox_url, CHANNEL, mastodon_url, MASTODON_TOKEN_ENV,
        top=f'database_url = "{url}"\nlog_level = "INFO"',
        schedule=f"claim_timeout_seconds = {claim_timeout}", mastodon_rate_limits=False,
    ), encoding="utf-8")
    return config


@contextlib.asynccontextmanager
async def platforms(people: Population, folder: Path | None) -> AsyncIterator[tuple[Path, Any, Any, AnswerHold]]:
    """(work folder, mastodon_mock, Telegram sandbox with the channel and the readers, answer-holding proxy)."""
    from mastodon_mock.testing import MockServer

    from bot.sandbox import TelegramSandbox

    async with contextlib.AsyncExitStack() as stack:
        work = folder or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="relais-soak-")))
        mastodon = stack.enter_context(MockServer(log_level="critical"))
        sandbox = await stack.enter_async_context(TelegramSandbox())
        hold = await stack.enter_async_context(AnswerHold(mastodon.base_url))
        sandbox.add_channel(CHANNEL, "Santé numérique")
        for reader in range(people.readers):
            sandbox.add_user(people.user_id(reader), f"Lectrice {reader}")
        yield work, mastodon, sandbox, hold


async def soak(plan: Plan, *, seed: int, database_url: str | None = None, folder: Path | None = None,
               progress: Any = lambda line: None) -> SoakReport:
    """Run the whole soak; the caller prints or asserts on the report."""
    from bot.settings import load_settings

    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)  # a killed client's dropped request is expected
    people = Population(plan.posts, plan.readers, plan.tags)
    with_readers = notifications_available() and plan.readers > 0
    async with platforms(people, folder) as (work, mastodon, sandbox, hold):
        url = database_url or f"sqlite+aiosqlite:///{work / 'soak.db'}"
        config = write_config(work, url, sandbox.base_url, hold.base_url, plan.claim_timeout)
        env = environment(sandbox.token)
        settings = load_settings(config, env=env)
        await populate(settings, people, with_readers)
        progress(f"{people.posts} posts queued on 2 channels; "
                 + (f"{people.readers} readers following {people.tags} tags: "
                    f"{len(people.expected_pairs())} notifications due" if with_readers
                    else "notifications off (no fan-out in this tree)"))
        chaos = Chaos(sandbox, mastodon.base_url, hold, random.Random(seed), plan.storm_every)

        async def status() -> str:
            pubs, deliveries, _, _ = await outbox_state(settings, with_readers)
            return f"publications {pubs}, deliveries {deliveries}"

        run = _Run(plan, worker_command(config, plan.sabotage), env, work, progress, status)
        started = time.monotonic()
        exits = await run.drive(chaos, lambda: outbox_state(settings, with_readers), people.posts, with_readers)
        seconds = time.monotonic() - started
        channel = [n for _, n in telegram_messages(sandbox)]
        statuses = [n for _, n in await asyncio.to_thread(mastodon_statuses, mastodon)]
        notes = tally_notifications(sandbox, people, people.expected_pairs()) if with_readers else None
        pubs, deliveries, made, unfanned = await outbox_state(settings, with_readers)
    report = SoakReport(
        seed=seed, database=url.split("://")[0], workers=plan.workers, kills=run.kills, posts=people.posts,
        readers=people.readers if with_readers else 0,
        channels=[tally("telegram", channel, people.posts), tally("mastodon", statuses, people.posts)],
        notifications=notes, deliveries_made=made, publication_states=pubs, delivery_states=deliveries,
        not_fanned_out=unfanned, exits=exits,
        injected={**chaos.injected, "telegram 429 answers": chaos.rejected_429}, seconds=seconds,
    )
    report.violations = contract_violations(report)
    return report


@dataclass
class _Run:
    """The worker processes: started, SIGKILLed in turn, restarted, stopped."""

    plan: Plan
    command: list[str]
    env: dict[str, str]
    work: Path
    progress: Any
    status: Any  # async () -> str: the outbox at a glance, after each kill
    live: list[Worker] = field(default_factory=list)
    kills: int = 0
    starts: int = 0

    async def _start(self) -> Worker:
        self.starts += 1
        return await Worker(self.command, self.env, self.work / f"worker-{self.starts:03}.log").start()

    async def start_all(self) -> None:
        self.live = [await self._start() for _ in range(self.plan.workers)]
        for worker in self.live:
            await worker.wait_ready()

    async def drive(self, chaos: Chaos, state: Callable[[], Awaitable[Any]], posts: int,
                    with_readers: bool) -> list[int | None]:
        """Faults and kills for the chaos time, then let the workers finish; their SIGTERM exit codes."""
        stop_chaos = asyncio.Event()
        chaos_task = asyncio.create_task(chaos.run(stop_chaos))
        try:
            await self.start_all()
            ready = time.monotonic()  # the schedule counts from here: a slow start takes no kill away
            await self.kill_in_turn(ready)
            stop_chaos.set()
            await chaos_task
            deadline = ready + self.plan.budget_seconds + self.plan.final_grace
            while time.monotonic() < deadline and not finished(await state(), posts, with_readers):
                await asyncio.sleep(1)
            return await self.stop_all()
        finally:  # never leave a worker behind when the harness itself fails
            stop_chaos.set()
            await self.kill_all()
            if not chaos_task.done():
                chaos_task.cancel()

    async def kill_in_turn(self, started: float) -> None:
        while time.monotonic() - started + self.plan.kill_every <= self.plan.chaos_seconds:
            await asyncio.sleep(self.plan.kill_every)
            slot = self.kills % len(self.live)
            victim = self.live[slot]
            if victim.process is not None and victim.process.returncode is not None:
                raise RuntimeError(f"a worker exited by itself; see {victim.log}")
            await victim.stop(signal.SIGKILL)
            self.kills += 1
            self.live[slot] = await self._start()
            await self.live[slot].wait_ready()
            self.progress(f"{time.monotonic() - started:5.0f} s: kill {self.kills}, worker restarted; {await self.status()}")
        await asyncio.sleep(max(0.0, self.plan.chaos_seconds - (time.monotonic() - started)))

    async def stop_all(self) -> list[int | None]:
        return [await worker.stop(signal.SIGTERM) for worker in self.live]

    async def kill_all(self) -> None:
        for worker in self.live:
            await worker.kill_if_alive()


def table(report: SoakReport) -> str:
    head = ("what", "expected", "messages", "missing", "duplicates", "bound", "worst per reader", "strays")
    rows: list[tuple[Any, ...]] = [head]
    for c in report.channels:
        bound = 0 if c.name == "mastodon" else report.kills
        rows.append((c.name, c.expected, c.messages, c.missing, c.duplicates, f"≤{bound}", "-", "-"))
    if report.notifications is not None:
        n = report.notifications
        rows.append((n.name, n.expected, n.messages, n.missing, n.duplicates, f"≤{report.kills}/reader", n.worst, n.strays))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(head))]
    lines = ["  ".join(str(v).ljust(w) if i == 0 else str(v).rjust(w) for i, (v, w) in enumerate(zip(row, widths, strict=True)))
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def summary(report: SoakReport) -> str:
    faults = ", ".join(f"{name} {count}" for name, count in sorted(report.injected.items()))
    return (f"{report.database}, {report.workers} worker(s), {report.kills} SIGKILLs, {report.seconds:.0f} s; "
            f"faults injected: {faults}\npublications {report.publication_states}; deliveries {report.delivery_states} "
            f"({report.deliveries_made} made); exit codes {report.exits}; seed {report.seed}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5, help="budget of the worker run (kills stop 30 s before)")
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--readers", type=int, default=2000)
    parser.add_argument("--tags", type=int, default=1000, help="tags over the posts and follows (250: ~10,000 notifications)")
    parser.add_argument("--kill-every", type=float, default=30)
    parser.add_argument("--workers", type=int, default=None, help="default: 1 on SQLite, 2 with --database")
    parser.add_argument("--seed", type=int, default=None, help="default: a random one (printed)")
    parser.add_argument("--database", default=None, help="a SCRATCH database URL: its Relais tables are dropped")
    parser.add_argument("--sabotage", choices=SABOTAGES, default=None, help="break one guarantee (see crash_test)")
    parser.add_argument("--keep", type=Path, default=None, help="keep worker logs (and SQLite file) in this folder")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1_000_000)
    workers = args.workers or (2 if args.database else 1)
    budget = args.minutes * 60
    plan = Plan(posts=args.posts, readers=args.readers, tags=args.tags, workers=workers,
                chaos_seconds=budget - args.kill_every, kill_every=args.kill_every, budget_seconds=budget,
                # Two live workers: a claim must outlive a whole batch in a lane, or the other retakes it.
                claim_timeout=2 if workers == 1 else 25, sabotage=args.sabotage)
    print(f"soak: {plan.posts} posts, {plan.readers} readers, {workers} worker(s), SIGKILL every {plan.kill_every:.0f} s "
          f"for {plan.chaos_seconds:.0f} s, budget {budget:.0f} s, seed {seed}", flush=True)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    report = asyncio.run(soak(plan, seed=seed, database_url=args.database, folder=args.keep,
                              progress=lambda line: print(line, flush=True)))
    print()
    print(table(report))
    print()
    print(summary(report))
    for violation in report.violations:
        print(f"VIOLATION: {violation}")
    print("RESULT", "ok" if report.ok else "FAILED")
    telegram, mastodon, readers = report.channels[0], report.channels[1], report.notifications
    emit("soak.contract", f"soak, {report.kills} SIGKILLs, {report.workers} worker(s): duplicates/missing "
         "Telegram, Mastodon, notifications",
         f"{telegram.duplicates}/{telegram.missing}, {mastodon.duplicates}/{mastodon.missing}"
         + (f", {readers.duplicates}/{readers.missing}" if readers else ""),
         passed=report.ok, database=report.database, posts=plan.posts, readers=plan.readers, minutes=args.minutes,
         kills=report.kills, seed=seed, violations=len(report.violations))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
