"""Which failures count as 429s in the metrics: raw or already classified by a publisher."""

from __future__ import annotations

import pytest
from mastodon import errors as mastodon_errors
from telegram import error as telegram_errors

from bot.errors import RetryableError
from bot.publish.classify import classify, is_rate_limited

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def classified(exc: Exception) -> Exception:
    """What a publisher raises: the classified error, `from None`, inside the handler."""
    try:
        try:
            raise exc
        except Exception as raw:
            raise classify(raw) from None
    except Exception as error:
        return error


@pytest.mark.parametrize("raw", [
    telegram_errors.RetryAfter(17),
    mastodon_errors.MastodonRatelimitError("Hit rate limit."),
    mastodon_errors.MastodonAPIError("Mastodon API returned error", 429, "Too Many Requests", None),
], ids=["telegram", "mastodon-ratelimit", "mastodon-429"])
def test_a_429_counts_raw_and_classified(raw: Exception) -> None:
    assert is_rate_limited(raw)
    assert is_rate_limited(classified(raw))


@pytest.mark.parametrize("raw", [
    telegram_errors.NetworkError("Bad Gateway"),
    telegram_errors.Forbidden("bot was blocked by the user"),
    mastodon_errors.MastodonAPIError("Mastodon API returned error", 503, "Service Unavailable", None),
    RetryableError("timed out"),
], ids=["telegram-502", "telegram-403", "mastodon-503", "timeout"])
def test_other_failures_do_not(raw: Exception) -> None:
    assert not is_rate_limited(raw)
    assert not is_rate_limited(classified(raw))
