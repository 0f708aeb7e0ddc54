"""Telegram chat handlers, one module per feature."""
