"""Errors are classified once: real python-telegram-bot and Mastodon.py exception instances."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mastodon import errors as m
from telegram import error as t

from bot.errors import FormatError, PermanentError, RetryableError
from bot.publish.classify import classify, classify_answer, is_already_done, is_blocked, is_rate_limited, scrub

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw8"

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def api_error(cls: type[m.MastodonAPIError], status: int, detail: str = "Nope") -> m.MastodonAPIError:
    # The exact shape Mastodon.py raises (mastodon/internals.py).
    return cls("Mastodon API returned error", status, "Reason", detail)


@pytest.mark.parametrize("exc", [t.TimedOut(), t.NetworkError("httpx.ConnectError: connection refused")])
def test_telegram_transient_errors_are_retryable(exc) -> None:
    error = classify(exc)
    assert isinstance(error, RetryableError) and error.retry_after is None


@pytest.mark.parametrize("retry_after", [3, timedelta(seconds=42)])
def test_telegram_retry_after_carries_the_seconds(retry_after) -> None:
    error = classify(t.RetryAfter(retry_after))
    expected = retry_after.total_seconds() if isinstance(retry_after, timedelta) else retry_after
    assert isinstance(error, RetryableError) and error.retry_after == expected


@pytest.mark.parametrize("exc", [
    t.BadRequest("Chat not found"),
    t.BadRequest("Can't parse entities: unsupported start tag \"p\""),
    t.Forbidden("Forbidden: bot was blocked by the user"),
    t.InvalidToken(),
    t.ChatMigrated(-1001234567890),
])
def test_telegram_refusals_are_permanent_with_the_platform_words(exc) -> None:
    error = classify(exc)
    assert isinstance(error, PermanentError)
    assert exc.message in str(error)


@pytest.mark.parametrize(("exc", "kind"), [
    (m.MastodonNetworkError("Could not complete request: Read timed out. (read timeout=30)"), RetryableError),
    (api_error(m.MastodonInternalServerError, 500), RetryableError),
    (api_error(m.MastodonServiceUnavailableError, 503), RetryableError),
    (api_error(m.MastodonGatewayTimeoutError, 504), RetryableError),
    (api_error(m.MastodonServerError, 507), RetryableError),
    (api_error(m.MastodonAPIError, 408), RetryableError),
    (m.MastodonAPIError("Could not parse response as JSON, response code was 200"), RetryableError),
    (api_error(m.MastodonUnauthorizedError, 401, "The access token is invalid"), PermanentError),
    (api_error(m.MastodonAPIError, 403, "This action is not allowed"), PermanentError),
    (api_error(m.MastodonNotFoundError, 404, "Record not found"), PermanentError),
    (api_error(m.MastodonAPIError, 422, "Validation failed: Text is too long"), PermanentError),
    (api_error(m.MastodonAPIError, 400), PermanentError),
    (m.MastodonIllegalArgumentError("Could not determine mime type"), PermanentError),
])
def test_mastodon_errors(exc, kind) -> None:
    assert isinstance(classify(exc), kind)


def test_mastodon_message_keeps_status_and_detail() -> None:
    error = classify(api_error(m.MastodonAPIError, 422, "Validation failed: Text is too long"))
    assert str(error) == "Mastodon 422 Reason: Validation failed: Text is too long"


def test_mastodon_rate_limit_waits_until_the_reset() -> None:
    assert classify(m.MastodonRatelimitError("Hit rate limit."), ratelimit_reset_in=87.5).retry_after == 87.5
    assert classify(m.MastodonRatelimitError("Hit rate limit.")).retry_after is None


def test_our_own_errors_and_the_unknown() -> None:
    assert isinstance(classify(FormatError("no title")), PermanentError)
    already = PermanentError("x")
    assert classify(already) is already
    assert isinstance(classify(ValueError("bug")), RetryableError)  # bounded by max attempts


def test_already_done() -> None:
    assert is_already_done(t.BadRequest("Message is not modified: specified new message content"))
    assert is_already_done(t.BadRequest("Message to delete not found"))
    assert is_already_done(api_error(m.MastodonNotFoundError, 404))
    assert not is_already_done(t.BadRequest("Chat not found"))


def test_tokens_never_reach_the_message() -> None:
    url = f"https://api.telegram.org/bot{TOKEN}/sendMessage"
    error = classify(t.NetworkError(f"httpx.ConnectError: All connection attempts failed for {url}"))
    assert TOKEN not in str(error) and "bot***" in str(error)
    error = classify(m.MastodonNetworkError("headers {'Authorization': 'Bearer s3cr3t-T0KEN'}"))
    assert "s3cr3t" not in str(error)


@given(st.text(max_size=300), st.text(max_size=300))
def test_scrub_never_leaks_a_telegram_token_and_stays_one_bounded_line(before, after) -> None:
    text = scrub(f"{before}/bot{TOKEN}/{after}")
    assert TOKEN not in text and "\n" not in text and len(text) <= 500


@pytest.mark.parametrize(("status", "code", "retry_after", "kind"), [
    (429, 429, 7.0, RetryableError),
    (400, 400, None, PermanentError),
    (401, 401, None, PermanentError),
    (403, 403, None, PermanentError),
    (404, 404, None, PermanentError),
    (409, 409, None, PermanentError),
    (500, 500, None, RetryableError),
    (502, None, None, RetryableError),  # a proxy's HTML page: no Bot API body
    (408, 408, None, RetryableError),
])
def test_a_bot_api_answer_is_classified_by_its_codes(status, code, retry_after, kind) -> None:
    error = classify_answer(status, code, "Forbidden: bot was blocked by the user" if code == 403 else "", retry_after)
    assert isinstance(error, kind) and getattr(error, "retry_after", None) == retry_after
    assert str(error).startswith("Telegram: ")


def test_answers_and_exceptions_agree() -> None:
    # The lean sender's answers and PTB's exceptions for the same refusals land in the same class.
    pairs = [(classify_answer(403, 403, "Forbidden: bot was blocked by the user"), classify(t.Forbidden("blocked"))),
             (classify_answer(400, 400, "Bad Request: chat not found"), classify(t.BadRequest("Chat not found"))),
             (classify_answer(429, 429, "Too Many Requests", 3.0), classify(t.RetryAfter(3)))]
    for answer, exception in pairs:
        assert type(answer) is type(exception)
        assert getattr(answer, "retry_after", None) == getattr(exception, "retry_after", None)


@pytest.mark.parametrize(("status", "code", "retry_after"), [
    (403, 403, None), (429, 429, 7.0), (429, None, None), (400, 400, None), (401, 401, None), (404, 404, None),
    (500, 500, None), (502, None, None),
])
def test_lean_answers_tell_blocked_readers_and_rate_limits_like_ptb(status, code, retry_after) -> None:
    # Blocked readers (on_blocked) and the 429 counter must work whichever sender answered.
    error = classify_answer(status, code, "Forbidden: bot was blocked by the user" if code == 403 else "", retry_after)
    assert is_blocked(error) is (status == 403)
    assert is_rate_limited(error) is (status == 429)


def test_a_classified_error_raised_from_the_platform_error_keeps_its_meaning() -> None:
    for original, blocked, limited in [(t.Forbidden("bot was blocked by the user"), True, False),
                                       (t.RetryAfter(3), False, True), (t.BadRequest("Chat not found"), False, False)]:
        try:
            raise classify(original) from original
        except Exception as exc:
            assert (is_blocked(exc), is_rate_limited(exc)) == (blocked, limited)
