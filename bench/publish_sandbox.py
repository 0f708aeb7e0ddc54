"""Shared by the publishing benches: the Telegram sandbox in its own process, a queue to drain.

Run as a script it *is* that process (``python bench/publish_sandbox.py --channels 10``):
``bot.sandbox.TelegramSandbox`` on loopback with the limits given, logging off, printing its
base URL on the first line. Keeping it out of the publishing process means
``time.process_time()`` there is Relais' own CPU (PTB client, worker, formatter, database),
not the emulator's (aiohttp server, TDLib entity parsing).

Imported, it gives the benches what they share: start that process, read its counters, a
fresh migrated database, Relais settings for N channels, French posts queued "now".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select, text

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `bot` importable without PYTHONPATH
    sys.path.insert(0, str(ROOT))

from bot.app import App, open_app  # noqa: E402
from bot.sandbox import DEFAULT_TOKEN, RateLimits, TelegramSandbox  # noqa: E402
from bot.settings import Settings, load_settings  # noqa: E402
from bot.store import db, repository  # noqa: E402
from bot.store.models import PostStatus, Publication, PublicationState  # noqa: E402
from bot.store.repository import NewPost  # noqa: E402

FIRST_USER = 1_000_000  # readers of bench/fanout.py


def channel_chat(index: int) -> str:
    return f"@canal_bench_{index:03d}"


# --- the sandbox process ---------------------------------------------------------------


def _serve_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Telegram sandbox for the publishing benches")
    parser.add_argument("--channels", type=int, required=True, help="channels @canal_bench_000…")
    parser.add_argument("--group-per-minute", type=int, default=None, help="per channel limit (None = off)")
    parser.add_argument("--overall-per-second", type=int, default=None, help="overall limit (None = off)")
    parser.add_argument("--private-per-second", type=int, default=None, help="per reader limit (None = off)")
    parser.add_argument("--users", type=int, default=0, help="readers with ids FIRST_USER… (bench/fanout.py)")
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    limits = RateLimits(group_per_minute=args.group_per_minute, overall_per_second=args.overall_per_second,
                        private_per_second=args.private_per_second)
    async with TelegramSandbox(DEFAULT_TOKEN, limits=limits) as sandbox:
        for index in range(args.channels):
            sandbox.add_channel(channel_chat(index), f"Santé numérique {index}")
        for user in range(FIRST_USER, FIRST_USER + args.users):
            sandbox.add_user(user, "Lectrice")
        print(sandbox.base_url, flush=True)
        await asyncio.Event().wait()


@dataclass
class SandboxProcess:
    process: subprocess.Popen[str]
    base_url: str  # for telegram.Bot(base_url=…)

    @property
    def control_url(self) -> str:
        return self.base_url.removesuffix("/bot") + "/sandbox"

    def cpu_seconds(self) -> float:
        """user + system CPU of the sandbox process so far (Linux /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stats(self) -> dict:
        return httpx.get(f"{self.control_url}/stats", timeout=30).json()

    def arrival_times(self) -> list[datetime]:
        """When the sandbox accepted each message, in order (its own clock)."""
        messages = httpx.get(f"{self.control_url}/messages", timeout=60).json()
        return sorted(datetime.fromisoformat(m["date"]) for m in messages)


@contextlib.contextmanager
def sandbox_process(channels: int, limits: RateLimits | None = None, users: int = 0) -> Iterator[SandboxProcess]:
    limits = limits or RateLimits()
    command = [sys.executable, str(Path(__file__).resolve()), "--channels", str(channels), "--users", str(users)]
    if limits.private_per_second is not None:
        command += ["--private-per-second", str(limits.private_per_second)]
    if limits.group_per_minute is not None:
        command += ["--group-per-minute", str(limits.group_per_minute)]
    if limits.overall_per_second is not None:
        command += ["--overall-per-second", str(limits.overall_per_second)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        if not base_url.startswith("http"):
            raise RuntimeError(f"sandbox process did not start (exit {process.poll()})")
        yield SandboxProcess(process, base_url)
    finally:
        process.terminate()
        process.wait(10)


# --- Relais' side -----------------------------------------------------------------------


async def fresh_database(url: str) -> None:
    """Empty and migrate ``url`` (PostgreSQL: drop the public schema; SQLite: a new file)."""
    engine = db.create_engine(url)
    try:
        if url.startswith("postgresql"):
            async with engine.begin() as conn:
                await conn.execute(text("DROP SCHEMA public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
        await db.upgrade(engine)
    finally:
        await engine.dispose()


def relais_settings(folder: Path, *, base_url: str, channels: int, database_url: str, rate_limits: bool,
                    sweep_seconds: int | None = None) -> Settings:
    """N Telegram channels with an inline-hashtag profile; the schedule's defaults unless given."""
    config = folder / "relais.toml"
    lines = [
        "[telegram]",
        f'api_base_url = "{base_url}"',
        'bot_username = "relais_sandbox_bot"',
        f"rate_limits = {'true' if rate_limits else 'false'}",
        *(["[schedule]", f"sweep_seconds = {sweep_seconds}"] if sweep_seconds else []),
        "[health]",
        "port = 0",  # as in production, health and metrics on; any free port (runs may overlap)
        "[profiles.inline]",
        'hashtag_style = "inline"',
        'utm = "utm_source=telegram&utm_medium=bench"',
    ]
    for index in range(channels):
        lines += ["[[channels]]", f'name = "canal{index:03d}"', 'platform = "telegram"',
                  f'chat = "{channel_chat(index)}"', 'profile = "inline"']
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_settings(config, env={"RELAIS_TELEGRAM__TOKEN": DEFAULT_TOKEN}, database_url=database_url)


def article(number: int) -> NewPost:
    return NewPost(
        source="https://esante.example/feed", source_key=f"https://esante.example/?p={number}",
        title=f"#Therabot n°{number} : un #chatbot #IA qui améliore la #dépression, l’#anxiété…",
        url=f"https://esante.example/therabot-{number}",
        body_html=(
            "<p>Une étude «\u00a0randomisée\u00a0» publiée dans <b>NEJM AI</b> montre des effets nets sur "
            "la #dépression et l’#anxiété\u00a0! 🧠 Les participants ont échangé avec le #chatbot pendant "
            "huit semaines.</p><p>Les auteurs restent prudents\u00a0: l’échantillon est petit, et "
            "<a href=\"https://esante.example/methodo\">la méthode</a> demande à être répliquée. "
            "D’autres équipes testent déjà des outils proches en #santémentale.</p>"
        ),
        tags=("Therabot", "IA", "santé mentale", "dépression"), language="fr", status=PostStatus.QUEUED,
    )


async def queue_posts(app: App, posts: int, now: datetime) -> int:
    """Queue ``posts`` posts "now" on every channel; returns the publications created."""
    created = 0
    async with app.sessions.begin() as session:
        for number in range(posts):
            post = await repository.add_post(session, article(number))
            created += len(await app.enqueue(session, post, now, mode="now"))
    return created


async def count_sent(app: App) -> int:
    async with app.sessions() as session:
        return int(await session.scalar(
            select(func.count()).select_from(Publication).where(Publication.state == PublicationState.SENT)))


async def count_not_sent(app: App) -> dict[str, int]:
    async with app.sessions() as session:
        rows = await session.execute(
            select(Publication.state, func.count()).where(Publication.state != PublicationState.SENT)
            .group_by(Publication.state))
        return {str(state): int(n) for state, n in rows.all()}


async def run_worker_until_sent(app: App, expected: int, worker_id: str, poll: float = 0.05) -> None:
    """``relais run --role worker`` (scheduler sweeps, as in production) until ``expected`` are sent."""
    from bot import runtime

    stop = asyncio.Event()
    task = asyncio.create_task(runtime.run_forever(app, role=runtime.Role.WORKER, stop=stop, worker_id=worker_id))
    try:
        while await count_sent(app) < expected and not task.done():
            await asyncio.sleep(poll)
    finally:
        stop.set()
        await task


async def check_all_sent(app: App, expected: int) -> None:
    sent = await count_sent(app)
    if sent != expected:
        raise SystemExit(f"only {sent} of {expected} publications sent; others: {await count_not_sent(app)}")


@contextlib.asynccontextmanager
async def queued_app(settings: Settings, posts: int) -> AsyncIterator[tuple[App, int]]:
    """A fresh database with ``posts`` posts queued on every channel, and the App over it."""
    await fresh_database(settings.database_url)
    async with open_app(settings) as app:
        yield app, await queue_posts(app, posts, datetime.now(UTC))


def bench_arguments(doc: str | None, add: Callable[[argparse.ArgumentParser], None]) -> argparse.Namespace:
    """A bench's command line: its own options (``add``) and ``--database``."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    add(parser)
    parser.add_argument("--database", default=None, help="PostgreSQL URL (emptied!); default: a temporary SQLite")
    return parser.parse_args()


def run_bench(main: Callable[[argparse.Namespace], Awaitable[None]], args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # "skipped: max instances" while a sweep runs
    asyncio.run(main(args))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(_serve_arguments(None)))
