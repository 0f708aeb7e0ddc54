"""Ingest: fetch (httpx) → parse (feedparser / WXR, from bytes) → decide (pure) → store.

Public entry points: ``parse.parse_feed`` (pure), ``service.import_source``, ``service.poll``
and ``service.poll_due``; ``hashtags.entry_tags`` for an entry's tags
(the hashtag grammar itself is ``bot.domain.hashtags``).
"""
