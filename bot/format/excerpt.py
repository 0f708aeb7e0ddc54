"""Cut styled runs to a budget: at a sentence end, else a word boundary, then "…".

Cuts happen only at ordinary whitespace (space, line break): URLs, hashtags, words and
HTML entities contain none, so none is ever split. U+00A0 is not a cut point, so
« mot » and "santé !" stay whole. A sentence end is preferred when it keeps at least half
of what a word cut would; it ends the excerpt as is (the reader sees a whole sentence and
the read-more link), while a word cut gets "…".
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from itertools import accumulate, compress, count
from operator import add

from bot.format.text import Run, cut_runs, plain, trim_runs

ELLIPSIS = "…"
_SENTENCE_END = re.compile(r"[.!?…](?:[\u00a0\u202f ]?[»”\")’])*$")
# The last character of any match of _SENTENCE_END: most word ends are ruled out by it alone.
_SENTENCE_LAST = frozenset(".!?…»”\")’")
_GLUED = re.compile(r"(://|www\.|@)")


def _with_ellipsis(text: str) -> str:
    last_word = text.rsplit(None, 1)[-1] if text.strip() else ""
    # "https://x.fr/a…" would become part of the link; keep the ellipsis apart.
    return text + (" " if _GLUED.search(last_word) else "") + ELLIPSIS


def _word_ends(text: str) -> list[int]:
    """The end offset of every word (maximal run of characters other than space and newline).

    Split on single separators, a word ends at the sum of the lengths so far plus one per
    separator passed; empty pieces (doubled separators) are no words. All in C: this runs
    on every excerpt.
    """
    pieces = text.replace("\n", " ").split(" ")
    return list(compress(map(add, accumulate(map(len, pieces)), count()), pieces))


def _head(full: str, budget: int, measure: Callable[[str], int]) -> str:
    """The shortest whole-word prefix of ``full`` that no longer fits (or all of it).

    The cost of an excerpt then follows the budget, not the length of the article.
    """
    size = 2 * budget + 64
    while size < len(full):
        end = full.find(" ", size)
        newline = full.find("\n", size)
        end = min(e for e in (end, newline, len(full)) if e >= 0)
        if measure(full[:end]) > budget:
            return full[:end]
        size *= 2
    return full


def _last_fitting(cuts: list[int], fits: Callable[[int], bool], hint: int) -> int:
    """Index of the last cut for which ``fits`` holds (prefix measures grow), or -1.

    ``hint`` is where the answer usually is (the last cut within ``budget`` code points:
    for plain text a code point is a unit on both platforms), so most calls cost two
    measures; emoji or URLs move the answer and fall back to a binary search.
    """
    lo, hi, best = 0, len(cuts) - 1, -1
    if 0 <= hint < len(cuts):
        if fits(cuts[hint]):
            if hint + 1 >= len(cuts) or not fits(cuts[hint + 1]):
                return hint
            best, lo = hint + 1, hint + 2
        else:
            hi = hint - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        if fits(cuts[mid]):
            best, lo = mid, mid + 1
        else:
            hi = mid - 1
    return best


def excerpt(runs: list[Run], budget: int, measure: Callable[[str], int]) -> list[Run]:
    """The longest clean prefix of ``runs`` whose text measures at most ``budget``."""
    full = plain(runs)
    head = _head(full, budget, measure)
    if head is full and measure(full) <= budget:
        return runs
    cuts = _word_ends(head)
    whole = _last_fitting(cuts, lambda end: measure(head[:end]) <= budget, bisect_right(cuts, budget) - 1)
    word = whole
    while word >= 0 and measure(_with_ellipsis(head[: cuts[word]])) > budget:
        word -= 1  # one or two steps: the ellipsis is one or two characters
    if word < 0:
        return []
    for index in range(whole, -1, -1):
        end = cuts[index]
        if end * 2 < cuts[word]:
            break
        if head[end - 1] in _SENTENCE_LAST and _SENTENCE_END.search(head[max(0, end - 8): end]):
            return trim_runs(cut_runs(runs, end))
    kept = trim_runs(cut_runs(runs, cuts[word]))
    return [*kept, Run(_with_ellipsis(head[: cuts[word]])[cuts[word]:])]
