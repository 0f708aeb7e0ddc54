"""The formatter's shortcuts give what the plain way gives, on any input."""

from __future__ import annotations

import re
from itertools import pairwise
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.format.excerpt import _word_ends
from bot.format.links import with_utm
from bot.format.text import html_to_runs


@given(st.text(alphabet=st.sampled_from(["a", "é", " ", "\n", "\u00a0", "😀", "-"]), max_size=60))
def test_word_ends_are_the_ends_of_maximal_runs_of_non_separators(text: str) -> None:
    assert _word_ends(text) == [m.end() for m in re.finditer(r"[^ \n]+", text)]


def merged_by_hand(url: str, utm: str) -> str:
    parts = urlsplit(url)
    extra = parse_qsl(utm.lstrip("?&"), keep_blank_values=True)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in {k for k, _ in extra}]
    return urlunsplit(parts._replace(query=urlencode(kept + extra, safe=":/")))


@given(st.sampled_from(["https://esante-blog.fr", "https://u:p@x.fr:8080/a;b", "https://[::1]:80/a", "https://é.fr/à",
                        "http://x.fr/%C3%A9/", "https://esante-blog.fr/2025/04/therabot/", "HTTP://X.fr/a#frag",
                        "https://x.fr/?ref=rss", "https://x.fr/a?utm_source=rss&b=%C3%A9#f", "https://x.fr/?"]),
       st.sampled_from(["utm_source=telegram", "?utm_source=mastodon&utm_medium=social", "a=é b&c", "&x="]))
def test_utm_merge_equals_the_plain_merge(url: str, utm: str) -> None:
    assert with_utm(url, utm) == merged_by_hand(url, utm)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["<b>", "</b>", "<span>", "</span>", "<p>", "</p>", "<a href='https://x.fr'>", "</a>",
                                 "mot ", "santé", " ", "&amp;", "é\u00a0!", "<br>", "<li>"]), max_size=40).map("".join),
       st.integers(2, 64))
def test_reading_in_chunks_changes_nothing_and_one_style_is_one_run(body: str, chunk: int) -> None:
    whole = html_to_runs(body)
    chunked = html_to_runs(body, lambda text: False, chunk=chunk)
    assert chunked == whole
    styles = [(r.bold, r.italic, r.href) for r in whole]
    assert all(a != b for a, b in pairwise(styles))
