"""Import a generated 10,000-entry feed into a fresh SQLite database.

Prints entries/s and two ratios measured in the same run:
- whole import / bare ``feedparser.parse`` of the same bytes (target ≤ 2×);
- re-import of the unchanged feed / first import (target ≤ 0.5×), both with the digest
  shortcut (the default: same bytes = nothing to do) and forced (``--force``: full parse and
  per-entry hash comparison), so both figures are visible.

Run: .venv/bin/python bench/import_feed.py [--entries N]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import feedparser

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from report import at_most, emit

from bot.ingest.markdown import convert_all
from bot.ingest.parse import parse_feed
from bot.ingest.service import import_source
from bot.store import db

NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)
TOPICS = ["IA", "télémédecine", "santémentale", "diabète", "DMP", "objetsconnectés", "hôpital", "prévention"]


def generate(count: int) -> bytes:
    items = []
    for i in range(count):
        a, b = TOPICS[i % len(TOPICS)], TOPICS[(i * 3 + 1) % len(TOPICS)]
        date = format_datetime(NOW - timedelta(minutes=10 * i))
        items.append(f"""<item>
<title>#{a} : l’étude n°{i} sur la #{b}, d’après l’équipe «\u00a0e-santé\u00a0»</title>
<link>https://esante.example/{i}/</link>
<dc:creator><![CDATA[Claire Dubois]]></dc:creator>
<pubDate>{date}</pubDate>
<category><![CDATA[Santé connectée]]></category><category><![CDATA[{a}]]></category>
<guid isPermaLink="false">https://esante.example/?p={i}</guid>
<description><![CDATA[Résumé de l’article {i}\u00a0: ce qu’il faut retenir. […]]]></description>
<content:encoded><![CDATA[<p>Article {i}\u00a0: une étude sur la #{a} et l’#{b} 🩺.</p>
<p><img src="/wp-content/uploads/{i}.jpg" alt="Illustration {i}"> Les résultats sont <strong>encourageants</strong>.</p>
<ul><li>Premier point</li><li>Second point avec <a href="https://esante.example/lien/{i}">un lien</a></li></ul>]]></content:encoded>
</item>""")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Santé connectée</title><link>https://esante.example</link><language>fr-FR</language>
{''.join(items)}
</channel></rss>""".encode()


async def run(count: int) -> None:
    data = generate(count)
    with tempfile.TemporaryDirectory() as folder:
        feed = Path(folder) / "feed.xml"
        feed.write_bytes(data)
        bare_seconds = float("inf")
        for _ in range(2):  # best of two: the host may be busy
            started = time.perf_counter()
            bare = feedparser.parse(io.BytesIO(data))
            bare_seconds = min(bare_seconds, time.perf_counter() - started)
        assert len(bare.entries) == count
        bodies = [e.body_html for e in parse_feed(data, source="b", now=NOW, markdown=False).entries]
        started = time.perf_counter()
        convert_all(bodies)
        markdown_seconds = time.perf_counter() - started

        engine = db.create_engine(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
        await db.upgrade(engine)
        sessions = db.session_factory(engine)
        timings = {}
        for label, now, force in (("first import", NOW, False), ("re-import, unchanged", NOW + timedelta(hours=1), False),
                                  ("re-import, unchanged, --force", NOW + timedelta(hours=2), True)):
            started = time.perf_counter()
            report = await import_source(sessions, str(feed), now=now, policy="queue", force=force,
                                         max_age_days=3650)
            timings[label] = (time.perf_counter() - started, report)
        await engine.dispose()

    first = timings["first import"][0]
    print(f"{count} entries, {len(data) / 1e6:.1f} MB, SQLite")
    print(f"{'step':34} {'seconds':>8} {'entries/s':>10} {'ratio':>22}")
    print(f"{'bare feedparser.parse':34} {bare_seconds:8.2f} {count / bare_seconds:10.0f} {'1.00 (baseline)':>22}")
    for label, (seconds, report) in timings.items():
        ratio = (f"{seconds / bare_seconds:.2f}× parse" if label == "first import"
                 else f"{seconds / first:.3f}× first import")
        counts = f"added={report.added} unchanged={report.unchanged} not_modified={report.not_modified}"
        print(f"{label:34} {seconds:8.2f} {count / seconds:10.0f} {ratio:>22}   {counts}")
    print(f"{'  of which markdownify (alone)':34} {markdown_seconds:8.2f} {count / markdown_seconds:10.0f} "
          f"{markdown_seconds / bare_seconds:>15.2f}× parse")
    print("targets: first import ≤ 2× parse; re-import ≤ 0.5× first import")
    emit("import.first", f"first import of {count:,} entries ÷ bare feedparser.parse", first, "s",
         baseline=bare_seconds, baseline_label="bare feedparser.parse, best of 2",
         target=at_most(1, on="ratio", text="≤ 1× (issue 12)"), entries=count)
    for figure, step in (("import.reimport", "re-import, unchanged"), ("import.reimport_force", "re-import, unchanged, --force")):
        emit(figure, f"{step} ÷ first import", timings[step][0], "s", baseline=first, baseline_label="first import",
             target=at_most(0.5, on="ratio"), entries=count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    asyncio.run(run(parser.parse_args().entries))


if __name__ == "__main__":
    main()
