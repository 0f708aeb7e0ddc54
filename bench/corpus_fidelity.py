"""Fidelity scan of the shared corpus: how many parsed entries carry cp1252 mojibake,
a link that is not absolute, or an empty paragraph — issue 11 items 10, 12, 13.

    .venv/bin/python bench/corpus_fidelity.py [CORPUS_DIR]

Not a speed figure: a count over every file of ``feeds/`` and ``wxr/``, printed as a table.
"""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from report import at_most, emit

from bot.ingest.parse import parse_feed

# "Ã©", "Ã¨", "â€™", "Â " …: UTF-8 bytes read as windows-1252.
MOJIBAKE = re.compile("Ã[\u00a0-\u00bf\u2018-\u203a\u20ac\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2122]"
                      "|â€|Â[\u00a0-\u00bf]")
EMPTY_PARAGRAPH = re.compile(r"<p\b[^>]*>(?:\s|&nbsp;|&#160;|\u00a0|<br\s*/?>)*</p>")
NOW = datetime(2026, 3, 15, tzinfo=UTC)


def main() -> None:
    here = Path(__file__).resolve().parents[1]
    candidates = [Path(sys.argv[1])] if len(sys.argv) > 1 else [here.parent / "shared" / "corpus",
                                                                here.parent.parent / "shared" / "corpus"]
    root = next((c for c in candidates if c.is_dir()), candidates[0])
    files = sorted(p for folder in ("feeds", "wxr") for p in (root / folder).rglob("*") if p.is_file())
    totals = {"files": 0, "entries": 0, "mojibake": 0, "no_link": 0, "empty_p": 0, "skipped": 0}
    for path in files:
        parsed = parse_feed(path.read_bytes(), source=str(path), now=NOW, markdown=False)
        totals["files"] += 1
        totals["entries"] += len(parsed.entries)
        totals["skipped"] += parsed.skipped
        for entry in parsed.entries:
            text = " ".join((entry.title, entry.summary, entry.body_html, entry.author or ""))
            if MOJIBAKE.search(text):
                totals["mojibake"] += 1
                print(f"mojibake: {path.name}: {entry.title[:60]!r}")
            totals["no_link"] += entry.url is None
            totals["empty_p"] += bool(EMPTY_PARAGRAPH.search(entry.body_html))
    for name, count in totals.items():
        print(f"{name:10} {count}")
    scanned = {"files": totals["files"], "entries": totals["entries"]}
    emit("corpus.mojibake", "corpus entries with cp1252 mojibake", totals["mojibake"], "entries", target=at_most(0),
         **scanned)
    emit("corpus.empty_paragraph", "corpus entries with an empty paragraph", totals["empty_p"], "entries",
         target=at_most(0), **scanned)
    emit("corpus.no_link", "corpus entries without an absolute link (kept, no link)", totals["no_link"], "entries",
         **scanned)


if __name__ == "__main__":
    main()
