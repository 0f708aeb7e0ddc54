"""Reliability soak, shortened: 30 s of faults with one SIGKILL, then every clause of the contract.

The short variant of ``bench/soak.py`` (same harness: the real `relais run --role worker` in a
subprocess, the Telegram sandbox and mastodon_mock injecting 5xx, 429 and held answers), on
the test database. Bounded by counts and a generous overall deadline, never by wall time.
"""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest

from bench.soak import (
    Plan,
    Population,
    SoakReport,
    Tally,
    contract_violations,
    notifications_available,
    soak,
    summary,
    table,
    tally_notifications,
)

SHORT = Plan(posts=30, readers=300, tags=20, workers=1, chaos_seconds=30, kill_every=15, budget_seconds=30,
             final_grace=300, storm_every=10, claim_timeout=2)


async def test_thirty_seconds_of_faults_and_one_kill_lose_nothing_and_repeat_only_what_was_in_flight(
        database_url, tmp_path) -> None:
    report = await soak(SHORT, seed=13, database_url=database_url, folder=tmp_path)
    assert report.violations == [], f"{table(report)}\n{summary(report)}"
    assert report.kills == 1
    assert report.channels[1].messages == SHORT.posts and report.channels[0].missing == 0
    assert report.injected.get("telegram 5xx", 0) > 0  # the faults did happen
    if notifications_available():
        expected = len(Population(SHORT.posts, SHORT.readers, SHORT.tags).expected_pairs())
        assert report.notifications is not None and report.notifications.expected == expected
        assert report.deliveries_made == expected and report.delivery_states == {"sent": expected}


async def test_the_soak_catches_a_worker_that_never_recovers_a_dead_workers_claims(database_url, tmp_path) -> None:
    # The kill lands early in a long backlog: the killed worker's claimed rows stay `sending`.
    sabotaged = replace(SHORT, readers=600, chaos_seconds=10, kill_every=5, budget_seconds=10, final_grace=20,
                        sabotage="no-recovery")
    report = await soak(sabotaged, seed=7, database_url=database_url, folder=tmp_path)
    assert report.kills == 1
    assert any("not sent" in v or "expected all" in v for v in report.violations), table(report)


def _report(**changes: Any) -> SoakReport:
    good = SoakReport(
        seed=1, database="sqlite", workers=1, kills=2, posts=4, readers=3,
        channels=[Tally("telegram", 4, 5, 0, 1), Tally("mastodon", 4, 4, 0, 0)],
        notifications=Tally("notifications", 6, 8, 0, 2, worst=1), deliveries_made=6,
        publication_states={"sent": 8}, delivery_states={"sent": 6}, not_fanned_out=0, exits=[0],
        injected={}, seconds=1.0)
    return replace(good, **changes)


def test_a_run_within_the_contract_has_no_violation() -> None:
    assert contract_violations(_report()) == []


@pytest.mark.parametrize(("changes", "said"), [
    ({"channels": [Tally("telegram", 4, 6, 0, 3), Tally("mastodon", 4, 4, 0, 0)]}, "3 duplicates for 2 kills"),
    ({"channels": [Tally("telegram", 4, 3, 1, 0), Tally("mastodon", 4, 4, 0, 0)]}, "1 posts lost"),
    ({"channels": [Tally("telegram", 4, 4, 0, 0), Tally("mastodon", 4, 5, 0, 1)]}, "1 duplicated"),
    ({"notifications": Tally("notifications", 6, 5, 1, 0)}, "1 (reader, post) pairs never notified"),
    ({"notifications": Tally("notifications", 6, 9, 0, 3, worst=3)}, "one reader got 3 repeats for 2 kills"),
    ({"notifications": Tally("notifications", 6, 7, 0, 0, strays=1)}, "1 sent to readers who do not follow"),
    ({"deliveries_made": 7}, "fan-out made 7 deliveries, expected 6"),
    ({"delivery_states": {"sent": 5, "retry": 1}}, "some not sent"),
    ({"publication_states": {"sent": 7, "sending": 1}}, "expected all 8 sent"),
    ({"not_fanned_out": 1}, "1 posts never fanned out"),
    ({"exits": [0, -9]}, "did not stop cleanly"),
])
def test_each_broken_clause_is_reported(changes: dict[str, Any], said: str) -> None:
    found = " | ".join(contract_violations(_report(**changes)))
    assert said in found


def test_notifications_are_counted_per_reader_and_post_from_the_private_chats() -> None:
    people = Population(posts=3, readers=8, tags=4)
    expected = people.expected_pairs()
    uid, number = sorted(expected)[0]
    other_tags = set(range(4)) - set(people.post_tags(number))
    stranger = next(r for r in range(8) if not people.follows(r) & set(people.post_tags(number)) and other_tags)
    chats: dict[int, list[str]] = {}
    for reader_uid, post in expected:
        chats.setdefault(reader_uid, []).append(f"Le point n°{post} : …")
    chats[uid].append(f"Le point n°{number} : …")  # one repeat
    chats.setdefault(people.user_id(stranger), []).append(f"Le point n°{number} : …")  # a stray
    sandbox = SimpleNamespace(messages=lambda chat: [SimpleNamespace(text=t, caption=None) for t in chats.get(chat, [])])
    counted = tally_notifications(sandbox, people, expected)
    assert (counted.expected, counted.missing, counted.duplicates, counted.worst, counted.strays) == (len(expected), 0, 1, 1, 1)
    assert counted.messages == len(expected) + 2


def test_a_reader_following_both_tags_of_a_post_is_expected_once() -> None:
    people = Population(posts=50, readers=200, tags=10)
    pairs = people.expected_pairs()
    brute = {(people.user_id(r), n) for r in range(200) for n in range(1, 51)
             if people.follows(r) & set(people.post_tags(n))}
    assert pairs == brute
    assert any(len(people.follows(r) & set(people.post_tags(n))) == 2 for r in range(200) for n in range(1, 51))
