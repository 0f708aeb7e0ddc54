"""The gettext catalog: compiled files up to date, in step with the code, plurals per language."""

from __future__ import annotations

import io
import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog as BabelCatalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.i18n import FALLBACK, LOCALE_DIR, Catalog, t

ROOT = Path(__file__).parents[2]
KEYWORDS = {"t": (1,), "tn": (1, 2)}  # as in docs/i18n.md: pybabel extract -k t -k tn:1,2
PO_FILES = sorted(LOCALE_DIR.glob("*/LC_MESSAGES/relais.po"))


def read(path: Path, locale: str | None = None) -> BabelCatalog:
    with path.open("rb") as file:
        return read_po(file, locale=locale)


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_french_and_english_catalogs_exist() -> None:
    assert {p.parts[-3] for p in PO_FILES} >= {"fr", "en"}


@pytest.mark.parametrize("po", PO_FILES, ids=lambda p: p.parts[-3])
def test_committed_mo_is_compiled_from_its_po(po: Path) -> None:
    """`pybabel compile -d bot/locale -D relais` was run after the last .po edit."""
    compiled = io.BytesIO()
    write_mo(compiled, read(po, po.parts[-3]))
    assert po.with_suffix(".mo").read_bytes() == compiled.getvalue(), "run: pybabel compile -d bot/locale -D relais"


def test_catalog_holds_exactly_the_messages_the_code_asks_for() -> None:
    """`pybabel extract` then `pybabel update` were run after the last t()/tn() change."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    in_code = {msg if isinstance(msg, str) else msg[0]
               for _, _, msg, _, _ in extract_from_dir(ROOT, method_map, options_map, keywords=KEYWORDS)}
    template = {m.id if isinstance(m.id, str) else m.id[0] for m in read(LOCALE_DIR / "relais.pot") if m.id}
    assert in_code == template
    for po in PO_FILES:
        assert {m.id if isinstance(m.id, str) else m.id[0] for m in read(po) if m.id} == template, po


@pytest.mark.parametrize("po", PO_FILES, ids=lambda p: p.parts[-3])
def test_every_message_is_translated_with_the_same_placeholders(po: Path) -> None:
    catalog = read(po, po.parts[-3])
    for message in catalog:
        if not message.id:
            continue
        texts = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(texts) and not message.fuzzy, (po, message.id)
        french = read(LOCALE_DIR / FALLBACK / "LC_MESSAGES" / "relais.po").get(message.id)
        french_texts = french.string if isinstance(french.string, tuple) else (french.string,)
        assert {frozenset(fields(x)) for x in (*texts, *french_texts)} == {frozenset(fields(french_texts[-1]))}, message.id


PLURALS = {  # Babel's Plural-Forms for French (CLDR) has three: one (0, 1), many (1 000 000), other
    "fr": ("Vous suivez {n}\u00a0sujet", "Vous suivez {n}\u00a0de sujets", "Vous suivez {n}\u00a0sujets"),
    "en": ("You follow {n} topic", "You follow {n} topics"),
}


@pytest.fixture
def plural_catalog(tmp_path: Path) -> Catalog:
    """A catalog compiled the way pybabel compile compiles ours, holding one plural message."""
    for language, texts in PLURALS.items():
        catalog = BabelCatalog(locale=language)
        assert catalog.num_plurals == len(texts)
        catalog.add(("followed_topics", "followed_topics_plural"), texts)
        folder = tmp_path / language / "LC_MESSAGES"
        folder.mkdir(parents=True)
        with (folder / "relais.mo").open("wb") as mo:
            write_mo(mo, catalog)
    return Catalog(tmp_path)


@pytest.mark.parametrize(("language", "n", "expected"), [
    ("fr", 0, "Vous suivez 0\u00a0sujet"), ("fr", 1, "Vous suivez 1\u00a0sujet"), ("fr", 2, "Vous suivez 2\u00a0sujets"),
    ("fr", 1_000_000, "Vous suivez 1000000\u00a0de sujets"),
    ("en", 0, "You follow 0 topics"), ("en", 1, "You follow 1 topic"), ("en", 2, "You follow 2 topics"),
    ("en-GB", 1, "You follow 1 topic"), ("de", 2, "Vous suivez 2\u00a0sujets"), (None, 1, "Vous suivez 1\u00a0sujet"),
])
def test_plurals_follow_each_language(plural_catalog: Catalog, language: str | None, n: int, expected: str) -> None:
    assert plural_catalog.tn("followed_topics", "followed_topics_plural", n, language) == expected


def test_a_plural_french_lacks_is_an_error(plural_catalog: Catalog) -> None:
    with pytest.raises(KeyError):
        plural_catalog.tn("nothing", "nothings", 2, "en")


def test_the_package_catalog_answers_in_french_and_english() -> None:
    assert t("read_more_link", "fr", url="https://x.fr") == "Lire la suite\u00a0: https://x.fr"
    assert t("read_more_link", "en", url="https://x.fr") == "Read more: https://x.fr"
