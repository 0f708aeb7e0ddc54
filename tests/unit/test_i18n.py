import string

import pytest

from bot.i18n import FALLBACK, MESSAGES, t


def test_every_message_has_french_and_english_with_the_same_placeholders() -> None:
    for key, entry in MESSAGES.items():
        assert FALLBACK in entry and "en" in entry, key
        fields = {lang: {f for _, f, _, _ in string.Formatter().parse(text) if f} for lang, text in entry.items()}
        assert len({frozenset(v) for v in fields.values()}) == 1, key


def test_language_variants_and_fallback() -> None:
    assert t("read_more", "en-GB") == "Read more"
    assert t("read_more", "fr_CA") == "Lire la suite"
    assert t("read_more", "de") == "Lire la suite"
    assert t("read_more", None) == "Lire la suite"
    assert t("follow_tag_button", "fr", tag="IA") == "Suivre #IA"


def test_unknown_key_is_an_error() -> None:
    with pytest.raises(KeyError):
        t("no-such-message", "fr")
