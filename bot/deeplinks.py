"""Deep-link payloads of the "follow #tag" buttons: ``https://t.me/<bot>?start=<payload>``.

Telegram allows only ``A-Za-z0-9_-`` and at most 64 characters in a start payload
(https://core.telegram.org/bots/features#deep-linking). A tag travels as its *key* (see
``bot.domain.tags.tag_key``: case-folded, accents removed), so ``#Dépression`` and
``#depression`` link to the same tag:

- ``follow_<key>`` when the key is only ``a-z0-9_`` (readable; almost every French tag);
- ``follow-<key as URL-safe base64, no padding>`` otherwise (emoji, non-Latin scripts).

A key too long for 64 characters gets no button rather than a truncated, wrong tag.
"""

from __future__ import annotations

import base64
import binascii
import re

from bot.domain.tags import tag_key

MAX_PAYLOAD = 64
_PLAIN = "follow_"
_ENCODED = "follow-"


def follow_payload(tag: str) -> str | None:
    """The start payload that follows this tag, or None when it cannot fit."""
    key = tag_key(tag)
    if not key:
        return None
    if re.fullmatch(r"[a-z0-9_]+", key):
        payload = _PLAIN + key
    else:
        payload = _ENCODED + base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")
    return payload if len(payload) <= MAX_PAYLOAD else None


def followed_tag_key(payload: str) -> str | None:
    """The tag key a start payload asks to follow, or None if it is not a follow link."""
    if payload.startswith(_PLAIN):
        key = payload.removeprefix(_PLAIN)
        return key if re.fullmatch(r"[a-z0-9_]+", key) else None
    if payload.startswith(_ENCODED):
        data = payload.removeprefix(_ENCODED)
        try:
            return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)).decode() or None
        except (binascii.Error, UnicodeDecodeError):
            return None
    return None
