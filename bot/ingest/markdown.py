"""HTML → Markdown for the posts an import writes.

markdownify (on BeautifulSoup) is the costliest step of an import — about as long as
feedparser's whole parse — so parsing skips it and the service converts only the posts it
will actually write: an unchanged entry never pays for it. A worker-process pool was tried
and dropped: on a small host it gained little and spawning from inside the bot is fragile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from bot.ingest.html import to_markdown


def convert_all(bodies: Sequence[str]) -> list[str]:
    return [to_markdown(body) for body in bodies]


async def to_markdown_many(bodies: Sequence[str]) -> list[str]:
    """Off the event loop, so a big import does not stall the bot's other work."""
    return await asyncio.to_thread(convert_all, bodies) if bodies else []
