"""Many values in ONE bound parameter, unpacked into rows by the database (issue 12 item 4).

An executemany or an ``IN (…)`` of 10,000 values costs a placeholder and a Python type
conversion per value, and on PostgreSQL a Bind/Execute round per row. Here the values
travel as one parameter per column: arrays that PostgreSQL's ``unnest`` turns into rows,
or one JSON text that SQLite's ``json_each`` (JSON1, built in since 3.38) turns into rows.
Statements then join or select from those rows: ``INSERT … SELECT``, ``UPDATE … FROM``
(SQLite ≥ 3.33), ``IN (SELECT …)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, DateTime, FromClause, String, any_, bindparam, column, func, select, type_coerce
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.types import NullType, TypeDecorator, TypeEngine


def _array_type(type_: TypeEngine[Any]) -> TypeEngine[Any]:
    impl = type_.impl_instance if isinstance(type_, TypeDecorator) else type_
    if isinstance(impl, DateTime):  # asyncpg encodes aware datetimes itself: no per-element UTCDateTime call
        return ARRAY(DateTime(timezone=True))
    if isinstance(impl, String):  # no length: a cast to VARCHAR(64)[] would cut a longer value and match its prefix
        return ARRAY(String())
    return ARRAY(impl)


def _stored(type_: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any]:
    """A value as the column stores it on SQLite (the column type's own bind processing), memoized per value."""
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return lambda value: value
    seen: dict[Hashable, Any] = {}  # a fan-out repeats one due time thousands of times

    def convert(value: Any) -> Any:
        if value not in seen:
            seen[value] = process(value)
        return seen[value]

    return convert


def rows_table(dialect: Dialect, name: str, columns: Sequence[tuple[str, TypeEngine[Any]]],
               rows: Sequence[Sequence[Any]]) -> FromClause:
    """``rows`` as a table named ``name`` with ``columns``: one bound parameter per column (PostgreSQL) or in all (SQLite)."""
    if dialect.name == "postgresql":
        arrays = [bindparam(None, [row[i] for row in rows], type_=_array_type(type_))
                  for i, (_, type_) in enumerate(columns)]
        return func.unnest(*arrays).table_valued(*(column(n, t) for n, t in columns)).render_derived(name=name)
    convert = [_stored(type_, dialect) for _, type_ in columns]
    payload = json.dumps([[c(value) for c, value in zip(convert, row, strict=True)] for row in rows])
    each = func.json_each(bindparam(None, payload)).table_valued("value")
    return select(*(type_coerce(func.json_extract(each.c.value, f"$[{i}]"), type_).label(n)
                    for i, (n, type_) in enumerate(columns))).select_from(each).subquery(name)


def in_values(
    dialect: Dialect, expression: ColumnElement[Any] | QueryableAttribute[Any], values: Sequence[Any],
) -> ColumnElement[bool]:
    """``expression IN values`` with one bound parameter, however many values."""
    if dialect.name == "postgresql":
        return expression == any_(bindparam(None, list(values), type_=_array_type(expression.type)))
    each = func.json_each(bindparam(None, json.dumps(list(values)))).table_valued("value")
    return expression.in_(select(each.c.value))


def undecoded(expression: ColumnElement[Any]) -> ColumnElement[Any]:
    """``expression`` as the driver returns it: decode it with :func:`decoder` (once per distinct value)."""
    return type_coerce(expression, NullType())


def decoder(dialect: Dialect, type_: TypeEngine[Any]) -> Callable[[Any], Any]:
    """``type_``'s result processing memoized per raw value, for one result.

    A fan-out reads a due time per channel that is the same for thousands of channels:
    decoded once each, not once per row.
    """
    process = type_.dialect_impl(dialect).result_processor(dialect, None)
    if process is None:
        return lambda value: value
    seen: dict[Hashable, Any] = {None: None}

    def decode(value: Any) -> Any:
        if value not in seen:
            seen[value] = process(value)
        return seen[value]

    return decode
