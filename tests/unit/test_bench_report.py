"""bench/report.py: the RESULT line every bench script prints, read back by bench/run_all.py."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.report import PREFIX, Result, Target, at_least, at_most, emit, parse_line


def test_emit_prints_one_line_that_reads_back_with_its_ratio_and_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    emitted = emit("render.telegram", "render_telegram ÷ bare parse « 10 000 posts »", 1.5, "CPU s", baseline=0.75,
                   baseline_label="bare html.parser parse", target=at_most(2, on="ratio"), posts=10_000)

    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith(PREFIX + "{")
    parsed = parse_line(line)
    assert parsed == emitted
    assert parsed.ratio == 2.0
    assert parsed.met is True
    assert parsed.params == {"posts": 10_000}


@given(value=st.floats(allow_nan=False, allow_infinity=False) | st.integers() | st.text(),
       baseline=st.none() | st.floats(min_value=1e-6, max_value=1e9),
       label=st.text(), unit=st.text(max_size=5), bound=st.floats(allow_nan=False, allow_infinity=False),
       op=st.sampled_from(["<=", ">="]), on=st.sampled_from(["value", "ratio"]))
def test_any_result_survives_its_line(value: float | int | str, baseline: float | None, label: str, unit: str,
                                      bound: float, op: str, on: str) -> None:
    result = Result("figure.id", label, value, unit, "baseline", baseline, 3.0, Target(op, bound, on), None,  # type: ignore[arg-type]
                    {"database": "sqlite", "n": 3})
    parsed = parse_line(result.line())
    assert parsed is not None
    assert (parsed.figure, parsed.label, parsed.value, parsed.unit, parsed.baseline) == (
        "figure.id", label, value, unit, baseline)
    assert parsed.met == result.met
    assert parsed.target is not None and parsed.target.describe(unit) == result.target.describe(unit)  # type: ignore[union-attr]


def test_ratio_is_value_over_baseline_only_when_both_are_numbers() -> None:
    assert emit("a", "a", 3.0, baseline=1.5).ratio == 2.0
    assert emit("a", "a", 3.0, baseline=0).ratio is None
    assert emit("a", "a", 3.0).ratio is None
    assert emit("a", "a", "ok", baseline=2.0).ratio is None
    assert emit("a", "a", 3.0, baseline=1.5, ratio=0.5).ratio == 0.5  # given: a median of per-run ratios


@pytest.mark.parametrize(("target", "value", "ratio", "met"), [
    (at_most(2, on="ratio"), 100.0, 2.0, True),  # the bound itself meets it
    (at_most(2, on="ratio"), 1.0, 2.01, False),
    (at_least(1000), 999.9, None, False),
    (at_least(1000), 1000, None, True),
    (at_most(0.5), 0.4, 9.0, True),  # on the value, whatever the ratio
    (at_most(5), "n/a", None, None),
    (at_most(5), math.nan, None, None),
    (at_least(0.95, on="ratio"), 250.0, None, None),  # no baseline, no ratio: nothing to judge
])
def test_a_target_bounds_the_value_or_the_ratio(target: Target, value: object, ratio: float | None,
                                                met: bool | None) -> None:
    assert target.met(value, ratio) is met


def test_correctness_figures_carry_their_own_verdict() -> None:
    failed = emit("crash.contract", "crash test", "5/0, 0/0", passed=False, kills=20)
    assert failed.met is False
    assert parse_line(failed.line()).met is False  # type: ignore[union-attr]
    assert emit("soak.contract", "soak", "0/0", passed=True, target=at_most(0)).met is True


def test_target_text_says_the_bound_and_what_it_bounds() -> None:
    assert at_most(2, on="ratio").describe("s") == "≤ 2×"
    assert at_least(1000).describe("pub/s") == "≥ 1000 pub/s"
    assert at_most(0.15).describe("") == "≤ 0.15"
    assert at_most(20, text="≤ 20 ms (SQLite)").describe("ms") == "≤ 20 ms (SQLite)"


def test_other_lines_are_not_results_and_broken_ones_are_errors() -> None:
    assert parse_line("RESULT ok") is None  # what crash_test and soak printed before
    assert parse_line("render_telegram   0.52   19230   1.42") is None
    assert parse_line("") is None
    with pytest.raises(ValueError, match="malformed result line"):
        parse_line(PREFIX + '{"figure": "x", "label": ')
    with pytest.raises(ValueError, match="malformed result line"):
        parse_line(PREFIX + '{"label": "no figure id", "value": 1}')
    with pytest.raises(ValueError, match="malformed result line"):
        parse_line(PREFIX + '{"figure": "x", "label": "x", "value": 1, "target": {"op": "<", "bound": 1}}')
