"""One machine-readable line per benchmark figure, for ``bench/run_all.py`` to collect.

A bench script prints its own table for people, then calls :func:`emit` once per figure:

    emit("render.telegram", "render_telegram ÷ bare html.parser parse", 1.42, "CPU s",
         baseline=0.78, baseline_label="bare html.parser parse", target=at_most(2, on="ratio"), posts=10000)

which prints ``RESULT {"figure": "render.telegram", …}``: the figure, its baseline measured in
the same run, their ratio, the target and whether it was met, and the run's key parameters.
Correctness figures (crash test, soak) give ``passed`` instead of a numeric target.

Imported by the scripts as a sibling module (``from report import emit``: ``bench/`` is the
script's folder) or as ``bench.report`` by those that tests import.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal

PREFIX = "RESULT "
Op = Literal["<=", ">="]
On = Literal["value", "ratio"]
SYMBOLS = {"<=": "≤", ">=": "≥"}


@dataclass(frozen=True)
class Target:
    """A bound on the figure's value or on its ratio to the baseline, with the text people read."""

    op: Op
    bound: float
    on: On = "value"
    text: str = ""

    def __post_init__(self) -> None:
        if self.op not in SYMBOLS or self.on not in ("value", "ratio"):
            raise ValueError(f"a target is <= or >= on value or ratio, not {self.op!r} on {self.on!r}")

    def met(self, value: object, ratio: float | None) -> bool | None:
        """Whether the observed value (or ratio) is within the bound; None when there is nothing to compare."""
        observed = ratio if self.on == "ratio" else value
        if not isinstance(observed, int | float) or isinstance(observed, bool) or math.isnan(observed):
            return None
        return observed <= self.bound if self.op == "<=" else observed >= self.bound

    def describe(self, unit: str = "") -> str:
        if self.text:
            return self.text
        suffix = "×" if self.on == "ratio" else f" {unit}" if unit else ""
        return f"{SYMBOLS[self.op]} {self.bound:g}{suffix}"


def at_most(bound: float, *, on: On = "value", text: str = "") -> Target:
    return Target("<=", bound, on, text)


def at_least(bound: float, *, on: On = "value", text: str = "") -> Target:
    return Target(">=", bound, on, text)


@dataclass(frozen=True)
class Result:
    figure: str  # stable id, e.g. "render.telegram"
    label: str  # what a reader of docs/benchmarks.md sees
    value: float | int | str
    unit: str = ""
    baseline_label: str = ""
    baseline: float | None = None
    ratio: float | None = None
    target: Target | None = None
    passed: bool | None = None  # correctness figures: the contract held or not
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def met(self) -> bool | None:
        if self.passed is not None:
            return self.passed
        return self.target.met(self.value, self.ratio) if self.target else None

    def line(self) -> str:
        target = None if self.target is None else {
            "op": self.target.op, "bound": self.target.bound, "on": self.target.on,
            "text": self.target.text, "shown": self.target.describe(self.unit)}
        data = {"figure": self.figure, "label": self.label, "value": self.value, "unit": self.unit,
                "baseline_label": self.baseline_label, "baseline": self.baseline, "ratio": self.ratio,
                "target": target, "passed": self.passed, "met": self.met, "params": self.params}
        return PREFIX + json.dumps(data, ensure_ascii=False, default=str)


def ratio_of(value: object, baseline: float | None) -> float | None:
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if not numeric or baseline is None or baseline == 0:
        return None
    return float(value) / baseline  # type: ignore[arg-type]


def emit(figure: str, label: str, value: float | str, unit: str = "", *, baseline: float | None = None,
         baseline_label: str = "", ratio: float | None = None, target: Target | None = None,
         passed: bool | None = None, **params: Any) -> Result:
    """Print the figure as one ``RESULT {json}`` line (ratio = value ÷ baseline unless given)."""
    result = Result(figure, label, value, unit, baseline_label, baseline,
                    ratio if ratio is not None else ratio_of(value, baseline), target, passed, params)
    print(result.line(), flush=True)
    return result


def parse_line(line: str) -> Result | None:
    """The Result a ``RESULT {json}`` line holds; None for any other line (``RESULT ok`` included).

    Raises ValueError when the line starts like a result but does not hold one."""
    if not line.startswith(PREFIX + "{"):
        return None
    try:
        data = json.loads(line[len(PREFIX):])
        target = data.get("target")
        return Result(
            figure=str(data["figure"]), label=str(data["label"]), value=data["value"], unit=data.get("unit", ""),
            baseline_label=data.get("baseline_label", ""), baseline=data.get("baseline"), ratio=data.get("ratio"),
            target=None if target is None else Target(target["op"], float(target["bound"]), target.get("on", "value"),
                                                      target.get("text", "")),
            passed=data.get("passed"), params=dict(data.get("params") or {}))
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"malformed result line: {line[:200]!r} ({error})") from error
