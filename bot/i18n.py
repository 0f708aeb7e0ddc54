"""The one message catalog: everything a reader or author sees, French first.

``t("read_more", "en")`` → "Read more". A language without a translation falls back to
French; a missing key is a bug and raises KeyError in tests. Add keys in the section of the
feature that shows them.
"""

from __future__ import annotations

FALLBACK = "fr"

MESSAGES: dict[str, dict[str, str]] = {
    # --- format: what readers see under a post
    "read_more": {"fr": "Lire la suite", "en": "Read more"},
    "read_more_link": {"fr": "Lire la suite\u00a0: {url}", "en": "Read more: {url}"},
    "content_warning": {"fr": "Avertissement\u00a0: {topic}", "en": "Content warning: {topic}"},
    # --- publish: buttons under channel posts
    "follow_tag_button": {"fr": "Suivre #{tag}", "en": "Follow #{tag}"},
}


def base_language(language: str | None) -> str:
    """'fr-FR', 'fr_CA' → 'fr'; None → the fallback."""
    if not language:
        return FALLBACK
    return language.replace("_", "-").split("-")[0].lower()


def t(key: str, language: str | None = None, /, **values: object) -> str:
    entry = MESSAGES[key]
    text = entry.get(base_language(language)) or entry[FALLBACK]
    return text.format(**values) if values else text
