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
    # --- stats: /stats in the chat and `relais stats --chart` (numbers after a colon: no plural forms)
    "author_only": {
        "fr": "Désolé, cette commande est réservée aux auteurs du blog.",
        "en": "Sorry, this command is for the blog's authors only.",
    },
    "stats_heading": {"fr": "📊 Statistiques au {date}", "en": "📊 Statistics on {date}"},
    "stats_window": {
        "fr": "Sur {days} jours\u00a0:\n• articles publiés\u00a0: {posts}\n• publications envoyées\u00a0: {sent}, "
              "abandonnées\u00a0: {dead}\n• notifications aux lecteurs\u00a0: {deliveries}, en échec\u00a0: {failed}\n"
              "• nouveaux lecteurs\u00a0: {new_readers}",
        "en": "Last {days} days:\n• posts published: {posts}\n• publications sent: {sent}, given up: {dead}\n"
              "• notifications to readers: {deliveries}, failed: {failed}\n• new readers: {new_readers}",
    },
    "stats_queue": {"fr": "Publications en attente\u00a0: {publications} (articles\u00a0: {posts})",
                    "en": "Publications waiting: {publications} (posts: {posts})"},
    "stats_readers": {"fr": "Lecteurs actifs\u00a0: {active}, inactifs\u00a0: {inactive}",
                      "en": "Active readers: {active}, inactive: {inactive}"},
    "stats_top_tags": {"fr": "Tags les plus suivis\u00a0: {tags}", "en": "Most followed tags: {tags}"},
    "stats_no_follows": {"fr": "Aucun tag suivi pour l’instant.", "en": "No tag followed yet."},
    "stats_chart_title": {"fr": "Relais, du {first} au {last}", "en": "Relais, {first} to {last}"},
    "stats_chart_publications": {"fr": "Publications envoyées par jour", "en": "Publications sent per day"},
    "stats_chart_deliveries": {"fr": "Notifications aux lecteurs par jour", "en": "Notifications to readers per day"},
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
