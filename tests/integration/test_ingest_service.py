"""import_source / poll against a real database, HTTP through httpx.MockTransport."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.ingest.fetch import make_client
from bot.ingest.service import import_source, poll, poll_due
from bot.settings import FeedSettings
from bot.store.models import Channel, FeedSource, Platform, Post, PostStatus, Publication, PublicationState

FEEDS = Path(__file__).parents[1] / "fixtures" / "feeds"
NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)
WP = (FEEDS / "wordpress_rss20.xml").read_bytes()
URL = "https://esante.example/feed/"


async def _posts(sessions: async_sessionmaker[AsyncSession]) -> list[Post]:
    async with sessions() as session:
        return list((await session.scalars(select(Post).order_by(Post.id))).all())


async def test_import_twice_adds_nothing_the_second_time(sessions, tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(WP)
    first = await import_source(sessions, str(feed), now=NOW, policy="queue")
    assert (first.added, first.archived, first.unchanged, first.errors) == (2, 0, 0, 0)
    posts = await _posts(sessions)
    assert [p.status for p in posts] == [PostStatus.QUEUED, PostStatus.QUEUED]
    therabot = posts[0]
    assert [t.display for t in therabot.tags][:5] == ["Therabot", "chatbot", "IA", "dépression", "anxiété"]
    assert "Psychiatrie" in [t.display for t in therabot.tags]  # the repeated entry was merged in
    again = await import_source(sessions, str(feed), now=NOW + timedelta(hours=1), policy="queue")
    assert again.not_modified and again.added == 0
    forced = await import_source(sessions, str(feed), now=NOW + timedelta(hours=2), policy="queue", force=True)
    assert (forced.added, forced.updated, forced.unchanged) == (0, 0, 2)
    assert len(await _posts(sessions)) == 2


async def test_first_import_archives_old_entries_then_the_last_seen_marker_rules(sessions, tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(WP)
    report = await import_source(sessions, str(feed), now=NOW + timedelta(days=3, hours=12), policy="queue")
    assert (report.added, report.archived) == (1, 1)  # 11 March is more than 7 days before 18 March 0:00
    statuses = {p.source_key: p.status for p in await _posts(sessions)}
    assert statuses == {"https://esante.example/?p=101": PostStatus.QUEUED,
                        "https://esante.example/?p=98": PostStatus.ARCHIVED}
    backdated = WP.replace(b"?p=98<", b"?p=97<")  # a "new" entry dated before what we have seen
    feed.write_bytes(backdated)
    report = await import_source(sessions, str(feed), now=NOW + timedelta(days=4), policy="queue")
    assert (report.added, report.archived) == (0, 1)


async def test_wxr_defaults_to_draft_and_keeps_author_drafts(sessions) -> None:
    report = await import_source(sessions, str(FEEDS / "wxr_export.xml"), now=NOW, name="esante")
    assert (report.kind, report.added) == ("wxr", 2)
    posts = await _posts(sessions)
    assert {p.status for p in posts} == {PostStatus.DRAFT}
    assert posts[0].image_alt == "Un smartphone affiche une conversation avec Therabot"


async def test_changed_content_updates_the_post_and_flags_sent_publications(sessions, tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(WP)
    await import_source(sessions, str(feed), now=NOW, policy="queue", name="blog")
    async with sessions.begin() as session:
        channel = Channel(name="tg", platform=Platform.TELEGRAM, target="@esante")
        session.add(channel)
        await session.flush()
        post_ids = [p.id for p in (await session.scalars(select(Post).order_by(Post.id))).all()]
        session.add_all([
            Publication(post_id=post_ids[0], channel_id=channel.id, state=PublicationState.SENT, idempotency_key="a"),
            Publication(post_id=post_ids[1], channel_id=channel.id, state=PublicationState.SENT, idempotency_key="b"),
        ])
    feed.write_bytes(WP.replace("réduit les symptômes".encode(), "diminue les symptômes".encode()))
    report = await import_source(sessions, str(feed), now=NOW + timedelta(hours=1), policy="queue", name="blog")
    assert (report.updated, report.unchanged) == (1, 1)
    async with sessions() as session:
        publications = {p.post_id: p for p in (await session.scalars(select(Publication))).all()}
    assert publications[post_ids[0]].needs_edit and publications[post_ids[0]].content_version == 2
    assert not publications[post_ids[1]].needs_edit and publications[post_ids[1]].content_version == 1
    assert "diminue" in (await _posts(sessions))[0].body_html


async def test_a_worse_entry_never_blanks_stored_data(sessions, tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(WP)
    await import_source(sessions, str(feed), now=NOW, policy="draft", name="blog")
    before = (await _posts(sessions))[1]
    stripped = WP.replace(b"<content:encoded><![CDATA[<p>Depuis", b"<content:encoded><![CDATA[<p></p><!--Depuis")
    stripped = stripped.replace("Qu’est-ce que cela change&nbsp;? 📋</p>]]>".encode(), b"-->]]>")
    stripped = stripped.replace(b"<description><![CDATA[Depuis le 1er mars, le dossier m", b"<description><![CDATA[<!--")
    stripped = stripped.replace("partagé s’intègre à « Mon espace santé ».]]></description>".encode(), b"-->]]></description>")
    feed.write_bytes(stripped)
    await import_source(sessions, str(feed), now=NOW + timedelta(hours=1), policy="draft", name="blog")
    after = (await _posts(sessions))[1]
    assert after.body_html == before.body_html and after.summary == before.summary
    assert "Mon espace santé" in after.body_html


async def test_enqueue_runs_in_the_import_transaction_for_queued_posts_only(sessions, tmp_path: Path) -> None:
    seen: list[tuple[int, datetime]] = []

    async def enqueue(session: AsyncSession, post: Post, now: datetime) -> None:
        assert session.in_transaction() and post.id is not None
        assert "IA" in [tag.display for tag in post.tags]
        seen.append((post.id, now))

    feed = tmp_path / "feed.xml"
    feed.write_bytes(WP)
    await import_source(sessions, str(feed), now=NOW + timedelta(days=3, hours=12), policy="queue", enqueue=enqueue)
    assert len(seen) == 1  # the archived one is not queued

    async def broken(session: AsyncSession, post: Post, now: datetime) -> None:
        raise RuntimeError("publications could not be created")

    other = tmp_path / "other.xml"
    other.write_bytes((FEEDS / "atom10.xml").read_bytes())
    with pytest.raises(RuntimeError):
        await import_source(sessions, str(other), now=NOW, policy="queue", enqueue=broken)
    assert all(p.source != str(other) for p in await _posts(sessions))  # rolled back together


async def test_a_truncated_feed_imports_what_parsed_and_reports_the_error(sessions) -> None:
    report = await import_source(sessions, str(FEEDS / "truncated.xml"), now=NOW, policy="queue")
    assert report.added == 2 and report.errors == 1 and "line 23" in (report.error or "")
    assert report.skipped == 1 and report.skips == ["entry 3: empty: no title, body or link"]
    assert not report.failed


def _transport(responses: dict[str, httpx.Response], seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        response = responses[str(request.url)]
        if isinstance(response, Exception):
            raise response
        return response
    return httpx.MockTransport(handler)


async def test_poll_uses_conditional_get_and_a_304_changes_nothing(sessions) -> None:
    seen: list[httpx.Request] = []
    feed = FeedSettings(name="esante", url=URL, interval_minutes=30)
    responses = {URL: httpx.Response(200, content=WP, headers={"ETag": '"v1"', "Content-Type": "application/rss+xml"})}
    async with make_client(_transport(responses, seen)) as client:
        first = await poll(sessions, feed, now=NOW, client=client)
        responses[URL] = httpx.Response(304)
        second = await poll(sessions, feed, now=NOW + timedelta(minutes=30), client=client)
    assert first.added == 2 and second.not_modified and second.added == 0
    assert seen[1].headers["If-None-Match"] == '"v1"'
    async with sessions() as session:
        cursor = await session.scalar(select(FeedSource).where(FeedSource.name == "esante"))
    assert cursor.failures == 0 and cursor.next_poll_at == NOW + timedelta(minutes=60)


async def test_redirects_are_followed_up_to_five(sessions) -> None:
    seen: list[httpx.Request] = []
    hops = [f"https://esante.example/r{i}" for i in range(7)]
    responses = {hops[i]: httpx.Response(301, headers={"Location": hops[i + 1]}) for i in range(6)}
    responses[hops[6]] = httpx.Response(200, content=WP)
    async with make_client(_transport(responses, seen)) as client:
        ok = await import_source(sessions, hops[1], now=NOW, client=client, name="five")
        too_many = await import_source(sessions, hops[0], now=NOW, client=client, name="six")
    assert ok.added == 2 and ok.error is None
    assert too_many.failed and "redirects" in too_many.error


@pytest.mark.parametrize(("response", "message"), [
    (httpx.Response(404), "HTTP 404"),
    (httpx.ReadTimeout("slow"), "timed out"),
    (httpx.Response(200, content=b"x" * 2048), "cap"),
    (httpx.Response(200, content=b"<html><body>Pas un flux</body></html>"), "HTML page with no feed link"),
    (httpx.Response(200, content=b"<rss><channel><title>Cass\xc3\xa9</title"), "unclosed token"),
])
async def test_failures_back_off_exponentially_and_are_reported(sessions, response, message) -> None:
    seen: list[httpx.Request] = []
    async with make_client(_transport({URL: response}, seen)) as client:
        reports = []
        for _attempt in range(3):
            reports.append(await import_source(sessions, URL, now=NOW, client=client, name="broken",
                                               max_bytes=1024, interval=timedelta(minutes=30), scheduled=True))
    assert all(r.failed and message in r.error and URL not in r.error for r in reports)
    assert [r.failures for r in reports] == [1, 2, 3]
    assert [r.next_poll_at - NOW for r in reports] == [timedelta(hours=1), timedelta(hours=2), timedelta(hours=4)]


async def test_backoff_is_capped_and_poll_due_skips_sources_not_due(sessions) -> None:
    seen: list[httpx.Request] = []
    good = FeedSettings(name="good", url=URL)
    bad = FeedSettings(name="bad", url="https://down.example/feed")
    responses = {URL: httpx.Response(200, content=WP), bad.url: httpx.Response(503)}
    async with make_client(_transport(responses, seen)) as client:
        for _ in range(12):
            await import_source(sessions, bad.url, now=NOW, client=client, name="bad")
        reports = await poll_due(sessions, [good, bad], now=NOW, client=client)
    assert [r.source for r in reports] == ["good"]
    async with sessions() as session:
        cursor = await session.scalar(select(FeedSource).where(FeedSource.name == "bad"))
    assert cursor.failures == 12 and cursor.next_poll_at == NOW + timedelta(hours=12)
    assert "503" in cursor.last_error


async def test_posts_count_matches_report(sessions) -> None:
    report = await import_source(sessions, str(FEEDS / "atom10.xml"), now=NOW, policy="draft")
    async with sessions() as session:
        count = await session.scalar(select(func.count()).select_from(Post))
    assert count == report.added + report.archived == 2


PAGE = ('<!DOCTYPE html>\n<html lang="fr"><head><title>Santé connectée</title>\n'
        '<link rel="alternate" type="application/rss+xml" title="Articles" href="/feed/">\n'
        '</head><body><h1>Le blog</h1></body></html>').encode()


async def test_an_html_page_leads_to_its_feed_by_autodiscovery(sessions) -> None:
    seen: list[httpx.Request] = []
    responses = {"https://esante.example/": httpx.Response(200, content=PAGE, headers={"content-type": "text/html"}),
                 URL: httpx.Response(200, content=WP)}
    async with make_client(_transport(responses, seen)) as client:
        report = await import_source(sessions, "https://esante.example/", now=NOW, client=client, policy="draft")
    assert report.error is None and report.added == 2 and report.feed_url == URL
    assert [str(r.url) for r in seen] == ["https://esante.example/", URL]


async def test_an_html_page_without_a_feed_link_says_so(sessions, tmp_path: Path) -> None:
    page = tmp_path / "accueil.html"
    page.write_bytes(PAGE.replace(b'rel="alternate"', b'rel="stylesheet"'))
    report = await import_source(sessions, str(page), now=NOW)
    assert report.failed and report.error == "this is an HTML page with no feed link"
    assert report.next_poll_at is None  # a one-off import: nothing will try again


async def test_a_relative_link_from_a_file_resolves_against_the_feeds_self_link(sessions) -> None:
    report = await import_source(sessions, str(FEEDS / "atom_relative_links.xml"), now=NOW, policy="draft",
                                 max_age_days=100000)
    assert report.added == 2 and report.skipped == 0
    assert [p.url for p in await _posts(sessions)] == [
        "https://notes-lemoine.example/blog/2026/03/12/ordonnance-numerique",
        "https://archives.notes-lemoine.example/2025/bilan-2025"]


async def test_the_scheduler_logs_each_poll_and_a_one_off_import_leaves_the_telling_to_its_caller(
        sessions, caplog: pytest.LogCaptureFixture) -> None:
    good, bad = FeedSettings(name="good", url=URL), FeedSettings(name="bad", url="https://down.example/feed")
    responses = {URL: httpx.Response(200, content=WP), bad.url: httpx.Response(503)}
    async with make_client(_transport(responses, [])) as client:
        with caplog.at_level(logging.INFO, logger="bot.ingest"):
            await import_source(sessions, bad.url, now=NOW, client=client)
            assert caplog.records == []  # the import table says it; a log line would say it twice
            await poll_due(sessions, [good, bad], now=NOW + timedelta(days=1), client=client)
    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert [level for level, _ in lines] == ["INFO", "WARNING"]
    assert "HTTP 503" in lines[1][1] and "next attempt at" in lines[1][1]
