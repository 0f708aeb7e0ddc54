"""Helpers shared by the publishing tests (rows, the mock's control plane, a tiny PNG)."""

from __future__ import annotations

import base64
import itertools
from datetime import UTC, datetime
from typing import Any

import httpx
from mastodon_mock.testing import MockServer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Channel, Delivery, DeliveryState, Platform, Post, Publication, PublicationState, Subscriber
from bot.store.repository import NewPost, add_post

NOW = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)

# A 1×1 PNG, the smallest honest image.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
_keys = itertools.count(1)


class MastodonServer:
    """The running mock plus its mock-only control plane (faults, reset)."""

    def __init__(self, server: MockServer) -> None:
        self.server = server
        self.base_url = server.base_url

    def reset(self) -> None:
        httpx.post(f"{self.base_url}/api/v1/_mock/reset").raise_for_status()  # also clears faults

    def fault(self, *, path: str, methods: list[str] | None = None, count: int | None = 1, **effect: Any) -> str:
        rule = {"match": {"methods": methods, "path": path}, "effect": effect, "count": count}
        response = httpx.post(f"{self.base_url}/api/v1/_mock/faults", json=rule)
        response.raise_for_status()
        return str(response.json()["id"])

    def statuses(self, username: str = "alice") -> list[Any]:
        client = self.server.client(username)
        return list(client.account_statuses(client.me()["id"], limit=40))


async def make_channel(session: AsyncSession, name: str, platform: Platform = Platform.MASTODON,
                       target: str = "https://mastodon.example", **fields: Any) -> Channel:
    channel = Channel(name=name, platform=platform, target=target, **fields)
    session.add(channel)
    await session.flush()
    return channel


async def make_post(session: AsyncSession, title: str = "#Therabot : un #chatbot #IA qui améliore la #dépression",
                    **fields: Any) -> Post:
    number = next(_keys)
    new = NewPost(source="https://esante.example/feed", source_key=f"https://esante.example/?p={number}",
                  title=f"{title} ({number})", url=f"https://esante.example/{number}",
                  tags=("Therabot", "IA", "santé"), **fields)
    return await add_post(session, new)


async def make_publication(session: AsyncSession, post: Post, channel: Channel, *, due_at: datetime = NOW,
                           state: PublicationState = PublicationState.PENDING, **fields: Any) -> Publication:
    publication = Publication(post_id=post.id, channel_id=channel.id, state=state, due_at=due_at,
                              next_attempt_at=fields.pop("next_attempt_at", due_at),
                              idempotency_key=f"pub-{post.id}-{channel.id}", **fields)
    session.add(publication)
    await session.flush()
    return publication


async def make_subscriber(session: AsyncSession, telegram_user_id: int | None = None, **fields: Any) -> Subscriber:
    subscriber = Subscriber(telegram_user_id=telegram_user_id or 700_000 + next(_keys), **fields)
    session.add(subscriber)
    await session.flush()
    return subscriber


async def make_delivery(session: AsyncSession, post: Post, subscriber: Subscriber, *, due_at: datetime = NOW,
                        state: DeliveryState = DeliveryState.PENDING, **fields: Any) -> Delivery:
    """A notification row as the fan-out will write it (inserted directly until the fan-out exists)."""
    delivery = Delivery(post_id=post.id, subscriber_id=subscriber.id, state=state, due_at=due_at,
                        next_attempt_at=fields.pop("next_attempt_at", due_at), **fields)
    session.add(delivery)
    await session.flush()
    return delivery
