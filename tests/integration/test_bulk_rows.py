"""Many values in one parameter (bot.store.bulk), on the real database: what goes in comes out.

``rows_table`` carries the queue's (id, due time) pairs into INSERT … SELECT and UPDATE …
FROM; ``in_values`` the channel names and ids of a fan-out. A due time that came through
``rows_table`` must be stored exactly as a bound ``UTCDateTime`` is (SQLite compares the
stored text), so equality with a bound parameter is asserted, not just the round trip.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Integer, bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store import bulk
from bot.store.models import Channel, Platform
from bot.store.types import UTCDateTime

aware = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31),
                     timezones=st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-9, minutes=-30))]))
pairs = st.lists(st.tuples(st.integers(-(2**31), 2**31 - 1), aware), max_size=40)
names = ["esante", "nuit", "l’IA « santé »", "quote'n\"back\\slash", "émoji 🧠", "a,b", "[1]", "NULL", "x" * 64]
ONCE = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@ONCE
@given(rows=pairs)
async def test_rows_table_gives_every_row_back_in_utc(engine: AsyncEngine, rows: list[tuple[int, datetime]]) -> None:
    table = bulk.rows_table(engine.dialect, "r", [("id", Integer()), ("due", UTCDateTime())], rows)
    async with engine.connect() as conn:
        got = (await conn.execute(select(table.c.id, table.c.due))).all()
    assert sorted(got) == sorted((key, due.astimezone(UTC)) for key, due in rows)


@ONCE
@given(rows=pairs.filter(bool))
async def test_a_due_time_from_rows_table_equals_the_same_time_bound(engine: AsyncEngine,
                                                                   rows: list[tuple[int, datetime]]) -> None:
    table = bulk.rows_table(engine.dialect, "r", [("id", Integer()), ("due", UTCDateTime())], rows)
    first = rows[0][1]
    async with engine.connect() as conn:
        same = await conn.scalar(select(func.count()).select_from(table)
                                 .where(table.c.due == bindparam("first", first, type_=UTCDateTime())))
    assert same == sum(due == first for _, due in rows)


@ONCE
@given(wanted=st.lists(st.sampled_from([*names, "absent", "ESANTE", "x" * 65]), max_size=12))
async def test_in_values_matches_exactly_the_values_given(engine: AsyncEngine, wanted: list[str]) -> None:
    async with engine.begin() as conn:
        if not await conn.scalar(select(func.count()).select_from(Channel)):
            await conn.execute(insert(Channel), [{"name": n, "platform": Platform.TELEGRAM, "target": f"@{i}",
                                                  "enabled": True, "paused": False} for i, n in enumerate(names)])
        found = (await conn.scalars(select(Channel.name).where(bulk.in_values(conn.dialect, Channel.name, wanted)))).all()
        ids = (await conn.scalars(select(Channel.id).where(Channel.name.in_(wanted)))).all()
        by_id = (await conn.scalars(select(Channel.id).where(bulk.in_values(conn.dialect, Channel.id, ids)))).all()
    assert sorted(found) == sorted(set(wanted) & set(names))
    assert sorted(by_id) == sorted(ids)
