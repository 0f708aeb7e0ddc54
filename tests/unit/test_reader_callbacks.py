"""bot.chat.callbacks: reader button data round-trips, and anything forged is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.chat.callbacks import MAX_ID, Action, Callback, encode, parse


@given(st.sampled_from(list(Action)), st.integers(min_value=0, max_value=MAX_ID - 1))
def test_encoded_data_parses_back_and_fits_telegram(action: Action, value: int) -> None:
    data = encode(action, value)
    assert len(data.encode()) <= 64
    assert parse(data) == Callback(action, value)


@given(st.text(max_size=80))
def test_anything_else_is_refused_or_is_exactly_an_encoding(data: str) -> None:
    parsed = parse(data)
    assert parsed is None or parsed.data() == data


@pytest.mark.parametrize("forged", [
    None, "", "uf:", "uf:01", "uf:-1", "uf:1 ", " uf:1", "uf:1\n", "uf:١", "UF:1", "uf:1:2", "s:1", "x:1",
    "uf:" + "9" * 17, "stop:yes", "tp:1e3", "f:+1",
])
def test_forged_or_foreign_data_is_none(forged: str | None) -> None:
    assert parse(forged) is None


def test_out_of_range_values_are_not_encoded() -> None:
    with pytest.raises(ValueError):
        encode(Action.UNFOLLOW, -1)
    with pytest.raises(ValueError):
        encode(Action.UNFOLLOW, MAX_ID)
