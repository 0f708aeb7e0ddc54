"""The article link: canonical URL plus the channel's UTM parameters, merged properly."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.format.text import safe_href


def with_utm(url: str | None, utm: str | None) -> str | None:
    """``url`` with ``utm`` ("utm_source=x&utm_medium=y") merged into its query.

    Existing parameters keep their order; a UTM key already present is replaced rather
    than repeated; the fragment stays last. A URL that is not absolute http(s) is no link.
    """
    url = safe_href(url)
    if url is None or not utm:
        return url
    parts = urlsplit(url)
    extra = parse_qsl(utm.lstrip("?&"), keep_blank_values=True)
    replaced = {key for key, _ in extra}
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in replaced]
    return urlunsplit(parts._replace(query=urlencode(query + extra, safe=":/")))
