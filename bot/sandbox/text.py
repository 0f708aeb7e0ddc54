"""Message text as the Bot API server sees it: parsed by TDLib, measured in UTF-16 units.

The real server runs TDLib's ``parseTextEntities`` on ``parse_mode=HTML`` and then lets
Telegram detect hashtags, URLs, mentions and commands in the plain text; the length limits
apply to that plain text (https://core.telegram.org/bots/api#formatting-options).
"""

from __future__ import annotations

from typing import Any

from bot import tdlib

TEXT_LIMIT = 4096  # https://core.telegram.org/bots/api#sendmessage
CAPTION_LIMIT = 1024  # https://core.telegram.org/bots/api#sendphoto

# TDLib textEntityType → Bot API MessageEntity.type (https://core.telegram.org/bots/api#messageentity)
_BOT_API_TYPES = {
    "textEntityTypeMention": "mention",
    "textEntityTypeHashtag": "hashtag",
    "textEntityTypeCashtag": "cashtag",
    "textEntityTypeBotCommand": "bot_command",
    "textEntityTypeUrl": "url",
    "textEntityTypeEmailAddress": "email",
    "textEntityTypePhoneNumber": "phone_number",
    "textEntityTypeBankCardNumber": "bank_card_number",
    "textEntityTypeBold": "bold",
    "textEntityTypeItalic": "italic",
    "textEntityTypeUnderline": "underline",
    "textEntityTypeStrikethrough": "strikethrough",
    "textEntityTypeSpoiler": "spoiler",
    "textEntityTypeCode": "code",
    "textEntityTypePre": "pre",
    "textEntityTypePreCode": "pre",
    "textEntityTypeBlockQuote": "blockquote",
    "textEntityTypeExpandableBlockQuote": "expandable_blockquote",
    "textEntityTypeTextUrl": "text_link",
    "textEntityTypeMentionName": "text_mention",
    "textEntityTypeCustomEmoji": "custom_emoji",
}
# Auto-detected entities never appear inside these (TDLib drops the intersecting ones).
_OPAQUE = {"code", "pre", "text_link", "url", "email", "text_mention", "custom_emoji"}


def utf16_length(text: str) -> int:
    """Telegram's length unit. Kept here, not imported from ``bot.format``: the emulator
    depends on nothing of the app it emulates a server for."""
    return len(text.encode("utf-16-le")) // 2


class TextError(ValueError):
    """The server's 400 description for a text it refuses."""


def to_bot_api(entity: dict[str, Any]) -> dict[str, Any] | None:
    kind = entity["type"]
    name = _BOT_API_TYPES.get(kind["@type"])
    if name is None:  # e.g. media timestamps: not exposed by the Bot API
        return None
    result: dict[str, Any] = {"type": name, "offset": entity["offset"], "length": entity["length"]}
    if name == "pre" and kind.get("language"):
        result["language"] = kind["language"]
    elif name == "text_link":
        result["url"] = kind["url"]
    elif name == "text_mention":
        result["user"] = {"id": kind["user_id"], "is_bot": False, "first_name": str(kind["user_id"])}
    elif name == "custom_emoji":
        result["custom_emoji_id"] = str(kind["custom_emoji_id"])
    return result


def detected_entities(plain: str) -> list[dict[str, Any]]:
    """Hashtags, URLs, mentions, commands… that Telegram finds by itself in plain text."""
    answer = tdlib.execute({"@type": "getTextEntities", "text": plain})
    if answer.get("@type") == "error":
        return []
    return [e for e in (to_bot_api(x) for x in answer["entities"]) if e is not None]


def _overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a["offset"] < b["offset"] + b["length"] and b["offset"] < a["offset"] + a["length"]


def parse(text: str, parse_mode: str | None, *, explicit: list[dict[str, Any]] | None = None,
          limit: int = TEXT_LIMIT, caption: bool = False) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and Bot API entities of a message text or caption, or TextError."""
    if parse_mode and parse_mode.lower() == "html":
        try:
            plain, raw = tdlib.parse_html(text)
        except ValueError as exc:
            message = str(exc)
            raise TextError("Bad Request: " + message[:1].lower() + message[1:]) from None
        entities = [e for e in (to_bot_api(x) for x in raw) if e is not None]
    elif parse_mode:
        # MarkdownV2 and Markdown exist on the real server; Relais only sends HTML.
        raise TextError(f"Bad Request: unsupported parse_mode {parse_mode!r} in the sandbox")
    else:
        plain, entities = text, list(explicit or [])
    if not plain.strip() and not caption:
        raise TextError("Bad Request: message text is empty")
    if utf16_length(plain) > limit:
        raise TextError("Bad Request: message caption is too long" if caption else "Bad Request: message is too long")
    opaque = [e for e in entities if e["type"] in _OPAQUE]
    for auto in detected_entities(plain):
        if not any(_overlaps(auto, e) for e in opaque) and auto not in entities:
            entities.append(auto)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return plain, entities
