"""The Mastodon publisher with the real Mastodon.py client against mastodon_mock over HTTP."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import timedelta

import pytest
from publish_support import NOW, MastodonServer

from bot.errors import PermanentError, RetryableError
from bot.format.counting import mastodon_length
from bot.publish.mastodon import MastodonPublisher, idempotency_key_for

STATUS = (
    "#Therabot : un #chatbot #IA qui améliore la #dépression, l’#anxiété… "
    "Une étude « randomisée » montre des effets\u00a0! 🧠 https://esante.example/therabot"
)


@dataclass(frozen=True)
class Render:
    status: str = STATUS
    spoiler_text: str = ""
    language: str = "fr"
    visibility: str = "public"
    media_url: str | None = None
    media_alt: str | None = None


def publisher(mastodon: MastodonServer, token: str = "alice_token", **kwargs) -> MastodonPublisher:
    return MastodonPublisher(api_base_url=mastodon.base_url, access_token=token, **kwargs)


async def test_posts_a_status_with_language_visibility_and_content_warning(mastodon) -> None:
    render = Render(spoiler_text="santé mentale", visibility="unlisted")
    sent = await publisher(mastodon).send(render, idempotency_key="k1", now=NOW)
    [status] = mastodon.statuses()
    assert str(status["id"]) == sent.remote_id and status["url"] == sent.remote_url
    assert status["language"] == "fr" and status["visibility"] == "unlisted"
    assert status["spoiler_text"] == "santé mentale"
    assert "l’#anxiété" in status["content"] or "anxiété" in status["content"]


async def test_the_same_idempotency_key_makes_one_status(mastodon) -> None:
    pub = publisher(mastodon)
    key = idempotency_key_for("pub-7-2", 1)
    first = await pub.send(Render(), idempotency_key=key, now=NOW)
    again = await pub.send(Render(), idempotency_key=key, now=NOW)
    assert first == again
    assert len(mastodon.statuses()) == 1
    other = await pub.send(Render(), idempotency_key=idempotency_key_for("pub-7-2", 2), now=NOW)
    assert other.remote_id != first.remote_id


async def test_a_timeout_after_the_server_posted_is_retried_into_the_same_status(mastodon) -> None:
    mastodon.fault(path="/api/v1/statuses", methods=["POST"], type="latency", delay_ms=800)
    slow = publisher(mastodon, request_timeout=0.2)
    with pytest.raises(RetryableError):
        await slow.send(Render(), idempotency_key="k-timeout", now=NOW)
    for _ in range(200):  # the server finishes the request the client gave up on
        if mastodon.statuses():
            break
        await asyncio.sleep(0.02)
    sent = await publisher(mastodon).send(Render(), idempotency_key="k-timeout", now=NOW)
    statuses = mastodon.statuses()
    assert [str(s["id"]) for s in statuses] == [sent.remote_id]


async def test_edit_and_delete(mastodon) -> None:
    pub = publisher(mastodon)
    sent = await pub.send(Render(), idempotency_key="k-edit", now=NOW)
    await pub.edit(sent.remote_id, Render(status="Mise à jour : " + STATUS, spoiler_text="IA"), now=NOW)
    [status] = mastodon.statuses()
    assert "Mise à jour" in status["content"] and status["spoiler_text"] == "IA"
    assert status["edited_at"] is not None
    assert await pub.delete(sent.remote_id) is True
    assert mastodon.statuses() == []
    assert await pub.delete(sent.remote_id) is True  # already gone counts as deleted


async def test_image_uploaded_with_alt_text(mastodon, image_server) -> None:
    render = Render(media_url=f"{image_server}/therabot.png", media_alt="Un robot qui écoute une patiente")
    await publisher(mastodon).send(render, idempotency_key="k-media", now=NOW)
    [status] = mastodon.statuses()
    [attachment] = status["media_attachments"]
    assert attachment["description"] == "Un robot qui écoute une patiente"
    assert attachment["type"] == "image"


async def test_a_missing_image_posts_without_it_and_a_failing_one_retries(mastodon, image_server) -> None:
    pub = publisher(mastodon)
    await pub.send(Render(media_url=f"{image_server}/gone.png"), idempotency_key="k-gone", now=NOW)
    assert mastodon.statuses()[0]["media_attachments"] == []
    with pytest.raises(RetryableError):
        await pub.send(Render(media_url=f"{image_server}/broken"), idempotency_key="k-broken", now=NOW)
    assert len(mastodon.statuses()) == 1


async def test_an_image_that_keeps_failing_is_left_out_once_the_post_stops_waiting(mastodon, image_server) -> None:
    await publisher(mastodon).send(Render(media_url=f"{image_server}/broken"), idempotency_key="k-late",
                                   now=NOW, wait_for_media=False)
    [status] = mastodon.statuses()
    assert status["media_attachments"] == [] and "Therabot" in status["content"]


async def test_429_is_retried_at_the_reset_time(mastodon) -> None:
    reset = int(time.time()) + 120
    mastodon.fault(path="/api/v1/statuses", methods=["POST"], type="ratelimit",
                   headers={"X-RateLimit-Reset": str(reset)})
    with pytest.raises(RetryableError) as caught:
        await publisher(mastodon).send(Render(), idempotency_key="k-429", now=NOW)
    assert caught.value.retry_after is not None
    assert 110 <= caught.value.retry_after <= 121
    assert mastodon.statuses() == []


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_5xx_is_retryable(mastodon, status) -> None:
    mastodon.fault(path="/api/v1/statuses", methods=["POST"], type="status", status=status)
    with pytest.raises(RetryableError) as caught:
        await publisher(mastodon).send(Render(), idempotency_key="k-5xx", now=NOW)
    assert caught.value.retry_after is None
    assert str(status) in str(caught.value)


async def test_401_is_permanent_and_never_shows_the_token(mastodon) -> None:
    with pytest.raises(PermanentError) as caught:
        await publisher(mastodon, token="not-a-valid-token-SECRET").send(Render(), idempotency_key="k", now=NOW)
    assert "401" in str(caught.value)
    assert "SECRET" not in str(caught.value) and "SECRET" not in repr(caught.value)


@pytest.mark.parametrize("status", [400, 403, 404, 422])
async def test_4xx_is_permanent_with_the_platform_message(mastodon, status) -> None:
    mastodon.fault(path="/api/v1/statuses", methods=["POST"], type="status", status=status,
                   body={"error": "Validation failed: Texte refusé"})
    with pytest.raises(PermanentError) as caught:
        await publisher(mastodon).send(Render(), idempotency_key="k-4xx", now=NOW)
    assert "Validation failed: Texte refusé" in str(caught.value)


async def test_instance_limits_are_read_once_a_day(mastodon) -> None:
    pub = publisher(mastodon)
    limits = await pub.refresh_limits(NOW)
    assert (limits.max_characters, limits.characters_reserved_per_url) == (500, 23)
    mastodon.fault(path="/api/v2/instance*", type="status", status=500, count=None)
    assert await pub.refresh_limits(NOW + timedelta(hours=23)) is limits  # cached, no request
    kept = await pub.refresh_limits(NOW + timedelta(days=1, seconds=1))  # refresh fails: old values kept
    assert kept is limits
    with pytest.raises(RetryableError):  # a fresh publisher has nothing to fall back on
        await publisher(mastodon).refresh_limits(NOW)


async def test_urls_count_23_whatever_the_mock_says(mastodon) -> None:
    # mastodon_mock counts raw characters; real Mastodon counts each URL as 23. Our own check
    # must use the real rule, in both directions.
    short_url = "http://a.fr"
    text = "é" * 480 + " " + short_url  # 492 raw, 504 for Mastodon
    assert mastodon_length(text) == 504
    with pytest.raises(PermanentError, match="504 characters"):
        await publisher(mastodon).send(Render(status=text), idempotency_key="k-short", now=NOW)
    assert mastodon.statuses() == []  # refused before the request: the mock would have taken it

    long_url = "https://esante.fr/" + "a" * 205  # a real TLD: Mastodon's URL regex knows ".example" is none
    text = "é" * 400 + " " + long_url  # 624 raw, 424 for Mastodon: valid on a real instance
    assert mastodon_length(text) == 424
    with pytest.raises(PermanentError, match="too long"):  # only the mock refuses it
        await publisher(mastodon).send(Render(status=text), idempotency_key="k-long", now=NOW)


async def test_past_the_idempotency_hour_an_earlier_status_is_found_not_reposted(mastodon) -> None:
    pub = publisher(mastodon)
    first = await pub.send(Render(), idempotency_key="k-old", now=NOW)
    # Two hours later Mastodon has forgotten the key: a new key stands in for that here.
    again = await pub.send(Render(), idempotency_key="k-forgotten", now=NOW + timedelta(hours=2),
                           look_back_since=NOW - timedelta(hours=3))
    assert again.remote_id == first.remote_id
    assert len(mastodon.statuses()) == 1
