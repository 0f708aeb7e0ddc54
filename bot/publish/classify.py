"""Every platform failure is classified here, once: retry later, or give up.

Retryable: 429 (wait exactly what the platform says), timeouts, network errors, 5xx.
Permanent: 400, 401/403, 404 (chat not found), 422 — resending them unchanged cannot help.
See DESIGN.md rule 5, https://core.telegram.org/bots/api#responseparameters and
https://docs.joinmastodon.org/api/rate-limits/.

Messages keep the platform's own words (authors are told why a post is dead) but never a
token: PTB's network errors can quote the request URL, which carries the bot token.
"""

from __future__ import annotations

import re
from datetime import timedelta

from mastodon import errors as mastodon_errors
from telegram import error as telegram_errors

from bot.errors import FormatError, PermanentError, PublishError, RetryableError

MAX_MESSAGE = 500

_SECRETS = (
    re.compile(r"(bot)\d{3,}:[A-Za-z0-9_-]{20,}"),  # Telegram bot token inside an API URL
    re.compile(r"()\d{6,}:[A-Za-z0-9_-]{30,}"),  # a bare Telegram token
    re.compile(r"(?i)(bearer\s+|access_token=)[^\s&\"']+"),
)

# Telegram BadRequest texts that mean "the edit or delete you asked for is already true".
_ALREADY_DONE = ("message is not modified", "message to delete not found")


def scrub(text: str) -> str:
    """One line, no secrets, bounded length."""
    for pattern in _SECRETS:
        text = pattern.sub(lambda match: match.group(1) + "***", text)
    text = " ".join(text.split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def classify(exc: BaseException, *, ratelimit_reset_in: float | None = None) -> PublishError:
    """Turn any exception raised while publishing into RetryableError or PermanentError.

    ``ratelimit_reset_in``: seconds until the Mastodon rate-limit window resets, read by the
    publisher from the client after a 429 (Mastodon.py keeps it on the client, not the error).
    """
    if isinstance(exc, (RetryableError, PermanentError)):
        return exc
    if isinstance(exc, telegram_errors.TelegramError):
        return _classify_telegram(exc)
    if isinstance(exc, mastodon_errors.MastodonError):
        return _classify_mastodon(exc, ratelimit_reset_in)
    if isinstance(exc, FormatError):
        return PermanentError(scrub(f"cannot format: {exc}"))
    if isinstance(exc, (TimeoutError, ConnectionError)):
        return RetryableError(scrub(f"{type(exc).__name__}: {exc}"))
    # Unknown failures are retried with backoff; the attempt cap turns a bug into `dead`.
    return RetryableError(scrub(f"unexpected {type(exc).__name__}: {exc}"))


def is_blocked(exc: BaseException) -> bool:
    """True when a private chat refused the message (403: the user blocked the bot or is gone)."""
    return isinstance(exc, telegram_errors.Forbidden)


def is_already_done(exc: BaseException) -> bool:
    """True when an edit/delete failed only because its effect is already in place."""
    if isinstance(exc, telegram_errors.BadRequest):
        return any(text in exc.message.lower() for text in _ALREADY_DONE)
    return isinstance(exc, mastodon_errors.MastodonNotFoundError)


def retry_after_seconds(exc: telegram_errors.RetryAfter) -> float:
    """Telegram's retry_after in seconds (PTB 22 holds an int or a timedelta; v23 a timedelta)."""
    value = exc._retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _classify_telegram(exc: telegram_errors.TelegramError) -> PublishError:
    message = scrub(f"Telegram: {exc.message}")
    if isinstance(exc, telegram_errors.RetryAfter):
        return RetryableError(message, retry_after=retry_after_seconds(exc))
    # BadRequest derives from NetworkError in PTB: the permanent kinds are tested first.
    if isinstance(exc, (telegram_errors.BadRequest, telegram_errors.Forbidden, telegram_errors.InvalidToken,
                        telegram_errors.ChatMigrated, telegram_errors.EndPointNotFound,
                        telegram_errors.Conflict)):
        return PermanentError(message)
    return RetryableError(message)  # TimedOut, NetworkError and anything unknown: try again later


def _status_of(exc: mastodon_errors.MastodonAPIError) -> int | None:
    # Mastodon.py raises ex_type('Mastodon API returned error', status, reason, error_msg).
    if len(exc.args) >= 2 and isinstance(exc.args[1], int):
        return exc.args[1]
    return None


def _mastodon_message(exc: mastodon_errors.MastodonError) -> str:
    args = exc.args
    if isinstance(exc, mastodon_errors.MastodonAPIError) and len(args) >= 4:
        status, reason, detail = args[1], args[2], args[3]
        return scrub(f"Mastodon {status} {reason}: {detail or 'no detail'}")
    return scrub(f"Mastodon: {' '.join(str(a) for a in args) or type(exc).__name__}")


def _classify_mastodon(exc: mastodon_errors.MastodonError, reset_in: float | None) -> PublishError:
    message = _mastodon_message(exc)
    if isinstance(exc, mastodon_errors.MastodonRatelimitError):
        return RetryableError(message, retry_after=max(reset_in, 0.0) if reset_in is not None else None)
    if isinstance(exc, (mastodon_errors.MastodonNetworkError, mastodon_errors.MastodonServerError)):
        return RetryableError(message)
    if isinstance(exc, (mastodon_errors.MastodonUnauthorizedError, mastodon_errors.MastodonNotFoundError,
                        mastodon_errors.MastodonIllegalArgumentError, mastodon_errors.MastodonVersionError,
                        mastodon_errors.MastodonFileNotFoundError)):
        return PermanentError(message)
    if isinstance(exc, mastodon_errors.MastodonAPIError):
        status = _status_of(exc)
        if status is None:  # unparsable body: the request may have worked; the key makes a retry safe
            return RetryableError(message)
        if status in (408, 425, 429) or status >= 500:
            return RetryableError(message)
        return PermanentError(message)
    return RetryableError(message)
