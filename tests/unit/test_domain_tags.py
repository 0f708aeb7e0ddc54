from hypothesis import given
from hypothesis import strategies as st

from bot.domain.tags import clean_display, tag_key


def test_five_spellings_are_one_tag() -> None:
    spellings = ["Santé", "santé", "SANTÉ", "sante", "Sante\u0301"]
    assert {tag_key(s) for s in spellings} == {"sante"}


def test_hyphen_makes_a_different_tag() -> None:
    assert tag_key("e-santé") == "e-sante"
    assert tag_key("e-santé") != tag_key("esante")


def test_display_keeps_case_and_accents_but_drops_hash_and_extra_spaces() -> None:
    assert clean_display("  #Santé   mentale ") == "Santé mentale"
    assert clean_display("Sante\u0301") == "Santé"  # NFC


def test_fullwidth_and_ligatures_fold_under_nfkc() -> None:
    assert tag_key("ＩＡ") == tag_key("ia")
    assert tag_key("ﬁbre") == tag_key("fibre")


@given(st.text())
def test_key_is_idempotent(raw: str) -> None:
    assert tag_key(tag_key(raw)) == tag_key(raw)


@given(st.text())
def test_key_has_no_uppercase_or_combining_marks(raw: str) -> None:
    import unicodedata

    key = tag_key(raw)
    assert key == key.casefold() or tag_key(key) == key
    assert not any(unicodedata.combining(ch) for ch in unicodedata.normalize("NFD", key))
