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
    # --- chat: what the bot answers in private
    "chat_welcome": {
        "fr": "Bonjour\u00a0! Je publie les articles du blog et je peux vous prévenir quand un sujet "
              "vous intéresse. Tapez /help pour voir ce que je sais faire.",
        "en": "Hello! I publish the blog's articles and can let you know when a topic you care "
              "about comes up. Type /help to see what I can do.",
    },
    "chat_help": {
        "fr": "Commandes\u00a0:\n/start — présentation\n/help — cette aide\n\n"
              "Touchez «\u00a0Suivre #sujet\u00a0» sous un article pour être prévenu des suivants.",
        "en": "Commands:\n/start — introduction\n/help — this help\n\n"
              "Tap “Follow #topic” under an article to hear about the next ones.",
    },
    "chat_internal_error": {
        "fr": "Désolé, quelque chose s’est mal passé de notre côté. Réessayez dans un instant.",
        "en": "Sorry, something went wrong on our side. Please try again in a moment.",
    },
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
