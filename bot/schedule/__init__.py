"""Posting slots (pure) and the APScheduler wiring."""
