"""`relais import` with the queue policy creates publications in the same transaction."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.store import db
from bot.store.models import Post, PostStatus, Publication, PublicationState

FEED = Path(__file__).parents[1] / "fixtures" / "feeds" / "wordpress_rss20.xml"


async def test_imported_entries_take_the_next_free_slots(tmp_path: Path, database_url: str, engine,
                                                         capsys: pytest.CaptureFixture) -> None:
    config = tmp_path / "relais.toml"
    config.write_text('[[channels]]\nname = "tg"\nplatform = "telegram"\nchat = "@esante_demo"\n'
                      'slots = ["09:00", "18:00"]\n', encoding="utf-8")
    args = ["--config", str(config), "--database", database_url]
    code = await _in_thread(main, [*args, "import", str(FEED), "--policy", "queue", "--max-age-days", "100000"])
    out, err = capsys.readouterr()
    assert code == 0, (out, err)
    # The table says it all: no log line per queued post, no summary line on top of it (issue 11 item 9).
    assert "queued on channel" not in err and "added (" not in err
    async with db.session_factory(engine)() as session:
        posts = (await session.scalars(select(Post))).all()
        publications = (await session.scalars(select(Publication).order_by(Publication.due_at))).all()
    assert posts and all(p.status is PostStatus.QUEUED for p in posts)
    assert len(publications) == len(posts)
    assert all(p.state is PublicationState.PENDING and p.channel.name == "tg" for p in publications)
    due = [p.due_at for p in publications]
    assert len(set(due)) == len(due), "two posts share a slot"


async def _in_thread(func, *args):
    import asyncio

    return await asyncio.to_thread(func, *args)
