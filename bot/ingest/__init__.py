"""Ingest: fetch (httpx) → parse (feedparser / WXR, from bytes) → decide (pure) → store.

Public entry points: ``parse.parse_feed`` (pure), ``service.import_source``, ``service.poll``
and ``service.poll_due``; ``hashtags.find_hashtags`` for inline tags.
"""
