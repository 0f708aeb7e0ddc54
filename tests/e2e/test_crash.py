"""Crash recovery: a worker killed mid-send loses nothing and duplicates only what was in flight.

The fast variant of ``bench/crash_test.py`` (same harness: the real `relais run --role worker`
in a subprocess, SIGKILLed while sends are slowed down in the sandbox and mastodon_mock),
plus the regression test for the claim timeout the crash test revealed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import CHANNEL, statuses
from sqlalchemy import select
from test_run import queue_now

from bench.crash_test import CrashReport, PlatformCount, ReaderCount, contract_violations, crash_test, table
from bot import runtime
from bot.app import open_app
from bot.publish import outbox
from bot.settings import ScheduleSettings
from bot.store.models import Publication, PublicationState


async def test_killed_workers_lose_nothing_and_duplicate_only_the_send_in_flight(database_url, tmp_path) -> None:
    report = await crash_test(kills=2, posts=4, seed=5, database_url=database_url, folder=tmp_path,
                              kill_window=(0.2, 1.2), final_timeout=60,
                              transient_errors=0)  # a 5xx means a 15 s backoff: see test_outbox_states
    assert report.violations == [], table(report)
    assert report.mastodon.messages == 4 and report.telegram.present == 4
    assert report.states == {"sent": 8}


async def test_a_worker_killed_during_a_fan_out_misses_no_reader_and_repeats_only_its_unwritten_batch(
        database_url, tmp_path) -> None:
    report = await crash_test(kills=1, posts=1, seed=11, database_url=database_url, folder=tmp_path,
                              kill_window=(0.5, 2.0), final_timeout=60, transient_errors=0, readers=60)
    assert report.violations == [], table(report)
    readers = report.deliveries
    assert readers is not None and (readers.notified, readers.missing) == (60, 0)
    assert readers.most_per_reader <= 2 and report.delivery_states == {"sent": 60}


def test_the_delivery_bound_check_catches_missed_readers_and_repeats() -> None:
    base = CrashReport(1, "sqlite", 1, PlatformCount("telegram", 1, 1, 1, 0, 0, 0, 0, 1),
                       PlatformCount("mastodon", 1, 1, 1, 0, 0, 0, 0, 1), {"sent": 2}, 0, 1.0,
                       deliveries=ReaderCount(10, 9, 12, 3, 3, 1), delivery_states={"sent": 9, "sending": 1})
    found = " | ".join(contract_violations(base, 1))
    assert "1 readers never notified" in found and "a reader got 3 messages for 1 kills" in found
    assert "delivery states" in found


def test_the_contract_check_catches_losses_and_extra_duplicates() -> None:
    def platform(name: str, messages: int, present: int, unanswered: int, most: int) -> PlatformCount:
        return PlatformCount(name, 4, present, messages, messages - present, 4 - present, unanswered, most, 2)

    good = CrashReport(1, "sqlite", 2, platform("telegram", 5, 4, 1, 1), platform("mastodon", 4, 4, 1, 1),
                       {"sent": 8}, 0, 1.0)
    assert contract_violations(good, 4) == []
    lost = CrashReport(1, "sqlite", 2, platform("telegram", 3, 3, 0, 0), platform("mastodon", 5, 4, 1, 1),
                       {"sent": 7, "sending": 1}, 0, 1.0)
    found = " | ".join(contract_violations(lost, 4))
    assert "Telegram: 1 posts lost" in found and "Mastodon: 0 missing, 1 duplicated" in found
    assert "sending" in found
    too_many = CrashReport(1, "sqlite", 2, platform("telegram", 7, 4, 3, 2), platform("mastodon", 4, 4, 0, 0),
                           {"sent": 8}, 1, 1.0)
    found = " | ".join(contract_violations(too_many, 4))
    assert "3 duplicates for 2 kills" in found and "cut off 2 answers" in found and "exit code 1" in found


@pytest.mark.parametrize(("timeout", "retaken"), [(5, True), (600, False)])
async def test_a_dead_workers_claims_are_retaken_after_the_configured_claim_timeout(
        e2e_settings, engine, sandbox, mastodon, timeout: int, retaken: bool) -> None:
    # Before the fix the runtime always waited a hard-coded 10 minutes: a worker restarted
    # after a SIGKILL left its predecessor's publications `sending` that long.
    settings = e2e_settings.model_copy(update={"schedule": ScheduleSettings(sweep_seconds=1,
                                                                            claim_timeout_seconds=timeout)})
    async with open_app(settings) as app:
        await queue_now(app, [1, 2])
        claimed_at = datetime.now(UTC)
        async with app.sessions.begin() as session:  # a worker claims them, then dies
            claimed = await outbox.claim_due(session, claimed_at, "killed-worker", 10)
        assert len(claimed) == 4
        restart = claimed_at + timedelta(seconds=30)
        await runtime.run_once_now(app, worker_id="restarted", clock=lambda: restart)
        async with app.sessions() as session:
            states = set((await session.scalars(select(Publication.state))).all())
    if retaken:
        assert states == {PublicationState.SENT}
        assert len(sandbox.messages(CHANNEL)) == 2 and len(statuses(mastodon)) == 2
    else:
        assert states == {PublicationState.SENDING}
        assert sandbox.messages(CHANNEL) == [] and statuses(mastodon) == []
