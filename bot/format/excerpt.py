"""Cut styled runs to a budget: at a sentence end, else a word boundary, then "…".

Cuts happen only at ordinary whitespace (space, line break): URLs, hashtags, words and
HTML entities contain none, so none is ever split. U+00A0 is not a cut point, so
« mot » and "santé !" stay whole. A sentence end is preferred when it keeps at least half
of what a word cut would; it ends the excerpt as is (the reader sees a whole sentence and
the read-more link), while a word cut gets "…".
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.format.text import Run, plain

ELLIPSIS = "…"
_BOUNDARY = re.compile(r"[ \n]+")
_SENTENCE_END = re.compile(r"[.!?…](?:[\u00a0\u202f ]?[»”\")’])*$")
_GLUED = re.compile(r"(://|www\.|@)")


def _cut_runs(runs: list[Run], length: int) -> list[Run]:
    out: list[Run] = []
    left = length
    for run in runs:
        if left <= 0:
            break
        out.append(run if len(run.text) <= left else run.restyled(run.text[:left]))
        left -= len(run.text)
    while out and not out[-1].text.strip():
        out.pop()
    if out:
        out[-1] = out[-1].restyled(out[-1].text.rstrip())
    return out


def _with_ellipsis(text: str) -> str:
    last_word = text.rsplit(None, 1)[-1] if text.strip() else ""
    # "https://x.fr/a…" would become part of the link; keep the ellipsis apart.
    return text + (" " if _GLUED.search(last_word) else "") + ELLIPSIS


def excerpt(runs: list[Run], budget: int, measure: Callable[[str], int]) -> list[Run]:
    """The longest clean prefix of ``runs`` whose text measures at most ``budget``."""
    full = plain(runs)
    if measure(full) <= budget:
        return runs
    cuts = [m.start() for m in _BOUNDARY.finditer(full) if m.start() > 0]
    # Binary search the last word cut that fits with its ellipsis (measures grow with the prefix).
    lo, hi, best = 0, len(cuts) - 1, -1
    while lo <= hi:
        mid = (lo + hi) // 2
        if measure(_with_ellipsis(full[: cuts[mid]].rstrip())) <= budget:
            best, lo = mid, mid + 1
        else:
            hi = mid - 1
    if best < 0:
        return []
    word_cut = cuts[best]
    for cut in reversed(cuts[: best + 2]):
        prefix = full[:cut].rstrip()
        if cut > word_cut and measure(prefix) > budget:
            continue
        if len(prefix) * 2 < word_cut:
            break
        if _SENTENCE_END.search(prefix):
            return _cut_runs(runs, len(prefix))
    text = _with_ellipsis(full[:word_cut].rstrip())
    kept = _cut_runs(runs, len(full[:word_cut].rstrip()))
    return [*kept, Run(text[len(plain(kept)):])]
