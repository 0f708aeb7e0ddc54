"""The vendored URL regex (bot/format/url_regex.py) finds exactly what Mastodon.py's does.

Mastodon.py's private ``mastodon._url_regex`` is the oracle here, in tests only: the
formatter must not import it. Checked on every TLD of the list, on generated text and on
the real texts of ../shared/corpus (feeds, WXR, twitter-text's conformance files).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.format.url_regex import SOURCE, url_pattern

oracle = pytest.importorskip("mastodon._url_regex")
CORPUS = Path(__file__).parents[2] / ".." / "shared" / "corpus"


def counted(pattern: re.Pattern[str], text: str) -> str:
    """The text as Mastodon counts it: each URL replaced by 23 x's after its preceding character."""
    return pattern.sub(lambda m: m.group(2) + "x" * 23, text)


def agree(text: str) -> None:
    assert counted(url_pattern(), text) == counted(oracle.url_regex, text), text


def test_the_vendored_source_is_mastodon_py_s() -> None:
    assert oracle.URL_REGEX_SOURCE == SOURCE


def tlds() -> list[str]:
    groups = re.findall(r"\(\?:\(\?:([^()]+)\)\(\?=", SOURCE)
    return [tld for group in groups for tld in group.split("|")]


def test_every_tld_is_found_alone_as_a_prefix_and_in_capitals() -> None:
    words = tlds()
    assert len(words) > 1500 and {"fr", "com", "onion", "みんな"} <= set(words)
    for tld in words:
        for host in (f"esante-blog.{tld}", f"www.{tld}.{tld}", f"a.{tld}x", f"a.{tld}-b.fr", f"x.{tld[:-1]}"):
            for text in (f"https://{host}", f"Lire : https://{host}/a?b=1.", f"(HTTP://{host.upper()}/X?A=B)"):
                agree(text)


PIECES = ["https://", "http://", "HTTPS://", "esante-blog", ".fr", ".com", ".example", ".co", ".uk", ".みんな", ".рф",
          "xn--p1ai", "/", "/a-b", "?", "utm_source=mastodon", "&", "=", "#", "(", ")", "[", "]", ".", ",", "!", "'",
          "@", "alice", ":8080", "ESANTE-Blog", ".FR", ".Com", "/A-B?UTM=X", "K", "\u212a", "\u017f",
          " ", "\n", "\u00a0", "«", "»", "…", "é", "-", "_", "~", "%20", "www.", "ftp://"]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(PIECES), st.characters(max_codepoint=0x2FFF)), max_size=30).map("".join))
def test_generated_text_finds_the_same_urls(text: str) -> None:
    agree(text)


def corpus_lines() -> list[str]:
    if not CORPUS.exists():
        return []
    lines: list[str] = []
    for folder in ("feeds", "wxr", "mastodon"):
        for path in sorted((CORPUS / folder).rglob("*")):
            if path.is_file():
                text = path.read_bytes().decode("utf-8", errors="replace")
                lines += [line for line in text.splitlines() if "://" in line and len(line) < 5000]
    return lines


@pytest.mark.skipif(not CORPUS.exists(), reason="shared corpus not present")
def test_real_texts_of_the_corpus_find_the_same_urls() -> None:
    lines = corpus_lines()
    assert len(lines) > 1000
    for line in lines:
        agree(line)
