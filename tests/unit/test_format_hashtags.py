"""Hashtag building, selection and inline placement; TDLib confirms validity."""

from __future__ import annotations

import pytest

from bot.domain.hashtags import hashtag_body
from bot.format.hashtags import inline, line, select

tdlib = pytest.importorskip("bot.tdlib")
pytest.importorskip("tdjson")


@pytest.mark.parametrize(
    ("display", "body"),
    [
        ("santé mentale", "SantéMentale"),
        ("e-santé", "ESanté"),
        ("l'IA", "IA"),
        ("l’IA générative", "IAGénérative"),
        ("d’anxiété", "anxiété"),
        ("#IA", "IA"),
        ("Sante\u0301", "Santé"),  # decomposed accent composed, not cut
        ("santé.gouv", "SantéGouv"),
        ("COVID-19", "COVID19"),
        ("troubles  du   sommeil", "TroublesDuSommeil"),
        ("0:ῢ", "0Ϋ"),  # upper-casing 'ῢ' decomposes it; the stray mark must not cut the tag
    ],
)
def test_tags_become_hashtags_recognized_whole(display: str, body: str) -> None:
    assert hashtag_body(display) == body
    assert tdlib.hashtags(f"Lu : #{body} !") == [f"#{body}"]


@pytest.mark.parametrize("display", ["2024", "123 456", "", "#", "---", "’", "👍", "x" * 200])
def test_tags_that_cannot_be_valid_are_dropped(display: str) -> None:
    assert hashtag_body(display) is None


def test_selection_keeps_relevance_order_dedupes_by_key_and_caps() -> None:
    chosen = select(["IA", "Santé", "ia", "sante", "SANTÉ", "2024", "e-santé", "esante", "anxiété", "TCA"], 4)
    assert [h.body for h in chosen] == ["IA", "Santé", "ESanté", "anxiété"]
    assert line(chosen) == "#IA #Santé #ESanté #anxiété"
    assert select(["IA"], 0) == []


def test_inline_places_hashtags_after_elisions_and_appends_the_rest() -> None:
    chosen = select(["anxiété", "intelligence", "santé mentale", "sommeil", "IA"], 5)
    title, rest = inline("L’IA d’intelligence contre l’anxiété et la santé mentale", chosen)
    assert title == "L’#IA d’#intelligence contre l’#anxiété et la #SantéMentale"
    assert [h.body for h in rest] == ["sommeil"]
    assert tdlib.hashtags(title) == ["#IA", "#intelligence", "#anxiété", "#SantéMentale"]


def test_inline_never_glues_a_hashtag_inside_a_compound_or_word() -> None:
    chosen = select(["santé", "bot"], 5)
    title, rest = inline("La e-santé et les chatbots", chosen)
    assert title == "La e-santé et les chatbots"
    assert [h.body for h in rest] == ["santé", "bot"]
    title, _ = inline("La e-santé et la santé", chosen)
    assert title == "La e-santé et la #santé"


def test_a_tag_shows_its_stored_display_form_inline_and_trailing_alike() -> None:
    chosen = select(["alsace", "DSL"], 5)
    title, rest = inline("L’Alsace et les dsl", chosen)
    assert title == "L’#alsace et les #DSL"
    assert rest == []
    assert line(chosen) == "#alsace #DSL"


def test_stop_words_and_one_letter_tags_already_stored_are_not_shown() -> None:
    assert [h.body for h in select(["un", "e", "IA", "the", "HAD"], 5)] == ["IA", "HAD"]
