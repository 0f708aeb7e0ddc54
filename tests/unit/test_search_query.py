"""The search query parser (pure): what a reader types becomes a small tree, never an error."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.search import MAX_TERMS, Term, parse
from bot.services.search import excerpt, plain_text
from bot.store.search import fts5_match


def test_words_are_folded_and_elisions_dropped_from_lone_words() -> None:
    query = parse("L’Anxiété d'IA qu’aujourd’hui")
    assert [t.words for t in query.terms] == [("anxiete",), ("ia",), ("aujourd", "hui")]
    assert [t.text for t in query.terms] == ["Anxiété", "IA", "aujourd’hui"]


def test_phrases_keep_their_articles_and_an_unclosed_quote_runs_to_the_end() -> None:
    assert parse('"traitement de l’anxiété"').terms == (Term(("traitement", "de", "l", "anxiete"),
                                                             "traitement de l’anxiété"),)
    assert parse('santé "e-santé mentale').terms[1].words == ("e", "sante", "mentale")


def test_tags_prefixes_and_exclusions() -> None:
    query = parse("#SantéMentale #l’IA thérap* -covid-19 -\"effets secondaires\" AND")
    assert query.tags == ("santementale", "ia")
    assert query.required == (Term(("therap",), "thérap", prefix=True),)
    assert [t.words for t in query.excluded] == [("covid", "19"), ("effets", "secondaires")]
    assert parse("a*").terms[0].prefix is False  # one letter: no prefix search over half the index


def test_nothing_to_look_for_is_not_understood_and_blank_is_the_latest() -> None:
    for junk in ('"', "*", "-", "AND", "#", "-santé", "🧠", "( ) ^ :"):
        assert not parse(junk).understood, junk
    assert parse("  \n").blank and parse("").understood


def test_fts5_match_quotes_every_word() -> None:
    assert fts5_match(parse('or NEAR(x "santé mentale" thér* -covid')) == \
        '("or" AND "near x" AND "sante mentale" AND "ther" *) NOT ("covid")'


@given(st.text(max_size=3000))
def test_any_text_parses_into_safe_words(text: str) -> None:
    query = parse(text)
    assert len(query.terms) + len(query.tags) <= MAX_TERMS
    for term in query.terms:
        assert term.words and all(re.fullmatch(r"[^\W_]+", w) for w in term.words)
    if query.required:
        assert fts5_match(query).count('"') % 2 == 0


def test_excerpts_are_plain_short_and_around_the_match() -> None:
    text = plain_text("", "## Contexte\n\n" + "Une phrase. " * 30 + "Le **chatbot** réduit l’[anxiété](https://x.example).")
    cut = excerpt(text, ["anxiete"])
    assert cut.startswith("…") and cut.endswith("l’anxiété.") and len(cut) <= 160 and "**" not in cut
    assert excerpt(text, ["absent"]).startswith("Contexte Une phrase.")
    assert excerpt("Court.", ["court"]) == "Court."
