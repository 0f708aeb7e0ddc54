"""Dates as people type them ("demain 9h", "lundi 18h30", "tomorrow 9am") → an aware instant.

Parsed by ``dateparser`` in French and English, in the configured time zone, relative to an
injected ``now``. Two answers are refused with a reason the author can act on: a time already
past, and a wall time that does not exist in the zone (the spring daylight-saving gap, e.g.
2027-03-28 02:30 in Europe/Paris) — dateparser would silently give it a wrong offset.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import dateparser

LANGUAGES = ["fr", "en"]
# dateparser reads "9h" as a duration, not a time of day: "9h" → "9:00", "18h30" → "18:30"
# ("dans 2 h" stays a duration).
_FRENCH_HOUR = re.compile(r"(?<!\bdans )(?<!\bin )(?<![\w:])(\d{1,2})\s?h(?:(\d{2})|(?![\w]))")


class DateProblem(enum.StrEnum):
    UNREADABLE = "unreadable"
    PAST = "past"
    DST_GAP = "dst_gap"  # the wall time is skipped when clocks go forward


@dataclass(frozen=True, slots=True)
class ParsedDate:
    at: datetime | None  # aware, in the configured zone; None when refused
    problem: DateProblem | None = None
    wall: datetime | None = None  # the naive wall time read (to name it in an answer)


def normalise(text: str) -> str:
    """French hour spellings dateparser does not know, written as HH:MM."""
    return _FRENCH_HOUR.sub(lambda m: f"{int(m.group(1))}:{m.group(2) or '00'}", text.strip())


def _exists(wall: datetime, zone: ZoneInfo) -> bool:
    """False inside a daylight-saving gap: the wall time does not survive a round trip through UTC."""
    aware = wall.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall


def parse_when(text: str, *, now: datetime, zone: ZoneInfo) -> ParsedDate:
    """The instant ``text`` names, read in ``zone`` relative to ``now`` (aware)."""
    base = now.astimezone(zone).replace(tzinfo=None)
    found = dateparser.parse(normalise(text), languages=LANGUAGES, settings={
        "TIMEZONE": zone.key, "RETURN_AS_TIMEZONE_AWARE": True, "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": base,
    })
    if found is None:
        return ParsedDate(None, DateProblem.UNREADABLE)
    wall = found.replace(tzinfo=None)  # dateparser's offset is wrong inside a gap: keep the wall time only
    if not _exists(wall, zone):
        return ParsedDate(None, DateProblem.DST_GAP, wall)
    at = wall.replace(tzinfo=zone)
    if at <= now:
        return ParsedDate(None, DateProblem.PAST, wall)
    return ParsedDate(at, None, wall)
