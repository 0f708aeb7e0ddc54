"""Callback data of the reader buttons: small, typed, and parsed strictly.

Telegram hands callback data back as the client sent it, at most 64 bytes
(https://core.telegram.org/bots/api#inlinekeyboardbutton), and a client may forge any value.
So each button carries a short prefix and one non-negative integer, and :func:`parse` returns
``None`` for anything else — the handler then answers "this button is no longer valid".

- ``f:<tag_id>`` follow, ``uf:<tag_id>`` unfollow (the undo of a deep-link follow too);
- ``tp:<offset>`` a page of ``/tags``;
- ``stop:<user_id>`` confirm ``/stop`` (the id makes a forwarded button useless to anyone else).

The search feature uses its own ``s:`` prefix (bot/chat/search); prefixes never overlap.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

MAX_BYTES = 64
MAX_ID = 2**53  # tag ids, offsets and Telegram user ids all fit


class Action(enum.StrEnum):
    FOLLOW = "f"
    UNFOLLOW = "uf"
    TAGS_PAGE = "tp"
    STOP = "stop"


_PATTERN = re.compile(r"(?P<action>f|uf|tp|stop):(?P<value>0|[1-9][0-9]{0,15})")


@dataclass(frozen=True, slots=True)
class Callback:
    action: Action
    value: int  # a tag id, a page offset or a user id, by action

    def data(self) -> str:
        return f"{self.action.value}:{self.value}"


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button as pure data: the handler or the sender turns it into the library's type."""

    label: str
    callback_data: str


def encode(action: Action, value: int) -> str:
    if not 0 <= value < MAX_ID:
        raise ValueError(f"{value} is out of range for callback data")
    return Callback(action, value).data()


def parse(data: str | None) -> Callback | None:
    """The reader action a button's data asks for, or None for anything not made by :func:`encode`."""
    if not data or len(data) > MAX_BYTES:
        return None
    match = _PATTERN.fullmatch(data)
    if match is None:
        return None
    value = int(match["value"])
    return Callback(Action(match["action"]), value) if value < MAX_ID else None
