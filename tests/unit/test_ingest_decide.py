"""The pure decider: statuses, merges that never lose data, capped backoff."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.posts import NewPost, PostStatus
from bot.ingest.decide import (
    MAX_BACKOFF,
    Action,
    Policy,
    Stored,
    archive_cutoff,
    decide,
    merge,
    merge_duplicates,
    new_status,
    next_poll,
)

NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)
ENTRY = NewPost(source="blog", source_key="k1", title="#IA et #santé", url="https://b.example/1",
                body_html="<p>Un long article complet sur l’IA en santé, avec des détails.</p>",
                summary="Résumé", tags=("IA", "santé"), status=PostStatus.PUBLISHED,
                published_at=NOW - timedelta(days=1))


def test_new_entries_follow_the_policy_and_the_guard() -> None:
    cutoff = archive_cutoff(now=NOW, first_import=True, last_seen_at=None, max_age_days=7)
    assert cutoff == NOW - timedelta(days=7)
    assert new_status(ENTRY, Policy.QUEUE, cutoff) == PostStatus.QUEUED
    assert new_status(ENTRY, Policy.DRAFT, cutoff) == PostStatus.DRAFT
    old = replace(ENTRY, published_at=NOW - timedelta(days=8))
    assert new_status(old, Policy.QUEUE, cutoff) == PostStatus.ARCHIVED
    undated = replace(old, published_at_estimated=True)
    assert new_status(undated, Policy.QUEUE, cutoff) == PostStatus.QUEUED
    assert new_status(replace(old, status=PostStatus.DRAFT), Policy.QUEUE, cutoff) == PostStatus.DRAFT
    assert archive_cutoff(now=NOW, first_import=False, last_seen_at=None, max_age_days=7) is None
    marker = NOW - timedelta(hours=2)
    assert archive_cutoff(now=NOW, first_import=False, last_seen_at=marker, max_age_days=7) == marker


def test_decide_adds_keeps_and_updates() -> None:
    changed = replace(ENTRY, source_key="k2", title="Nouveau titre")
    stored = {"k1": Stored(1, ENTRY.computed_hash()), "k2": Stored(2, "old", ENTRY)}
    fresh = replace(ENTRY, source_key="k3")
    actions = [(d.action, d.stored_id) for d in decide([ENTRY, changed, fresh], stored, policy=Policy.QUEUE, cutoff=None)]
    assert actions == [(Action.UNCHANGED, 1), (Action.UPDATE, 2), (Action.ADD, None)]


def test_an_excerpt_never_replaces_the_full_body() -> None:
    excerpt = replace(ENTRY, body_html="<p>Un long article complet sur l’IA […]</p>", image_url=None, tags=())
    merged = merge(ENTRY, excerpt)
    assert merged.body_html == ENTRY.body_html and merged.tags == ENTRY.tags


def test_repeats_inside_a_feed_are_merged_first_one_winning() -> None:
    repeat = replace(ENTRY, body_html="<p>Doublon</p>", tags=("Psychiatrie",), author="Claire")
    merged = merge_duplicates([ENTRY, repeat])
    assert len(merged) == 1
    assert merged[0].body_html == ENTRY.body_html and merged[0].author == "Claire"
    assert merged[0].tags == ("IA", "santé", "Psychiatrie")


@given(st.dictionaries(st.sampled_from(["title", "url", "author", "summary", "body_html", "image_url"]),
                       st.sampled_from(["", "x", "<p>y</p>"])))
def test_merge_never_blanks_a_field(changes: dict[str, str]) -> None:
    merged = merge(ENTRY, replace(ENTRY, **changes))
    for name in changes:
        if getattr(ENTRY, name):
            assert getattr(merged, name)


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=1, max_value=24 * 60))
def test_backoff_grows_and_is_capped(failures: int, minutes: int) -> None:
    interval = timedelta(minutes=minutes)
    wait = next_poll(NOW, interval, failures) - NOW
    assert wait >= interval
    assert wait <= max(MAX_BACKOFF, interval)
    if failures:
        assert wait >= min(next_poll(NOW, interval, failures - 1) - NOW, max(MAX_BACKOFF, interval))
