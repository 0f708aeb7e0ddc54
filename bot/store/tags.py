"""Tag keys now live in ``bot.domain.tags``; this path stays for modules not yet moved over."""

from bot.domain.tags import clean_display, tag_key

__all__ = ["clean_display", "tag_key"]
