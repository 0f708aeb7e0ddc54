"""Sample posts and a two-channel configuration for runs against the sandbox; the demo's feed.

Shared by the end-to-end tests and ``bench/crash_test.py``: one Telegram channel on the
sandbox, one Mastodon account (mastodon_mock), and numbered articles in the blog's style
(each title carries ``n°<number>``, so a message can be traced back to its post).
"""

from __future__ import annotations

from bot.store.models import PostStatus
from bot.store.repository import NewPost


def numbered_article(number: int) -> NewPost:
    return NewPost(
        source="https://esante.example/feed", source_key=f"https://esante.example/?p={number}",
        title=f"#Therabot n°{number} : un #chatbot #IA qui apaise l’#anxiété",
        url=f"https://esante.example/therabot-{number}",
        body_html="<p>Une étude «\u00a0randomisée\u00a0» publiée dans <b>NEJM AI</b> montre des effets "
                  "nets sur la #dépression\u00a0! 🧠</p><p>Les auteurs restent prudents.</p>",
        tags=("Therabot", "IA", "santé mentale"), language="fr", status=PostStatus.QUEUED,
    )


def two_channel_config(telegram_base_url: str, chat: str, mastodon_url: str, token_env: str, *,
                       top: str = "", schedule: str = "", mastodon_rate_limits: bool = True) -> str:
    """TOML for channels "telegram" (``chat``) and "mastodon" (token read from ``token_env``).

    ``top``: lines before the first table (database_url…); ``schedule``: more [schedule] keys.
    Telegram pacing is off: the sandbox enforces no limits unless told to. Mastodon pacing
    (1 request/s) stays on unless ``mastodon_rate_limits=False``: mastodon_mock has no limits.
    """
    return f'''{top}
[telegram]
api_base_url = "{telegram_base_url}"
rate_limits = false

[schedule]
sweep_seconds = 1
{schedule}

[[channels]]
name = "telegram"
platform = "telegram"
chat = "{chat}"

[[channels]]
name = "mastodon"
platform = "mastodon"
instance_url = "{mastodon_url}"
token_env = "{token_env}"
rate_limits = {str(mastodon_rate_limits).lower()}
'''
