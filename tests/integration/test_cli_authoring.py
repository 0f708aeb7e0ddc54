"""The author's command line through the real entry point: publish that moves a queued post,
unschedule, retry, post edit, history, feeds, stats and the long queue's --limit."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import PermanentError
from bot.publish import outbox
from bot.store import db, repository
from bot.store.models import Delivery, DeliveryState, Follow, Subscriber
from tests.integration.test_cli_queue import CONFIG as QUEUE_CONFIG  # the same two channels

T = TypeVar("T")
FEEDS = Path(__file__).parents[1] / "fixtures" / "feeds"
CONFIG = QUEUE_CONFIG + """
[[feeds]]
name = "esante-blog"
url = "https://esante.example/feed/"
interval_minutes = 15
"""


@pytest.fixture
def relais(relais, tmp_path: Path):  # conftest's `relais …`, with this file's configuration
    config = tmp_path / "relais.toml"
    config.write_text(CONFIG, encoding="utf-8")

    def call(*args: str) -> tuple[int, str, str]:
        return relais("--config", str(config), *args)

    assert call("db", "upgrade")[0] == 0
    assert call("post", "add", "#Therabot : un #chatbot qui écoute", "--tag", "IA")[0] == 0
    assert call("post", "add", "L’#anxiété « au quotidien »", "--tag", "Santé mentale")[0] == 0
    return call


def on_database(database_url: str, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    """Run ``work`` with sessions on the test database, outside the CLI (standing in for the worker)."""
    async def run() -> T:
        engine = db.create_engine(database_url)
        try:
            return await work(db.session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def worker_pass(database_url: str, *, error: Exception | None = None, remote_url: str | None = None) -> list[int]:
    """Claim every due publication and record it sent (message ids 100, 101…) or failed with ``error``."""
    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[int]:
        now = datetime.now(UTC)
        async with sessions.begin() as session:
            claimed = await outbox.claim_due(session, now, "worker-1", 50)
            for n, publication in enumerate(claimed):
                if error is not None:
                    await outbox.fail(session, publication.id, error, now, worker_id="worker-1")
                else:
                    await outbox.complete(session, publication.id, remote_id=str(100 + n), remote_url=remote_url,
                                          sent_version=1, now=now)
            return [p.id for p in claimed]

    return on_database(database_url, work)


def queue_json(relais, *args: str) -> dict[str, dict[str, Any]]:
    code, out, _ = relais("queue", "--json", *args)
    assert code == 0
    return {c["channel"]: c for c in json.loads(out)}


def flat(text: str) -> str:
    return " ".join(text.split())


# --- publish moves, unschedule ---------------------------------------------------------------------

def test_publish_moves_a_queued_post_with_at_next_and_now(relais) -> None:
    code, out, _ = relais("publish", "1")
    assert code == 0 and "queued on esante-telegram for " in out
    code, out, _ = relais("publish", "1", "--at", "2036-12-01 09:00")
    assert code == 0
    assert "moved on esante-telegram from " in flat(out) and " to 2036-12-01 09:00 CET (08:00 UTC)" in flat(out)
    [entry] = queue_json(relais)["esante-telegram"]["queue"]
    assert entry["due_at"] == "2036-12-01T08:00:00+00:00"
    code, out, _ = relais("publish", "1", "--next")
    assert code == 0 and "moved on esante-telegram from 2036-12-01 09:00 CET to " in flat(out)
    [entry] = queue_json(relais)["esante-telegram"]["queue"]
    assert datetime.fromisoformat(entry["due_local"]).strftime("%H:%M") in {"09:00", "18:00"}
    code, out, _ = relais("publish", "1", "--now")
    assert code == 0 and "moved on esante-telegram from " in out
    [entry] = queue_json(relais)["esante-telegram"]["queue"]
    assert datetime.fromisoformat(entry["due_at"]) <= datetime.now(UTC)  # due at once, still one row
    code, out, _ = relais("publish", "1")
    assert code == 0 and "already queued on esante-telegram" in out  # no flag: left where it is


def test_publish_moving_refuses_a_time_in_the_past_and_keeps_the_slot(relais) -> None:
    assert relais("publish", "1", "--at", "2036-12-01 09:00")[0] == 0
    code, _, err = relais("publish", "1", "--at", "2020-01-01 09:00")
    assert code == 2 and "is in the past" in flat(err)
    assert queue_json(relais)["esante-telegram"]["queue"][0]["due_at"] == "2036-12-01T08:00:00+00:00"


def test_unschedule_withdraws_a_post_from_every_queue(relais) -> None:
    assert relais("publish", "2")[0] == 0
    code, out, _ = relais("unschedule", "2")
    assert code == 0
    assert "withdrawn from esante-telegram (was due " in out and "withdrawn from sante-mentale" in out
    assert all(c["queue"] == [] for c in queue_json(relais).values())
    assert json.loads(relais("post", "show", "2", "--json")[1])["status"] == "draft"
    code, _, err = relais("unschedule", "2")
    assert code == 1 and "Post 2 was on no queue" in err
    code, _, err = relais("unschedule", "99")
    assert code == 1 and "post 99 does not exist" in err


# --- retry ------------------------------------------------------------------------------------------

def test_retry_sends_a_dead_publication_again(relais, database_url: str) -> None:
    assert relais("publish", "1", "--now")[0] == 0
    [dead] = worker_pass(database_url, error=PermanentError("Forbidden: bot was kicked from the channel chat"))
    code, out, _ = relais("retry", "1")
    assert code == 0 and "sent again on esante-telegram" in out and "1 publication(s) will be sent again" in out
    code, _, err = relais("retry", "1")
    assert code == 1 and "Post 1 has no dead publication to send again." in err
    assert worker_pass(database_url) == [dead]  # the worker takes it again, same row


def test_retry_all_dead_reports_per_post(relais, database_url: str) -> None:
    assert relais("publish", "1", "--now")[0] == 0
    assert relais("publish", "2", "--now")[0] == 0
    assert len(worker_pass(database_url, error=PermanentError("Bad Request: chat not found"))) == 3
    code, out, _ = relais("retry", "--all-dead", "--json")
    assert code == 0
    assert [(r["post_id"], sorted((c["channel"], c["outcome"]) for c in r["channels"])) for r in json.loads(out)] == [
        (1, [("esante-telegram", "retried")]),
        (2, [("esante-telegram", "retried"), ("sante-mentale", "retried")]),
    ]
    code, _, err = relais("retry", "--all-dead")
    assert code == 1 and "No dead publication to send again." in err


@pytest.mark.parametrize("args", [("retry",), ("retry", "1", "--all-dead")])
def test_retry_needs_one_post_or_all_dead(relais, args: tuple[str, ...]) -> None:
    code, _, err = relais(*args)
    assert code == 2 and "give a post id or --all-dead" in err


# --- post edit --------------------------------------------------------------------------------------

def test_post_edit_says_which_sent_messages_will_be_edited(relais, database_url: str) -> None:
    code, out, _ = relais("post", "edit", "2", "--title", "L’#anxiété, « au quotidien »")
    assert code == 0 and "nothing sent yet" in out
    assert relais("publish", "2", "--now")[0] == 0
    assert len(worker_pass(database_url)) == 2
    code, out, _ = relais("post", "edit", "2", "--body", "<p>Un texte sur la #santé</p>", "--tag", "Santé mentale")
    assert code == 0
    assert "the message sent on esante-telegram, sante-mentale will be edited" in flat(out)
    assert "tags: #anxiété #Santé mentale #santé" in flat(out)
    code, out, _ = relais("post", "edit", "2", "--tag", "Santé mentale")
    assert code == 0 and "Post 2 unchanged." in out


# --- history ----------------------------------------------------------------------------------------

def test_history_shows_what_was_sent_with_links(relais, database_url: str) -> None:
    assert relais("publish", "2", "--now")[0] == 0
    worker_pass(database_url)
    assert relais("publish", "1", "--now")[0] == 0
    worker_pass(database_url, remote_url="https://t.me/esante_demo/100")
    code, out, _ = relais("history", "--json")
    rows = json.loads(out)
    assert [(r["post_id"], r["channel"], r["link"]) for r in rows] == [
        (1, "esante-telegram", "https://t.me/esante_demo/100"),
        (2, "sante-mentale", "https://t.me/sante_mentale_fr/101"),
        (2, "esante-telegram", "https://t.me/esante_demo/100"),
    ]
    assert datetime.fromisoformat(rows[0]["sent_at"]) >= datetime.fromisoformat(rows[-1]["sent_at"])
    code, out, _ = relais("history", "--channel", "sante-mentale")
    assert code == 0 and "https://t.me/sante_mentale_fr/101" in out and "L’#anxiété" in out
    assert "esante_demo" not in out
    code, out, _ = relais("history", "--post", "1", "--limit", "1", "--json")
    assert [r["post_id"] for r in json.loads(out)] == [1]


@pytest.mark.parametrize(("args", "code", "message"), [
    (("history", "--limit", "0"), 2, "--limit must be between 1 and 1000"),
    (("history", "--channel", "nope"), 1, "unknown channel 'nope'"),
    (("history", "--post", "99"), 1, "post 99 does not exist"),
])
def test_history_errors(relais, args: tuple[str, ...], code: int, message: str) -> None:
    result, _, err = relais(*args)
    assert result == code and message in flat(err)


def test_history_before_anything_was_sent(relais) -> None:
    code, out, _ = relais("history")
    assert code == 0 and "Nothing sent yet." in out


# --- feeds ------------------------------------------------------------------------------------------

def test_feeds_lists_configured_and_imported_sources(relais) -> None:
    code, out, _ = relais("feeds", "--json")
    assert code == 0
    assert json.loads(out) == [{"name": "esante-blog", "url": "https://esante.example/feed/", "configured": True,
                                "interval_minutes": 15, "last_attempt": None, "last_success": None,
                                "last_error": None, "failures": 0, "next_attempt": None, "last_seen_at": None}]
    assert relais("import", str(FEEDS / "atom10.xml"), "--max-age-days", "3650")[0] == 0
    code, out, _ = relais("feeds", "--json")
    blog, imported = json.loads(out)
    assert blog["name"] == "esante-blog" and blog["last_attempt"] is None  # an import is no poll
    assert (imported["configured"], imported["failures"], imported["next_attempt"]) == (False, 0, None)
    assert imported["url"].endswith("atom10.xml") and imported["last_attempt"] is not None
    code, out, _ = relais("feeds")
    assert code == 0 and "esante-blog" in out and "never" in out and "next poll" in out
    assert "not polled" in out


# --- stats ------------------------------------------------------------------------------------------

def add_reader(database_url: str, user_id: int, tags: list[str], post_id: int) -> None:
    """A reader following ``tags`` who was notified of ``post_id`` just now."""
    async def work(sessions: async_sessionmaker[AsyncSession]) -> None:
        now = datetime.now(UTC)
        async with sessions.begin() as session:
            reader = Subscriber(telegram_user_id=user_id, created_at=now)
            session.add(reader)
            await session.flush()
            for tag in (await repository.tags_by_key(session, tags)).values():
                session.add(Follow(subscriber_id=reader.id, tag_id=tag.id))
            session.add(Delivery(post_id=post_id, subscriber_id=reader.id, state=DeliveryState.SENT,
                                 created_at=now, sent_at=now))
            assert await session.scalar(select(Subscriber.id).where(Subscriber.telegram_user_id == user_id))

    on_database(database_url, work)


def test_stats_count_a_known_week_and_draw_the_chart(relais, database_url: str, tmp_path: Path) -> None:
    assert relais("publish", "2", "--now")[0] == 0  # on both channels
    assert relais("publish", "1")[0] == 0  # waiting for a slot
    worker_pass(database_url)
    add_reader(database_url, 501, ["IA", "Santé mentale"], post_id=2)
    add_reader(database_url, 502, ["IA"], post_id=2)
    chart = tmp_path / "stats.png"
    code, out, _ = relais("stats", "--json", "--days", "7", "--chart", str(chart))
    assert code == 0
    result = json.loads(out)
    week = next(w for w in result["windows"] if w["days"] == 7)
    assert week == {"days": 7, "posts_published": 1, "publications_sent": 2, "publications_dead": 0,
                    "deliveries_sent": 2, "deliveries_failed": 0, "new_readers": 2}
    assert (result["queue_length"], result["queued_posts"], result["readers_active"]) == (1, 1, 2)
    assert result["top_tags"] == [{"tag": "IA", "followers": 2}, {"tag": "Santé mentale", "followers": 1}]
    assert len(result["days"]) == 7 and result["days"][-1]["publications_sent"] == 2
    with Image.open(io.BytesIO(chart.read_bytes())) as image:
        assert image.format == "PNG" and image.size == (800, 500)
    code, out, _ = relais("stats")
    assert code == 0 and "last 7 days" in out and "last 30 days" in out and "#IA (2)" in out


@pytest.mark.parametrize(("args", "message"), [
    (("stats", "--days", "14"), "--days must be 7 or 30"),
    (("stats", "--chart", "/nonexistent-folder/stats.png"), "the folder /nonexistent-folder does not exist"),
])
def test_stats_errors(relais, args: tuple[str, ...], message: str) -> None:
    code, _, err = relais(*args)
    assert code == 2 and message in flat(err)


def test_the_command_line_loads_no_plotting_library() -> None:
    probe = "import sys, bot.cli; print(sorted(m for m in sys.modules if m.split('.')[0] in {'matplotlib', 'babel'}))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# --- the long queue ---------------------------------------------------------------------------------

def test_queue_limit_shows_the_first_entries_and_the_total(relais) -> None:
    for n in range(3):
        assert relais("post", "add", f"Article n°{n} sur l’#IA", "--status", "queued")[0] == 0
    listing = queue_json(relais, "--limit", "2", "--channel", "esante-telegram")
    assert list(listing) == ["esante-telegram"]
    assert listing["esante-telegram"]["total"] == 3
    assert [e["position"] for e in listing["esante-telegram"]["queue"]] == [1, 2]
    code, out, _ = relais("queue", "--limit", "2")
    assert code == 0 and "the first 2 of 3" in flat(out)
    code, _, err = relais("queue", "--limit", "0")
    assert code == 2 and "--limit" in err
