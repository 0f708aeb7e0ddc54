"""Callback data of the author buttons: compact, prefixed, parsed strictly.

``a:<verb>:<post id>`` (≤ 64 bytes, https://core.telegram.org/bots/api#inlinekeyboardbutton).
Anything else — forged, truncated, from an older version — parses to None, and the handler
answers with a short alert instead of acting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = "a"
VERBS = frozenset({
    "now", "queue", "when", "draft", "cancel",  # the endings of /new
    "up", "down", "pub", "unq",  # /queue
    "del", "keep",  # /delete confirmation
    "retry",  # a dead publication
})
_DATA = re.compile(rf"{PREFIX}:([a-z]+):([1-9][0-9]{{0,17}})")


@dataclass(frozen=True, slots=True)
class Button:
    verb: str
    post_id: int


def data(verb: str, post_id: int) -> str:
    if verb not in VERBS:
        raise ValueError(f"unknown button verb {verb!r}")
    return f"{PREFIX}:{verb}:{post_id}"


def parse(text: str | None) -> Button | None:
    match = _DATA.fullmatch(text or "")
    if match is None or match.group(1) not in VERBS:
        return None
    return Button(match.group(1), int(match.group(2)))
