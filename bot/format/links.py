"""The article link: canonical URL plus the channel's UTM parameters, merged properly."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.format.text import safe_href

# A lower-case http(s) URL of printable ASCII with no query, fragment or IPv6 brackets:
# splitting it and joining it back with a query is just appending "?query".
_PLAIN_HTTP_URL = re.compile(r"https?://[^?#\[\]\x00-\x20\x7f-\U0010ffff]+")


def with_utm(url: str | None, utm: str | None) -> str | None:
    """``url`` with ``utm`` ("utm_source=x&utm_medium=y") merged into its query.

    Existing parameters keep their order; a UTM key already present is replaced rather
    than repeated; the fragment stays last. A URL that is not absolute http(s) is no link.
    """
    url = safe_href(url)
    if url is None or not utm:
        return url
    extra, encoded = _parsed_utm(utm)
    if _PLAIN_HTTP_URL.fullmatch(url):  # what urlsplit + urlunsplit would give, without them
        return f"{url}?{encoded}"
    parts = urlsplit(url)
    if parts.query:
        replaced = {key for key, _ in extra}
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in replaced]
        encoded = urlencode(query + list(extra), safe=":/")
    return urlunsplit(parts._replace(query=encoded))


@lru_cache(maxsize=64)
def _parsed_utm(utm: str) -> tuple[tuple[tuple[str, str], ...], str]:
    """A profile's UTM pairs and their encoding: one per channel, reused for every post."""
    extra = tuple(parse_qsl(utm.lstrip("?&"), keep_blank_values=True))
    return extra, urlencode(extra, safe=":/")
