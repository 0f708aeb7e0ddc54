"""How /follow and /unfollow find tags from what a reader types (pure: no database)."""

from __future__ import annotations

import unicodedata
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.tags import clean_display, tag_key
from bot.errors import UsageError
from bot.services.readers import _TagIndex, _words
from bot.store.models import Tag

DISPLAYS = ["anxiété", "Santé mentale", "IA", "dépression", "e-santé", "esanté", "Télémédecine", "chatbot"]
INDEX = _TagIndex(Tag(id=i, key=tag_key(d), display=d) for i, d in enumerate(DISPLAYS, 1))


def found(raw: str) -> str | None:
    tag = INDEX.find(raw)
    return tag.display if tag else None


@pytest.mark.parametrize(("typed", "display"), [
    ("anxiete", "anxiété"), ("#ANXIÉTÉ", "anxiété"), ("#Anxie\u0301te\u0301", "anxiété"), ("#SantéMentale", "Santé mentale"),
    ("santementale", "Santé mentale"), ("#e-santé", "e-santé"), ("esante", "esanté"), ("#ia", "IA"),
])
def test_case_accents_hash_and_spaces_do_not_matter(typed: str, display: str) -> None:
    assert found(typed) == display


def test_close_misspellings_are_suggested_and_noise_is_not() -> None:
    assert [t.display for t in INDEX.suggest("telemedicin")][:1] == ["Télémédecine"]
    assert [t.display for t in INDEX.suggest("depresion")][:1] == ["dépression"]
    assert INDEX.suggest("zzqqxx") == ()
    assert len(INDEX.suggest("sante")) <= 3


@given(st.sampled_from(DISPLAYS), st.sampled_from(["NFC", "NFD"]), st.booleans(), st.booleans())
def test_any_spelling_of_a_tag_finds_it(display: str, form: Literal["NFC", "NFD"], upper: bool, hashed: bool) -> None:
    typed = unicodedata.normalize(form, display.upper() if upper else display)
    assert found(("#" if hashed else "") + typed) == display


@given(st.lists(st.text(max_size=30), max_size=5))
def test_whatever_is_typed_the_lookup_answers(raw: list[str]) -> None:
    try:
        words = _words(raw)
    except UsageError:
        return
    for word in words:
        assert word.strip("#") and (INDEX.find(word) is None or clean_display(word))
        INDEX.suggest(word)
