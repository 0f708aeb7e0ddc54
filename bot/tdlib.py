"""Telegram's own text parser, offline: TDLib through the ``tdjson`` package.

TDLib's ``parseTextEntities`` is the parser the Bot API server runs on ``parse_mode=HTML``
and ``getTextEntities`` is how clients find hashtags, so tests and the sandbox emulator ask
it instead of guessing (https://core.telegram.org/tdlib/docs/classtd_1_1td__api_1_1parse_text_entities.html).
``tdjson`` is a test/demo dependency: this module imports it lazily, on first use.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any


@cache
def _td_execute() -> Any:
    import tdjson

    # TDLib logs to stderr at verbosity 1+ by default; silence it before anything else.
    tdjson.td_execute(json.dumps({"@type": "setLogVerbosityLevel", "new_verbosity_level": 0}).encode())
    return tdjson.td_execute


def execute(request: dict[str, Any]) -> dict[str, Any]:
    """Run one synchronous TDLib request and return its decoded answer."""
    answer = _td_execute()(json.dumps(request).encode())
    return json.loads(answer)


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML as Telegram does: the plain text and its entities.

    Raises ValueError with TDLib's message ("Can't parse entities: …") when Telegram would
    answer 400 to this text.
    """
    answer = execute({"@type": "parseTextEntities", "text": text, "parse_mode": {"@type": "textParseModeHTML"}})
    if answer.get("@type") == "error":
        raise ValueError(answer.get("message", "TDLib error"))
    return answer["text"], answer["entities"]


def utf16_slice(text: str, offset: int, length: int) -> str:
    """The substring at a Telegram offset/length (both in UTF-16 code units)."""
    units = text.encode("utf-16-le")
    return units[2 * offset: 2 * (offset + length)].decode("utf-16-le")


def hashtags(plain_text: str) -> list[str]:
    """The hashtags a Telegram client recognizes in this plain text, '#' included."""
    answer = execute({"@type": "getTextEntities", "text": plain_text})
    if answer.get("@type") == "error":
        raise ValueError(answer.get("message", "TDLib error"))
    return [
        utf16_slice(plain_text, entity["offset"], entity["length"])
        for entity in answer["entities"]
        if entity["type"]["@type"] == "textEntityTypeHashtag"
    ]
