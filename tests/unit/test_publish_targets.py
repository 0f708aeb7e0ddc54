"""The composition root's view: configured channels become publishing targets, secrets stay masked."""

from __future__ import annotations

import pytest

from bot.errors import ConfigError
from bot.publish.ratelimit import MastodonLimits, TelegramLimits
from bot.publish.targets import MastodonTarget, TelegramTarget, build_targets
from bot.settings import load_settings


class NoTelegram:
    async def send(self, chat, render): raise AssertionError("not called")
    async def edit(self, chat, remote_id, render): raise AssertionError("not called")
    async def delete(self, chat, remote_id, sent_at, now): raise AssertionError("not called")


def settings(channels: list[dict]):
    return load_settings(None, env={"MASTO_TOKEN": "s3cr3t-token"}, channels=channels)


def test_each_enabled_channel_gets_a_target_and_tokens_share_a_limiter() -> None:
    config = settings([
        {"name": "canal", "platform": "telegram", "chat": "@canal_esante"},
        {"name": "masto", "platform": "mastodon", "instance_url": "https://mastodon.example", "token": "s3cr3t-token"},
        {"name": "masto2", "platform": "mastodon", "instance_url": "https://mastodon.example", "token": "s3cr3t-token"},
        {"name": "off", "platform": "telegram", "chat": "@canal_off", "enabled": False},
    ])
    limits = MastodonLimits()
    targets = build_targets(config, NoTelegram(), telegram_limits=TelegramLimits(), mastodon_limits=limits)
    assert set(targets) == {"canal", "masto", "masto2"}
    assert isinstance(targets["canal"], TelegramTarget) and isinstance(targets["masto"], MastodonTarget)
    assert targets["masto"].publisher._limiter is targets["masto2"].publisher._limiter
    assert "s3cr3t" not in repr(targets["masto"].publisher)


def test_missing_credentials_are_configuration_errors() -> None:
    with pytest.raises(ConfigError, match="canal"):
        build_targets(settings([{"name": "canal", "platform": "telegram", "chat": "@canal_esante"}]), None)
    with pytest.raises(ConfigError, match="masto"):
        build_targets(settings([{"name": "masto", "platform": "mastodon",
                                 "instance_url": "https://mastodon.example"}]), None)


def test_a_mastodon_channel_without_rate_limits_gets_no_limiter_the_others_keep_theirs() -> None:
    config = settings([
        {"name": "local", "platform": "mastodon", "instance_url": "http://127.0.0.1:9", "token": "t0k3n",
         "rate_limits": False},
        {"name": "masto", "platform": "mastodon", "instance_url": "https://mastodon.example", "token": "s3cr3t-token"},
    ])
    targets = build_targets(config, None, mastodon_limits=MastodonLimits())
    assert targets["local"].publisher._limiter is None
    assert targets["masto"].publisher._limiter is not None
