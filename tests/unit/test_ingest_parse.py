"""parse_feed on the project's fixtures (golden files next to them) and on real-world feeds."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.ingest.decide import merge_duplicates
from bot.ingest.parse import parse_feed

FEEDS = Path(__file__).parents[1] / "fixtures" / "feeds"
CORPUS = Path(__file__).parents[2] / ".." / "shared" / "corpus"
NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)
FIXTURES = sorted(FEEDS.glob("*.xml"))


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_fixture_parses_to_its_expected_results(path: Path) -> None:
    expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
    parsed = parse_feed(path.read_bytes(), source="fixture", now=NOW)
    assert (parsed.kind, parsed.version, parsed.title, parsed.language) == (
        expected["kind"], expected["version"], expected["title"], expected["language"])
    assert (parsed.error is not None) == expected["has_error"]
    assert parsed.skipped == expected["skipped"]
    got = [
        {"source_key": e.source_key, "title": e.title, "url": e.url, "author": e.author, "language": e.language,
         "tags": list(e.tags), "status": str(e.status), "published_at": e.published_at.isoformat(),
         "published_at_estimated": e.published_at_estimated, "image_url": e.image_url, "image_alt": e.image_alt,
         "summary": e.summary}
        for e in parsed.entries
    ]
    assert got == expected["entries"]
    assert len(merge_duplicates(parsed.entries)) == expected["merged_entries"]
    merged = merge_duplicates(parsed.entries)
    bodies = "\n".join(e.body_html for e in merged)
    for needle in expected["body_contains"]:
        assert needle in bodies
    for needle in expected["body_excludes"]:
        assert needle not in bodies
        assert all(needle not in e.body_markdown for e in merged)


def test_every_fixture_has_its_expected_results() -> None:
    assert FIXTURES and all(p.with_suffix(".expected.json").exists() for p in FIXTURES)


def test_markdown_follows_the_sanitized_body() -> None:
    entry = parse_feed((FEEDS / "rss10_rdf.xml").read_bytes(), source="s", now=NOW).entries[0]
    assert "[la semaine dernière](https://veille.example/2026/semaine-09)" in entry.body_markdown


def test_bytes_are_never_taken_for_a_file_name_or_url(tmp_path: Path) -> None:
    secret = tmp_path / "secret.xml"
    secret.write_bytes((FEEDS / "rss091.xml").read_bytes())
    parsed = parse_feed(str(secret).encode(), source="s", now=NOW)
    assert parsed.entries == () and parsed.error


def test_a_truncated_wxr_keeps_the_items_before_the_damage() -> None:
    data = (FEEDS / "wxr_export.xml").read_bytes()
    cut = data[: data.index(b"Brouillon")]
    parsed = parse_feed(cut, source="s", now=NOW)
    assert parsed.kind == "wxr" and parsed.error
    assert [e.source_key for e in parsed.entries] == ["https://esante.example/?p=101"]


def test_a_wxr_declaring_entities_is_refused() -> None:
    data = (FEEDS / "wxr_export.xml").read_bytes().replace(
        b"<rss", b'<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">]>\n<rss', 1)
    parsed = parse_feed(data, source="s", now=NOW)
    assert parsed.entries == () and "entity" in (parsed.error or "")


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=300).map(lambda t: f"<rss><channel><item>{t}".encode()))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    parsed = parse_feed(data, source="s", now=NOW)
    # whatever came in: entries are well-formed and keyed, a broken document says why
    assert all(entry.source_key and isinstance(entry.title, str) and entry.published_at is not None
               for entry in parsed.entries)
    assert parsed.error is None or parsed.error.strip()


CORPUS_FILES = sorted(p for folder in ("feeds", "wxr") for p in (CORPUS / folder).rglob("*")
                      if p.is_file() and p.suffix != ".json") if CORPUS.exists() else []


@pytest.mark.skipif(not CORPUS_FILES, reason="shared corpus not present")
def test_every_real_world_feed_parses_without_crashing() -> None:
    failures = []
    for path in CORPUS_FILES:
        try:
            parsed = parse_feed(path.read_bytes(), source="corpus", now=NOW)
        except Exception as exc:
            failures.append(f"{path.name}: {exc!r}")
            continue
        for entry in parsed.entries:
            assert "<script" not in entry.body_html.lower(), path.name
    assert not failures


def test_response_headers_give_the_charset_and_the_base_for_relative_links() -> None:
    data = ('<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>Les « #soins » à '
            'domicile</title><link>/soins</link><guid>g1</guid><description>&lt;img src="a.png"&gt;</description>'
            '</item></channel></rss>').encode("cp1252")
    headers = {"content-type": "application/rss+xml; charset=windows-1252",
               "content-location": "https://soins.example/feed/"}
    entry = parse_feed(data, source="s", headers=headers, now=NOW).entries[0]
    assert entry.title == "Les « #soins » à domicile" and entry.tags == ("soins",)
    assert entry.url == "https://soins.example/soins"
    assert entry.image_url == "https://soins.example/feed/a.png"


def test_titles_keep_the_non_breaking_spaces_of_french_typography() -> None:
    from bot.ingest.html import inline_text

    assert inline_text("Le «\u00a0<b>#télésoin</b>\u00a0»\n   arrive\u00a0!  ") == "Le «\u00a0#télésoin\u00a0» arrive\u00a0!"
