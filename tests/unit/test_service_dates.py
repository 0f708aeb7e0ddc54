"""Dates as authors type them, read in the configured zone relative to an injected now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services.dates import DateProblem, normalise, parse_when

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 30, 1, 30, tzinfo=UTC)  # Monday 30 November 2026, 02:30 in Paris


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-12-01 09:00", datetime(2026, 12, 1, 9, 0)),
    ("demain 9h", datetime(2026, 12, 1, 9, 0)),
    ("demain 9 h", datetime(2026, 12, 1, 9, 0)),
    ("lundi 18h30", datetime(2026, 12, 7, 18, 30)),  # today is a Monday: the next one
    ("dans 2 heures", datetime(2026, 11, 30, 4, 30)),
    ("dans 2 h", datetime(2026, 11, 30, 4, 30)),
    ("tomorrow 9am", datetime(2026, 12, 1, 9, 0)),
    ("in 3 hours", datetime(2026, 11, 30, 5, 30)),
])
def test_phrases_in_french_and_english(text: str, expected: datetime) -> None:
    parsed = parse_when(text, now=NOW, zone=PARIS)
    assert parsed.problem is None
    assert parsed.at == expected.replace(tzinfo=PARIS)
    assert parsed.at is not None and parsed.at.utcoffset() == timedelta(hours=1)


@pytest.mark.parametrize("text", ["hier", "2026-11-29 10:00", "yesterday 9am"])
def test_a_time_in_the_past_is_refused(text: str) -> None:
    parsed = parse_when(text, now=NOW, zone=PARIS)
    assert (parsed.at, parsed.problem) == (None, DateProblem.PAST)


def test_a_wall_time_inside_the_spring_gap_is_refused() -> None:
    parsed = parse_when("2027-03-28 02:30", now=NOW, zone=PARIS)
    assert (parsed.at, parsed.problem, parsed.wall) == (None, DateProblem.DST_GAP, datetime(2027, 3, 28, 2, 30))
    after = parse_when("2027-03-28 03:30", now=NOW, zone=PARIS)
    assert after.at is not None and after.at.utcoffset() == timedelta(hours=2)


def test_the_autumn_overlap_takes_the_first_occurrence() -> None:
    parsed = parse_when("2027-10-31 02:30", now=NOW, zone=PARIS)
    assert parsed.at is not None and parsed.at.astimezone(UTC) == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize("text", ["n’importe quoi", "", "   "])
def test_nonsense_is_unreadable(text: str) -> None:
    assert parse_when(text, now=NOW, zone=PARIS).problem is DateProblem.UNREADABLE


def test_french_hours_are_written_as_clock_times() -> None:
    assert normalise("lundi 18h30") == "lundi 18:30"
    assert normalise("demain 9h") == "demain 9:00"
    assert normalise("dans 2 heures") == "dans 2 heures"
    assert normalise("dans 2 h") == "dans 2 h"


@given(st.integers(min_value=1, max_value=72))
def test_relative_hours_are_counted_from_the_injected_now(hours: int) -> None:
    parsed = parse_when(f"dans {hours} heures", now=NOW, zone=PARIS)
    assert parsed.at is not None and parsed.at.astimezone(UTC) == NOW + timedelta(hours=hours)
