"""Relais: publish a blog's articles to Telegram channels and Mastodon accounts."""

__version__ = "0.1.0"
