"""The one message catalog: everything a reader or author sees, French first.

A gettext catalog managed with Babel (docs/i18n.md): message ids are short keys found in the
code (``t("read_more", "en")`` → "Read more"), their texts live in
``bot/locale/{fr,en}/LC_MESSAGES/relais.po``, compiled to the ``.mo`` files committed next to
them (tests/unit/test_i18n_catalog.py fails when a ``.mo`` is behind its ``.po``). So the
runtime needs only the standard library's ``gettext``, and a fresh ``pip install`` has them.

French is the fallback: a language without a catalog, or a message its catalog lacks, is
shown in French. A message French lacks is a bug and raises KeyError. Texts are
``str.format`` templates (``{tag}``); plurals follow each language's ``Plural-Forms``.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

FALLBACK = "fr"
DOMAIN = "relais"
LOCALE_DIR = Path(__file__).with_name("locale")


class Catalog:
    """The compiled catalogs of one locale directory, each falling back to French's."""

    def __init__(self, locale_dir: Path, domain: str = DOMAIN) -> None:
        self.locale_dir, self.domain = locale_dir, domain
        self.languages = sorted(p.name for p in locale_dir.iterdir() if (p / "LC_MESSAGES" / f"{domain}.mo").is_file())
        if FALLBACK not in self.languages:
            raise FileNotFoundError(f"no {FALLBACK} catalog ({domain}.mo) under {locale_dir}")

    @cache  # noqa: B019 (a few catalogs, alive as long as the process)
    def translations(self, language: str | None) -> gettext.NullTranslations:
        chosen = base_language(language)
        if chosen not in self.languages:
            chosen = FALLBACK
        with (self.locale_dir / chosen / "LC_MESSAGES" / f"{self.domain}.mo").open("rb") as file:
            found: gettext.NullTranslations = gettext.GNUTranslations(file)
        if chosen != FALLBACK:
            found.add_fallback(self.translations(FALLBACK))
        return found

    def t(self, msgid: str, language: str | None = None, /, **values: object) -> str:
        text = self.translations(language).gettext(msgid)
        if text == msgid:  # gettext hands back the id when no catalog has it
            raise KeyError(msgid)
        return text.format(**values) if values else text

    def tn(self, singular: str, plural: str, n: int, language: str | None = None, /, **values: object) -> str:
        text = self.translations(language).ngettext(singular, plural, n)
        if text in (singular, plural):
            raise KeyError(singular)
        return text.format(n=n, **values)

    def messages(self) -> dict[str, dict[str, str]]:
        """msgid → language → text of every singular message (for tests and tools)."""
        table: dict[str, dict[str, str]] = {}
        for language in self.languages:
            compiled = self.translations(language)
            for msgid, text in getattr(compiled, "_catalog", {}).items():
                if isinstance(msgid, str) and msgid:  # plural entries are keyed (msgid, index)
                    table.setdefault(msgid, {})[language] = text
        return table


def base_language(language: str | None) -> str:
    """'fr-FR', 'fr_CA' → 'fr'; None → the fallback."""
    if not language:
        return FALLBACK
    return language.replace("_", "-").split("-")[0].lower()


CATALOG = Catalog(LOCALE_DIR)


def t(msgid: str, language: str | None = None, /, **values: object) -> str:
    """The message ``msgid`` in ``language`` (French when missing), formatted with ``values``."""
    return CATALOG.t(msgid, language, **values)


def tn(singular: str, plural: str, n: int, language: str | None = None, /, **values: object) -> str:
    """The plural message for ``n`` in ``language``; ``{n}`` and ``values`` are formatted in."""
    return CATALOG.tn(singular, plural, n, language, **values)


def __getattr__(name: str) -> object:
    if name == "MESSAGES":  # msgid → language → text, read on demand (tests/unit/test_i18n.py)
        return CATALOG.messages()
    raise AttributeError(name)
