"""URL credentials are masked wherever they are shown: settings output and reprs, log lines, errors."""

from __future__ import annotations

import io
import logging
import string
from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from bot.logs import MASK, RedactSecrets, mask_credentials, secrets_of
from bot.settings import load_settings, masked_dump
from bot.store.db import safe_url

# What a password can be once written in a URL: percent-encoded anything, or pasted raw
# (letters, digits and the punctuation people put in passwords, "@" and ":" included).
RAW = string.ascii_letters + string.digits + "!$&'()*+,;=-._~@:%"
passwords = st.one_of(
    st.text(min_size=1, max_size=24).map(lambda p: quote(p, safe="")),
    st.text(alphabet=RAW, min_size=1, max_size=24),
).filter(lambda p: len(p) >= 4 and p not in ("****", MASK))
users = st.text(alphabet=string.ascii_letters + string.digits + "_-.", min_size=0, max_size=12)
hosts = st.sampled_from(["127.0.0.1", "db.example.org", "[::1]", "localhost:5432", "pg"])
schemes = st.sampled_from(["postgresql+asyncpg", "postgresql", "postgres", "https", "http", "redis"])
tails = st.sampled_from(["", "/relais", "/db?sslmode=require", "/x#frag", " is unavailable: refused"])


@st.composite
def credential_urls(draw: st.DrawFn) -> tuple[str, str]:
    """(a URL with user:password, the same URL as it must be shown)."""
    scheme, user, password, host, tail = draw(schemes), draw(users), draw(passwords), draw(hosts), draw(tails)
    return f"{scheme}://{user}:{password}@{host}{tail}", f"{scheme}://{user}:{MASK}@{host}{tail}"


@given(credential_urls(), st.text(alphabet=string.ascii_letters + " :", max_size=20))
def test_the_password_and_only_it_is_masked(case: tuple[str, str], prefix: str) -> None:
    url, shown = case
    assert mask_credentials(f"{prefix} {url} more text") == f"{prefix} {shown} more text"


@given(credential_urls())
def test_log_lines_and_tracebacks_are_masked(case: tuple[str, str]) -> None:
    url, shown = case
    stream = io.StringIO()
    logger = logging.getLogger("test-redact-urls")
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets([]))
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("connecting to %s", url)
        try:
            raise ConnectionError(f"cannot reach {url}")
        except ConnectionError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue()
    assert url not in lines
    assert f"connecting to {shown}\n" in lines and f"ConnectionError: cannot reach {shown}" in lines


@given(credential_urls())
def test_safe_url_masks_the_password(case: tuple[str, str]) -> None:
    url, shown = case
    assert safe_url(url) == shown


def test_urls_without_password_are_unchanged() -> None:
    for text in ("postgresql+asyncpg://relais@127.0.0.1:54330/db", "https://api.telegram.org:443/bot/getMe",
                 "sqlite+aiosqlite:///relais.db", "mailto:someone@example.org", "écrit à l’équipe@blog"):
        assert mask_credentials(text) == text


def test_settings_output_reprs_and_log_secrets_hide_the_database_password() -> None:
    settings = load_settings(None, env={"RELAIS_DATABASE_URL": "postgresql://u:Hunter2@127.0.0.1/db"})
    assert settings.database_url == "postgresql+asyncpg://u:Hunter2@127.0.0.1/db"  # the app still gets it
    for text in (repr(settings), str(settings), str(masked_dump(settings))):
        assert "Hunter2" not in text
    assert masked_dump(settings)["database_url"] == f"postgresql+asyncpg://u:{MASK}@127.0.0.1/db"
    assert "Hunter2" in secrets_of(settings)  # so a driver echoing the bare password is redacted too


def test_feed_url_credentials_are_masked_in_the_dump() -> None:
    settings = load_settings(None, env={"RELAIS_FEEDS": '[{"name": "b", "url": "https://me:s3cretpw@blog.example/feed"}]'})
    assert "s3cretpw" not in str(masked_dump(settings)) and "s3cretpw" not in repr(settings)
