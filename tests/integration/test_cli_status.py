"""`relais status`: the same figures as /metrics, as text and as JSON."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from bot.store import db
from tests.integration.test_health import queue_three


def populate(database_url: str) -> None:
    """The rows, written in their own event loop (the command runs its own with asyncio.run)."""

    async def write() -> None:
        engine = db.create_engine(database_url)
        try:
            await db.upgrade(engine)
            await queue_three(db.session_factory(engine), datetime.now(UTC))
        finally:
            await engine.dispose()

    asyncio.run(write())


def test_status_text_and_json(relais, database_url) -> None:
    populate(database_url)

    code, out, _ = relais("status", "--json")
    assert code == 0
    figures = json.loads(out)
    assert figures["queue_depth"] == {"mastodon": 1, "readers": 0, "telegram": 1}
    assert figures["publications"] == {"mastodon": {"retry": 1}, "telegram": {"pending": 1, "sent": 1}}
    assert 600 <= figures["oldest_due_seconds"] < 3600  # the retry was due ten minutes before the call
    assert figures["platforms"]["telegram"]["last_success"] and figures["platforms"]["mastodon"]["last_failure"]
    assert figures["platforms"]["mastodon"]["last_success"] is None
    assert figures["failing_feeds"] == [{"name": "blog", "failures": 2, "last_error": "HTTP 503",
                                         "next_poll_at": figures["failing_feeds"][0]["next_poll_at"]}]

    code, out, _ = relais("status")
    assert code == 0
    rows = [[cell.strip() for cell in line.strip("│").split("│")] for line in out.splitlines() if line.startswith("│")]
    assert rows == [["mastodon", "1", "0", "1", "0"], ["readers", "0", "0", "0", "0"], ["telegram", "1", "1", "0", "1"]]
    assert "Oldest due publication waiting: 0 h" not in out and "Oldest due publication waiting: 10 min" in out
    assert "telegram: last success 20" in out and "mastodon: last success never, last failure 20" in out
    assert "feed blog: 2 failure(s) in a row" in out and "HTTP 503" in out


def test_status_on_an_empty_queue(relais) -> None:
    assert relais("db", "upgrade")[0] == 0
    code, out, _ = relais("status")
    assert code == 0
    assert "nothing due is waiting" in out and "Feeds: none failing" in out
    assert json.loads(relais("status", "--json")[1])["queue_depth"] == {"readers": 0}


def test_status_refuses_a_database_behind_head(relais) -> None:
    code, _, err = relais("status")
    assert code == 1 and "relais db upgrade" in err
