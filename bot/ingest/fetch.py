"""Getting a source's bytes: http(s) with httpx, or a local file. No parsing here.

HTTP: at most 5 redirects, timeouts, a body cap counted on the decoded bytes (so a small
gzip bomb is refused too), and conditional GET with the stored ETag / Last-Modified
(RFC 9110 §13.1): a 304 means there is nothing to do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bot import __version__
from bot.errors import FetchError

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
MAX_REDIRECTS = 5
USER_AGENT = f"Relais/{__version__} (feed importer)"
ACCEPT = ("application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
          "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5")


@dataclass(frozen=True, slots=True)
class Fetched:
    """The bytes of a source, or ``not_modified`` after a 304."""

    location: str  # final URL after redirects, or the file path
    content: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")  # two letters at least: "C:\\feed.xml" is a path


def scheme(location: str) -> str:
    """The location's URL scheme, lower-case; "" for a local path. Never raises, unlike urlsplit."""
    found = _SCHEME.match(location.strip())
    return found.group(1).lower() if found else ""


def is_url(location: str) -> bool:
    return scheme(location) in ("http", "https")


def check_location(location: str) -> None:
    """Refuse, in one line, what is neither a local path nor a well-formed http(s) URL."""
    kind = scheme(location)
    if kind and kind not in ("http", "https") and not Path(location).exists():  # "notes:2026.xml" is a file
        raise FetchError(f"unsupported scheme {kind}: (Relais reads http, https and local files)")
    if kind in ("http", "https"):
        try:
            parts = urlsplit(location.strip())
        except ValueError as exc:
            raise FetchError(f"not a valid URL ({exc})") from None
        if not parts.hostname:
            raise FetchError("not a valid URL (no host name)")


def make_client(transport: httpx.AsyncBaseTransport | None = None, timeout: float = 20.0) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=transport, follow_redirects=True, max_redirects=MAX_REDIRECTS,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        headers={"User-Agent": USER_AGENT, "Accept": ACCEPT},
    )


async def fetch_url(client: httpx.AsyncClient, url: str, *, etag: str | None = None,
                    last_modified: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> Fetched:
    """The body at ``url``; a ``FetchError`` says what went wrong (without repeating the URL)."""
    check_location(url)
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with client.stream("GET", url, headers=headers) as response:
            if response.status_code == 304:
                return Fetched(str(response.url), not_modified=True, etag=etag, last_modified=last_modified)
            if response.status_code >= 400:
                raise FetchError(f"HTTP {response.status_code} {response.reason_phrase}".rstrip())
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(f"body of {int(declared)} bytes is over the {max_bytes}-byte cap")
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(f"body is over the {max_bytes}-byte cap")
                chunks.append(chunk)
            response_headers = {k.lower(): v for k, v in response.headers.items()}
            # feedparser resolves relative links against Content-Location; the final URL is the right base.
            response_headers.setdefault("content-location", str(response.url))
            response_headers.pop("content-encoding", None)  # httpx already decoded the body
            return Fetched(str(response.url), b"".join(chunks), response_headers,
                           etag=_validator(response.headers.get("etag"), 500),
                           last_modified=_validator(response.headers.get("last-modified"), 100))
    except httpx.TooManyRedirects:
        raise FetchError(f"more than {MAX_REDIRECTS} redirects") from None
    except httpx.TimeoutException:
        raise FetchError("timed out") from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise FetchError(f"{type(exc).__name__}: {exc}") from None


def _validator(value: str | None, limit: int) -> str | None:
    """A validator too long for its column is dropped: a full GET next time beats a crash."""
    return value if value and len(value) <= limit else None


def read_file(path: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Fetched:
    """A local file's bytes; a ``FetchError`` says what went wrong (without repeating the path)."""
    check_location(path)
    file = Path(path).expanduser()
    try:
        size = file.stat().st_size
        if size > max_bytes:
            raise FetchError(f"file of {size} bytes is over the {max_bytes}-byte cap")
        return Fetched(str(file), file.read_bytes())
    except FileNotFoundError:
        raise FetchError("no such file") from None
    except IsADirectoryError:
        raise FetchError("is a folder, not a feed file") from None
    except OSError as exc:
        raise FetchError(f"cannot read ({exc.strerror})") from None
